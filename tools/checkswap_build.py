"""Build-time generation of the man pages and shell completion, and the build backend doing it.

pyproject.toml names this module as its build backend: it is setuptools' own, with one step
before a wheel is built, writing into build/checkswap-data/:

    man/checkswap.1, man/checkswap-COMMAND.1 ...   (argparse-manpage, from the real parser)
    completion/checkswap                           (bash, shtab: a static script, no Python)
    completion/_checkswap                          (zsh, shtab)

which [tool.setuptools.data-files] then installs under share/man/man1,
share/bash-completion/completions and share/zsh/vendor-completions. Both generators read the
parser ``checkswap --help`` prints (cli.build_parser with every command), so a new flag reaches
the man page and the Tab key without anyone writing roff or completion code.

What argparse cannot know (exit statuses, environment, files, examples) is the data below; the
exit statuses are those of docs/interface.md.

    python3 tools/checkswap_build.py OUTDIR     writes the same files into OUTDIR

Works with the argparse-manpage and shtab of Debian 12 (1.2.2, 1.5.5) and of PyPI (4.x, 1.7+),
since the .deb is built offline from Debian's packages and pip builds from PyPI's.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
from typing import Any

if __name__ != "__main__":  # as the build backend; run as a script it needs no setuptools
    from setuptools import build_meta as _setuptools
    from setuptools.build_meta import *  # noqa: F403  (the rest of the backend, unchanged)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "build", "checkswap-data")

EXIT_USUAL = (
    ("0", "success; also a monitor stopped by Ctrl-C or SIGTERM, or whose output pipe closed"),
    ("1", "an action refused or failed (not root, an unsafe target, not a swap area)"),
    (
        "2",
        "bad input: an invalid value, an unknown flag or command, a root that is not a "
        "kernel tree, an unreadable recording",
    ),
)
EXIT_PLUGIN = (
    ("0", "OK"),
    ("1", "WARNING"),
    ("2", "CRITICAL"),
    ("3", "UNKNOWN, bad input included: its message goes to stdout as CHECKSWAP UNKNOWN - MESSAGE"),
)
PLUGINS = ("doctor", "check")
EXIT_FLEET = (
    ("0", "every host quiet"),
    ("1", "some host swapping"),
    ("2", "some host thrashing"),
    (
        "3",
        "the question could not be answered: Prometheus unreachable or refusing, bad PromQL, "
        "no checkswap series under --match, bad arguments",
    ),
)

ENVIRONMENT = (
    ("CHECKSWAP_BUNDLE_MAX_BYTES", "bytes read from a bundle's decompressor (default 1G)"),
    ("CHECKSWAP_BUNDLE_MAX_MEMBERS", "files, directories and links in a bundle (1000000)"),
    ("CHECKSWAP_BUNDLE_MAX_FILE_BYTES", "bytes of one file in a bundle (64M)"),
    ("CHECKSWAP_BUNDLE_MAX_LINK_BYTES", "link names and targets of a bundle (64M)"),
    ("CHECKSWAP_PROMETHEUS_TOKEN", "fleet's bearer token, without --bearer-token-file"),
    ("CHECKSWAP_PROMETHEUS_BASIC", "fleet's user:password, without --basic-auth-file"),
    ("TMPDIR", "where a bundle is unpacked, and check's state file without XDG_RUNTIME_DIR"),
    ("XDG_RUNTIME_DIR", "where check keeps its state between runs"),
)

FILES = (
    (
        "/proc/vmstat, /proc/meminfo, /proc/swaps, /proc/pressure/memory",
        "the kernel's swap counters, memory and pressure",
    ),
    ("/proc/PID/status, /proc/PID/smaps_rollup", "each process's swap (top, dash, serve)"),
    ("/sys/fs/cgroup", "memory cgroups and their swap"),
    ("/sys/block, /sys/module/zswap", "what each swap area sits on; zswap"),
    ("/etc/fstab", "edited by swapfile add --persist and swapfile remove"),
    (
        "/usr/share/checkswap",
        "Prometheus rules, a Grafana dashboard and systemd units (Debian package)",
    ),
)

EXAMPLES: dict[str, tuple[tuple[str, str], ...]] = {
    "checkswap": (
        ("checkswap", "swap-in and swap-out per second, until Ctrl-C"),
        ("checkswap doctor", "is the swap set up sanely, and is it hurting?"),
        ("checkswap top --sort activity", "who is moving swap now"),
    ),
    "watch": (
        ("checkswap watch -i 5 -n 12", "a minute of 5-second samples"),
        ("checkswap watch --format json | jq .swap_in_per_s", "the rates as JSON lines"),
        ("checkswap watch --replay day.jsonl --speed 0", "a recording, at once"),
    ),
    "top": (
        ("checkswap top", "the 20 processes holding the most swap"),
        ("checkswap top --sort activity -i 2 --cgroups", "who moves swap, refreshed"),
    ),
    "doctor": (
        ("checkswap doctor --role database", "findings for a database server"),
        ("checkswap doctor --root /host --format json", "a host's /proc and /sys elsewhere"),
    ),
    "snapshot": (("checkswap snapshot -o host.tar.gz -n 5", "five samples, for --root elsewhere"),),
    "record": (
        (
            "checkswap record --dir /var/log/checkswap --gzip --trigger 1000",
            "rotating recordings, with who swapped above 1000 pages/s",
        ),
    ),
    "report": (
        ("checkswap report /var/log/checkswap/*.jsonl*", "totals, p95, peaks and spikes"),
        ("checkswap report day.jsonl --html day.html", "the same with charts"),
    ),
    "serve": (
        ("checkswap serve --listen 0.0.0.0:9947", "Prometheus metrics on every address"),
        (
            "checkswap serve --textfile /var/lib/node_exporter/checkswap.prom",
            "for node_exporter's textfile collector",
        ),
    ),
    "check": (
        ("checkswap check -w 100 -c 1000 --used-warning 80", "a Nagios/Icinga service check"),
    ),
    "swapfile": (
        ("checkswap swapfile add 2G --persist", "a 2 GiB swapfile, on now and at boot"),
        (
            "checkswap swapfile remove /swapfile-checkswap-20261127 --dry-run",
            "what removing it would do",
        ),
        ("checkswap swapfile list", "the swap areas and what they sit on"),
    ),
    "stress": (
        ("checkswap stress --size 512M --limit 64M --duration 1m", "see swapping happen"),
        ("checkswap stress --cleanup", "remove what a killed run left"),
    ),
    "fleet": (
        (
            "checkswap fleet --prometheus http://prom:9090 --since 7d",
            "which hosts swapped or thrashed this week",
        ),
    ),
    "dash": (
        ("checkswap dash", "the live dashboard (needs python3-rich)"),
        ("checkswap dash --replay day.jsonl --speed 60", "a recording, an hour a minute"),
    ),
}

# Options whose value is a path, by their metavar: completion offers files there.
FILE_METAVARS = {"FILE", "PATH", "BUNDLE", "DIR|BUNDLE", "OUT.html"}
DIR_METAVARS = {"DIR"}
FILE_DESTS = {"path"}


def _parser() -> argparse.ArgumentParser:
    from checkswap.cli import build_parser

    parser, _ = build_parser(None, every=True)
    return parser


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _roff(text: str) -> str:
    """Plain text as roff: backslashes and hyphens escaped, no line starting with a control."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "\\&" + text if text[:1] in (".", "'") else text


