"""watch --replay: recorded samples rendered as if live, rates recomputed by watch's code."""

from __future__ import annotations

import json
import os

import pytest
from clihelp import FIXTURES, run_cli
from rechelp import WALL0, raw_line, write_recording, write_zswap_recording

from checkswap.model.sample import Sample
from checkswap.record.replay import paced

ROWS = [(0.0, 100, 0), (1.0, 150, 10), (2.0, 150, 10), (4.0, 950, 30)]


def lines(out: str) -> list[dict]:
    return [json.loads(x) for x in out.splitlines()]


def test_replay_json_gives_the_recorded_deltas_and_rates(tmp_path):
    path = str(tmp_path / "r.jsonl")
    write_recording(path, ROWS)
    status, out, err = run_cli("watch", "--replay", path, "--speed", "0", "--format", "json")
    assert status == 0, err
    recs = lines(out)
    assert recs[0]["type"] == "header" and recs[0]["hostname"] == "test-host"
    samples = [r for r in recs if r["type"] == "sample"]
    assert [s["swap_in_pages"] for s in samples] == [50, 0, 800]
    assert [s["swap_out_pages"] for s in samples] == [10, 0, 20]
    assert [s["interval_s"] for s in samples] == [1.0, 1.0, 2.0]
    assert samples[2]["swap_in_per_s"] == 400.0
    assert samples[2]["max"]["swap_in_per_s"] == 400.0
    assert samples[2]["time"] == "2026-11-27T00:00:04.000+00:00"
    assert recs[-1]["type"] == "summary" and recs[-1]["swap_in_pages"] == 850


