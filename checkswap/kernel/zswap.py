"""zswap, the compressed cache in front of the swap device: /sys/module/zswap/parameters/.

    enabled                   Y or N
    compressor                lzo-rle
    max_pool_percent          20     the pool's limit, a share of RAM (MemTotal)
    accept_threshold_percent  90     once full, refuse new pages until the pool is below
                                     this share of its limit (5.6+)
    shrinker_enabled          N      write cold pages back under memory pressure (6.8+)

As root, with debugfs mounted (checkswap never mounts it), /sys/kernel/debug/zswap/ has one
counter per file (6.18: pool_limit_hit, reject_reclaim_fail, reject_alloc_fail,
reject_kmemcache_fail, reject_compress_fail, reject_compress_poor, decompress_fail,
written_back_pages, pool_total_size, stored_pages, stored_incompressible_pages); names changed
across kernels, so every numeric file is read under its own name.

The module directory is absent on kernels built without CONFIG_ZSWAP. Turning zswap off does
not empty the pool: pages already stored stay until they are loaded or written back, so the
pool (meminfo ``Zswap``) can be non-empty while ``enabled`` is N.
"""

from __future__ import annotations

from collections import namedtuple

TYPE_CHECKING = False  # typing costs ~3 ms of watch's start-up; mypy still sees the imports

if TYPE_CHECKING:
    from typing import NamedTuple

    from checkswap.source.root import Root

DIR = "sys/module/zswap/parameters"


DEBUG_DIR = "sys/kernel/debug/zswap"


if TYPE_CHECKING:

    class Zswap(NamedTuple):
        enabled: bool
        compressor: str | None
        max_pool_percent: int | None
        accept_threshold_percent: int | None = None
        shrinker_enabled: bool | None = None

else:
    Zswap = namedtuple(
        "Zswap",
        "enabled compressor max_pool_percent accept_threshold_percent shrinker_enabled",
        defaults=(None, None),
    )


def _int(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        value = int(text.strip())
    except ValueError:
        return None
    return value if value >= 0 else None


def _enabled(text: str) -> bool:
    return text.strip() in ("Y", "1")


def _flag(text: str | None) -> bool | None:
    if text is None:
        return None
    word = text.strip()
    return True if word in ("Y", "1") else False if word in ("N", "0") else None


def parse_zswap(
    enabled: str,
    compressor: str | None,
    max_pool: str | None,
    accept_threshold: str | None = None,
    shrinker: str | None = None,
) -> Zswap:
    return Zswap(
        _enabled(enabled),
        compressor.strip() if compressor else None,
        _int(max_pool),
        _int(accept_threshold),
        _flag(shrinker),
    )


def parse_debug_counter(text: str) -> int | None:
    return _int(text)


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
    return parse_zswap(
        enabled,
        _attr(root, "compressor"),
        _attr(root, "max_pool_percent"),
        _attr(root, "accept_threshold_percent"),
        _attr(root, "shrinker_enabled"),
    )


def read_enabled(root: Root) -> bool:
    """zswap's ``enabled`` parameter alone, as read_zswap reads it (False without zswap): what
    watch needs at start, without the other four files (~0.2 ms of its start-up)."""
    enabled = _attr(root, "enabled")
    return enabled is not None and _enabled(enabled)


def read_zswap_debug(root: Root) -> dict[str, int] | None:
    """The debugfs counters by file name; None when they cannot be read (not root, debugfs
    not mounted, no zswap): absent, not zeros."""
    try:
        names = root.listdir(DEBUG_DIR)
    except OSError:
        return None
    out: dict[str, int] = {}
    for name in sorted(names):
        try:
            value = parse_debug_counter(root.read_text(f"{DEBUG_DIR}/{name}"))
        except OSError:
            continue
        if value is not None:
            out[name] = value
    return out or None
