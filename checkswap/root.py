"""Where checkswap reads the kernel from: the one place that knows the path of /proc and /sys.

Every reader takes a ``Root`` and names files relative to it (``"proc/vmstat"``), so ``--root DIR``
works for every command and tests point a root at a fixture tree. A DIR is read live, exactly like
/proc: two reads of a static tree give zero deltas. A root may carry ``checkswap-manifest.json``
(page size, kernel release, capture times); without one the host's page size is used and a note
says so.
"""

from __future__ import annotations

import contextlib
import errno
import os
import time

from checkswap.errors import BadInput, KernelFileError

MANIFEST = "checkswap-manifest.json"


class PreadFile:
    """A kernel file kept open and re-read from offset 0 on every call.

    Keeping the descriptor open and using pread() saves the open/close per tick; seq_file based
    /proc files regenerate their text when read from offset 0.
    """

    __slots__ = ("_bufsize", "_fd", "path")

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd = -1  # set first: __del__ runs even when open() below fails
        self._fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        self._bufsize = 16384

    def read(self) -> str:
        while True:
            data = os.pread(self._fd, self._bufsize, 0)
            if len(data) < self._bufsize:
                return data.decode("utf-8", "surrogateescape")
            self._bufsize *= 4

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __del__(self) -> None:
        with contextlib.suppress(OSError):
            self.close()


class Root:
    """A directory holding ``proc/`` and ``sys/``: ``/`` on a live system, or a fixture tree."""

    # True for a root that replays captured samples with their own clock (a snapshot bundle).
    replays = False

    def __init__(self, path: str = "/") -> None:
        self.path = os.path.abspath(path)
        self.is_host = self.path == "/"
        self.notes: list[str] = []
        self.manifest = self._load_manifest()
        self.page_size = self._page_size()

    def __repr__(self) -> str:
        return f"Root({self.path!r})"

    def join(self, rel: str) -> str:
        return os.path.join(self.path, rel)

    def exists(self, rel: str) -> bool:
        return os.path.exists(self.join(rel))

    def read_text(self, rel: str) -> str:
        """Whole file as text; OSError propagates so callers decide what "missing" means."""
        with open(self.join(rel), "rb") as f:
            return f.read().decode("utf-8", "surrogateescape")

    def open_pread(self, rel: str) -> PreadFile:
        return PreadFile(self.join(rel))

    def listdir(self, rel: str) -> list[str]:
        return os.listdir(self.join(rel))

    def realpath(self, rel: str) -> str | None:
        """The path ``rel`` leads to, links resolved; None when nothing is there."""
        path = self.join(rel)
        return os.path.realpath(path) if os.path.exists(path) else None

    def readlink(self, rel: str) -> str:
        """A symlink's target; OSError when ``rel`` is not a link."""
        return os.readlink(self.join(rel))

    # A live root's clock is the host's. A snapshot bundle replays its recorded clock instead.
    def clock(self) -> tuple[float, float]:
        """(monotonic seconds, wall-clock epoch seconds) for a sample taken now."""
        return time.monotonic(), time.time()

    def advance(self) -> bool:
        """Move to the next captured sample; a live root has an endless supply."""
        return True

    @property
    def kernel_release(self) -> str | None:
        if self.manifest and isinstance(self.manifest.get("kernel_release"), str):
            return str(self.manifest["kernel_release"])
        try:
            return self.read_text("proc/sys/kernel/osrelease").strip() or None
        except OSError:
            return os.uname().release if self.is_host else None

    @property
    def hostname(self) -> str | None:
        if self.manifest and isinstance(self.manifest.get("hostname"), str):
            return str(self.manifest["hostname"])
        try:
            return self.read_text("proc/sys/kernel/hostname").strip() or None
        except OSError:
            return os.uname().nodename if self.is_host else None

    def _load_manifest(self) -> dict[str, object] | None:
        path = self.join(MANIFEST)
        if not os.path.exists(path):
            return None
        import json  # only roots that carry a manifest pay for it

        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as e:
            raise BadInput(f"{path}: not a valid checkswap manifest ({e})") from None
        if not isinstance(data, dict):
            raise BadInput(f"{path}: not a valid checkswap manifest (expected a JSON object)")
        return data

    def _page_size(self) -> int:
        if self.manifest is not None and "page_size_bytes" in self.manifest:
            value = self.manifest["page_size_bytes"]
            if not isinstance(value, int) or value <= 0 or value & (value - 1):
                raise BadInput(f"{self.join(MANIFEST)}: page_size_bytes must be a power of two")
            return value
        size = os.sysconf("SC_PAGE_SIZE")
        if not self.is_host:
            self.notes.append(
                f"{self.path} has no {MANIFEST}: assuming this host's page size, {size} bytes"
            )
        return size


def open_root(path: str | None) -> Root:
    """The root named by ``--root`` (a DIR or a snapshot bundle), checked to be a kernel tree."""
    if path is None:
        root = Root("/")
    else:
        if not os.path.exists(path):
            raise BadInput(f"--root {path}: no such file or directory")
        unpacked_bundle = os.path.isdir(os.path.join(path, "samples")) and os.path.isfile(
            os.path.join(path, MANIFEST)
        )
        if not os.path.isdir(path) or unpacked_bundle:
            # Only bundles pay for importing tarfile and the bundle code.
            from checkswap import bundle

            if bundle.is_bundle_file(path) or bundle.is_bundle_dir(path):
                return _checked(bundle.BundleRoot(path))
        if not os.path.isdir(path):
            raise BadInput(
                f"--root {path}: neither a directory holding proc/ and sys/ nor a snapshot "
                "bundle made by `checkswap snapshot`"
            )
        root = Root(path)
    return _checked(root)


def _checked(root: Root) -> Root:
    check_kernel_tree(root)
    return root


def check_kernel_tree(root: Root) -> None:
    vmstat = root.join("proc/vmstat")
    try:
        os.stat(vmstat)
    except FileNotFoundError:
        hint = ""
        if os.path.isdir(os.path.join(root.path, "vmstat")) or os.path.exists(
            os.path.join(root.path, "vmstat")
        ):
            parent = os.path.dirname(root.path.rstrip("/")) or "/"
            hint = f" (did you mean --root {parent}? the root holds proc/ and sys/)"
        raise BadInput(
            f"--root {root.path}: not a kernel tree, it has no proc/vmstat{hint}"
        ) from None
    except OSError as e:
        raise KernelFileError(vmstat, os.strerror(e.errno or errno.EIO)) from None