def _tagged(items: tuple[tuple[str, str], ...], bold: bool = True) -> list[str]:
    lines = []
    for tag, text in items:
        lines += [".TP", (".B " if bold else "") + _roff(tag), _roff(text)]
    return lines


def _date() -> str:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    when = (
        datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc)
        if epoch
        else datetime.datetime.now(datetime.timezone.utc)
    )
    return when.strftime("%Y-%m-%d")


def _body(parser: argparse.ArgumentParser) -> list[str]:
    """argparse-manpage's synopsis, description and options, without its header and name."""
    try:
        from argparse_manpage.manpage import Manpage
    except ImportError:  # Debian 12's 1.2.2
        from build_manpages.manpage import Manpage
    text = str(Manpage(parser))
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(".SH SYNOPSIS"))
    # The descriptions are written for RawDescriptionHelpFormatter: their indented lines are
    # tables and keep their layout (.nf); the rest is filled. Debian 12's version puts .br
    # after every line, which would break the filled paragraphs at the source's line ends.
    body: list[str] = []
    kept = False
    for line in lines[start:]:
        if line == ".br":
            continue
        indented = line.startswith("  ")
        if indented != kept:
            body.append(".nf" if indented else ".fi")
            kept = indented
        body.append(line)
    if kept:
        body.append(".fi")
    return body


