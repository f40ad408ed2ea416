"""The README's recipe `checkswap | tee -i FILE`, in a real terminal (a tmux pane): Ctrl-C goes
to the whole pipeline, and the file must still end with the run's summary.

Plain `tee` dies of the same SIGINT before it reads the summary checkswap writes on its way
out, so the file stops at the last row; `tee -i` ignores SIGINT and copies everything until
checkswap closes the pipe. The plain case is shown too, so the README's warning stays true.
"""

from __future__ import annotations

import os
import re
import shlex
import sys
import tempfile

from clihelp import FIXTURES, REPO
from tmux import pane

TREE = os.path.join(FIXTURES, "linux-6.18-swapping")


def _three_rows(screen: str) -> bool:
    return sum(line[:2] == "20" and line[2:4].isdigit() for line in screen.splitlines()) >= 3


def _log_after_ctrl_c(tee: str, name: str) -> str:
    d = tempfile.mkdtemp(prefix="checkswap-test-tee-")
    log = os.path.join(d, "checkswap.log")
    pipeline = (
        f"PYTHONPATH={shlex.quote(REPO)} {shlex.quote(sys.executable)} -m checkswap "
        f"-i 0.2 --root {shlex.quote(TREE)} | {tee} {shlex.quote(log)}"
    )
    try:
        with pane(["sh", "-c", pipeline], 160, 40, name) as p:
            # Three rows on the screen (through tee): the pipeline is running.
            p.wait_for(_three_rows, 20, "three rows")
            p.keys("C-c")
            # The status is the shell's, which the same Ctrl-C ended: only that it ended counts.
            p.exit_status(timeout=20)
        with open(log) as f:
            return f.read()
    finally:
        if os.path.exists(log):
            os.unlink(log)
        os.rmdir(d)


# The whole summary, line by line: the tree has zero-filled pages since boot, so the all-tier
# lines follow the devices' (render/watch.py show_all_tiers). A summary cut after any of its
# lines fails, the last one included.
SUMMARY = (
    "# summary: ",
    "#   swap-in : ",
    "#   swap-out: ",
    "#   swap-in (all tiers): ",
    "#   swap-out (all tiers): ",
)


def test_tee_i_keeps_the_summary_after_ctrl_c() -> None:
    text = _log_after_ctrl_c("tee -i", "tee-i")
    lines = text.rstrip("\n").splitlines()
    assert len(lines) > len(SUMMARY), text
    tail = lines[-len(SUMMARY) :]
    assert all(line.startswith(p) for line, p in zip(tail, SUMMARY)), text
    # ...and the run's last line before it is a data row, so nothing else came between.
    assert lines[-len(SUMMARY) - 1][:2] == "20", text


def test_plain_tee_loses_it_which_is_why_the_readme_says_tee_i() -> None:
    text = _log_after_ctrl_c("tee", "tee-plain")
    assert "# checkswap " in text  # the header made it into the file...
    assert "# summary: " not in text  # ...the summary did not: tee died with the same Ctrl-C


def test_the_readme_recipe_is_the_one_tested_here() -> None:
    with open(os.path.join(REPO, "README.md")) as f:
        readme = f.read()
    recipes = re.findall(r"checkswap[^`\n]*\| tee\b[^`\n]*", readme)
    assert recipes, "the README no longer shows a tee recipe"
    assert all("| tee -i " in r for r in recipes), recipes
