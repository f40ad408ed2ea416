"""Parser tables: real kernel text from the fixture trees, plus malformed lines."""

from __future__ import annotations

import errno
import os

import pytest
from clihelp import FIXTURES as FIX

from checkswap.kernel import meminfo, vmstat
from checkswap.kernel.meminfo import parse_meminfo
from checkswap.kernel.pressure import Pressure, PressureLine, parse_pressure, read_pressure
from checkswap.kernel.swaps import SwapArea, parse_swaps, unescape
from checkswap.kernel.vmstat import parse_vmstat
from checkswap.source.root import Root


def text(case: str, rel: str) -> str:
    with open(os.path.join(FIX, case, rel)) as f:
        return f.read()


# --- /proc/vmstat ---------------------------------------------------------------------------


def test_vmstat_current_kernel_has_zero_and_zswap_counters() -> None:
    vm = parse_vmstat(text("linux-6.18-swapping", "proc/vmstat"))
    assert vm["pswpin"] == 174083
    assert vm["pswpout"] == 234890
    assert vm["swpin_zero"] == 81950
    assert vm["swpout_zero"] == 81922
    assert vm["zswpin"] == 0
    assert "workingset_refault_anon" in vm


def test_vmstat_old_kernel_fields_are_missing_not_zero() -> None:
    vm = parse_vmstat(text("linux-4.19-no-psi", "proc/vmstat"))
    assert vm["pswpin"] == 508992338
    for absent in ("swpin_zero", "swpout_zero", "zswpin", "zswpout", "workingset_refault_anon"):
        assert absent not in vm
    assert vm["swap_ra"] == 401220112


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("pswpin 5\npswpout 7\n", {"pswpin": 5, "pswpout": 7}),
        ("pswpin\npswpout 7\n", {"pswpout": 7}),  # truncated line skipped
        ("pswpin abc\npswpout 7", {"pswpout": 7}),  # garbage value skipped
        ("", {}),
        ("future_counter 9\npswpin 1\n", {"pswpin": 1}),  # unknown fields ignored
        ("pswpin 18446744073709551615\n", {"pswpin": 18446744073709551615}),  # u64 max
    ],
)
def test_vmstat_table(raw: str, expected: dict[str, int]) -> None:
    assert parse_vmstat(raw) == expected


def test_vmstat_wanted_none_keeps_everything() -> None:
    assert parse_vmstat("a 1\nb 2\n", None) == {"a": 1, "b": 2}


# --- /proc/meminfo --------------------------------------------------------------------------


def test_meminfo_converts_kb_to_bytes() -> None:
    mem = parse_meminfo(text("linux-4.19-no-psi", "proc/meminfo"))
    assert mem["SwapTotal"] == 16777208 * 1024
    assert mem["SwapFree"] == 15466488 * 1024
    assert mem["SwapCached"] == 98304 * 1024
    assert "Zswap" not in mem and "Zswapped" not in mem


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("SwapTotal:  10 kB\n", {"SwapTotal": 10240}),
        ("SwapTotal:\nSwapFree: 3 kB\n", {"SwapFree": 3072}),
        ("SwapTotal 10 kB\n", {}),  # no colon: not a meminfo line
        ("HugePages_Total:   4\n", {}),  # not wanted by default
    ],
)
def test_meminfo_table(raw: str, expected: dict[str, int]) -> None:
    assert parse_meminfo(raw) == expected


def test_meminfo_unitless_counts_stay_counts() -> None:
    assert parse_meminfo("HugePages_Total:   4\n", None) == {"HugePages_Total": 4}


# --- /proc/swaps ----------------------------------------------------------------------------


def test_swaps_new_layout_with_escaped_space() -> None:
    areas = parse_swaps(text("linux-6.18-swapping", "proc/swaps"))
    assert areas == [
        SwapArea("/var/tmp/checkswap-test-my swap", "file", 262140 * 1024, 122884 * 1024, -2)
    ]


def test_swaps_old_single_tab_layout() -> None:
    areas = parse_swaps(text("linux-4.19-no-psi", "proc/swaps"))
    assert [(a.name, a.type, a.size_bytes, a.used_bytes, a.priority) for a in areas] == [
        ("/dev/sda2", "partition", 4194300 * 1024, 1310720 * 1024, -2),
        ("/swapfile", "file", 12582908 * 1024, 0, -3),
    ]


