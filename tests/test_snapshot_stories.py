"""snapshot -> --root BUNDLE keeps what was assumed an assumption, and the captured interval."""

from __future__ import annotations

import json
import os
import tarfile
from typing import Any

from clihelp import FIXTURES, no_sleep, run_cli

BARE = os.path.join(FIXTURES, "check-swapping-6.18")  # a tree without a manifest
WITH_MANIFEST = os.path.join(FIXTURES, "linux-6.18-swapping")


def snap(tmp_path: Any, tree: str) -> tuple[str, dict[str, Any]]:
    out = str(tmp_path / "snap.tar.gz")
    status, _, err = run_cli(
        "snapshot", "--root", tree, "-n", "2", "-i", "5", "-o", out, sleep=no_sleep
    )
    assert status == 0, err
    with tarfile.open(out) as t:
        member = t.extractfile("checkswap-manifest.json")
        assert member is not None
        return out, json.load(member)


def test_bare_tree_page_size_stays_an_assumption_on_replay(tmp_path: Any) -> None:
    out, manifest = snap(tmp_path, BARE)
    assert "page_size_bytes" not in manifest
    for argv in (["watch"], ["doctor"]):
        _, text, _ = run_cli(*argv, "--root", out, sleep=no_sleep)
        assert (
            f"{out} checkswap-manifest.json has no page size: assuming this host's page size"
            in text
        )
    _, text, _ = run_cli("doctor", "--root", out, "--format", "json", sleep=no_sleep)
    assert any("assuming this host's page size" in n for n in json.loads(text)["notes"])


def test_a_manifests_page_size_is_still_recorded(tmp_path: Any) -> None:
    _, manifest = snap(tmp_path, WITH_MANIFEST)
    assert manifest["page_size_bytes"] == 4096


def test_replayed_header_shows_the_captured_interval(tmp_path: Any) -> None:
    out, manifest = snap(tmp_path, BARE)
    assert manifest["interval_s"] == 5.0
    _, text, _ = run_cli("watch", "--root", out, "--format", "json", sleep=no_sleep)
    header = json.loads(text.splitlines()[0])
    assert header["type"] == "header"
    assert header["interval_s"] == 5.0
