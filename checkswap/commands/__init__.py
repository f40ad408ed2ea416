"""Subcommands. Each module has ``add_parser(subparsers)`` and ``run(args, env) -> int``.

Only the module of the command being run is imported (start-up time stays flat however many
commands there are), so each command's one-line help lives here for ``checkswap --help``.
"""

# name -> (module, help); the first is the default command.
COMMANDS = {
    "watch": (
        "checkswap.commands.watch",
        "swap-in/swap-out per second, 1/5/15-minute averages and the peak (default)",
    ),
    "top": (
        "checkswap.commands.top",
        "who is in swap and who is moving it: per process and per cgroup",
    ),
    "doctor": (
        "checkswap.commands.doctor",
        "is the swap set up sanely, and is it hurting? findings, fixes and a verdict",
    ),
    "snapshot": (
        "checkswap.commands.snapshot",
        "capture the kernel files checkswap reads into a bundle for --root elsewhere",
    ),
    "record": (
        "checkswap.commands.record",
        "record raw samples to disk (rotation, retention, trigger captures of who swapped)",
    ),
    "report": (
        "checkswap.commands.report",
        "what happened in a recording: totals, p95, peaks, spikes; --html for charts",
    ),
    "serve": (
        "checkswap.commands.serve",
        "Prometheus exporter (and node_exporter textfile writer) for fleet monitoring",
    ),
    "check": (
        "checkswap.commands.check",
        "Nagios/Icinga plugin: swap-in/out rate, swap used and PSI against thresholds",
    ),
    "swapfile": (
        "checkswap.commands.swapfile",
        "add, remove or list swapfiles safely (emergency swap, fstab, dry run)",
    ),
    "stress": (
        "checkswap.commands.stress",
        "make a memory hog swap inside a memory-limited cgroup, and watch it",
    ),
    "dash": (
        "checkswap.commands.dash",
        "live terminal dashboard: rates, PSI, areas, verdict, top processes and cgroups",
    ),
    "fleet": (
        "checkswap.commands.fleet",
        "rank the hosts a Prometheus scrapes by swap harm: totals, peaks, thrashing minutes",
    ),
}
# Commands that follow the monitoring-plugins exit convention: bad input is UNKNOWN (3).
PLUGIN_COMMANDS = frozenset({"doctor", "check"})
# Gates that exit 3 when the question cannot be answered (bad input too), with the error line
# on stderr as other commands print it, and under --format json one JSON object on stdout.
GATE_COMMANDS = frozenset({"fleet"})
