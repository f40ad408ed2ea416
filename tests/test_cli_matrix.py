"""Bad invocations of every command, run in-process through cli.main: each gets exactly one clear
line, the documented exit status (2, or 3 UNKNOWN for doctor and check) and no traceback.

No case touches the machine: every bad value stops its command before it acts (swapfile and
stress run with --dry-run as well), and every path points into a temporary directory. The
cases that need another engineer's branch (devices, FIFOs and missing directories as inputs
and outputs) run in a subprocess with a timeout, since today some of them hang.
"""

from __future__ import annotations

import argparse
import os
import stat

import pytest
from clihelp import FIXTURES, run_cli, run_sub

from checkswap.cli import build_parser
from checkswap.commands import COMMANDS

HUGE = "9" * 400
FIXTURE = os.path.join(FIXTURES, "recording-host")
TMP = "{tmp}"  # replaced by the test's own temporary directory

# Values that are never a valid duration, size, count or rate.
BAD_NUMBERS = [HUGE, "/s", "٣", "", "-1", "nan", "inf", "1e400", "0x10", " "]
BAD_DURATIONS = [*BAD_NUMBERS, "0", "5 years", "1" * 20 + "d", "1²"]
BAD_SIZES = [*BAD_NUMBERS, "0", "8E", HUGE + "P", "1.5XiB"]
BAD_COUNTS = [*BAD_NUMBERS, "0", "1.5", "1_000", "+-1", "1" * 5000]
BAD_RATES = [HUGE, "/s", " pages", "٣", "", "-1", "nan", "inf", "1e13", "1_0"]
BAD_RANGES = [HUGE, "٣", "", "10:5", "@", "~:~", "1e999", "nan", "10:20:30", "@~"]
BAD_PERCENTS = ["200", "-5:", "0:101", "@101:200"]
BAD_LISTEN = ["", "host", ":99999", "[::1", "127.0.0.1:-1", "127.0.0.1:٣", ":" + HUGE]

REC = os.path.join(TMP, "checkswap-test-rec.jsonl")


