"""The man pages and shell completion generated at build time (tools/checkswap_build.py), and
what pip installs of them.

Each is generated twice where possible: with this venv's generators (PyPI's, what pip uses) and
with the system python3's (Debian's python3-argparse-manpage and python3-shtab, what the .deb is
built with), since the two differ in their output and both reach users.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys

import pytest
from clihelp import REPO

GENERATOR = os.path.join(REPO, "tools", "checkswap_build.py")
SYSTEM_PYTHON = "/usr/bin/python3"


def _has_debian_generators() -> bool:
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        return False
    probe = "import shtab, build_manpages.manpage"
    return subprocess.run([SYSTEM_PYTHON, "-c", probe], capture_output=True).returncode == 0


GENERATORS = [
    pytest.param(sys.executable, id="pypi"),
    pytest.param(
        SYSTEM_PYTHON,
        id="debian",
        marks=pytest.mark.skipif(
            not _has_debian_generators(),
            reason="python3-argparse-manpage and python3-shtab are not installed (tools/test "
            "installs them as root)",
        ),
    ),
]


@pytest.fixture(scope="module", params=GENERATORS)
def generated(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    out = str(tmp_path_factory.mktemp("generated"))
    subprocess.run([request.param, GENERATOR, out], check=True, capture_output=True, cwd=REPO)
    return out


def _parser() -> argparse.ArgumentParser:
    from checkswap.cli import build_parser

    parser, _ = build_parser(None, every=True)
    return parser


def _commands() -> dict[str, argparse.ArgumentParser]:
    parser = _parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def _options(parser: argparse.ArgumentParser) -> set[str]:
    found = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found |= _options(sub)
        found.update(o for o in action.option_strings if o.startswith("--") and o != "--help")
    return found


def _render(page: str) -> tuple[str, str]:
    env = {**os.environ, "MANWIDTH": "80", "LC_ALL": "C.UTF-8", "MAN_KEEP_FORMATTING": ""}
    proc = subprocess.run(
        ["man", "--warnings", "-E", "UTF-8", "-l", page],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout, proc.stderr


@pytest.mark.skipif(shutil.which("man") is None, reason="man-db is not installed")
def test_man_pages_render_clean_with_every_option(generated: str) -> None:
    man = os.path.join(generated, "man")
    commands = _commands()
    expected = {"checkswap.1", *(f"checkswap-{c}.1" for c in commands)}
    assert set(os.listdir(man)) == expected
    for name in sorted(expected):
        text, warnings = _render(os.path.join(man, name))
        assert warnings == "", f"{name}: {warnings}"
        for section in ("SYNOPSIS", "EXIT STATUS", "ENVIRONMENT", "FILES", "EXAMPLES"):
            assert f"\n{section}\n" in text, f"{name} has no {section}"
        command = name[len("checkswap-") : -2] if name != "checkswap.1" else None
        # Generated from the parser: every long option of the command is on its page.
        options = _options(commands[command]) if command else {"--version", "--debug"}
        # man hyphenates long words at a line's end: join them back before looking.
        flat = re.sub("[\u2010-]\n *", "", text)
        for option in options:
            assert option in flat, f"{name} lacks {option}"
        if command in ("doctor", "check"):
            assert "UNKNOWN" in text
        if command == "fleet":  # its own statuses: the worst host
            assert "some host thrashing" in text
    overview, _ = _render(os.path.join(man, "checkswap.1"))
    for command in commands:
        assert f"checkswap-{command}(1)" in overview


COMPLETE = r"""
source "$1"
t() {
  COMP_WORDS=("${@:2}"); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
  COMP_LINE="${*:2}"; COMP_POINT=${#COMP_LINE}; COMPREPLY=()
  _shtab_checkswap
  printf '%s\n' "${COMPREPLY[@]}"
}
"""


def _complete(script: str, *words: str) -> list[str]:
    # PATH has no python: a Tab must not start one (nor any other program but bash's builtins).
    proc = subprocess.run(
        ["/bin/bash", "--norc", "--noprofile", "-c", COMPLETE + 't "$@"', "bash", script, *words],
        capture_output=True,
        text=True,
        env={"PATH": "/nonexistent", "HOME": "/nonexistent"},
        timeout=30,
    )
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    return sorted(proc.stdout.split())


def test_bash_completion_from_the_parser(generated: str, tmp_path: os.PathLike[str]) -> None:
    script = os.path.join(generated, "completion", "checkswap")
    assert _complete(script, "checkswap", "") == sorted(_commands())
    assert _complete(script, "checkswap", "d") == ["dash", "doctor"]
    assert _complete(script, "checkswap", "top", "--s") == ["--sort"]
    assert _complete(script, "checkswap", "watch", "--format", "") == ["csv", "json", "text"]
    roles = ["compute", "database", "desktop", "general", "nosql"]
    assert _complete(script, "checkswap", "doctor", "--role", "") == roles
    assert _complete(script, "checkswap", "serve", "--role", "d") == ["database", "desktop"]
    swapfile = _commands()["swapfile"]
    actions = next(a for a in swapfile._actions if isinstance(a, argparse._SubParsersAction))
    assert {"add", "list", "remove"} <= set(actions.choices)
    assert _complete(script, "checkswap", "swapfile", "") == sorted(actions.choices)
    assert "--persist" in _complete(script, "checkswap", "swapfile", "add", "--p")
    # Paths where a path goes: files for FILE/PATH/BUNDLE, directories only for --dir.
    base = os.fspath(tmp_path)
    os.mkdir(os.path.join(base, "day.d"))
    with open(os.path.join(base, "day.jsonl"), "w"):
        pass
    both = [os.path.join(base, "day.d"), os.path.join(base, "day.jsonl")]
    assert _complete(script, "checkswap", "report", base + "/da") == both
    assert _complete(script, "checkswap", "watch", "--root", base + "/d") == both
    assert _complete(script, "checkswap", "swapfile", "remove", base + "/d") == both
    assert _complete(script, "checkswap", "record", "--dir", base + "/d") == both[:1]
    # The completion is a static script: loading it defines the function and registers it.
    with open(script, encoding="utf-8") as f:
        text = f.read()
    assert re.search(r"^complete .*-F _shtab_checkswap checkswap$", text, re.M)


def test_zsh_completion_is_generated(generated: str) -> None:
    zsh = os.path.join(generated, "completion", "_checkswap")
    with open(zsh, encoding="utf-8") as f:
        text = f.read()
    assert text.startswith("#compdef checkswap")
    assert "--role" in text and "database" in text
    if shutil.which("zsh"):
        subprocess.run(["zsh", "-n", zsh], check=True, timeout=30)


@pytest.mark.skipif(shutil.which("man") is None, reason="man-db is not installed")
def test_pip_installs_man_pages_and_completion(tmp_path: os.PathLike[str]) -> None:
    prefix = os.path.join(os.fspath(tmp_path), "prefix")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--prefix", prefix, REPO],
        check=True,
        capture_output=True,
        timeout=600,
    )
    share = os.path.join(prefix, "share")
    pages = sorted(os.listdir(os.path.join(share, "man", "man1")))
    assert "checkswap.1" in pages and "checkswap-doctor.1" in pages
    assert os.path.isfile(os.path.join(share, "bash-completion", "completions", "checkswap"))
    assert os.path.isfile(os.path.join(share, "zsh", "vendor-completions", "_checkswap"))
    # man finds the page through the prefix's share/man, as it does under /usr/local.
    found = subprocess.run(
        ["man", "-M", os.path.join(share, "man"), "-w", "checkswap-doctor"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert found.stdout.strip() == os.path.join(share, "man", "man1", "checkswap-doctor.1")
