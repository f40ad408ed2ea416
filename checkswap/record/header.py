"""The header records: the line that opens each recording file, and the first line of watch.

Both say which machine, kernel, page size, time and interval the lines after them belong to;
that identity is built once here (``identity``), so a recording and the watch stream made from
it, or from the live machine, cannot disagree on it. What follows differs by purpose: a
recording keeps the raw text of the files a replay needs (format.HEADER_FILES), watch's header
(the stable interface's "watch: header") the since-boot counters and the swap areas with their
kinds.
"""

from __future__ import annotations

from checkswap import __version__
from checkswap.model import totals
from checkswap.units import iso_utc

TYPE_CHECKING = False  # typing costs ~4 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from checkswap.model.sample import Sample
    from checkswap.source.root import Root


def identity(root: Root, wall: float, interval: float) -> dict[str, object]:
    """What every header says first: when, by which version, of which machine and kernel."""
    return {
        "type": "header",
        "time": iso_utc(wall),
        "version": __version__,
        "hostname": root.hostname,
        "kernel_release": root.kernel_release,
        "page_size_bytes": root.page_size,
        "interval_s": interval,
    }


def recording_header(root: Root, wall: float, interval: float) -> dict[str, object]:
    """The line that opens each recording file."""
    # format.py costs gzip and zlib: loaded by `record` and replays, not by a live watch.
    from checkswap.record.format import FORMAT, FORMAT_VERSION, HEADER_FILES

    files: dict[str, str] = {}
    for rel in HEADER_FILES:
        try:
            files[rel] = root.read_text(rel)
        except OSError:
            continue  # absent on this kernel or tree: the replay says "unknown"
    boot = files.get("proc/sys/kernel/random/boot_id")
    # Its own keys go where a recording's first line has always had them (docs/record.md): the
    # format name right after the type, for anything that sniffs the first bytes of a file.
    rec = _after(
        identity(root, wall, interval), "type", format=FORMAT, format_version=FORMAT_VERSION
    )
    rec = _after(rec, "time", wall=wall)
    rec = _after(rec, "kernel_release", boot_id=boot.strip() if boot else None)
    # The recording host's offset from UTC when the file was opened: every time in the file is
    # UTC, and a report shown elsewhere can still give them as the host's clocks read them.
    # Added after the keys the header always had, in their order.
    rec["utc_offset_s"] = local_offset_s(wall)
    rec["files"] = files
    return rec


def local_offset_s(wall: float) -> int:
    """This host's offset from UTC at ``wall``, in seconds east (daylight saving included)."""
    import time

    return int(time.localtime(wall).tm_gmtoff)


def _after(rec: dict[str, object], key: str, **items: object) -> dict[str, object]:
    """``rec`` with ``items`` inserted right after ``key``."""
    out: dict[str, object] = {}
    for k, v in rec.items():
        out[k] = v
        if k == key:
            out.update(items)
    return out


def header_record(root: Root, first: Sample, interval: float) -> dict[str, object]:
    """The first line of ``watch --format json`` (and of stress and watch --replay)."""
    from checkswap.model.areas import areas_with_kind
    from checkswap.model.rates import all_tier_totals

    vm = first.vmstat
    all_in, all_out = all_tier_totals(vm)
    notes = list(root.notes)
    # A bundle's samples were taken at its captured interval, whatever -i says (1 s by default).
    captured = getattr(root, "interval_s", None) if root.replays else None
    if isinstance(captured, float):
        interval = captured
    try:
        areas = areas_with_kind(root)
    except OSError as e:
        areas = []
        notes.append(f"{root.join('proc/swaps')}: {e.strerror}: swap areas unknown")
    return {
        **identity(root, first.wall, interval),
        "since_boot": {
            "swap_in_pages": vm.get("pswpin"),
            "swap_out_pages": vm.get("pswpout"),
            "majflt": vm.get("pgmajfault"),
            "swap_in_zero_pages": vm.get("swpin_zero"),
            "swap_out_zero_pages": vm.get("swpout_zero"),
            "zswap_in_pages": vm.get("zswpin"),
            "zswap_out_pages": vm.get("zswpout"),
            "swap_in_all_pages": all_in,
            "swap_out_all_pages": all_out,
        },
        "swap_total_bytes": totals.swap_total(first.meminfo),
        "swap_used_bytes": totals.swap_used_bytes(first.meminfo),
        "swap_cached_bytes": first.meminfo.get("SwapCached"),
        "mem_total_bytes": first.meminfo.get("MemTotal"),
        "swap_areas": areas,
        "psi": first.psi is not None,
        "zswap": "zswpin" in vm,
        "notes": notes,
    }


def swap_areas_record(
    sample: Sample, before: int | None, areas: list[dict[str, object]] | None
) -> dict[str, object]:
    """watch's ``swap_areas`` record: the set of swap areas changed (a swapon or swapoff)."""
    return {
        "type": "swap_areas",
        "time": iso_utc(sample.wall),
        "previous_swap_total_bytes": before,
        "swap_total_bytes": totals.swap_total(sample.meminfo),
        "swap_used_bytes": totals.swap_used_bytes(sample.meminfo),
        "swap_areas": areas,  # null: /proc/swaps could not be read
    }
