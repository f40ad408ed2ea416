"""Subcommands. Each module has ``add_parser(subparsers)`` and ``run(args, env) -> int``.

Modules here are imported at start-up to build the parser, so they import nothing heavy at
module level: optional extras are imported inside ``run``.
"""

# name -> module; the first is the default command.
COMMANDS = {
    "watch": "checkswap.commands.watch",
    "top": "checkswap.commands.top",
    "doctor": "checkswap.commands.doctor",
    "snapshot": "checkswap.commands.snapshot",
    "record": "checkswap.commands.record",
    "report": "checkswap.commands.report",
    "dash": "checkswap.commands.dash",
}
# Commands that follow the monitoring-plugins exit convention: bad input is UNKNOWN (3).
PLUGIN_COMMANDS = frozenset({"doctor", "check"})
