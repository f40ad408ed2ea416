"""model/sample.AreaChanges: when watch says the swap areas changed, on trees and with events.

The real event (poll() on /proc/swaps after a swapon or swapoff) is tested on the kernel in
test_watch_stories_live.py; here the poll's answer is the test's, to reach the order of events
a live run cannot be made to hit: the list changed after a sample's meminfo was read.
"""

from __future__ import annotations

import os
import shutil

import pytest
from clihelp import FIXTURES

from checkswap.model.sample import AreaChanges, Sample
from checkswap.source.root import Root

KIB = 1024
AREA_KB = 524284  # tests/fixtures/recording-host's one swapfile, as its /proc/swaps says


def sample(total_kb: int) -> Sample:
    return Sample(0.0, 0.0, {}, {"SwapTotal": total_kb * KIB}, None)


@pytest.fixture
def root(tmp_path: object) -> Root:
    path = os.path.join(str(tmp_path), "root")
    shutil.copytree(os.path.join(FIXTURES, "recording-host"), path)
    return Root(path)


class Events:
    """Stands in for the poll of /proc/swaps: fires as many times as it is told to."""

    def __init__(self) -> None:
        self.pending = 0

    def __call__(self, timeout: int) -> list[tuple[int, int]]:
        assert timeout == 0  # a tick never waits for it
        if not self.pending:
            return []
        self.pending -= 1
        return [(3, 0)]


def watched(root: Root, total_kb: int) -> tuple[AreaChanges, Events]:
    changes = AreaChanges(root, sample(total_kb))
    events = Events()
    changes._poll = events
    return changes, events


def test_a_trees_regular_file_never_polls_as_changed(root: Root) -> None:
    changes = AreaChanges(root, sample(AREA_KB))
    try:
        assert changes._poll is not None  # a tree's file is opened and polled as /proc's is
        assert [changes.check(sample(AREA_KB)) for _ in range(3)] == [None, None, None]
    finally:
        changes.close()


def test_a_new_swaptotal_is_a_change_without_any_event(root: Root) -> None:
    changes, _ = watched(root, 0)
    before, areas = changes.check(sample(AREA_KB)) or (None, None)
    assert before == 0
    assert areas is not None and [a["size_bytes"] for a in areas] == [AREA_KB * KIB]
    assert changes.check(sample(AREA_KB)) is None  # said once


def test_an_event_with_the_same_swaptotal_is_a_change(root: Root) -> None:
    # A swapoff and swapon of the same size between two ticks: the list agrees with SwapTotal.
    changes, events = watched(root, AREA_KB)
    events.pending = 1
    assert changes.check(sample(AREA_KB)) is not None
    assert changes.check(sample(AREA_KB)) is None


def test_an_event_after_the_samples_meminfo_is_said_once_at_the_next_tick(root: Root) -> None:
    # The sample says no swap; /proc/swaps, read after it, already has the new area: the change
    # belongs to the next sample, whose SwapTotal has it.
    changes, events = watched(root, 0)
    events.pending = 1
    assert changes.check(sample(0)) is None
    before, areas = changes.check(sample(AREA_KB)) or (None, None)
    assert before == 0 and areas is not None and len(areas) == 1
    assert changes.check(sample(AREA_KB)) is None


def test_a_list_that_never_agrees_with_swaptotal_is_still_said_a_tick_late(root: Root) -> None:
    # A long swapoff: SwapTotal dropped at its start and the area stays listed until it ends.
    # LXCFS's meminfo may never agree with /proc/swaps at all. The event is not lost.
    changes, events = watched(root, 0)
    events.pending = 1
    assert changes.check(sample(0)) is None
    assert changes.check(sample(0)) is not None
    assert changes.check(sample(0)) is None
