"""swapfile add/remove without changing the machine: parsing, plans, refusals, dry-run."""

from __future__ import annotations

import io
import os
import shlex
import subprocess

import pytest
from clihelp import run_cli

from checkswap.errors import BadInput, Refused
from checkswap.kernel.mountinfo import mount_for_path, parse_mountinfo
from checkswap.lab import fstab, swapfile
from checkswap.render.progress import Progress
from checkswap.source.root import Root

# Lines 1-3 and 5 captured from /proc/self/mountinfo on the development VM (kernel 6.18.44);
# line 4 (optional fields, an escaped space) and the malformed lines are synthesised.
MOUNTINFO = """\
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard,resv_strict
25 24 0:23 / /dev/shm rw,relatime - tmpfs tmpfs rw,size=24684092k
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
90 27 7:0 /sub /mnt/my\\040data rw,noatime shared:12 master:3 - xfs /dev/loop0 rw,attr2
91 27 0:40 / /var/tmp rw,relatime - btrfs /dev/vdb rw,space_cache=v2
garbage line
92 27 x:y / /bad rw - ext4 /dev/x rw
"""


# --- mountinfo --------------------------------------------------------------------------


def test_parse_mountinfo_fields_and_escapes() -> None:
    mounts = parse_mountinfo(MOUNTINFO)
    assert [m.mount_point for m in mounts] == [
        "/",
        "/dev/shm",
        "/sys/fs/cgroup/memory",
        "/mnt/my data",
        "/var/tmp",
    ]
    loop = mounts[3]
    assert (loop.major, loop.minor, loop.root, loop.fstype, loop.source) == (
        7, 0, "/sub", "xfs", "/dev/loop0"
    )  # fmt: skip
    assert mounts[0].fstype == "ext4" and mounts[0].major == 254


@pytest.mark.parametrize(
    ("path", "mount_point"),
    [
        ("/swapfile", "/"),
        ("/dev/shm/x", "/dev/shm"),
        ("/dev/shmx", "/"),  # a prefix of the name is not the mount
        ("/mnt/my data/swap", "/mnt/my data"),
        ("/var/tmp", "/var/tmp"),
    ],
)
def test_mount_of_longest_prefix(path: str, mount_point: str) -> None:
    m = mount_for_path(parse_mountinfo(MOUNTINFO), path)
    assert m is not None and m.mount_point == mount_point


def test_mount_of_last_mount_hides_earlier() -> None:
    text = MOUNTINFO + "99 27 0:50 / /var/tmp rw - tmpfs tmpfs rw\n"
    m = mount_for_path(parse_mountinfo(text), "/var/tmp/x")
    assert m is not None and m.fstype == "tmpfs"


# --- fstab ------------------------------------------------------------------------------

FSTAB = """\
# /etc/fstab: static file system information.
UUID=0a3407de-014b-458b-b5c1-3e6f0bd8d2c1 /      ext4 errors=remount-ro 0 1
/swap\\040file none swap sw 0 0
#/swapfile none swap sw 0 0
/swapfile none swap sw,pri=5 0 0"""


def test_fstab_finds_only_active_lines_with_escapes() -> None:
    assert fstab.line_numbers(FSTAB, "/swapfile") == [4]
    assert fstab.line_numbers(FSTAB, "/swap file") == [2]
    assert fstab.line_numbers(FSTAB, "/other") == []


def test_fstab_add_and_remove_round_trip() -> None:
    line = fstab.swap_line("/var/tmp/my swap", 10)
    assert line == "/var/tmp/my\\040swap none swap sw,pri=10 0 0"
    added = fstab.with_line(FSTAB, line)  # FSTAB has no final newline: one is added
    assert added.endswith("pri=5 0 0\n" + line + "\n")
    removed = fstab.without_lines(added, fstab.line_numbers(added, "/var/tmp/my swap"))
    assert removed == FSTAB + "\n"