def test_swaps_lxcfs_virtual() -> None:
    areas = parse_swaps(text("lxcfs-container", "proc/swaps"))
    assert areas == [SwapArea("none", "virtual", 1048576 * 1024, 262144 * 1024, 0)]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Filename Type Size Used Priority\n", []),
        ("Filename\n/dev/zram1  partition\t4194300\t0\t100\n", [("/dev/zram1", "partition")]),
        ("Filename\n/dev/sdb1 partition 12 x 1\n", []),  # garbage number skipped
        ("Filename\n/dev/sdb1 partition 12\n", []),  # truncated
        ("Filename\n/a\\134b\\011c file 4 0 -2\n", [("/a\\b\tc", "file")]),
    ],
)
def test_swaps_table(raw: str, expected: list[tuple[str, str]]) -> None:
    assert [(a.name, a.type) for a in parse_swaps(raw)] == expected


def test_unescape_leaves_plain_names() -> None:
    assert unescape("/swapfile") == "/swapfile"
    assert unescape("/my\\040swap\\012") == "/my swap\n"


# --- /proc/pressure/memory ------------------------------------------------------------------


def test_pressure_captured() -> None:
    psi = parse_pressure(text("linux-6.18-swapping", "proc/pressure/memory"))
    assert psi == Pressure(
        PressureLine(1.44, 0.69, 0.37, 2101404), PressureLine(1.44, 0.69, 0.37, 2039038)
    )


@pytest.mark.parametrize(
    ("raw", "some_total", "full"),
    [
        ("some avg10=0.00 avg60=0.00 avg300=0.00 total=5\n", 5, None),  # no full line
        ("some avg10=x avg60=0 avg300=0 total=5\nfull avg10=0 avg60=0 avg300=0 total=2\n", None, 2),
    ],
)
def test_pressure_table(raw: str, some_total: int | None, full: int | None) -> None:
    psi = parse_pressure(raw)
    assert psi is not None
    assert (psi.some.total_us if psi.some else None) == some_total
    assert (psi.full.total_us if psi.full else None) == full


def test_pressure_fields_in_another_order_are_read_by_name() -> None:
    psi = parse_pressure("some avg60=1.00 avg10=2.00 total=5 avg300=3.00\n")
    assert psi is not None and psi.some == PressureLine(2.0, 1.0, 3.0, 5)


def test_pressure_total_of_thousands_of_digits_is_not_an_exception() -> None:
    # The one-match fast path handed 5,006 digits to int(), which refuses more than 4,300
    # (found by the fuzz profile in CI): a file in the kernel's shape but no kernel's number.
    huge = "1" * 5006
    text = (
        f"some avg10=1.44 avg60=0.69 avg300=0.37 total={huge}\n"
        "full avg10=1.44 avg60=0.69 avg300=0.37 total=2039038\n"
    )
    p = parse_pressure(text)
    assert p is not None and p.full is not None and p.full.total_us == 2039038
    assert p.some is None
    wide = "some avg10=0.00 avg60=0.00 avg300=0.00 total=123456789012345678901\n"
    some = parse_pressure(wide + "full avg10=0.00 avg60=0.00 avg300=0.00 total=1\n")
    assert some is not None and some.some is not None
    assert some.some.total_us == 123456789012345678901  # 21 digits: the line parser reads it


def test_pressure_garbage_is_none() -> None:
    assert parse_pressure("nonsense\n") is None


def test_pressure_absent_file_is_none() -> None:
    assert read_pressure(Root(os.path.join(FIX, "linux-4.19-no-psi"))) is None


class _PsiDisabledRoot(Root):
    """A kernel booted with psi=0: the file exists but reading it fails with EOPNOTSUPP."""

    def read_text(self, rel: str) -> str:
        if rel == "proc/pressure/memory":
            raise OSError(errno.EOPNOTSUPP, os.strerror(errno.EOPNOTSUPP))
        return super().read_text(rel)


def test_pressure_eopnotsupp_is_none() -> None:
    assert read_pressure(_PsiDisabledRoot(os.path.join(FIX, "linux-6.18-swapping"))) is None


