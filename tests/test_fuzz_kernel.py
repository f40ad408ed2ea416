"""Fuzz tests of every kernel-file parser: perturbed real text never raises anything but the
project's own errors, and the per-tick parsers (one regex for the wanted names) keep exactly the
lines the plain line-by-line parser keeps."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fuzzhelp import fixture_text, fuzz, kernel_text, live_text, perturbed, vary_name
from hypothesis import example, given
from hypothesis import strategies as st

from checkswap.errors import CheckswapError
from checkswap.kernel import (
    _text,
    block,
    cgroup,
    meminfo,
    mountinfo,
    pid,
    pressure,
    swaps,
    sysctl,
    thp,
    uptime,
    vmstat,
    zram,
    zswap,
)


@pytest.fixture(autouse=True, scope="module")
def _patterns_from_the_first_parse() -> Iterator[None]:
    # The wanted-lines parsers and PSI's go line by line for their first dozen texts
    # (start-up time): here every parse takes the compiled pattern, which the line-by-line
    # parse is the reference for.
    saved = _text.WantedLines.LINE_BY_LINE, pressure.LINE_BY_LINE
    _text.WantedLines.LINE_BY_LINE = pressure.LINE_BY_LINE = 0
    try:
        yield
    finally:
        _text.WantedLines.LINE_BY_LINE, pressure.LINE_BY_LINE = saved


VMSTAT = fixture_text("linux-6.18-swapping", "proc", "vmstat")
MEMINFO = fixture_text("linux-6.18-swapping", "proc", "meminfo")
SWAPS = fixture_text("linux-6.18-swapping", "proc", "swaps")
PRESSURE = fixture_text("linux-6.18-swapping", "proc", "pressure", "memory")
MOUNTINFO = fixture_text("top-hidepid2", "proc", "self", "mountinfo") + live_text(
    "/proc/self/mountinfo", ""
)
DISKSTATS = fixture_text("cgroup-v2", "proc", "diskstats")
STATUS = live_text("/proc/self/status", fixture_text("cgroup-v2", "proc", "812", "status"))
STAT = live_text(
    "/proc/self/stat",
    "24500 (peers-hog) D 1 24500 1446 0 -1 4194560 2259 0 66804 0 1 2 3 4 20 0 1 0 54706 0 0",
)
CGROUP_PATHS = "4:memory:/checkswap-test-hog-123\n1:cpu,cpuacct:/x\n0::/system.slice/db.service\n"
MEMORY_STAT = fixture_text(
    "cgroup-v2", "sys", "fs", "cgroup", "system.slice", "db.service", "memory.stat"
)
UPTIME = fixture_text("cgroup-v2", "proc", "uptime")
MM_STAT = "  4096000  1024000  1200000        0  1300000      100        0        3        0\n"


def only_own_errors(fn: object, *args: object) -> object:
    """Call a parser: a result, or one of checkswap's own errors; anything else fails the test."""
    try:
        return fn(*args)  # type: ignore[operator]
    except CheckswapError:
        return None


@fuzz("vmstat")
@given(kernel_text(VMSTAT))
def test_vmstat(text: str) -> None:
    for wanted in (vmstat._WANTED, None):
        out = only_own_errors(vmstat.parse_vmstat, text, wanted)
        assert isinstance(out, dict) and all(type(v) is int for v in out.values())


@fuzz("meminfo")
@given(kernel_text(MEMINFO))
def test_meminfo(text: str) -> None:
    out = only_own_errors(meminfo.parse_meminfo, text)
    assert isinstance(out, dict) and all(type(v) is int for v in out.values())


def _plain(full, text: str, wanted: frozenset[str]) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {k: v for k, v in full(text, None).items() if k in wanted}


@fuzz("wanted vmstat == plain vmstat restricted to the wanted names")
@given(st.lists(perturbed(VMSTAT), min_size=1, max_size=4))
def test_wanted_vmstat_agrees(texts: list[str]) -> None:
    for text in [VMSTAT, *texts, VMSTAT]:
        assert vmstat.parse_vmstat(text) == _plain(vmstat.parse_vmstat, text, vmstat._WANTED)


@fuzz("wanted meminfo == plain meminfo restricted to the wanted names")
@given(st.lists(perturbed(MEMINFO), min_size=1, max_size=4))
@example([MEMINFO.replace("MemTotal:", "MemTotal: x", 1)])
def test_wanted_meminfo_agrees(texts: list[str]) -> None:
    for text in [MEMINFO, *texts, MEMINFO]:
        assert meminfo.parse_meminfo(text) == _plain(meminfo.parse_meminfo, text, meminfo._WANTED)