def test_fstab_write_is_atomic_with_backup(tmp_path: os.PathLike[str]) -> None:
    path = os.path.join(tmp_path, "fstab")
    with open(path, "w") as f:
        f.write(FSTAB)
    os.chmod(path, 0o644)
    fstab.write(path, fstab.with_line(FSTAB, fstab.swap_line("/s", None)))
    assert fstab.read(fstab.backup_path(path)) == FSTAB
    assert fstab.read(path).endswith("\n/s none swap sw 0 0\n")
    assert os.stat(path).st_mode & 0o777 == 0o644
    assert sorted(os.listdir(tmp_path)) == ["fstab", "fstab.checkswap-backup"]  # no temp left
    verify = subprocess.run(
        ["findmnt", "--verify", "--tab-file", path], capture_output=True, text=True
    )
    assert "0 parse errors" in verify.stdout + verify.stderr


# --- sizes and refusals -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "status", "message"),
    [
        (["1"], 2, "did you mean 1G?"),
        (["1X"], 2, "give a size such as 512M"),
        (["64M", "--priority", "40000"], 2, "between -1 and 32767"),
        (["64M", "--path", "/no/such/dir/swap"], 2, "directory /no/such/dir does not exist"),
        (["64M", "--path", "/dev/shm/checkswap-test-x"], 1, "(tmpfs): it lives in RAM"),
        (["64M", "--path", "/proc/checkswap-test-x"], 1, "(proc): checkswap knows swapfiles"),
        (["64M", "--path", "/"], 1, "already exists (a directory)"),
        (["64M", "--persist", "--fstab", "/no/fstab"], 2, "--fstab /no/fstab: no such file"),
    ],
)
def test_add_refusals_and_bad_input(argv: list[str], status: int, message: str) -> None:
    code, out, err = run_cli("swapfile", "add", *argv, "--dry-run")
    assert (code, out) == (status, "")
    assert message in err and err.count("\n") == 1


def test_add_existing_file_is_refused(tmp_path: os.PathLike[str]) -> None:
    path = os.path.join(tmp_path, "swap")
    open(path, "w").close()
    code, _, err = run_cli("swapfile", "add", "64M", "--path", path, "--dry-run")
    assert code == 1
    assert "already exists (a file that is not an active swap area)" in err


def test_add_not_enough_space(tmp_path: os.PathLike[str]) -> None:
    st = os.statvfs(tmp_path)
    free_gib = st.f_bavail * st.f_frsize // 2**30
    path = os.path.join(tmp_path, "swap")
    code, _, err = run_cli("swapfile", "add", f"{free_gib + 1}G", "--path", path, "--dry-run")
    assert code == 1 and "not enough space on" in err and "keeps" in err


def test_add_needs_root(monkeypatch: pytest.MonkeyPatch, tmp_path: os.PathLike[str]) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    code, out, err = run_cli("swapfile", "add", "64M", "--path", os.path.join(tmp_path, "s"))
    assert code == 1 and out == ""
    assert err == (
        "checkswap: swapfile add needs root: run it with sudo (or try --dry-run to see the plan)\n"
    )
    assert os.listdir(tmp_path) == []


def test_dry_run_prints_commands_in_order(tmp_path: os.PathLike[str]) -> None:
    path = os.path.join(tmp_path, "swap")
    fst = os.path.join(tmp_path, "fstab")
    with open(fst, "w") as f:
        f.write(FSTAB)
    code, out, _ = run_cli(
        "swapfile", "add", "100M", "--path", path, "--priority", "7", "--persist",
        "--fstab", fst, "--dry-run",
    )  # fmt: skip
    assert code == 0
    commands = [line.split("    # ")[0] for line in out.splitlines() if not line.startswith("#")]
    fd = "/proc/self/fd/3"
    assert commands == [
        f"set -o noclobber; exec 3>{path}",
        f"chmod 600 {fd}",
        f"fallocate -l {100 * 2**20} {fd}",
        f"mkswap {fd}",
        f"swapon --priority 7 {fd}",
        shlex.join(fstab.shell_add(fst, f"{path} none swap sw,pri=7 0 0")),
    ]
    assert "O_CREAT|O_EXCL|O_NOFOLLOW" in out
    assert f"# then: /proc/swaps must list {path} as the descriptor's inode" in out
    assert f"dd if=/dev/zero of={fd} bs=1M count=100 conv=notrunc,fsync" in out
    assert sorted(os.listdir(tmp_path)) == ["fstab"]
    assert fstab.read(fst) == FSTAB


