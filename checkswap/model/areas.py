"""The swap areas of /proc/swaps with what each one is, as the live views show them.

``areas_with_kind`` is the ``swap_areas`` list of watch's header (each line of /proc/swaps plus
its kind); ``SwapAreas`` the dashboard's swap areas as doctor describes them, with their use
refreshed every tick. Both classify through model/devices.py, so watch, dash, doctor, serve and
``swapfile list`` call an area the same thing.
"""

from __future__ import annotations

from checkswap.kernel.swaps import read_swaps
from checkswap.source.root import Root


def areas_with_kind(root: Root) -> list[dict[str, object]]:
    """One object per line of /proc/swaps, with its ``kind``; OSError when it cannot be read."""
    # Only a partition needs its block device resolved, and so the topology code (~20 ms of
    # imports): a swapfile or no swap at all starts without it.
    from checkswap.model.devices import area_kind

    swap_areas = read_swaps(root)
    if any(a.type == "partition" for a in swap_areas):
        from checkswap.model.topology import Topology

        topo = Topology(root)
        kinds = [topo.kind(a) for a in swap_areas]
    else:
        kinds = [area_kind(root, a.type, a.name, None) for a in swap_areas]
    return [{**a._asdict(), "kind": k} for a, k in zip(swap_areas, kinds)]


class SwapAreas:
    """The swap areas as ``doctor`` describes them, with ``Used`` fresh from /proc/swaps.

    The topology (which disk, zram or not, rotational) is worked out again only when the set of
    areas changes; each tick reads /proc/swaps alone.
    """

    def __init__(self, root: Root, live_use: bool) -> None:
        self.root = root
        self.live_use = live_use  # False for a recording: its header has the start's use only
        self._names: tuple[str, ...] | None = None
        self._devices: list[dict[str, object]] = []

    def get(self) -> list[dict[str, object]] | None:
        from checkswap.model.topology import swap_devices  # ~20 ms of imports: not for --help

        try:
            areas = read_swaps(self.root)
        except OSError:
            return None
        names = tuple(a.name for a in areas)
        if names != self._names:
            self._devices = swap_devices(self.root)
            self._names = names
        used = {a.name: a.used_bytes for a in areas}
        for d in self._devices:
            d["used_bytes"] = used.get(str(d["name"])) if self.live_use else None
        return self._devices
