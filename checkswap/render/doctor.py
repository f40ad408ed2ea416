"""doctor's text: the verdict, each finding with its evidence and fixes, the swap areas."""

from __future__ import annotations

from checkswap.fields import FIELDS
from checkswap.render.cells import printable
from checkswap.units import format_bytes

TYPE_CHECKING = False  # typing costs ~3 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from typing import Any


MARK = {"critical": "CRITICAL", "warning": "WARNING ", "info": "info    "}


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.0f}" if abs(value) >= 100 else f"{value:.3g}"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def evidence_line(evidence: dict[str, Any]) -> str:
    # waiters: the finding's detail names them in words (rules.who_waited); as a list of
    # objects here they printed as Python dicts.
    skip = {"files", "thresholds", "layers", "rule", "psi_source", "waiters"}
    parts = [
        f"{k}={_fmt(v)}"
        for k, v in evidence.items()
        if k not in skip and v is not None and v != [] and not isinstance(v, dict)
    ]
    return " ".join(parts)


def render_text(r: dict[str, Any]) -> str:
    lines = []
    head = f"checkswap doctor: {r.get('hostname') or '?'}, kernel {r.get('kernel_release') or '?'}"
    sample = r["sample"]
    if sample.get("interval_s"):
        head += f", sampled {sample['interval_s']:.1f} s"
    lines.append(f"{head}, role {r['role']}")
    lines.append(f"verdict: {r['verdict']}: {r['verdict_evidence'].get('rule', '')}")
    ev = r["verdict_evidence"]
    if ev.get("swap_in_per_s") is not None:
        page = r["page_size_bytes"]
        rin, rout = FIELDS["swap_in_per_s"], FIELDS["swap_out_per_s"]
        lines.append(
            f"  swap-in {ev[rin.key]:.1f} {rin.unit} "
            f"({format_bytes(ev[rin.key] * page)}/s), swap-out "
            f"{ev[rout.key]:.1f} {rout.unit} ({format_bytes(ev[rout.key] * page)}/s), "
            f"PSI memory full {_pct(ev.get('psi_full_pct'))}, "
            f"anon refaults {_num(ev.get('refault_anon_per_s'))}/s"
        )
    lines.append("")
    for f in r["findings"]:
        lines.append(f"{MARK.get(f['severity'], f['severity'])} {f['id']}: {f['title']}")
        lines.append(f"    {f['detail']}")
        evl = evidence_line(f["evidence"])
        files = f["evidence"].get("files")
        if evl:
            lines.append(f"    evidence: {evl}")
        if files:
            lines.append(f"    from: {' '.join(files)}")
        for cmd in f["fix"]:
            lines.append(f"    fix: {cmd}")
    if not r["findings"]:
        lines.append("no findings")
    lines.append("")
    lines.append(f"vm.swappiness: {_num(r.get('swappiness'))}")
    if r["devices"]:
        lines.append("swap areas:")
    for d in r["devices"]:
        what = []
        for x in d["disk_facts"]:
            tags = []
            if x["zram"]:
                tags.append("compressed RAM")
            else:
                tags.append(
                    "rotational"
                    if x["rotational"]
                    else ("non-rotational" if x["rotational"] is False else "rotational ?")
                )
            if x["virtual_kind"]:
                tags.append(x["virtual_kind"])
            if x["network_kind"]:
                tags.append(x["network_kind"])
            what.append(f"{x['name']} ({', '.join(tags)})")
        where = " + ".join(what) or (d.get("network_kind") or "?")
        if d["kind"] == "virtual":
            # LXCFS's synthetic line: a view of the host's swap, no device a container can see.
            where = "the host (a container's view of its swap)"
        fs = f" {d['filesystem']} {d['mount_point']}," if d.get("filesystem") else ""
        lines.append(
            f"  {d['name']}  {d['kind']}  {format_bytes(d['size_bytes'])}, used "
            f"{format_bytes(d['used_bytes'])}, priority {d['priority']},{fs} on {where}"
        )
        if len(d["layers"]) > 2 or (d["layers"] and d["kind"] != "file" and len(d["layers"]) > 1):
            lines.append(f"    via {' -> '.join(d['layers'])}")
    cost = r.get("disk_cost")
    if cost:
        for x in cost["disks"]:
            lines.append(
                f"disk {x['name']} over the sample: read {format_bytes(x['read_bytes_per_s'])}/s, "
                f"write {format_bytes(x['write_bytes_per_s'])}/s, busy {_pct(x['util_pct'])}"
            )
        lines.append(
            f"  swap traffic {format_bytes(cost['swap_bytes_per_s'])}/s = "
            f"{_pct(cost['swap_share_pct'])} of the I/O on the swap disks"
        )
    lines.extend(tier_lines(r))
    sb = r.get("since_boot") or {}
    if sb.get("swap_in_gib") is not None:
        meaning = sb.get("meaning")
        lines.append(
            f"since boot: {sb['swap_in_gib']:.2f} GiB swapped in, {sb['swap_out_gib']:.2f} GiB "
            "out" + (f"; {meaning}" if meaning else "")
        )
    for note in r.get("notes", []):
        lines.append(f"note: {note}")
    # Findings name processes (who waited), cgroups and devices: each line made printable,
    # as no line of this text holds a control character of its own.
    return "\n".join(printable(line) for line in lines) + "\n"