def test_dry_run_names_the_real_path(tmp_path: os.PathLike[str]) -> None:
    """fstab and /proc/swaps name the file by its real path, so the plan does too."""
    real = os.path.join(tmp_path, "real")
    os.mkdir(real)
    os.symlink("real", os.path.join(tmp_path, "link"))
    given = os.path.join(tmp_path, "link", "..", "link", "swap")
    fst = os.path.join(tmp_path, "fstab")
    with open(fst, "w") as f:
        f.write(FSTAB)
    code, out, err = run_cli(
        "swapfile", "add", "64M", "--path", given, "--persist", "--fstab", fst, "--dry-run"
    )
    assert (code, err) == (0, "")
    assert f"swapfile {real}/swap on " in out and f"exec 3>{real}/swap" in out
    assert shlex.join(fstab.shell_add(fst, f"{real}/swap none swap sw 0 0")) in out


# --- directories another user could change: refused before anything is made --------------------


def needs_root() -> None:
    """chown to another user needs root; it changes nothing outside the test's directory."""
    if os.geteuid() != 0:
        if os.environ.get("CHECKSWAP_KERNEL_TESTS") == "1":
            pytest.fail("CHECKSWAP_KERNEL_TESTS=1 but not running as root")
        pytest.skip("chown to another user needs root")


def unsafe_dirs(top: str) -> list[tuple[str, str, str]]:
    """(path, directory named, why): one for each way a directory can be unsafe."""
    ww = os.path.join(top, "ww")
    os.mkdir(ww)
    os.chmod(ww, 0o777)
    gw = os.path.join(top, "gw")
    os.mkdir(gw)
    os.chmod(gw, 0o2775)  # a setgid group directory such as Debian's /usr/local
    above = os.path.join(top, "above")
    os.mkdir(above)
    os.mkdir(os.path.join(above, "fine"))
    os.chmod(above, 0o777)
    os.symlink(os.path.join(above, "fine"), os.path.join(top, "via-link"))
    return [
        (os.path.join(ww, "swap"), ww, "is writable by every user and not sticky (mode 0777)"),
        (os.path.join(gw, "swap"), gw, "is writable by group "),
        (os.path.join(above, "fine", "swap"), above, "is writable by every user and not sticky"),
        # the link itself is in a safe directory; the directory it leads through is not
        (os.path.join(top, "via-link", "swap"), above, "is writable by every user"),
    ]


def test_dry_run_refuses_directories_others_can_write(tmp_path: os.PathLike[str]) -> None:
    for path, directory, why in unsafe_dirs(str(tmp_path)):
        code, out, err = run_cli("swapfile", "add", "64M", "--path", path, "--dry-run")
        assert (code, out) == (1, ""), path
        assert err.startswith(f"checkswap: refusing --path {path}: directory {directory} {why}")
        assert err.count("\n") == 1


def test_dry_run_refuses_a_directory_owned_by_another_user(tmp_path: os.PathLike[str]) -> None:
    needs_root()
    d = os.path.join(tmp_path, "theirs")
    os.mkdir(d, 0o755)
    os.chown(d, 65534, 65534)
    inner = os.path.join(d, "inner")
    os.mkdir(inner, 0o755)  # root's, inside theirs: still refused, for the ancestor
    for path in (os.path.join(d, "swap"), os.path.join(inner, "swap")):
        code, _, err = run_cli("swapfile", "add", "64M", "--path", path, "--dry-run")
        assert code == 1
        assert f"directory {d} is owned by " in err and "not root" in err, err