def test_pressure_other_errors_propagate() -> None:
    class Broken(Root):
        def read_text(self, rel: str) -> str:
            raise OSError(errno.EIO, "I/O error")

    with pytest.raises(OSError):
        read_pressure(Broken(os.path.join(FIX, "linux-6.18-swapping")))


# --- the per-tick fast path ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "rel", "parse", "wanted"),
    [
        ("linux-6.18-swapping", "proc/vmstat", parse_vmstat, vmstat._WANTED),
        ("linux-4.19-no-psi", "proc/vmstat", parse_vmstat, vmstat._WANTED),
        ("linux-6.18-swapping", "proc/meminfo", parse_meminfo, meminfo._WANTED),
        ("linux-4.19-no-psi", "proc/meminfo", parse_meminfo, meminfo._WANTED),
    ],
)
def test_wanted_parser_equals_line_by_line(case: str, rel: str, parse, wanted) -> None:  # type: ignore[no-untyped-def]
    def plain(t: str) -> dict[str, int]:
        return {k: v for k, v in parse(t, None).items() if k in wanted}

    first = text(case, rel)
    assert parse(first) == plain(first)
    grown = first.replace(" 0\n", " 123456789\n").replace("  0 kB\n", "  987654321 kB\n")
    assert parse(grown) == plain(grown)
    # A field whose line turned to garbage is dropped, exactly as line by line.
    broken = first.replace("pswpin ", "pswpin x", 1).replace("SwapFree:", "SwapFree: x", 1)
    assert parse(broken) == plain(broken)


def test_avg10_of_each_kind_and_of_no_psi() -> None:
    from checkswap.kernel.pressure import avg10

    psi = Pressure(PressureLine(1.5, 0.0, 0.0, 10), None)
    assert avg10(psi, "some") == 1.5
    assert avg10(psi, "full") is None  # a kernel without the full line
    assert avg10(None, "some") is None and avg10(None, "full") is None


def test_shared_token_parsers() -> None:
    from checkswap.kernel._text import kb_value, key_value

    assert kb_value("   247124 kB") == 247124 * 1024
    assert kb_value(" 12") == 12  # HugePages_Total: a count, not a size
    assert kb_value(" x kB") is None and kb_value("") is None
    status = "Name:\tcat\nVmSwap:\t  8 kB\n"
    assert key_value(status, "VmSwap:") == "8 kB"
    assert key_value(status, "Name:") == "cat"
    assert key_value(status, "VmRSS:") is None


def test_sampler_sees_a_duplicate_line_at_the_same_line_count(tmp_path: os.PathLike[str]) -> None:
    # Regression: the remembered-line-numbers parser only re-parsed when a remembered line
    # moved or an absent name appeared, so a second pswpin line replacing an unknown one (same
    # line count, a crafted bundle) kept the first value where line-by-line takes the last.
    from checkswap.model.sample import Sampler

    proc = os.path.join(tmp_path, "proc")
    os.makedirs(proc)
    vmstat_path = os.path.join(proc, "vmstat")
    with open(os.path.join(proc, "meminfo"), "w") as f:
        f.write("SwapTotal: 4 kB\nSwapFree: 4 kB\n")
    texts = ["pswpin 1\nnr_free 2\npswpout 3\n", "pswpin 1\npswpin 9\npswpout 3\n"]
    with open(vmstat_path, "w") as f:
        f.write(texts[0])
    sampler = Sampler(Root(str(tmp_path)))
    try:
        for text_ in texts:
            with open(vmstat_path, "w") as f:
                f.write(text_)
            assert sampler.take().vmstat == parse_vmstat(text_)
    finally:
        sampler.close()


def test_pressure_of_an_unchanged_file_is_not_parsed_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A machine under no memory pressure prints the same text every tick: the reading is
    # reused (immutable), and a changed text is parsed anew.
    from checkswap.kernel import pressure

    raw = text("linux-6.18-swapping", "proc/pressure/memory")
    first = parse_pressure(raw)
    calls = []
    real = pressure._parse_pressure
    monkeypatch.setattr(pressure, "_parse_pressure", lambda t: calls.append(t) or real(t))
    assert parse_pressure(raw) is first and calls == []
    changed = raw.replace("total=", "total=1", 1)
    again = parse_pressure(changed)
    assert calls == [changed] and again is not None and again.some is not None
    assert first is not None and first.some is not None
    assert again.some.total_us != first.some.total_us