def _cases() -> list[tuple[list[str], int]]:
    cases: list[tuple[list[str], int]] = []
    for v in BAD_DURATIONS:
        cases += [
            (["watch", "-i", v, "-n", "1", "--root", FIXTURE], 2),
            (["top", "-i", v, "-n", "1", "--root", FIXTURE], 2),
            (["record", "-o", REC, "-i", v, "-n", "1", "--root", FIXTURE], 2),
            (["snapshot", "-o", os.path.join(TMP, "b.tar.gz"), "-i", v, "--root", FIXTURE], 2),
            (["dash", "-i", v, "--root", FIXTURE], 2),
            (["doctor", "--sample", v, "--root", FIXTURE], 3),
            (["check", "--sample", v, "--root", FIXTURE], 3),
            (["serve", "--scan-interval", v, "--root", FIXTURE], 2),
            (["stress", "--dry-run", "--duration", v], 2),
        ]
    cases += [
        (["serve", "--textfile-interval", v, "--root", FIXTURE], 2) for v in BAD_DURATIONS[:5]
    ]
    cases += [(["serve", "--doctor-interval", v, "--root", FIXTURE], 2) for v in BAD_DURATIONS[:5]]
    cases += [(["top", "--pss-budget", v, "--root", FIXTURE], 2) for v in BAD_DURATIONS[:5]]
    for v in BAD_SIZES:
        cases += [
            (
                [
                    "swapfile",
                    "add",
                    "--dry-run",
                    "--path",
                    os.path.join(TMP, "checkswap-test-sw"),
                    v,
                ],
                2,
            ),
            (["stress", "--dry-run", "--size", v], 2),
            (["record", "-o", REC, "--rotate-size", v, "-n", "1", "--root", FIXTURE], 2),
        ]
    cases += [(["stress", "--dry-run", "--limit", v], 2) for v in BAD_SIZES[:5]]
    cases += [(["stress", "--dry-run", "--swapfile", v], 2) for v in BAD_SIZES[:5]]
    for v in BAD_COUNTS:
        cases += [
            (["watch", "-n", v, "--root", FIXTURE], 2),
            (["top", "-n", v, "--root", FIXTURE], 2),
            (["snapshot", "-o", os.path.join(TMP, "b.tar.gz"), "-n", v, "--root", FIXTURE], 2),
            (["serve", "--max-connections", v, "--root", FIXTURE], 2),
        ]
    cases += [(["record", "-o", REC, "-n", v, "--root", FIXTURE], 2) for v in BAD_COUNTS[:6]]
    cases += [(["record", "-o", REC, "--keep", v, "--root", FIXTURE], 2) for v in BAD_COUNTS[:6]]
    cases += [(["top", "--limit", v, "--root", FIXTURE], 2) for v in BAD_COUNTS[:6]]
    cases += [(["serve", "--top", v, "--root", FIXTURE], 2) for v in [*BAD_COUNTS[:6], "1001"]]
    for v in BAD_RATES:
        cases += [
            (["report", "--spike", v, REC], 2),
            (["record", "-o", REC, "--trigger", v, "-n", "1", "--root", FIXTURE], 2),
        ]
    for v in BAD_RANGES:
        cases += [
            (["check", "-w", v, "--root", FIXTURE], 3),
            (["check", "--out-critical", v, "--root", FIXTURE], 3),
        ]
    for v in BAD_PERCENTS:
        cases += [
            (["check", "--psi-warning", v, "--root", FIXTURE], 3),
            (["check", "--used-critical", v, "--root", FIXTURE], 3),
        ]
    cases += [(["serve", "--listen", v, "--root", FIXTURE], 2) for v in BAD_LISTEN]
    cases += [(["watch", "--replay", REC, "--speed", v], 2) for v in ["-1", "nan", "inf", HUGE, ""]]
    missing = os.path.join(TMP, "checkswap-test-missing")
    for cmd, status in [
        ("watch", 2),
        ("top", 2),
        ("doctor", 3),
        ("check", 3),
        ("dash", 2),
        ("serve", 2),
        ("snapshot", 2),
    ]:
        extra = ["-o", os.path.join(TMP, "b.tar.gz")] if cmd == "snapshot" else []
        cases += [
            ([cmd, *extra, "--root", missing], status),
            ([cmd, *extra, "--root", ""], status),
            ([cmd, *extra, "--root", os.path.join(FIXTURE, "proc", "vmstat")], status),
            (
                [cmd, *extra, "--format", "yaml"]
                if cmd in ("watch", "top", "doctor")
                else [cmd, "--bogus"],
                status,
            ),
        ]
    cases += [
        (["wach"], 2),
        (["", "-n", "1"], 2),
        (["watch", "--replay", os.path.join(TMP, "checkswap-test-none.jsonl")], 2),
        (["watch", "--replay", REC, "--root", FIXTURE], 2),
        (["watch", "--speed", "2", "--root", FIXTURE, "-n", "1"], 2),
        (["dash", "--speed", "2", "--root", FIXTURE], 2),
        (["report"], 2),
        (["report", os.path.join(TMP, "checkswap-test-none.jsonl")], 2),
        (["report", "--html", os.path.join(TMP, "out.txt"), REC], 2),
        (["report", "--format", "xml", REC], 2),
        (["record", "-o", REC, "--dir", TMP], 2),
        (["swapfile"], 2),
        (["swapfile", "add", "--dry-run"], 2),
        (["swapfile", "add", "--dry-run", "--priority", "٣", "1G"], 2),
        (["swapfile", "add", "--dry-run", "--priority", HUGE, "1G"], 2),
        (["swapfile", "remove"], 2),
        (["swapfile", "list", "--root", os.path.join(TMP, "checkswap-test-missing")], 2),
        (["serve", "--textfile", os.path.join(TMP, "x.txt"), "--root", FIXTURE], 2),
        (["serve", "--role", "dba", "--root", FIXTURE], 2),
        (["doctor", "--role", "dba", "--root", FIXTURE], 3),
        (["check", "--bogus"], 3),
        (["snapshot", "--root", FIXTURE], 2),
    ]
    return cases


CASES = _cases()