def test_dry_run_allows_a_root_owned_sticky_directory(tmp_path: os.PathLike[str]) -> None:
    d = os.path.join(tmp_path, "sticky")
    os.mkdir(d)
    os.chmod(d, 0o1777)
    code, out, err = run_cli("swapfile", "add", "64M", "--path", os.path.join(d, "s"), "--dry-run")
    assert (code, err) == (0, "") and "mkswap /proc/self/fd/3" in out
    assert os.listdir(d) == []


def test_sticky_directory_owned_by_another_user_is_refused(tmp_path: os.PathLike[str]) -> None:
    """The sticky bit protects files from everyone but the directory's owner."""
    needs_root()
    d = os.path.join(tmp_path, "their-sticky")
    os.mkdir(d)
    os.chown(d, 65534, 65534)
    os.chmod(d, 0o1777)
    code, _, err = run_cli("swapfile", "add", "64M", "--path", os.path.join(d, "s"), "--dry-run")
    assert code == 1 and f"directory {d} is owned by " in err


def test_add_refuses_a_symlink_as_target(tmp_path: os.PathLike[str]) -> None:
    victim = os.path.join(tmp_path, "victim")
    open(victim, "w").close()
    link = os.path.join(tmp_path, "swap")
    os.symlink(victim, link)
    code, _, err = run_cli("swapfile", "add", "64M", "--path", link, "--dry-run")
    assert code == 1 and f"{link} already exists (a symbolic link)" in err
    os.unlink(victim)  # a dangling link is refused the same way: O_EXCL would fail on it
    code, _, err = run_cli("swapfile", "add", "64M", "--path", link, "--dry-run")
    assert code == 1 and "(a symbolic link)" in err


def test_path_through_a_file_is_bad_input(tmp_path: os.PathLike[str]) -> None:
    f = os.path.join(tmp_path, "file")
    open(f, "w").close()
    code, _, err = run_cli("swapfile", "add", "64M", "--path", os.path.join(f, "swap"), "--dry-run")
    assert code == 2 and f"{f} is not a directory" in err


def test_symlink_loop_is_bad_input(tmp_path: os.PathLike[str]) -> None:
    a = os.path.join(tmp_path, "a")
    os.symlink("b", a)
    os.symlink("a", os.path.join(tmp_path, "b"))
    code, _, err = run_cli("swapfile", "add", "64M", "--path", os.path.join(a, "s"), "--dry-run")
    assert code == 2 and "more than 40 symbolic links" in err


# --- the swap header, written through the descriptor ------------------------------------------


def test_swap_header_is_what_mkswap_writes(tmp_path: os.PathLike[str]) -> None:
    """Byte for byte the first page of util-linux mkswap's, given the same UUID."""
    uuid = "0a3407de-014b-458b-b5c1-3e6f0bd8d2c1"
    page = os.sysconf("SC_PAGE_SIZE")
    path = os.path.join(tmp_path, "swap")
    size = 8 * 2**20
    with open(path, "wb") as f:
        f.truncate(size)
    mkswap = subprocess.run(["mkswap", "-U", uuid, path], capture_output=True, text=True)
    assert mkswap.returncode == 0, mkswap.stderr
    with open(path, "rb") as f:
        theirs = f.read(page)
    ours = swapfile.swap_header(size, page, bytes.fromhex(uuid.replace("-", "")))
    assert ours == theirs
    assert swapfile.has_swap_signature(path, page)


def test_size_rounds_up_to_whole_mib() -> None:
    assert swapfile.round_size(1) == 2**20
    assert swapfile.round_size(2**30) == 2**30
    assert swapfile.round_size(int(1.5 * 2**30) + 1) == int(1.5 * 2**30) + 2**20


