"""Golden outputs: every command in every format on every fixture tree, on bundles and on
recordings, captured so that a change meant to preserve behaviour can be checked against them.

The CLI runs in-process with a fake clock (``sleep`` advances it), so live reads of a static
fixture tree give the same text on every run. What still differs between runs (the temporary
paths a case makes, the host's own name and kernel where a tree has no manifest) is replaced
by placeholders. Regenerate after an intended change of output with:

    .venv/bin/python tests/golden_cases.py --update

and read the diff before committing it.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, ClassVar

from clihelp import FIXTURES

if TYPE_CHECKING:
    from checkswap.env import Env

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, "golden")
MADE = "_made-by-0.1"  # under FIXTURES

WALL0 = 1795737600.0  # 2026-11-27T00:00:00Z


class FakeClock:
    def __init__(self, moving: MovingTree | None = None) -> None:
        self.mono = 1000.0
        self.wall = WALL0
        self.moving = moving

    def monotonic(self) -> float:
        return self.mono

    def time(self) -> float:
        return self.wall

    def sleep(self, seconds: float) -> None:
        self.mono += max(seconds, 0.0)
        self.wall += max(seconds, 0.0)
        if self.moving is not None:
            self.moving.advance(seconds)


class MovingTree:
    """A copy of a swapping fixture whose counters climb with the fake clock, so the golden
    outputs carry real rates, averages, peaks and verdicts rather than zeros."""

    RATES: ClassVar[dict[str, int]] = {
        "pswpin": 1500,
        "pswpout": 2500,
        "pgmajfault": 900,
        "workingset_refault_anon": 1200,
        "zswpin": 300,
        "zswpout": 400,
        "swpin_zero": 50,
        "swpout_zero": 70,
    }

    def __init__(self, tmp: str, source: str = "linux-6.18-swapping") -> None:
        self.path = os.path.join(tmp, "moving")
        shutil.copytree(os.path.join(FIXTURES, source), self.path, symlinks=True)
        self.elapsed = 0.0
        self._vmstat = os.path.join(self.path, "proc", "vmstat")
        self._psi = os.path.join(self.path, "proc", "pressure", "memory")
        with open(self._vmstat) as f:
            self._vm = f.read()
        # A tree of a kernel without PSI (before 4.20) climbs in its counters only.
        self._pressure: str | None = None
        if os.path.exists(self._psi):
            with open(self._psi) as f:
                self._pressure = f.read()

    def advance(self, seconds: float) -> None:
        self.elapsed += max(seconds, 0.0)
        t = self.elapsed

        def bump(m: re.Match[str]) -> str:
            return f"{m.group(1)} {int(m.group(2)) + int(self.RATES[m.group(1)] * t)}"

        names = "|".join(self.RATES)
        with open(self._vmstat, "w") as f:
            f.write(re.sub(rf"^({names}) (\d+)$", bump, self._vm, flags=re.M))
        if self._pressure is None:
            return
        # 20 % of the time stalled: 200 ms of each second, in microseconds.
        stall = int(200_000 * t)
        with open(self._psi, "w") as f:
            f.write(
                re.sub(r"total=(\d+)", lambda m: f"total={int(m.group(1)) + stall}", self._pressure)
            )


def trees() -> list[str]:
    return sorted(
        d
        for d in os.listdir(FIXTURES)
        if os.path.isdir(os.path.join(FIXTURES, d, "proc")) and not d.startswith("_")
    )


# serve has no one-shot mode to run through main: this pseudo-command is one scrape of its
# /metrics, as Prometheus gets it, after each background job (processes, doctor) ran once.
SCRAPE = "{serve-scrape}"

# (name, argv after the tree's --root); text and machine formats of every command that reads
# a root, and serve's exposition.
PER_TREE: list[tuple[str, list[str]]] = [
    ("watch-text", ["watch", "-n", "2", "-i", "1"]),
    ("watch-json", ["watch", "-n", "2", "-i", "1", "--format", "json"]),
    ("watch-csv", ["watch", "-n", "2", "-i", "1", "--format", "csv"]),
    ("top-text", ["top", "-n", "2", "-i", "1", "--cgroups"]),
    ("top-json", ["top", "-n", "2", "-i", "1", "--cgroups", "--format", "json"]),
    ("doctor-text", ["doctor", "--sample", "1"]),
    ("doctor-json", ["doctor", "--sample", "1", "--format", "json"]),
    ("doctor-db-json", ["doctor", "--sample", "1", "--role", "database", "--format", "json"]),
    ("check", ["check", "--sample", "1", "--state-file", "{tmp}/state", "-w", "100"]),
    ("swapfile-list", ["swapfile", "list"]),
    ("serve-scrape", [SCRAPE]),
]


def run(argv: list[str], moving: MovingTree | None = None) -> tuple[int, str, str]:
    from checkswap.cli import main
    from checkswap.env import Env

    clock = FakeClock(moving)
    out, err = io.StringIO(), io.StringIO()
    env = Env(stdout=out, stderr=err, monotonic=clock.monotonic, sleep=clock.sleep, wall=clock.time)
    # Some commands still read the time module directly: give them the same fake clock.
    saved = time.monotonic, time.time, time.sleep
    time.monotonic, time.time, time.sleep = clock.monotonic, clock.time, clock.sleep
    try:
        status = (
            scrape(argv[argv.index("--root") + 1], env) if argv[0] == SCRAPE else main(argv, env)
        )
    finally:
        time.monotonic, time.time, time.sleep = saved
    return status, out.getvalue(), err.getvalue()


def scrape(root_arg: str, env: Env) -> int:
    from checkswap.errors import CheckswapError
    from checkswap.fleet import serve
    from checkswap.source import open_root

    try:
        root = open_root(root_arg)
    except CheckswapError as e:
        # What `serve` itself says of a root it cannot read (trees from other projects lack
        # files), rather than a traceback that stops every case after it.
        env.stderr.write(f"checkswap: {e}\n")
        return int(e.status)
    jobs = serve.background_jobs(
        root, 10, 15.0, 300.0, "general", env.stderr, env.sleep, env.monotonic
    )
    for job in jobs:
        job.run_once()
    body, _, _ = serve.Exporter(serve.SwapCollector(root, jobs)).render(None, None)
    env.stdout.write(body.decode())
    return 0


def normalise(text: str, tmp: str) -> str:
    text = text.replace(tmp, "{tmp}").replace(FIXTURES, "{fixtures}")
    # Not the host's kernel release: fixture trees carry their own (one was captured on a host
    # whose release matched, and its goldens broke on the next host).
    host = os.uname()
    if len(host.nodename) > 2:
        text = re.sub(rf"\b{re.escape(host.nodename)}\b", "{host-name}", text)
    # Unpack directories and pids carry random or per-run parts.
    text = re.sub(r"[^\s\"']*checkswap-bundle-[A-Za-z0-9_.-]+", "{bundle-dir}", text)
    return text


def cases() -> Iterator[tuple[str, list[str]]]:
    """(case name, argv) with ``{tmp}`` and ``{tree}`` placeholders."""
    for tree in trees():
        for name, argv in PER_TREE:
            yield f"{tree}/{name}", [*argv, "--root", f"{{fixtures}}/{tree}"]
    # Bundles taken from two trees, replayed by every command that takes --root.
    for tree in ("linux-6.18-swapping", "topo-multipath"):
        bundle = f"{{tmp}}/{tree}.tar.gz"
        yield (
            f"bundle-{tree}/snapshot",
            ["snapshot", "-n", "2", "-i", "1", "-o", bundle, "--root", f"{{fixtures}}/{tree}"],
        )
        for name, argv in PER_TREE:
            yield f"bundle-{tree}/{name}", [*argv, "--root", bundle]
    # A tree whose counters climb with the clock: rates, averages, peaks, verdicts.
    for name, argv in PER_TREE:
        yield f"moving/{name}", [*argv, "--root", "{moving}"]
    yield (
        "moving/snapshot",
        ["snapshot", "-n", "3", "-i", "1", "-o", "{tmp}/moving.tar.gz", "--root", "{moving}"],
    )
    for name, argv in PER_TREE:
        yield f"bundle-moving/{name}", [*argv, "--root", "{tmp}/moving.tar.gz"]
    yield (
        "moving/record",
        [
            "record",
            "-o",
            "{tmp}/moving.jsonl",
            "-n",
            "5",
            "-i",
            "1",
            "--trigger",
            "100",
            "--root",
            "{moving}",
        ],
    )
    yield "moving/report-text", ["report", "{tmp}/moving.jsonl", "--spike", "100"]
    yield "moving/report-json", ["report", "{tmp}/moving.jsonl", "--format", "json"]
    yield "moving/replay-text", ["watch", "--replay", "{tmp}/moving.jsonl", "--speed", "0"]
    yield (
        "moving/replay-json",
        ["watch", "--replay", "{tmp}/moving.jsonl", "--speed", "0", "--format", "json"],
    )
    # Bundles and recordings made by checkswap 0.1.0 before the modules moved, kept as files:
    # what an older version wrote must keep replaying and reporting the same.
    made = "{fixtures}/" + MADE
    for bundle in ("linux-6.18-swapping.tar.gz", "moving.tar.gz"):
        for name, argv in PER_TREE:
            yield f"made-{bundle[: -len('.tar.gz')]}/{name}", [*argv, "--root", f"{made}/{bundle}"]
    for recording in ("moving.jsonl", "rec.jsonl"):
        stem = f"made-{recording[: -len('.jsonl')]}-recording"
        path = f"{made}/{recording}"
        yield f"{stem}/report-text", ["report", path, "--spike", "100"]
        yield f"{stem}/report-json", ["report", path, "--format", "json"]
        yield f"{stem}/replay-text", ["watch", "--replay", path, "--speed", "0"]
        yield f"{stem}/replay-json", ["watch", "--replay", path, "--speed", "0", "--format", "json"]
        yield f"{stem}/replay-csv", ["watch", "--replay", path, "--speed", "0", "--format", "csv"]
    # Recordings made from a fixture tree, then reported and replayed.
    rec = "{tmp}/rec.jsonl"
    yield (
        "recording/record",
        ["record", "-o", rec, "-n", "3", "-i", "1", "--root", "{fixtures}/recording-host"],
    )
    yield "recording/report-text", ["report", rec]
    yield "recording/report-json", ["report", rec, "--format", "json"]
    yield "recording/replay-text", ["watch", "--replay", rec, "--speed", "0"]
    yield "recording/replay-json", ["watch", "--replay", rec, "--speed", "0", "--format", "json"]
    yield "recording/replay-csv", ["watch", "--replay", rec, "--speed", "0", "--format", "csv"]


def capture() -> dict[str, str]:
    """Run every case in order (later cases use what earlier ones made) in one temp dir."""
    results: dict[str, str] = {}
    tmp = tempfile.mkdtemp(prefix="checkswap-test-golden-")
    old_tz = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"  # text shows local time: make it the same everywhere
    time.tzset()
    try:
        for name, argv in cases():
            moving = MovingTree(tmp) if "{moving}" in argv else None
            real = [
                a.replace("{tmp}", tmp)
                .replace("{fixtures}", FIXTURES)
                .replace("{moving}", moving.path if moving else "")
                for a in argv
            ]
            status, out, err = run(real, moving)
            if moving is not None:
                shutil.rmtree(moving.path)
            body = f"$ checkswap {' '.join(argv)}\n# exit {status}\n{out}"
            if err:
                body += f"# stderr:\n{err}"
            results[name] = normalise(body, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if old_tz is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = old_tz
        time.tzset()
    return results


def path_of(name: str) -> str:
    return os.path.join(GOLDEN, name.replace("/", "__") + ".out")


def update() -> None:
    if os.path.isdir(GOLDEN):
        shutil.rmtree(GOLDEN)
    os.makedirs(GOLDEN)
    for name, text in capture().items():
        with open(path_of(name), "w", encoding="utf-8") as f:
            f.write(text)


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(HERE))
    if sys.argv[1:] == ["--update"]:
        update()
    else:
        sys.exit("usage: golden_cases.py --update")