# Devices, FIFOs, directories and missing parent directories as inputs and outputs. They run in
# a subprocess with a timeout: a regression here (reading /dev/zero, opening a FIFO) would
# never return. An output that is a device is always {device}, a copy of /dev/null made with
# mknod in the test's own directory: a regression must never replace the machine's /dev/null.
PATH_CASES: list[tuple[list[str], int, str]] = [
    (["report", "/dev/zero"], 2, "recordings"),
    (["report", "/dev/null"], 2, "recordings"),
    (["report", "{fifo}"], 2, "recordings"),
    (["report", TMP], 2, "recordings"),
    (["watch", "--replay", "/dev/zero"], 2, "recordings"),
    (["watch", "--replay", "{fifo}"], 2, "recordings"),
    (["report", os.path.join(TMP, "not-gzip.jsonl.gz")], 2, "recordings"),
    (["watch", "--root", "/dev/zero", "-n", "1"], 2, "bundles"),
    (["watch", "--root", "/dev/null", "-n", "1"], 2, "bundles"),
    (["top", "--root", "{fifo}", "-n", "1"], 2, "bundles"),
    (["doctor", "--root", "/dev/zero"], 3, "bundles"),
    (["check", "--root", "/dev/zero"], 3, "bundles"),
    (["record", "-o", "/proc/version", "-n", "1", "--root", FIXTURE], 2, "outputs"),
    (["record", "-o", "{device}", "-n", "1", "--root", FIXTURE], 2, "outputs"),
    (["record", "-o", TMP, "-n", "1", "--root", FIXTURE], 2, "outputs"),
    (
        ["record", "-o", os.path.join(TMP, "no", "r.jsonl"), "-n", "1", "--root", FIXTURE],
        2,
        "outputs",
    ),
    (
        ["record", "--dir", os.path.join(TMP, "no", "dir"), "-n", "1", "--root", FIXTURE],
        2,
        "outputs",
    ),
    (["snapshot", "-o", "{device}", "-n", "1", "--root", FIXTURE], 2, "outputs"),
    (
        ["snapshot", "-o", os.path.join(TMP, "no", "b.tar.gz"), "-n", "1", "--root", FIXTURE],
        2,
        "outputs",
    ),
    (["check", "--state-file", os.path.join(TMP, "no", "s"), "--root", FIXTURE], 3, "outputs"),
    (["check", "--state-file", "{device}", "--root", FIXTURE], 3, "outputs"),
    (["check", "--state-file", TMP, "--root", FIXTURE], 3, "outputs"),
    (["report", "--html", os.path.join(TMP, "no", "r.html"), "{rec}"], 2, "outputs"),
    (["report", "--html", os.path.join(TMP, "d.html"), "{rec}"], 2, "outputs"),
    (["serve", "--textfile", os.path.join(TMP, "no", "x.prom"), "--root", FIXTURE], 2, "outputs"),
    (["serve", "--textfile", "{device}", "--root", FIXTURE], 2, "outputs"),
]


def _fill(argv: list[str], tmp: str) -> list[str]:
    return [a.replace(TMP, tmp) for a in argv]


def _prepare(tmp: str) -> None:
    # A valid one-line recording, so that cases about another option's value cannot fail for
    # the want of a file (and a report that wrongly accepted the bad value would succeed).
    from rechelp import header_line, raw_line

    with open(os.path.join(tmp, "checkswap-test-rec.jsonl"), "w", encoding="utf-8") as f:
        f.write(
            header_line() + raw_line(0.0, 1795737600.0, 0, 0) + raw_line(1.0, 1795737601.0, 1, 1)
        )


def _one_clear_line(argv: list[str], status: int, out: str, err: str, expected: int) -> None:
    plugin = argv[0] in ("doctor", "check")
    text = err + (out if plugin else "")
    assert "Traceback" not in text and "Traceback" not in out, text
    assert "checkswap: checkswap:" not in text, text
    lines = [line for line in text.split("\n") if line]
    assert len(lines) == 1, (argv, out, err)
    assert len(lines[0]) < 400, lines[0]
    if plugin:
        assert out == "" or out.startswith(("CHECKSWAP UNKNOWN", "DOCTOR UNKNOWN", "UNKNOWN")), out
    else:
        assert out == "", out
    assert status == expected, (argv, status, out, err)


def test_matrix_size() -> None:
    commands = {argv[0] for argv, _ in CASES}
    assert len(CASES) + len(PATH_CASES) >= 150
    assert {"watch", "top", "doctor", "record", "report", "serve", "check", "swapfile"} <= commands
    assert {"stress", "snapshot", "dash"} <= commands