def test_zswap_enabled_alone_is_what_the_whole_reading_says(tmp_path: object) -> None:
    # watch's start reads only parameters/enabled: it must say what read_zswap says, on every
    # tree (with and without zswap) and for each spelling the kernel and bundles use.
    from checkswap.kernel.zswap import read_enabled, read_zswap

    trees = [os.path.join(FIX, c) for c in sorted(os.listdir(FIX))]
    trees = [t for t in trees if os.path.isdir(os.path.join(t, "proc"))]
    seen = set()
    for tree in trees:
        whole = read_zswap(Root(tree))
        assert read_enabled(Root(tree)) is (whole is not None and whole.enabled), tree
        seen.add(whole is not None and whole.enabled)
    assert seen == {True, False}  # the trees hold both cases
    params = os.path.join(str(tmp_path), "sys", "module", "zswap", "parameters")
    os.makedirs(params)
    os.makedirs(os.path.join(str(tmp_path), "proc"))
    for text, enabled in (
        ("Y\n", True),
        ("1\n", True),
        ("N\n", False),
        ("0\n", False),
        ("", False),
    ):
        with open(os.path.join(params, "enabled"), "w") as f:
            f.write(text)
        assert read_enabled(Root(str(tmp_path))) is enabled, text
        z = read_zswap(Root(str(tmp_path)))
        assert z is not None and z.enabled is enabled


def _tree_texts(rel: str) -> list[str]:
    out = []
    for case in sorted(os.listdir(FIX)):
        path = os.path.join(FIX, case, rel)
        if os.path.isfile(path):
            with open(path) as f:
                out.append(f.read())
    return out


@pytest.mark.parametrize("rel", ["proc/vmstat", "proc/meminfo"])
def test_wanted_lines_compile_only_after_a_dozen_parses_and_agree_before_and_after(
    rel: str,
) -> None:
    # Start-up: a command that parses a file once or twice must not compile the pattern
    # (~0.2 ms); a long watch must, and both paths must give the same readings.
    from checkswap.kernel._text import WantedLines, int_value, kb_value

    if rel == "proc/vmstat":
        fresh = WantedLines(vmstat.COUNTERS, " ", int_value)
        wanted, reference = vmstat._WANTED, vmstat.parse_vmstat
    else:
        fresh = WantedLines(meminfo.FIELDS, ":", kb_value, " kB", 1024)
        wanted, reference = meminfo._WANTED, meminfo.parse_meminfo
    texts = _tree_texts(rel)
    assert len(texts) > WantedLines.LINE_BY_LINE
    before = [fresh(t) for t in texts[: WantedLines.LINE_BY_LINE]]
    assert fresh._findall is None  # not compiled yet
    after = [fresh(t) for t in texts]
    assert fresh._findall is not None
    assert after[: len(before)] == before
    assert after == [reference(t) for t in texts]
    assert after == [{k: v for k, v in reference(t, None).items() if k in wanted} for t in texts]


def test_pressure_compiles_only_after_a_dozen_texts_and_agrees_before_and_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from checkswap.kernel import pressure

    monkeypatch.setattr(pressure, "_kernel_shape", None)
    monkeypatch.setattr(pressure, "_parses", 0)
    texts = [
        *_tree_texts("proc/pressure/memory"),
        "some avg10=1.00 avg60=2.00 avg300=3.00 total=4\n"
        "full avg10=0.50 avg60=0.25 avg300=0.12 total=2\n",
        "some avg10=1.00 avg60=2.00 avg300=3.00 total=" + "9" * 21 + "\n",
        "full avg10=0.00 avg60=0.00 avg300=0.00 total=7\n",
    ]
    assert len(texts) > pressure.LINE_BY_LINE
    line_by_line = [pressure._parse_pressure(t) for t in texts[: pressure.LINE_BY_LINE]]
    assert pressure._kernel_shape is None
    both = [pressure._parse_pressure(t) for t in texts]
    assert pressure._kernel_shape is not None
    assert both[: len(line_by_line)] == line_by_line
    monkeypatch.setattr(pressure, "_kernel_shape", None)
    monkeypatch.setattr(pressure, "LINE_BY_LINE", 10**9)
    assert both == [pressure._parse_pressure(t) for t in texts]  # the line parse throughout