def test_replay_of_a_recording_without_header_uses_the_page_size_of_its_lines(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text("".join(raw_line(1000.0 + t, WALL0 + t, a, b) for t, a, b in ROWS))
    status, out, err = run_cli("watch", "--replay", str(path), "--speed", "0", "--format", "json")
    assert status == 0, err
    recs = lines(out)
    assert recs[0]["page_size_bytes"] == 4096
    assert recs[1]["swap_in_bytes_per_s"] == 50 * 4096


def test_replay_text_and_count_and_bad_lines_note(tmp_path):
    path = str(tmp_path / "r.jsonl")
    write_recording(path, ROWS, extra=["{broken\n"])
    status, out, err = run_cli("watch", "--replay", path, "--speed", "0", "-n", "2")
    assert status == 0
    data = [x for x in out.splitlines() if not x.startswith("#") and not x.startswith("date")]
    assert len(data) == 2
    status, out, err = run_cli("watch", "--replay", path, "--speed", "0")
    assert status == 0
    assert "1 truncated or corrupt lines skipped" in err


def test_paced_sleeps_the_recorded_intervals_divided_by_speed():
    now = [0.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    samples = [Sample(m, m, {}, {}, None) for m in (10.0, 11.0, 13.0, 2.0, 3.0)]
    out = list(paced(samples, 2.0, lambda: now[0], sleep))
    assert out == samples
    # 1 s and 2 s recorded at speed 2; after the clock went back (reboot) the next comes at once.
    assert slept == [0.5, 1.0, 0.5]


def test_replay_rejects_root_and_bad_speed(tmp_path):
    path = str(tmp_path / "r.jsonl")
    write_recording(path, ROWS)
    status, _, err = run_cli("watch", "--replay", path, "--root", str(tmp_path))
    assert status == 2 and "cannot be used together" in err
    status, _, err = run_cli("watch", "--replay", path, "--speed", "fast")
    assert status == 2 and "invalid --speed 'fast'" in err
    status, _, err = run_cli("watch", "--replay", str(tmp_path / "nope.jsonl"))
    assert status == 2 and "no such recording" in err


def test_replay_with_an_interval_says_to_use_speed(tmp_path):
    # -i used to be silently ignored with --replay; a user who types it wants faster playback.
    path = str(tmp_path / "r.jsonl")
    write_recording(path, ROWS)
    status, out, err = run_cli("watch", "--replay", path, "-i", "0.1")
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and "use --speed" in err


def test_a_recording_opens_with_its_format_then_the_same_identity_watch_gives(tmp_path):
    # record/header.py builds both headers from one identity; the recording's line keeps the
    # order its files always had, the format name first, for anything sniffing the first bytes.
    path = tmp_path / "r.jsonl"
    fixture = os.path.join(FIXTURES, "recording-host")
    status, _, err = run_cli("record", "-o", str(path), "-n", "1", "-i", "0.01", "--root", fixture)
    assert status == 0, err
    first = path.read_text().splitlines()[0]
    assert first.startswith('{"type":"header","format":"checkswap-recording","format_version":1,')
    rec = json.loads(first)
    assert tuple(rec) == (
        *("type", "format", "format_version", "time", "wall", "version", "hostname"),
        *("kernel_release", "boot_id", "page_size_bytes", "interval_s", "utc_offset_s", "files"),
    )
    status, out, err = run_cli("watch", "--replay", str(path), "--speed", "0", "--format", "json")
    assert status == 0, err
    head = json.loads(out.splitlines()[0])
    for key in ("hostname", "kernel_release", "page_size_bytes", "interval_s", "version"):
        assert head[key] == rec[key], key


def _fake_clock() -> tuple[dict[str, object], list[float]]:
    now = [0.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    return {"monotonic": lambda: now[0], "sleep": sleep}, slept


def test_speed_takes_a_factor_with_or_without_x(tmp_path):
    # `10x` is how people write it; watch and dash share one --speed parser (commands/_args).
    path = str(tmp_path / "r.jsonl")
    write_recording(path, ROWS)
    runs = []
    for speed in ("10", "10x", "10X"):
        env_kw, slept = _fake_clock()
        status, out, err = run_cli("watch", "--replay", path, "--speed", speed, **env_kw)
        assert status == 0, err
        runs.append((out, [round(s, 6) for s in slept]))
    assert runs[0] == runs[1] == runs[2]
    assert runs[0][1] == [0.1, 0.1, 0.2]  # the recorded 1, 1 and 2 s, ten times faster


@pytest.mark.parametrize("command", ["watch", "dash"])
def test_replay_options_are_checked_alike_by_every_command_with_replay(command, tmp_path):
    path = str(tmp_path / "r.jsonl")
    write_recording(path, ROWS)
    cases = [
        (["--speed", "2"], "--speed applies to --replay FILE only"),
        (["--speed", "10x"], "--speed applies to --replay FILE only"),
        (["--replay", path, "-i", "2"], "-i does not apply to --replay"),
        (["--replay", path, "--root", str(tmp_path)], "cannot be used together"),
        (["--replay", path, "--speed", "fast"], "invalid --speed 'fast'"),
    ]
    for argv, says in cases:
        status, out, err = run_cli(command, *argv)
        assert (status, out) == (2, ""), (argv, err)
        assert err.count("\n") == 1 and says in err, (argv, err)


@pytest.mark.parametrize("enabled", [True, False])
def test_replay_text_has_every_tier_when_the_recording_had_zswap_enabled(tmp_path, enabled):
    # zswap's parameter as the recording's tiers line says, as dash's replay takes it: neither
    # the replaying machine's own parameter nor a default. The recording has no zram and no
    # zero-filled pages since boot, so only that line can call for the all-tier columns.
    path = str(tmp_path / "zswap.jsonl")
    ins, outs = write_zswap_recording(path, enabled=enabled)
    status, out, err = run_cli("watch", "--replay", path, "--speed", "0")
    assert status == 0, err
    titles = next(x for x in out.splitlines() if x.startswith("date "))
    assert ("all in/s" in titles and "all out/s" in titles) is enabled, titles
    if not enabled:
        return
    rows = [x for x in out.splitlines() if x[:1].isdigit()]

    def column(title: str) -> list[float]:
        # Cells are right-aligned under their titles: a cell ends where its title ends.
        end = titles.index(f" {title}") + 1 + len(title)
        return [float(row[:end].split()[-1]) for row in rows]

    assert column("in/s") == [0.0] * len(ins)  # the devices read nothing in
    assert column("all in/s") == [float(x) for x in ins]
    assert column("all out/s") == [float(x) for x in outs]