@pytest.mark.timeout(30)
@pytest.mark.parametrize(("argv", "expected"), CASES, ids=[" ".join(a)[:60] for a, _ in CASES])
def test_bad_invocation(argv: list[str], expected: int, tmp_path: object) -> None:
    tmp = str(tmp_path)
    _prepare(tmp)
    argv = _fill(argv, tmp)
    before = set(os.listdir(tmp))
    status, out, err = run_cli(*argv)
    _one_clear_line(argv, status, out, err, expected)
    # Refused before acting: nothing new in the directory the outputs would go to.
    assert set(os.listdir(tmp)) == before, (argv, set(os.listdir(tmp)) - before)


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("argv", "expected"),
    [pytest.param(a, e, id=" ".join(a)[:60]) for a, e, _part in PATH_CASES],
)
def test_bad_path_invocation(argv: list[str], expected: int, tmp_path: object) -> None:
    tmp = str(tmp_path)
    _prepare(tmp)
    fifo = os.path.join(tmp, "checkswap-test-fifo")
    os.mkfifo(fifo)
    with open(os.path.join(tmp, "not-gzip.jsonl.gz"), "w", encoding="utf-8") as f:
        f.write("this is not gzip\n")
    os.mkdir(os.path.join(tmp, "d.html"))
    device = os.path.join(tmp, "checkswap-test-null")
    if "{device}" in argv:
        if os.geteuid() != 0:
            if os.environ.get("CHECKSWAP_KERNEL_TESTS") == "1":
                pytest.fail("making a device node needs root")
            pytest.skip("making a device node needs root")
        os.mknod(device, 0o666 | stat.S_IFCHR, os.stat("/dev/null").st_rdev)
    argv = [
        a.replace("{fifo}", fifo)
        .replace("{rec}", os.path.join(tmp, "checkswap-test-rec.jsonl"))
        .replace("{device}", device)
        for a in _fill(argv, tmp)
    ]
    proc = run_sub(*argv, timeout=20)
    _one_clear_line(argv, proc.returncode, proc.stdout, proc.stderr, expected)
    if os.path.lexists(device):
        assert stat.S_ISCHR(os.lstat(device).st_mode), f"{argv} replaced the device node"


# --- every shared option is declared once (commands/_args.py) -------------------------------


def _parsers() -> dict[str, argparse.ArgumentParser]:
    """``watch``, ..., ``swapfile add``: the parser of every command line with its own flags."""
    out = {}
    for name in COMMANDS:
        parser, _ = build_parser(name)
        (p,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        cmd = p.choices[name]
        subs = [a for a in cmd._actions if isinstance(a, argparse._SubParsersAction)]
        if subs:
            out.update({f"{name} {s}": sp for s, sp in subs[0].choices.items()})
        else:
            out[name] = cmd
    return out


def _option(p: argparse.ArgumentParser, flag: str) -> argparse.Action | None:
    return next((a for a in p._actions if flag in a.option_strings), None)


# flag -> (short option, metavar, converted while parsing)
SHARED = {
    "--interval": ("-i", "SECONDS", True),
    "--count": ("-n", "COUNT", True),
    "--format": (None, None, False),
    "--root": (None, "DIR|BUNDLE", False),
    "--replay": (None, "FILE", False),
    "--speed": (None, "X", True),
    "--role": (None, None, False),
    "--sample": (None, "SECONDS", True),
    "--output": ("-o", None, False),
    "--dry-run": (None, None, False),
    "--fstab": (None, "PATH", False),
}


@pytest.mark.parametrize("flag", list(SHARED))
def test_a_shared_option_is_the_same_option_in_every_command(flag: str) -> None:
    # -i, -n and --format were declared 7, 4 and 6 times with different help and converters;
    # --speed took `10x` in one command and not the other. One declaration cannot drift.
    short, metavar, converted = SHARED[flag]
    found = {name: a for name, p in _parsers().items() if (a := _option(p, flag)) is not None}
    assert len(found) >= 2, f"{flag} is not shared: {sorted(found)}"
    for name, a in found.items():
        assert (short is None) or short in a.option_strings, f"{name} {flag}: no {short}"
        assert metavar is None or a.metavar == metavar, f"{name} {flag}: metavar {a.metavar}"
        assert (a.type is not None) == converted, f"{name} {flag}: type {a.type}"
        if flag == "--format":
            assert a.default == "text" and set(a.choices or ()) <= {"text", "json", "csv"}
    if flag in ("--root", "--speed"):
        helps = {a.help for a in found.values()}
        assert len(helps) == 1, f"{flag} says different things: {helps}"


def test_the_roles_offered_are_the_doctors_roles() -> None:
    from checkswap.doctor import roles

    for name in ("doctor", "serve"):
        role = _option(_parsers()[name], "--role")
        assert role is not None and tuple(role.choices or ()) == roles.NAMES
        assert role.default == roles.DEFAULT
