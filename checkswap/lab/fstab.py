"""/etc/fstab lines for swapfiles: find, add and take out a file's line without touching others.

    # <file system>              <mount point> <type> <options> <dump> <pass>
    UUID=0a3407de-014b-458b-b5c1 /             ext4   errors=remount-ro 0 1
    /swapfile-checkswap-20261127 none          swap   sw,pri=10 0 0

Fields are separated by blanks; a blank inside a path is written ``\\040`` (fstab(5)). Edits are
written atomically with a backup (``change.replace_file``), so a crash or a concurrent reader
never sees a half-written fstab.
"""

from __future__ import annotations

import os

from checkswap.kernel import swaps
from checkswap.kernel.swaps import unescape
from checkswap.lab.change import replace_file

DEFAULT = "/etc/fstab"


def escape(path: str) -> str:
    # All ASCII white space, not only fstab(5)'s " \t\n": other readers split fields with
    # str.split(), which also breaks at a form feed. Three octal digits hold only ASCII, so
    # U+2028 and friends stay as they are; this module splits on "\n", " " and "\t" alone.
    return "".join(
        f"\\{ord(c):03o}" if (c.isspace() and c < "\x80") or c == "\\" else c for c in path
    )


def swap_line(path: str, priority: int | None) -> str:
    options = "sw" if priority is None else f"sw,pri={priority}"
    return f"{escape(path)} none swap {options} 0 0"


def _same(a: str, b: str) -> bool:
    return os.path.normpath(a) == os.path.normpath(b)


def line_numbers(text: str, path: str) -> list[int]:
    """0-based numbers of the active lines whose device field is ``path``."""
    found = []
    for i, line in enumerate(text.split("\n")):
        fields = swaps.fields(line)
        if fields and not fields[0].startswith("#") and _same(unescape(fields[0]), path):
            found.append(i)
    return found


def with_line(text: str, line: str) -> str:
    if text and not text.endswith("\n"):
        text += "\n"
    return f"{text}{line}\n"


def without_lines(text: str, numbers: list[int]) -> str:
    drop = set(numbers)
    return "\n".join(line for i, line in enumerate(text.split("\n")) if i not in drop)


def backup_path(fstab: str) -> str:
    return f"{fstab}.checkswap-backup"


def read(fstab: str) -> str:
    with open(fstab, encoding="utf-8", errors="surrogateescape") as f:
        return f.read()


def write(fstab: str, text: str) -> None:
    replace_file(fstab, text, backup=backup_path(fstab))


def _dq(text: str) -> str:
    """``text`` in double quotes for sh: single quotes inside ``sh -c '...'`` would print as
    '"'"' and make the plan unreadable."""
    return '"' + "".join("\\" + c if c in '$`"\\' else c for c in text) + '"'


def _shell_edit(fstab: str, new_text: str) -> list[str]:
    """The shell spelling of ``write``: what --dry-run prints, step for step, so that running
    it by hand makes the same change the same safe way (backup first, a new file beside the
    old one, fsync, one rename, fsync of the directory). ``new_text`` is a shell command
    printing the new content."""
    backup = backup_path(fstab)
    directory = os.path.dirname(os.path.abspath(fstab))
    temp = os.path.join(directory, f".{os.path.basename(fstab)}.XXXXXX.tmp")
    script = "; ".join(
        [
            "set -e",
            f"cp -p {_dq(fstab)} {_dq(backup)}",
            f"sync {_dq(backup)}",
            f"t=$(mktemp {_dq(temp)})",
            f'{new_text} > "$t"',
            f'chmod --reference={_dq(fstab)} "$t"',
            f'chown --reference={_dq(fstab)} "$t"',
            'sync "$t"',
            f'mv "$t" {_dq(fstab)}',
            f"sync {_dq(directory)}",
        ]
    )
    return ["sh", "-c", script]


def shell_add(fstab: str, line: str) -> list[str]:
    """``write(fstab, with_line(read(fstab), line))`` as a shell command."""
    # awk 1 copies the file and ends a last line that lacks its newline, as with_line does.
    return _shell_edit(fstab, f'{{ awk 1 {_dq(fstab)}; printf "%s\\n" {_dq(line)}; }}')


def shell_remove(fstab: str, numbers: list[int]) -> list[str]:
    """``write(fstab, without_lines(read(fstab), numbers))`` as a shell command."""
    script = ";".join(f"{n + 1}d" for n in numbers)
    return _shell_edit(fstab, f"sed -e {_dq(script)} {_dq(fstab)}")
