"""Snapshot bundles as roots: ``--root BUNDLE`` replays the samples ``checkswap snapshot`` took.

A bundle is a tar.gz holding ``checkswap-manifest.json`` and one complete kernel tree per sample
(``samples/000/proc/...``, ``samples/000/sys/...``). The manifest lists the samples with the
monotonic and wall-clock times they were captured at, the page size, the kernel release and the
stat() facts of the swapfiles. ``BundleRoot`` points at the first sample's tree; ``clock()``
returns its capture times and ``advance()`` moves to the next one, so every command that samples
a live root replays the bundle unchanged: one sample gives null rates, two give one interval.

The archive is unpacked into a private temporary directory, member by member: only regular
files, directories and symlinks that stay inside the bundle; anything else is bad input.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import tarfile
import tempfile
import weakref
from typing import Any, Callable

from checkswap.errors import BadInput
from checkswap.root import MANIFEST, PreadFile, Root

FORMAT = "checkswap-bundle"
MAX_UNPACKED_BYTES = 2 * 1024**3  # a bundle of kernel text never comes near this


class BundleFile(PreadFile):
    """A kept-open file of a bundle: each read() reads the current sample's copy."""

    def __init__(self, root: BundleRoot, rel: str) -> None:
        self._fd = -1
        self.root = root
        self.rel = rel
        self.path = root.join(rel)
        if not os.path.exists(self.path):
            # As os.open would: the sampler treats a missing optional file (PSI) as absent.
            raise FileNotFoundError(2, "No such file or directory", self.path)

    def read(self) -> str:
        return self.root.read_text(self.rel)

    def close(self) -> None:
        pass


class BundleRoot(Root):
    """A snapshot bundle (a tar.gz, or the directory it unpacks to), replayed sample by sample."""

    is_bundle = True

    def __init__(self, path: str) -> None:
        self.bundle_path = os.path.abspath(path)
        if os.path.isdir(path):
            top = self.bundle_path
        else:
            top = tempfile.mkdtemp(prefix="checkswap-bundle-", dir=_scratch_dir())
            self._cleanup = weakref.finalize(self, shutil.rmtree, top, True)
            unpack(path, top)
        super().__init__(top)
        self.top = top
        manifest = self.manifest
        if manifest is None or manifest.get("format") != FORMAT:
            raise BadInput(f"--root {path}: not a checkswap snapshot bundle (no {MANIFEST})")
        self.samples = _samples(path, manifest, top)
        self.index = 0
        self.path = os.path.join(top, self.samples[0]["dir"])

    def __repr__(self) -> str:
        return f"BundleRoot({self.bundle_path!r}, sample {self.index + 1}/{len(self.samples)})"

    def clock(self) -> tuple[float, float]:
        s = self.samples[self.index]
        return float(s["mono"]), float(s["wall"])

    def advance(self) -> bool:
        if self.index + 1 >= len(self.samples):
            return False
        self.index += 1
        self.path = os.path.join(self.top, self.samples[self.index]["dir"])
        return True

    def open_pread(self, rel: str) -> PreadFile:
        return BundleFile(self, rel)

    @property
    def interval_s(self) -> float | None:
        value = (self.manifest or {}).get("interval_s")
        return float(value) if isinstance(value, (int, float)) else None


def _samples(path: str, manifest: dict[str, object], top: str) -> list[dict[str, Any]]:
    samples = manifest.get("samples")
    bad = BadInput(f"--root {path}: the bundle's manifest has no valid list of samples")
    if not isinstance(samples, list) or not samples:
        raise bad
    out = []
    for s in samples:
        if not (
            isinstance(s, dict)
            and isinstance(s.get("dir"), str)
            and isinstance(s.get("mono"), (int, float))
            and isinstance(s.get("wall"), (int, float))
        ):
            raise bad
        d = posixpath.normpath(s["dir"])
        if d.startswith(("/", "..")) or not os.path.isdir(os.path.join(top, d)):
            raise bad
        out.append({**s, "dir": d})
    return out


def _scratch_dir() -> str | None:
    """Where to unpack: $TMPDIR if set, else tmpfs (/dev/shm), else the default temp dir.

    A bundle is thousands of small files: creating them on a disk filesystem took 1.6 s here,
    on tmpfs 0.1 s. They are a few MiB at most and removed when the root goes away.
    """
    if os.environ.get("TMPDIR"):
        return None
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK) else None


def is_bundle_file(path: str) -> bool:
    try:
        return tarfile.is_tarfile(path)
    except OSError:
        return False


def is_bundle_dir(path: str) -> bool:
    return os.path.isfile(os.path.join(path, MANIFEST)) and os.path.isdir(
        os.path.join(path, "samples")
    )


def _safe_name(name: str) -> str | None:
    norm = posixpath.normpath(name)
    if norm.startswith(("/", "../")) or norm in ("..", ".") or "\0" in norm:
        return None
    return norm


def unpack(path: str, dest: str) -> None:
    """Unpack a bundle member by member, refusing anything that could escape ``dest``."""
    try:
        # Stream mode, in archive order: random access into a gzip stream re-reads it.
        with tarfile.open(path, "r|*") as tar:
            total = 0
            for m in tar:
                total = _unpack_member(tar, m, path, dest, total)
    except (OSError, tarfile.TarError, EOFError) as e:
        raise BadInput(f"--root {path}: not a readable snapshot bundle ({e})") from None


def _unpack_member(
    tar: tarfile.TarFile, m: tarfile.TarInfo, path: str, dest: str, total: int
) -> int:
    """One member; returns the bytes unpacked so far (a bound against tar bombs)."""
    name = _safe_name(m.name)
    if name is None:
        raise BadInput(f"--root {path}: refusing bundle member {m.name!r} (unsafe path)")
    target = os.path.join(dest, name)
    if m.isdir():
        os.makedirs(target, exist_ok=True)
    elif m.isfile():
        total += m.size
        if total > MAX_UNPACKED_BYTES:
            raise BadInput(f"--root {path}: bundle unpacks to more than 2 GiB, refused")
        os.makedirs(os.path.dirname(target), exist_ok=True)
        src = tar.extractfile(m)
        if src is not None:
            with src, open(target, "wb") as out:
                shutil.copyfileobj(src, out)
    elif m.issym():
        link = m.linkname
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(name), link))
        if link.startswith("/") or resolved.startswith("../") or resolved == "..":
            raise BadInput(f"--root {path}: refusing bundle symlink {m.name!r} -> {link!r}")
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.symlink(link, target)
    else:
        raise BadInput(f"--root {path}: refusing bundle member {m.name!r} (not a file)")
    return total


def replay_sleep(root: Root, sleep: Callable[[float], None]) -> Callable[[float], None]:
    """The sleep to pace samples with: a bundle's samples are already taken, so none."""
    if getattr(root, "is_bundle", False):
        return _no_sleep
    return sleep


def _no_sleep(seconds: float) -> None:
    return None
