"""dash's "waiting on swap" panel: the processes with delay-accounting figures, longest
swap-in wait first, beside the holders and movers; absent without figures."""

from __future__ import annotations

import pytest
from test_dash_render import fed_state, record

from checkswap.model.procs import DELAY_KEYS


def _with_waits() -> object:
    state, _ = fed_state()
    assert state.top is not None
    procs = state.top["processes"]
    assert isinstance(procs, list)
    hog, mysqld = procs
    hog.update(dict.fromkeys(DELAY_KEYS, 0.0))
    mysqld.update(dict.fromkeys(DELAY_KEYS, 0.0))
    # mysqld holds less swap but waits longer: it leads this panel, not the holders' table.
    mysqld.update(swapin_delay_s=3.2, swapin_wait_pct=64.0, blkio_wait_pct=12.5)
    hog.update(swapin_delay_s=0.4, swapin_wait_pct=3.0, blkio_wait_pct=39.7)
    return state


@pytest.mark.parametrize(("width", "height"), [(80, 24), (200, 60)])
def test_waiting_panel_lists_the_longest_waiter_first(width: int, height: int) -> None:
    rows = record(_with_waits(), width, height)  # type: ignore[arg-type]
    head = next(i for i, r in enumerate(rows) if "waiting on swap" in r)
    assert "swapin%" in rows[head] and "blkio%" in rows[head] and "thrash%" in rows[head]
    first, second = rows[head + 1], rows[head + 2]
    assert "mysqld" in first and "64.0" in first and "12.5" in first
    assert "peers-hog" in second and "3.0" in second and "39.7" in second
    holders = [r for i, r in enumerate(rows) if i < head and ("peers-hog" in r or "mysqld" in r)]
    assert "peers-hog" in holders[0]  # the holders' table keeps its own order (swap held)
    assert "q  quit" in rows[-1]


def test_no_wait_figures_no_panel() -> None:
    state, _ = fed_state()
    assert not any("waiting on swap" in r for r in record(state, 80, 24))
