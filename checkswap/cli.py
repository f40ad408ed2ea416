"""Command-line entry point: parse arguments, run one command, map errors to exit statuses.

Everything below ``main`` raises; only here do exceptions become one line on stderr and an exit
status (DESIGN.md): 0 success (also a monitor stopped by Ctrl-C, SIGTERM or a closed pipe),
1 an action refused or failed, 2 bad input; ``doctor`` and ``check`` use 3 for bad input.
"""

from __future__ import annotations

import os
import re
import signal
import sys

from checkswap import __version__
from checkswap.commands import COMMANDS, GATE_COMMANDS, PLUGIN_COMMANDS
from checkswap.env import Env
from checkswap.errors import BadInput, CheckswapError, PluginStatus

TYPE_CHECKING = False  # typing costs ~4 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    import argparse
    from types import FrameType, ModuleType
    from typing import IO, Any, NoReturn

    from _typeshed import SupportsWrite


def _import_argparse_untranslated() -> ModuleType:
    """argparse, imported with a stand-in for gettext when nothing has imported either yet.

    argparse passes its few words ("usage:", "options") through gettext's default domain, for
    which no catalogue is installed anywhere (checkswap's own text is English). Importing
    gettext and locale and probing for that catalogue was ~1.5 ms of every start, a quarter of
    what checkswap adds to the interpreter's own. The stand-in gives the untranslated text, as
    gettext does without a catalogue (and as Debian's argparse does without gettext); it is
    seen by argparse's import alone: gettext itself stays importable for everyone after.
    """
    if "argparse" in sys.modules or "gettext" in sys.modules:
        import argparse

        return argparse
    stand_in = type(sys)("gettext")
    stand_in.gettext = lambda message: message  # type: ignore[attr-defined]
    stand_in.ngettext = lambda one, many, n: one if n == 1 else many  # type: ignore[attr-defined]
    sys.modules["gettext"] = stand_in
    try:
        import argparse
    finally:
        del sys.modules["gettext"]
    return argparse


if not TYPE_CHECKING:
    argparse = _import_argparse_untranslated()

DESCRIPTION = """\
checkswap tells whether this Linux machine is swapping, whether it hurts, and who is in swap.

swap-in:  pages read back from swap into RAM (pswpin); processes wait for these.
swap-out: pages written from RAM to swap (pswpout).

With no command, runs `watch`.
"""