def manpage(
    name: str,
    parser: argparse.ArgumentParser,
    summary: str,
    version: str,
    commands: dict[str, str] | None = None,
) -> str:
    page = "checkswap" if name == "checkswap" else f"checkswap-{name}"
    title = _roff(page.upper())
    lines = [
        f'.TH {title} 1 "{_date()}" "checkswap {version}" "checkswap manual"',
        ".SH NAME",
        f"{_roff(page)} \\- {_roff(summary)}",
    ]
    lines += _body(parser)
    if commands:
        lines.append(".SH COMMANDS")
        lines += _tagged(tuple((c, f"{h}; see checkswap-{c}(1)") for c, h in commands.items()))
    lines.append(".SH EXIT STATUS")
    if name in PLUGINS:
        lines.append("The monitoring-plugins convention: the worst finding or threshold.")
        lines += _tagged(EXIT_PLUGIN)
    elif name == "fleet":
        lines.append("A fleet gate for cron or CI: the worst host.")
        lines += _tagged(EXIT_FLEET)
    else:
        lines += _tagged(EXIT_USUAL)
        if name == "checkswap":
            lines.append(".PP")
            lines.append(_roff("doctor and check use 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN;"))
            lines.append(_roff("fleet 0 quiet, 1 swapping, 2 thrashing, 3 not answered."))
    lines.append(".SH ENVIRONMENT")
    lines += _tagged(ENVIRONMENT)
    lines.append(".SH FILES")
    lines += _tagged(FILES)
    lines.append(".SH EXAMPLES")
    for command, what in EXAMPLES.get(name, ()):
        lines += [".PP", _roff(what) + ":", ".RS", ".nf", _roff("$ " + command), ".fi", ".RE"]
    lines.append(".SH SEE ALSO")
    refs = [f"checkswap\\-{c}" for c in commands] if commands else ["checkswap"]
    refs += ["swapon", "proc"]
    sections = {"swapon": 8, "proc": 5}
    lines += [f".BR {r} ({sections.get(r, 1)})," for r in refs]
    lines[-1] = lines[-1].rstrip(",")
    return "\n".join(lines) + "\n"


def _mark_paths(parser: argparse.ArgumentParser, shtab: Any) -> None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _mark_paths(sub, shtab)
        elif action.metavar in DIR_METAVARS:
            action.complete = shtab.DIRECTORY  # type: ignore[attr-defined]
        elif action.metavar in FILE_METAVARS or action.dest in FILE_DESTS:
            action.complete = shtab.FILE  # type: ignore[attr-defined]


def generate(out: str = OUT) -> list[str]:
    """Writes the man pages and completion scripts into ``out``; returns their paths."""
    if ROOT not in sys.path:
        sys.path.insert(0, ROOT)
    from checkswap import __version__
    from checkswap.commands import COMMANDS

    parser = _parser()
    written = []
    man = os.path.join(out, "man")
    completion = os.path.join(out, "completion")
    os.makedirs(man, exist_ok=True)
    os.makedirs(completion, exist_ok=True)
    helps = {name: help_text for name, (_, help_text) in COMMANDS.items()}
    pages = {"checkswap": (parser, "is this Linux machine swapping, does it hurt, who is in swap")}
    for name, sub in _commands(parser).items():
        pages[name] = (sub, helps[name])
    for name, (p, summary) in pages.items():
        path = os.path.join(man, "checkswap.1" if name == "checkswap" else f"checkswap-{name}.1")
        text = manpage(name, p, summary, __version__, helps if name == "checkswap" else None)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        written.append(path)

    import shtab

    _mark_paths(parser, shtab)
    for shell, filename in (("bash", "checkswap"), ("zsh", "_checkswap")):
        path = os.path.join(completion, filename)
        script = shtab.complete(parser, shell=shell)
        # Debian 12's shtab (1.5.5) reads an option's choices, and the commands, as a plain
        # variable: Tab offered only the first. Read the whole array, one choice per line (the
        # script splits on newlines). Newer shtab has other code here: nothing matches.
        script = script.replace(
            'local current_action_choices_var="${current_action}_choices"\n'
            '  current_action_choices="${!current_action_choices_var}"',
            'local current_action_choices_var="${current_action}_choices[@]"\n'
            '  current_action_choices="$(printf \'%s\\n\' "${!current_action_choices_var}")"',
        )
        with open(path, "w", encoding="utf-8") as f:
            f.write(script)
        written.append(path)
    return written


def build_wheel(
    wheel_directory: str,
    config_settings: dict[str, Any] | None = None,
    metadata_directory: str | None = None,
) -> str:
    generate()
    return str(_setuptools.build_wheel(wheel_directory, config_settings, metadata_directory))


def build_editable(
    wheel_directory: str,
    config_settings: dict[str, Any] | None = None,
    metadata_directory: str | None = None,
) -> str:
    generate()
    return str(_setuptools.build_editable(wheel_directory, config_settings, metadata_directory))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: tools/checkswap_build.py OUTDIR")
    for written in generate(sys.argv[1]):
        print(written)