def _digit_edits(text: str, edits: list[tuple[int, str, str]]) -> str:
    # Only digits change, as between two ticks: numbers grow and shrink, and names may gain or
    # lose digits (pgalloc_dma32), which must not fool the parse that remembers a layout.
    for at, op, digit in edits:
        i = at % (len(text) + 1)
        if op == "insert":
            text = text[:i] + digit + text[i:]
            continue
        j = next((k for k in range(i, len(text)) if text[k] in "0123456789"), -1)
        if j >= 0:
            text = text[:j] + (digit if op == "replace" else "") + text[j + 1 :]
    return text


_EDITS = st.lists(
    st.tuples(
        st.integers(0, 10**6),
        st.sampled_from(["insert", "delete", "replace"]),
        st.sampled_from("0123456789"),
    ),
    max_size=12,
)


@fuzz("wanted vmstat/meminfo == plain after digit-only changes", vary=None)
@given(st.lists(_EDITS, min_size=1, max_size=5), st.booleans())
@example([[(VMSTAT.index("\npswpin ") + 5, "insert", "1")]], True)
@example([[(MEMINFO.index("\nSwapFree:") + 3, "insert", "7")], [(0, "delete", "0")]], False)
def test_wanted_parsers_agree_across_digit_changes(
    steps: list[list[tuple[int, str, str]]], vm: bool
) -> None:
    module = vmstat if vm else meminfo
    parse = module.parse_vmstat if vm else module.parse_meminfo  # type: ignore[attr-defined]
    text = VMSTAT if vm else MEMINFO
    assert parse(text) == _plain(parse, text, module._WANTED)
    for edits in steps:
        text = _digit_edits(text, edits)
        assert parse(text) == _plain(parse, text, module._WANTED)


def test_remembered_layout_sees_names_that_gain_or_lose_digits() -> None:
    # Each pair has one layout (the same text without digits): the second must still be read
    # line by line, not from what the first one's lines were.
    pairs = [
        ("pswpin 1\npswpout 2\n", "pswp1in 1\npswpout 2\n"),  # a wanted line loses its name
        ("pswp1in 5\npswpout 2\n", "pswpin 15\npswpout 2\n"),  # another line takes it
        ("pswpin 1\npswpout 2\n", "pswpin 1\npswpout 2 3\n"),  # a value of another shape
        ("pswpin 1 2\npswpout 2\n", "pswpin 12\npswpout 2\n"),  # and back
        ("pswpin 1\npswpin 2\n", "pswpin 1\npswpin 2x\n"),
    ]
    for first, second in pairs:
        for t in (first, second, first):
            assert vmstat.parse_vmstat(t) == _plain(vmstat.parse_vmstat, t, vmstat._WANTED)


def test_wanted_lines_at_file_edges_and_prefixed_names() -> None:
    # The first line has no newline before it; swap_ra prefixes swap_ra_hit; a malformed line
    # of a wanted name is skipped, and a later good duplicate wins, as line by line.
    assert vmstat.parse_vmstat("pswpin 1\nswap_ra_hit 4\nswap_ra 3") == {
        "pswpin": 1,
        "swap_ra_hit": 4,
        "swap_ra": 3,
    }
    assert vmstat.parse_vmstat("pswpin x\npswpout 2\npswpin 5\n") == {"pswpout": 2, "pswpin": 5}
    assert vmstat.parse_vmstat("pswpinx 1\nxpswpin 2\n pswpin 3\n") == {}
    assert meminfo.parse_meminfo("Zswapped: 2 kB\nZswap: 1 kB\n") == {
        "Zswapped": 2048,
        "Zswap": 1024,
    }


def _kernel_escape(name: str) -> str:
    # What the kernel's seq_file escaping does for /proc/swaps and mountinfo: " \t\n\\" only.
    return "".join(f"\\{ord(c):03o}" if c in " \t\n\\" else c for c in name)


@fuzz("swaps")
@given(kernel_text(SWAPS))
def test_swaps(text: str) -> None:
    out = only_own_errors(swaps.parse_swaps, text)
    assert isinstance(out, list)


@fuzz("swaps: every file name survives the kernel's escaping", vary=vary_name("name"))
@given(st.text(min_size=1, max_size=40).map(lambda s: "/" + s))
@example("/var/tmp/my swap\x0cfile")
@example("/var/tmp/x\u2028y")
@example("/a\\040b")
def test_swaps_names(name: str) -> None:
    text = (
        "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
        # The kernel pads the name to 40 columns, with at least one space.
        f"{_kernel_escape(name) + ' ':<40}file\t\t1048572\t\t307228\t\t-2\n"
    )
    assert [a.name for a in swaps.parse_swaps(text)] == [name]


@fuzz("pressure")
@given(kernel_text(PRESSURE))
def test_pressure(text: str) -> None:
    out = only_own_errors(pressure.parse_pressure, text)
    if out is not None:
        for line in (out.some, out.full):
            assert line is None or type(line.total_us) is int


