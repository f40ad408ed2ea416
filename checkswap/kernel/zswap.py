"""zswap, the compressed cache in front of the swap device: /sys/module/zswap/parameters/.

    enabled             Y or N
    compressor          lzo-rle
    max_pool_percent    20

The module directory is absent on kernels built without CONFIG_ZSWAP. Turning zswap off does
not empty the pool: pages already stored stay until they are loaded or written back, so the
pool (meminfo ``Zswap``) can be non-empty while ``enabled`` is N.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from checkswap.source.root import Root

DIR = "sys/module/zswap/parameters"


class Zswap(NamedTuple):
    enabled: bool
    compressor: str | None
    max_pool_percent: int | None


def parse_zswap(enabled: str, compressor: str | None, max_pool: str | None) -> Zswap:
    pool: int | None
    try:
        pool = int(max_pool) if max_pool is not None else None
    except ValueError:
        pool = None
    return Zswap(enabled.strip() in ("Y", "1"), compressor.strip() if compressor else None, pool)


def _attr(root: Root, name: str) -> str | None:
    try:
        return root.read_text(f"{DIR}/{name}")
    except OSError:
        return None


def read_zswap(root: Root) -> Zswap | None:
    """zswap's parameters, or None when the kernel has no zswap."""
    enabled = _attr(root, "enabled")
    if enabled is None:
        return None
    return parse_zswap(enabled, _attr(root, "compressor"), _attr(root, "max_pool_percent"))
