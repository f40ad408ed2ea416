"""Names a process or a cgroup chose, printed as text: every control character (C0, DEL, C1,
and a byte that is not UTF-8) as \\xNN, in top, dash, report and doctor; JSON untouched.
tests/test_names_live.py does the same with a process really named so."""

from __future__ import annotations

import io
import json
import os

from rich.console import Console

from checkswap.render import cells
from checkswap.render.doctor import render_text as doctor_text
from checkswap.render.report import capture_summary, spike_waited
from checkswap.render.top import text_lines
from tests.clihelp import FIXTURES, run_cli

EVIL = "\x1b]0;pwned\x07\udc9b"  # the last: byte 0x9b as read with surrogateescape
SHOWN = "\\x1b]0;pwned\\x07\\x9b"
CONTROLS = [*map(chr, range(0x20)), "\x7f", *map(chr, range(0x80, 0xA0))]


def clean(text: str) -> bool:
    """No control character but the newlines between lines."""
    return not any(c in text for c in CONTROLS if c != "\n") and not any(
        0xDC80 <= ord(c) <= 0xDCFF for c in text
    )


def test_printable_escapes_every_control_and_keeps_the_rest() -> None:
    for c in CONTROLS:
        assert cells.printable(c) == f"\\x{ord(c):02x}"
    assert cells.printable(b"\xff".decode("utf-8", "surrogateescape")) == "\\xff"
    assert cells.printable("nginx: worker é 日本 ~") == "nginx: worker é 日本 ~"
    assert cells.printable(EVIL) == SHOWN
    assert cells.cgroup_name({"unit": EVIL}) == SHOWN
    assert cells.cgroup_name({"cgroup": "/a\x1b[2J"}) == "/a\\x1b[2J"


def test_top_text() -> None:
    rec = {
        "processes": [{"pid": 7, "comm": EVIL, "swap_bytes": 4096, "unit": EVIL}],
        "cgroups": [{"path": "/x\x1b[7m", "swap_bytes": 4096, "unit": None}],
    }
    text = "\n".join(text_lines(rec, 1, "swap"))
    assert clean(text), text
    row = next(x for x in text.splitlines() if x.split()[:1] == ["7"])
    assert row.count(SHOWN) == 2, row  # the comm column and the unit
    assert "/x\\x1b[7m" in text


def test_dash_screen() -> None:
    from checkswap.render.dash import frame_text
    from tests.test_dash_render import fed_state

    state, _ = fed_state()
    assert state.top is not None
    state.top["processes"][0]["comm"] = EVIL  # type: ignore[index]
    state.top["cgroups"][0]["path"] = "/x\x1b[7m"  # type: ignore[index]
    console = Console(record=True, width=200, height=60, file=io.StringIO())
    console.print(frame_text(state, 200, 60))
    text = console.export_text()
    # The comm column is 15 wide: the escaped name is cut there, still escaped.
    assert "\\x1b]0;pwned\\x" in text and "/x\\x1b[7m" in text, text
    assert clean(text)


def test_report_capture_and_waiters() -> None:
    capture = {
        "processes": [{"comm": EVIL, "pid": 7, "swap_bytes": 4096}],
        "cgroups": [{"path": "/x\x1b[7m", "swap_bytes": 4096}],
    }
    summary = capture_summary(capture)
    assert summary.startswith(f"{SHOWN} (7) ") and "/x\\x1b[7m" in summary and clean(summary)
    waited = spike_waited(
        {"waiters": [{"comm": EVIL, "pid": 7, "swapin_wait_s": 1.0, "interval_s": 5.0}]}
    )
    assert waited.startswith(f"{SHOWN} (pid 7) waited 1.0 s") and clean(waited)


def test_doctor_text_and_json() -> None:
    _, out, _ = run_cli(
        "doctor", "--sample", "1", "--format", "json", "--root",
        os.path.join(FIXTURES, "linux-6.18-swapping"),
    )  # fmt: skip
    report = json.loads(out)
    report["findings"].append(
        {
            "id": "thrashing",
            "severity": "critical",
            "title": "swap-in hurts",
            "detail": f"Who waited: {EVIL} (pid 7) waited 1.0 s of the last 5.0 s for swap-in.",
            "evidence": {"comm": EVIL},
            "fix": [],
        }
    )
    text = doctor_text(report)
    assert f"Who waited: {SHOWN} (pid 7)" in text and f"comm={SHOWN}" in text
    assert clean(text)
    # JSON carries the name as the kernel gave it: a consumer gets the real bytes back.
    assert json.loads(json.dumps(report))["findings"][-1]["evidence"]["comm"] == EVIL
