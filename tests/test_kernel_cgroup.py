"""Parsers for memory cgroup files (v1 and v2) and /proc/self/mountinfo's hidepid."""

from __future__ import annotations

import pytest

from checkswap.kernel.cgroup import parse_flat_keyed, parse_v1_value, parse_v2_limit
from checkswap.kernel.mountinfo import Hidepid, parse_mountinfo, proc_hidepid
from checkswap.model.cgroups import Hierarchy, find_memory_hierarchy
from checkswap.source.root import Root


def test_flat_keyed_v1_memory_stat() -> None:
    # captured on this machine (6.18, v1), cut short
    text = (
        "cache 11620352\nrss 10641408\nswap 0\npgmajfault 0\nhierarchical_memsw_limit "
        "9223372036854771712\ntotal_swap 4096\n"
    )
    got = parse_flat_keyed(text)
    assert got["swap"] == 0
    assert got["total_swap"] == 4096
    assert got["hierarchical_memsw_limit"] == 9223372036854771712


def test_flat_keyed_skips_bad_lines() -> None:
    assert parse_flat_keyed("high 0\nmax 12\nfail x\n\nodd line here\n") == {"high": 0, "max": 12}


@pytest.mark.parametrize(
    ("text", "expected"), [("max\n", None), ("536870912\n", 536870912), ("", None), ("x", None)]
)
def test_v2_limit(text: str, expected: int | None) -> None:
    assert parse_v2_limit(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("9223372036854771712\n", None), ("67108864\n", 67108864), ("0\n", 0), ("", None)],
)
def test_v1_value(text: str, expected: int | None) -> None:
    assert parse_v1_value(text) == expected


MOUNTINFO_PLAIN = (
    "22 27 0:21 / /proc rw,relatime - proc proc rw\n"
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (MOUNTINFO_PLAIN, Hidepid(None, False, False)),
        (
            "22 27 0:21 / /proc rw shared:12 - proc proc rw,hidepid=2,gid=27\n",
            Hidepid("2", True, False, 27),
        ),
        (
            "22 27 0:21 / /proc rw - proc proc rw,hidepid=invisible\n",
            Hidepid("invisible", True, False),
        ),
        (
            "22 27 0:21 / /proc rw - proc proc rw,hidepid=noaccess\n",
            Hidepid("noaccess", False, True),
        ),
        ("22 27 0:21 / /proc rw - proc proc rw,hidepid=1\n", Hidepid("1", False, True)),
        # gid= from a hostile tree: 5000 digits (int() refuses more than 4300) or beyond 32 bits
        (
            f"22 27 0:21 / /proc rw - proc proc rw,hidepid=2,gid={'9' * 5000}\n",
            Hidepid("2", True, False, None),
        ),
        (
            "22 27 0:21 / /proc rw - proc proc rw,hidepid=2,gid=4294967296\n",
            Hidepid("2", True, False, None),
        ),
        ("22 27 0:21 / /proc rw - proc proc rw,hidepid=off\n", Hidepid("off", False, False)),
        # a later mount over /proc wins
        (
            "22 27 0:21 / /proc rw - proc proc rw,hidepid=2\n"
            "40 22 0:50 / /proc rw - proc proc rw\n",
            Hidepid(None, False, False),
        ),
        # a proc mounted elsewhere does not count
        (
            "22 27 0:21 / /proc rw - proc proc rw\n"
            "50 27 0:60 / /mnt/p rw - proc proc rw,hidepid=2\n",
            Hidepid(None, False, False),
        ),
    ],
)
def test_hidepid(text: str, expected: Hidepid) -> None:
    assert proc_hidepid(parse_mountinfo(text)) == expected


def test_mountinfo_escapes_and_junk() -> None:
    mounts = parse_mountinfo("36 25 0:32 / /mnt/my\\040dir rw - tmpfs none rw,size=10k\nbad\n")
    assert [m.mount_point for m in mounts] == ["/mnt/my dir"]
    assert mounts[0].super_options == {"rw": "", "size": "10k"}


def test_find_memory_hierarchy(tmp_path: object) -> None:
    import pathlib

    base = pathlib.Path(str(tmp_path))
    assert find_memory_hierarchy(Root(str(base))) is None
    unified = base / "sys/fs/cgroup/unified"
    unified.mkdir(parents=True)
    (unified / "cgroup.controllers").write_text("hugetlb\n")  # this machine's hybrid layout
    assert find_memory_hierarchy(Root(str(base))) is None
    (unified / "cgroup.controllers").write_text("cpu memory\n")
    assert find_memory_hierarchy(Root(str(base))) == Hierarchy(2, "sys/fs/cgroup/unified")
    (base / "sys/fs/cgroup/memory").mkdir()
    (base / "sys/fs/cgroup/memory/memory.stat").write_text("swap 0\n")
    assert find_memory_hierarchy(Root(str(base))) == Hierarchy(1, "sys/fs/cgroup/memory")


def test_memory_hierarchies_from_mountinfo(tmp_path: object) -> None:
    """mountinfo names the mounts; a live root other than / sees its own as ROOT/sys/..."""
    import pathlib

    from checkswap.model.cgroups import memory_hierarchies

    base = pathlib.Path(str(tmp_path))
    v2 = base / "sys/fs/cgroup"
    v2.mkdir(parents=True)
    (v2 / "cgroup.controllers").write_text("cpu memory\n")
    (base / "proc/self").mkdir(parents=True)
    info = base / "proc/self/mountinfo"
    # A cgroup mount outside sys/ (a container's bind mount) is not the root's hierarchy.
    info.write_text(
        "30 1 0:26 / /mnt/cg rw - cgroup2 cgroup2 rw\n"
        f"31 1 0:26 / {base}/sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"
    )
    assert memory_hierarchies(Root(str(base))) == [Hierarchy(2, "sys/fs/cgroup")]
    # Named by mountinfo but not in the tree: a capture without the cgroup files.
    info.write_text("35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n")
    assert memory_hierarchies(Root(str(base))) == []
    # mountinfo without any cgroup mount: the usual places.
    info.write_text("27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n")
    assert memory_hierarchies(Root(str(base))) == [Hierarchy(2, "sys/fs/cgroup")]