def tier_lines(r: dict[str, Any]) -> list[str]:
    """The compressed tiers and each area's own I/O: only what is in use."""
    out = []
    tiers = r.get("tiers") or {}
    for a in tiers.get("areas") or []:
        if a.get("exact"):
            out.append(
                f"area {a['device']} ({a['block_device']}) over the sample: read "
                f"{format_bytes(a['read_bytes_per_s'] or 0)}/s, written "
                f"{format_bytes(a['write_bytes_per_s'] or 0)}/s: its own device, all of it swap"
            )
        elif a.get("note"):
            out.append(f"area {a['device']}: {a['note']}")
    for z in tiers.get("zram") or []:
        limit = z.get("memory_limit_bytes")
        ratio = z.get("ratio")
        out.append(
            f"zram {z['device']}{' (swap)' if z.get('swap') else ''}: stores "
            f"{format_bytes(z['original_bytes'] or 0)} of {format_bytes(z['disksize_bytes'] or 0)}"
            f" in {format_bytes(z['memory_used_bytes'] or 0)} of RAM"
            + (f" ({ratio:.1f}:1)" if isinstance(ratio, (int, float)) else "")
            + (f", mem_limit {format_bytes(limit)}" if limit is not None else ", no mem_limit")
            + f", {z.get('algorithm') or 'algorithm ?'}"
        )
    z = r.get("zswap")
    if z and (z.get("enabled") or z.get("pool_bytes")):
        full = z.get("pool_full_pct")
        out.append(
            f"zswap {'on' if z['enabled'] else 'off'} ({z.get('compressor') or '?'}): pool "
            f"{format_bytes(z.get('pool_bytes') or 0)} holding "
            f"{format_bytes(z.get('stored_bytes') or 0)}, limit "
            + (
                f"{format_bytes(z['pool_limit_bytes'])} ({_pct(full)} full)"
                if z.get("pool_limit_bytes") is not None
                else "?"
            )
            + f", accept threshold {_num(z.get('accept_threshold_percent'))} %, shrinker "
            + {True: "on", False: "off", None: "?"}[z.get("shrinker_enabled")]
        )
    for m in tiers.get("mthp") or []:
        out.append(
            f"mTHP {m['size_bytes'] // 1024} kB since boot: {_num(m.get('swpout'))} swapped out "
            f"whole, {_num(m.get('swpout_fallback'))} split first ({_pct(m.get('fallback_pct'))})"
            f", {_num(m.get('swpin'))} swapped in whole"
        )
    return out


def _pct(v: object) -> str:
    return "-" if not isinstance(v, (int, float)) else f"{v:.1f} %"


def _num(v: object) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.1f}"
    return str(v)
