"""``python -m checkswap`` and the zipapp's entry point (tools/build-pyz names ``run``).

This file, and the package's ``__init__``, must parse and run on any Python 3 (and 2.7), so that
an interpreter older than 3.9 gets one line saying what is needed rather than a SyntaxError from
deeper down: no annotations, f-strings or ``from __future__`` here, and nothing of checkswap is
imported before the version is checked. tests/test_consistency.py compiles it for Python 3.6.
"""

import sys

MINIMUM = (3, 9)


def run():
    # type: () -> None
    if sys.version_info < MINIMUM:
        # %-formatting, not an f-string: this line must run on the old interpreter it names.
        sys.stderr.write(
            "checkswap: needs Python %s.%s or newer; this is Python %s.%s (%s)\n"  # noqa: UP031
            % (MINIMUM[0], MINIMUM[1], sys.version_info[0], sys.version_info[1], sys.executable)
        )
        sys.exit(2)
    from checkswap.cli import main

    sys.exit(main())


if __name__ == "__main__":
    run()