def test_margin_is_bounded() -> None:
    assert swapfile.margin_bytes(512 * 2**20) == 64 * 2**20
    assert swapfile.margin_bytes(10 * 2**30) == 512 * 2**20
    assert swapfile.margin_bytes(10 * 2**40) == 2 * 2**30


# --- remove, planned against the seed's server (a synthesised fixture) -------------------


@pytest.fixture
def seed_root(fixture_root: object) -> Root:
    return Root(fixture_root("swapfile-unsafe-remove"))  # type: ignore[operator]


def test_remove_refuses_when_used_exceeds_available(
    seed_root: Root, tmp_path: os.PathLike[str]
) -> None:
    fst = os.path.join(tmp_path, "fstab")
    with open(fst, "w") as f:
        f.write(FSTAB)
    with pytest.raises(Refused) as e:
        swapfile.plan_remove(seed_root, "/swapfile", fst, force=False)
    assert "holds 3.5 GiB of swapped-out memory and MemAvailable is 1.0 GiB" in str(e.value)
    plan = swapfile.plan_remove(seed_root, "/swapfile", fst, force=True)
    steps = [str(s) for s in swapfile.remove_steps(plan)]
    assert steps == [
        "swapoff /swapfile    # swapoff(2) by checkswap, showing its progress",
        f"{shlex.join(fstab.shell_remove(fst, [4]))}    # checkswap does this itself, refusing "
        "links and other users' files",
        "rm -f /swapfile",
    ]


def test_remove_small_file_is_safe(seed_root: Root, tmp_path: os.PathLike[str]) -> None:
    fst = os.path.join(tmp_path, "fstab")
    with open(fst, "w") as f:
        f.write(FSTAB)
    plan = swapfile.plan_remove(seed_root, "/swapfile-small", fst, force=False)
    assert plan.area is not None and plan.area.used_bytes == 4096 * 1024
    assert plan.fstab_lines == []


def test_remove_refuses_partition(seed_root: Root) -> None:
    with pytest.raises(Refused, match="is a swap partition, not a file"):
        swapfile.plan_remove(seed_root, "/dev/sda2", "/etc/fstab", force=True)


def test_remove_refuses_a_file_that_is_not_swap(tmp_path: os.PathLike[str]) -> None:
    path = os.path.join(tmp_path, "data")
    with open(path, "wb") as f:
        f.write(b"\x01" * 8192)
    code, _, err = run_cli("swapfile", "remove", path, "--dry-run")
    assert code == 1 and "has no swap signature: not deleting it" in err
    assert os.path.exists(path)
    code, _, err = run_cli("swapfile", "remove", os.path.join(tmp_path, "nope"), "--dry-run")
    assert code == 1 and "is not a swap area and does not exist" in err


def test_plan_rejects_missing_fstab(seed_root: Root) -> None:
    with pytest.raises(BadInput, match="--fstab /nope: no such file"):
        swapfile.plan_remove(seed_root, "/swapfile-small", "/nope", force=False)


# --- progress bar -----------------------------------------------------------------------


def test_progress_line_rate_and_eta() -> None:
    bar = Progress(2**30, io.StringIO(), True, clock=lambda: 0.0)
    assert bar.line(256 * 2**20, 2.0) == (
        "[#######.....................]  25%  256.0 MiB / 1.0 GiB  128.0 MiB/s  ETA 0:06"
    )
    assert bar.line(0, 0.0).endswith("0 B / 1.0 GiB  -  ETA -")


def test_progress_off_a_terminal_is_a_line_every_few_seconds() -> None:
    t = [0.0]
    out = io.StringIO()
    bar = Progress(100, out, False, clock=lambda: t[0])
    for i in range(101):  # ten seconds, a reading every 0.1 s
        t[0] = i * 0.1
        bar.update(i)
    bar.finish(100)
    lines = out.getvalue().splitlines()
    # Nothing in the first three seconds, then one line per three: 3.0, 6.0, 9.0, and the end.
    assert len(lines) == 4, lines
    assert "\r" not in out.getvalue() and "\033" not in out.getvalue()
    assert lines[0].startswith(
        "[########....................]  30%  30 B / 100 B  10 B/s  ETA 0:07"
    )
    assert lines[-1].startswith("[############################] 100%  100 B / 100 B")