class UsageError(BadInput):
    pass


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and an exception, not a print and exit, and
    --help/--version go to the program's own stdout (tests run the CLI in-process)."""

    default_out: IO[str] | None = None  # for sub-parsers, which argparse creates itself

    def __init__(self, *args: Any, out: IO[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.out = out if out is not None else self.default_out
        # argparse reads only -1 and -1.5 as negative numbers: "-2s" or "-1G" become unknown
        # options, and the error is "expected one argument" or "SIZE is required". No option
        # of ours starts with a digit, so anything that does is a value and gets the value's
        # own refusal ("it must be greater than 0").
        self._negative_number_matcher = re.compile(r"^-\d")

    def error(self, message: str) -> NoReturn:
        # main() prefixes "checkswap: "; keep only the subcommand's name ("top: ...").
        where = self.prog[len("checkswap") :].strip() if self.prog.startswith("checkswap") else ""
        raise UsageError(f"{where}: {_suggest(message)}" if where else _suggest(message))

    def _get_formatter(self) -> argparse.HelpFormatter:
        # argparse's formatter imports shutil (with bz2 and lzma, ~3 ms) only for the terminal
        # width, and builds a formatter for every add_argument: give it the width ourselves.
        # (typeshed's _FormatterClass names only prog; every HelpFormatter takes width)
        formatter: Any = self.formatter_class
        return formatter(prog=self.prog, width=_help_width())  # type: ignore[no-any-return]

    def _print_message(self, message: str, file: SupportsWrite[str] | None = None) -> None:
        if self.out is not None and (file is None or file is sys.stdout):
            file = self.out
        super()._print_message(message, file)


def _help_width() -> int:
    """shutil.get_terminal_size().columns - 2, as argparse computes it: $COLUMNS, else the
    terminal's width, else 80."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            out = sys.__stdout__
            columns = os.get_terminal_size(out.fileno()).columns if out is not None else 0
        except (AttributeError, ValueError, OSError):
            columns = 0
    return (columns or 80) - 2


def _suggest(message: str) -> str:
    # "invalid choice: 'wach' (choose from 'watch', 'top')" -> add "did you mean 'watch'?"
    if "invalid choice:" in message and "(choose from" in message:
        import difflib  # only on this error path: start-up time

        bad = message.split("invalid choice:", 1)[1].split("(choose from", 1)[0].strip(" '")
        choices = [c.strip(" ',)") for c in message.split("(choose from", 1)[1].split(",")]
        close = difflib.get_close_matches(bad, choices, n=1)
        if close:
            return f"{message}; did you mean {close[0]!r}?"
    return message


def build_parser(
    selected: str | None, out: IO[str] | None = None, every: bool = False
) -> tuple[Parser, ModuleType | None]:
    """The parser, with full arguments for the selected command only (see commands/); with
    ``every``, for all of them: the man pages and shell completion are generated from that."""
    parser = Parser(
        prog="checkswap",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        out=out,
    )
    parser.add_argument("--version", action="version", version=f"checkswap {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show a traceback on errors (for bug reports)"
    )
    bound = type("Parser", (Parser,), {"default_out": out})
    sub: argparse._SubParsersAction[Parser] = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=bound
    )
    module = None
    if selected is not None:
        # Building a sub-parser costs ~0.7 ms: when the command is known, build only its own.
        module = _command_module(COMMANDS[selected][0])
        module.add_parser(sub)
    elif every:
        for module_name, _ in COMMANDS.values():
            _command_module(module_name).add_parser(sub)
    else:
        for name, (_, help_text) in COMMANDS.items():
            sub.add_parser(name, help=help_text)
    return parser, module


def _command_module(name: str) -> ModuleType:
    # __import__, not importlib.import_module: importlib itself is ~0.15 ms of start-up.
    __import__(name)
    return sys.modules[name]


def _with_default_command(argv: list[str]) -> list[str]:
    """``checkswap -i 2`` means ``checkswap watch -i 2``; global flags stay in front."""
    i = 0
    while i < len(argv) and argv[i] == "--debug":
        i += 1
    rest = argv[i:]
    if not rest:
        return [*argv, "watch"]
    first = rest[0]
    if first in COMMANDS or first in ("-h", "--help", "--version"):
        return argv
    if first.startswith("-"):
        return [*argv[:i], "watch", *rest]
    return argv


def _show_unpacking(args: argparse.Namespace, env: Env) -> None:
    """A --root that is a file is a bundle: its unpacking gets the progress every long job has."""
    root = getattr(args, "root", None)
    if not isinstance(root, str) or not os.path.isfile(root):
        return
    from checkswap.render.progress import stderr_progress
    from checkswap.source import bundle

    bundle.unpack_progress = lambda total: stderr_progress(
        env, total, label="unpacking", delay_s=0.5
    )


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None, env: Env | None = None) -> int:
    env = env or Env()
    args_list = list(sys.argv[1:] if argv is None else argv)
    args_list = _with_default_command(args_list)
    leading = 0
    while leading < len(args_list) and args_list[leading] == "--debug":
        leading += 1
    debug = leading > 0
    command = args_list[leading] if leading < len(args_list) else None
    if command not in COMMANDS:
        command = None
    bad_input_status = (
        PluginStatus.UNKNOWN if command in PLUGIN_COMMANDS or command in GATE_COMMANDS else 2
    )
    try:
        parser, module = build_parser(command, env.stdout)
        args = parser.parse_args(args_list)
        if module is None:
            parser.print_help(env.stdout)
            return 0
        if argv is None:
            # SIGTERM ends a monitor like Ctrl-C: with its summary, exit status 0.
            signal.signal(signal.SIGTERM, _raise_interrupt)
        _show_unpacking(args, env)
        return int(module.run(args, env))
    except KeyboardInterrupt:
        return 0
    except BrokenPipeError:
        _silence_stdout(env)
        return 0
    except CheckswapError as e:
        if debug:
            raise
        status = bad_input_status if isinstance(e, BadInput) else int(e.status)
        if (command in PLUGIN_COMMANDS or command in GATE_COMMANDS) and _json_format(args_list):
            # docs/interface.md: a plugin-style command or a gate under --format json always
            # prints one JSON object, an UNKNOWN included, so a collector parsing stdout (a
            # CI job piping `fleet --format json` to jq) never gets text, nor nothing at all.
            import json  # only on this path: the start-up of every command does not pay for it

            env.stderr.write(f"checkswap: {e}\n")
            env.stdout.write(json.dumps(_unknown_object(command, str(e))) + "\n")
        elif command in PLUGIN_COMMANDS:
            # A plugin's output is one line on stdout, read by the monitoring system.
            env.stdout.write(f"CHECKSWAP UNKNOWN - {e}\n")
        else:
            env.stderr.write(f"checkswap: {e}\n")
        return int(status)


def _json_format(argv: list[str]) -> bool:
    """--format json on the command line, read without argparse (which may be what failed)."""
    for i, a in enumerate(argv):
        if a == "--format=json" or (a == "--format" and argv[i + 1 : i + 2] == ["json"]):
            return True
    return False


def _unknown_object(command: str | None, message: str) -> dict[str, object]:
    """The one JSON object of a plugin-style command or a gate that could not judge
    (docs/interface.md)."""
    out: dict[str, object] = {"type": command, "status": "UNKNOWN"}
    if command == "doctor":
        out["verdict"] = "unknown"
    if command in GATE_COMMANDS:
        out["record"] = "error"  # fleet's lines are told apart by "record" (host, summary)
    out["error"] = message
    return out


def _silence_stdout(env: Env) -> None:
    """After EPIPE, point stdout at /dev/null so the interpreter's final flush stays quiet."""
    if env.stdout is sys.stdout:
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass


def main_exit() -> None:
    """Entry point for the zipapp, whose generated __main__ ignores a return value."""
    sys.exit(main())
