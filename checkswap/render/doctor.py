"""doctor's text: the verdict, each finding with its evidence and fixes, the swap areas."""

from __future__ import annotations

from typing import Any

from checkswap.fields import FIELDS
from checkswap.units import format_bytes

MARK = {"critical": "CRITICAL", "warning": "WARNING ", "info": "info    "}


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.0f}" if abs(value) >= 100 else f"{value:.3g}"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def evidence_line(evidence: dict[str, Any]) -> str:
    skip = {"files", "thresholds", "layers", "rule", "psi_source"}
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
    sb = r.get("since_boot") or {}
    if sb.get("swap_in_gib") is not None:
        lines.append(
            f"since boot: {sb['swap_in_gib']:.2f} GiB swapped in, {sb['swap_out_gib']:.2f} GiB "
            f"out; {sb.get('meaning', '')}"
        )
    for note in r.get("notes", []):
        lines.append(f"note: {note}")
    return "\n".join(lines) + "\n"


def _pct(v: object) -> str:
    return "-" if not isinstance(v, (int, float)) else f"{v:.1f} %"


def _num(v: object) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.1f}"
    return str(v)
