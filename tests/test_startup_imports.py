"""Start-up: what each command imports before its first line of output.

The start-up target (docs/architecture.md) is a budget of milliseconds, and most of it goes to
imports: typing ~3 ms, socket ~2 ms, subprocess and threading ~4 ms, tempfile and secrets ~5 ms,
shutil (argparse's terminal width) ~3 ms, json ~2 ms, gettext and locale ~1.5 ms. Timing is
too noisy for a test, so the test holds the cause instead: each command runs in a fresh
interpreter on a fixture tree and must not have imported the modules it does not need for that
run. A new top-level import of one of them in a module on the path fails here, with the module
named.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

HEAVY = (
    "typing",
    "shutil",
    "json",
    "socket",
    "subprocess",
    "threading",
    "tempfile",
    "secrets",
    "random",
    "ipaddress",
    "dataclasses",
    "inspect",
    "importlib.util",
    "datetime",
    # argparse's translation of its own few words: no catalogue exists for it (cli.py)
    "gettext",
    "locale",
)

# The probe runs the CLI as the console script does and reports, on exit, which of HEAVY were
# imported and, for each, the first checkswap module whose import pulled it in.
PROBE = """
import builtins, json, sys
HEAVY = set(json.loads(sys.argv[1]))
del sys.modules["json"], sys.modules["json.decoder"], sys.modules["json.scanner"]
del sys.modules["json.encoder"]
for m in [m for m in sys.modules if m.startswith("json")]:
    del sys.modules[m]
culprit = {}
real_import = builtins.__import__
def traced(name, globals=None, locals=None, fromlist=(), level=0):
    if name in HEAVY and name not in sys.modules and name not in culprit:
        who = (globals or {}).get("__name__", "?")
        f = sys._getframe(1)
        while f is not None and not who.startswith("checkswap"):
            who = f.f_globals.get("__name__", "?")
            f = f.f_back
        culprit[name] = who
    return real_import(name, globals, locals, fromlist, level)
builtins.__import__ = traced
import io, contextlib
out, err = io.StringIO(), io.StringIO()
from checkswap.cli import main
sys.argv = ["checkswap", *json.loads(sys.argv[2])]
with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
    try:
        status = main()
    except SystemExit as e:
        status = e.code
builtins.__import__ = real_import
loaded = {m: culprit.get(m, "?") for m in HEAVY if m in sys.modules}
first = out.getvalue().split("\\n", 1)[0]
result = {"status": status, "loaded": loaded, "err": err.getvalue(), "out": first}
sys.__stdout__.write(json.dumps(result))
"""


def probe(argv: list[str]) -> dict[str, object]:
    env = dict(os.environ, PYTHONPATH=REPO, COLUMNS="100")
    # -S: site imports nothing of HEAVY on a plain interpreter, but a venv's .pth hooks may
    # (the editable install's finder imports importlib.util and typing).
    p = subprocess.run(
        [sys.executable, "-S", "-c", PROBE, json.dumps(HEAVY), json.dumps(argv)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert p.returncode == 0, p.stderr
    result: dict[str, object] = json.loads(p.stdout)
    return result


# (argv, what that run may import of HEAVY, and why)
# The runs read this host, as a user's first run does: a fixture tree carries a manifest, and
# reading one takes json.
CASES = [
    (["watch", "-n", "1", "-i", "0"], ()),
    (["top", "-n", "1"], ("datetime",)),  # the header's clock
    (["top", "-n", "1", "--format", "json"], ("json",)),
    (["doctor", "--sample", "0.1"], ()),
    *[
        ([command, "--help"], ())
        for command in ("watch", "top", "doctor", "check", "report", "serve", "record", "fleet")
    ],
    (["snapshot", "--help"], ()),
    (["dash", "--help"], ()),
    (["swapfile", "--help"], ()),
    (["stress", "--help"], ()),
]


@pytest.mark.parametrize(("argv", "allowed"), CASES, ids=lambda v: " ".join(v) if v else "")
def test_start_up_imports_only_what_the_run_needs(
    argv: list[str], allowed: tuple[str, ...]
) -> None:
    got = probe(argv)
    assert isinstance(got["status"], int) or got["status"] is None, got
    assert "Traceback" not in str(got["err"]) and "UNKNOWN" not in str(got["out"]), got
    loaded = got["loaded"]
    assert isinstance(loaded, dict)
    extra = {m: who for m, who in loaded.items() if m not in allowed}
    assert not extra, f"start-up imported {extra} (module: the checkswap module that did)"


def test_the_probe_sees_a_heavy_import() -> None:
    # The rule can fail: --format json under doctor must import json, and the probe says so.
    got = probe(["doctor", "--sample", "0.1", "--format", "json"])
    loaded = got["loaded"]
    assert isinstance(loaded, dict) and "json" in loaded, got
    assert str(loaded["json"]).startswith("checkswap"), loaded


def test_argparse_without_gettext_keeps_its_words_and_leaves_gettext_importable() -> None:
    # cli.py imports argparse with a stand-in for gettext: argparse must still speak (usage,
    # errors) and gettext must afterwards be the real module for anyone who imports it.
    code = (
        "import sys\n"
        "import checkswap.cli as cli\n"
        "assert 'gettext' not in sys.modules and 'locale' not in sys.modules\n"
        "import gettext\n"
        "assert hasattr(gettext, 'translation'), gettext\n"
        "try:\n"
        "    cli.build_parser('watch')[0].parse_args(['watch', '-n'])\n"
        "except cli.UsageError as e:\n"
        "    print(e)\n"
    )
    p = subprocess.run(
        [sys.executable, "-S", "-c", code],
        env=dict(os.environ, PYTHONPATH=REPO),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout == "watch: argument -n/--count: expected one argument\n"