def test_progress_off_a_terminal_says_nothing_for_a_short_job() -> None:
    t = [0.0]
    out = io.StringIO()
    bar = Progress(100, out, False, clock=lambda: t[0])
    bar.update(50)
    t[0] = 2.9
    bar.finish(100)
    assert out.getvalue() == ""


def test_progress_eta_from_the_recent_rate() -> None:
    t = [0.0]
    out = io.StringIO()
    bar = Progress(1000, out, True, clock=lambda: t[0], every_s=0)
    for s in range(0, 21):  # 40 B/s for 10 s, then 10 B/s for 10 s
        t[0] = float(s)
        bar.update(40 * min(s, 10) + 10 * max(0, s - 10))
    # The last ten seconds' rate (10 B/s), not the average (25 B/s): 500 B left, 50 s.
    assert (
        out.getvalue()
        .rsplit("\r", 1)[1]
        .startswith("[##############..............]  50%  500 B / 1000 B  10 B/s  ETA 0:50")
    )


# --- list (topology from issue 5, on its fixture trees) ----------------------------------


def test_list_table_on_fixture(fixture_root: object) -> None:
    code, out, err = run_cli("swapfile", "list", "--root", fixture_root("topo-old-kernel"))  # type: ignore[operator]
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "NAME       KIND           SIZE     USED  PRIO  ON      DISK",
        "/dev/sda2  partition   4.0 GiB  1.0 GiB    -2  -       sda (rotational)",
        "/swapfile  file       12.0 GiB      0 B    -3  ext4 /  sda (rotational)",
    ]


def test_list_network_filesystem_and_json(fixture_root: object) -> None:
    root = fixture_root("topo-nfs")  # type: ignore[operator]
    code, out, _ = run_cli("swapfile", "list", "--root", root)
    assert code == 0 and "nfs4 /mnt/nfs  network filesystem (nfs4)" in out
    code, out, _ = run_cli("swapfile", "list", "--root", root, "--format", "json")
    import json

    (device,) = json.loads(out)["devices"]
    assert (device["name"], device["kind"], device["network"]) == (
        "/mnt/nfs/swapfile",
        "file",
        True,
    )
    assert out.count("\n") == 1


def test_list_bad_root_is_bad_input(tmp_path: os.PathLike[str]) -> None:
    code, _, err = run_cli("swapfile", "list", "--root", str(tmp_path))
    assert code == 2 and "not a kernel tree" in err


def test_dry_run_refuses_a_symlinked_fstab_or_backup(tmp_path: os.PathLike[str]) -> None:
    # The fstab and its backup are replaced by checkswap: a link at either name must be refused
    # in the plan, before swapon, not when the persist step finally runs.
    victim = os.path.join(tmp_path, "victim")
    with open(victim, "w") as f:
        f.write("precious\n")
    real = os.path.join(tmp_path, "fstab")
    with open(real, "w") as f:
        f.write("# empty\n")
    link = os.path.join(tmp_path, "fstab-link")
    os.symlink(victim, link)
    swap = os.path.join(tmp_path, "checkswap-test-swap")
    code, _, err = run_cli(
        "swapfile", "add", "64M", "--path", swap, "--persist", "--fstab", link, "--dry-run"
    )
    assert code == 2 and "symbolic link" in err, err
    os.symlink(victim, fstab.backup_path(real))
    code, _, err = run_cli(
        "swapfile", "add", "64M", "--path", swap, "--persist", "--fstab", real, "--dry-run"
    )
    assert code == 2 and "--fstab backup" in err and "symbolic link" in err, err
    with open(victim) as f:
        assert f.read() == "precious\n"
    assert not os.path.exists(swap)
