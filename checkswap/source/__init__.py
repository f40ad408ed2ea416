"""Where the kernel's files come from: this host, a directory, or a snapshot bundle.

``open_root`` turns ``--root`` into a Root (source/root.py is the base every kind of root
derives from; source/bundle.py the bundle). A recording is replayed through
``record.replay.RecordingRoot``, beside the format it reads.
"""

from __future__ import annotations

import os
import stat

from checkswap.errors import BadInput
from checkswap.source.root import MANIFEST, NEEDS_VMSTAT, Root, check_kernel_tree, file_kind


def open_root(
    path: str | None, needs: tuple[str, ...] = NEEDS_VMSTAT, command: str | None = None
) -> Root:
    """The root named by ``--root`` (a DIR or a snapshot bundle), checked to be a kernel tree
    holding the files in ``needs`` (those the command cannot do without)."""

    def _checked(root: Root) -> Root:
        check_kernel_tree(root, needs, command)
        return root

    if path is None:
        return _checked(Root("/"))
    try:
        # stat, never open, first: opening a FIFO blocks, and reading /dev/zero never ends.
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise BadInput(f"--root {path}: no such file or directory") from None
    except OSError as e:
        raise BadInput(f"--root {path}: {e.strerror or e}") from None
    if stat.S_ISDIR(mode):
        unpacked_bundle = os.path.isdir(os.path.join(path, "samples")) and os.path.isfile(
            os.path.join(path, MANIFEST)
        )
        if not unpacked_bundle:
            return _checked(Root(path))
    elif not stat.S_ISREG(mode):
        raise BadInput(
            f"--root {path}: {file_kind(mode)}, neither a directory holding proc/ and sys/ nor a "
            "snapshot bundle made by `checkswap snapshot`"
        )
    # Only bundles pay for importing tarfile and the bundle code.
    from checkswap.source import bundle

    return _checked(bundle.BundleRoot(path))
