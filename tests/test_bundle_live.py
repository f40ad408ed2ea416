"""A snapshot bundle of this machine while it swaps (root, opt-in): replayed, it gives the
live doctor's device facts.

Moved from test_bundle_hostile.py (whose helpers it uses): tests that change the machine live
in ``*_live.py`` files.
"""

from __future__ import annotations

from pathlib import Path

import lab
import pytest
from clihelp import no_sleep
from test_bundle_hostile import devices, run_cli, scratch, unpacked

from checkswap.doctor.report import diagnose
from checkswap.source import open_root
from checkswap.source.root import Root

__all__ = ["scratch"]  # a fixture: imported so that pytest finds it here


@pytest.mark.kernel
def test_a_snapshot_with_swap_agrees_with_the_live_doctor(scratch: Path, tmp_path: Path) -> None:
    out = tmp_path / "swap.tar.gz"
    with lab.swapfile(64, name="bundle"):
        status, _, err = run_cli(["snapshot", "-n", "2", "-i", "0.5", "-o", str(out)])
        assert status == 0, err
        live = diagnose(Root("/"), sample_s=0.1)
    directory = unpacked(out, tmp_path / "unpacked")
    assert devices(live) and all(d[2] for d in devices(live))  # a swapfile on a real disk
    for source in (str(out), str(directory)):
        assert devices(diagnose(open_root(source), sleep=no_sleep)) == devices(live)