@fuzz("pid status")
@given(kernel_text(STATUS))
def test_status(text: str) -> None:
    only_own_errors(pid.parse_status, text)
    raw = only_own_errors(pid.status_swap_bytes_raw, text.encode("utf-8", "surrogateescape"))
    assert raw is None or type(raw) is int


@fuzz("pid stat")
@given(kernel_text(STAT))
def test_stat(text: str) -> None:
    only_own_errors(pid.parse_stat, text)


@fuzz("pid cgroup")
@given(kernel_text(CGROUP_PATHS))
def test_pid_cgroup(text: str) -> None:
    only_own_errors(pid.parse_cgroup, text)
    only_own_errors(pid.parse_smaps_rollup_swap_pss, text)


@fuzz("cgroup files")
@given(kernel_text(MEMORY_STAT), kernel_text("max\n"), kernel_text("9223372036854771712\n"))
def test_cgroup_files(stat_text: str, limit: str, v1: str) -> None:
    out = only_own_errors(cgroup.parse_flat_keyed, stat_text)
    assert isinstance(out, dict)
    only_own_errors(cgroup.parse_v2_limit, limit)
    only_own_errors(cgroup.parse_v1_value, v1)


@fuzz("diskstats")
@given(kernel_text(DISKSTATS))
def test_block(disk: str) -> None:
    only_own_errors(block.parse_diskstats, disk)


@fuzz("zram, mTHP and zswap debugfs (the tiers)")
@given(
    kernel_text(MM_STAT),
    kernel_text("       3        1        2\n"),
    kernel_text("[lzo-rle] lzo lz4 \n"),
    kernel_text("880\n"),
    st.text(max_size=24),
)
def test_tiers(mm: str, bd: str, algo: str, counter: str, dirname: str) -> None:
    got = only_own_errors(zram.parse_mm_stat, mm)
    assert got is None or all(v is None or v >= 0 for v in got)  # type: ignore[attr-defined]
    only_own_errors(zram.parse_bd_stat, bd)
    only_own_errors(zram.parse_comp_algorithm, algo)
    value = only_own_errors(thp.parse_counter, counter)
    assert value is None or value >= 0  # type: ignore[operator]
    only_own_errors(thp.parse_size_dir, "hugepages-" + dirname)
    only_own_errors(zswap.parse_debug_counter, counter)
    only_own_errors(zswap.parse_zswap, counter, counter, counter, counter, counter)


_GID = st.one_of(
    st.sampled_from(["27", "٣", "²", "١٢", "", "-1", "9" * 400, "0x1b", "27,gid=28"]),
    st.text(max_size=8),
)


@fuzz("mountinfo incl. hidepid/gid options")
@given(
    kernel_text(MOUNTINFO),
    st.sampled_from(["2", "1", "0", "invisible", "noaccess", "ptraceable", "off", "", "٢"]),
    _GID,
)
@example(MOUNTINFO, "2", "²")
def test_mountinfo(text: str, hidepid: str, gid: str) -> None:
    mounts = only_own_errors(mountinfo.parse_mountinfo, text)
    assert isinstance(mounts, list)
    line = f"22 27 0:21 / /proc rw,nosuid - proc proc rw,hidepid={hidepid},gid={gid}"
    hp = only_own_errors(mountinfo.proc_hidepid, mountinfo.parse_mountinfo(f"{text}\n{line}"))
    assert hp is not None
    assert hp.gid is None or (type(hp.gid) is int and hp.gid >= 0)


@fuzz("mountinfo: every mount point survives the kernel's escaping", vary=vary_name("point"))
@given(st.text(min_size=1, max_size=40).map(lambda s: "/" + s))
@example("/mnt/a\x0cb")
@example("/mnt/a\x85b")
def test_mountinfo_names(point: str) -> None:
    line = f"48 27 0:45 / {_kernel_escape(point)} rw,relatime shared:1 - nfs4 srv:/x rw,vers=4.2"
    assert [m.mount_point for m in mountinfo.parse_mountinfo(line + "\n")] == [point]


@fuzz("sysctl, uptime, zswap")
@given(kernel_text("60\n"), kernel_text(UPTIME), kernel_text("Y\n"), kernel_text("20\n"))
def test_small_files(sysctl_text: str, up: str, enabled: str, pool: str) -> None:
    v = only_own_errors(sysctl.parse_int, sysctl_text)
    assert v is None or type(v) is int
    u = only_own_errors(uptime.parse_uptime, up)
    assert u is None or isinstance(u, float)
    only_own_errors(zswap.parse_zswap, enabled, "lz4\n", pool)
    only_own_errors(zswap.parse_zswap, enabled, None, None)
