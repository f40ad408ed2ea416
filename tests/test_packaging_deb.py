"""The Debian package of tools/build-deb: what it holds and what it depends on, and lintian's
judgement. Installing it, running it and purging it is tools/test's CI step (it changes the
machine's package set, so it runs only as root with CHECKSWAP_KERNEL_TESTS=1).
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from clihelp import REPO

NEEDED = ("dpkg-buildpackage", "dh", "dh_python3")
pytestmark = pytest.mark.skipif(
    any(shutil.which(t, path="/usr/bin:/bin") is None for t in NEEDED)
    or not os.path.exists("/usr/lib/python3/dist-packages/shtab"),
    reason="dpkg-dev, debhelper, dh-python, python3-shtab or python3-argparse-manpage is not "
    "installed (tools/test installs them as root)",
)


@pytest.fixture(scope="module")
def deb(tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("deb")
    proc = subprocess.run(
        [os.path.join(REPO, "tools", "build-deb"), str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    path = proc.stdout.strip()
    from checkswap import __version__

    assert os.path.basename(path) == f"checkswap_{__version__}_all.deb"
    return path


def _field(deb: str, name: str) -> str:
    return subprocess.run(
        ["dpkg-deb", "-f", deb, name], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_depends_on_python3_only_and_recommends_the_extras(deb: str) -> None:
    depends = [d.strip() for d in _field(deb, "Depends").split(",")]
    assert depends and all(d.startswith(("python3 ", "python3:any ")) for d in depends)
    assert "python3 (>= 3.9)" in depends
    assert _field(deb, "Recommends") == "python3-rich, python3-prometheus-client"
    assert _field(deb, "Architecture") == "all"


def test_ships_pages_completion_units_and_monitoring(deb: str) -> None:
    listing = subprocess.run(
        ["dpkg-deb", "-c", deb], capture_output=True, text=True, check=True
    ).stdout
    files = {line.split()[5].lstrip(".") for line in listing.splitlines()}
    for path in (
        "/usr/bin/checkswap",
        "/usr/lib/python3/dist-packages/checkswap/cli.py",
        "/usr/lib/python3/dist-packages/checkswap/vendor/uplot/uPlot.iife.min.js",
        "/usr/share/man/man1/checkswap.1.gz",
        "/usr/share/man/man1/checkswap-doctor.1.gz",
        "/usr/share/bash-completion/completions/checkswap",
        "/usr/share/zsh/vendor-completions/_checkswap",
        "/lib/systemd/system/checkswap-record.service",
        "/lib/systemd/system/checkswap-exporter.service",
        "/usr/share/checkswap/monitoring/checkswap.rules.yml",
        "/usr/share/checkswap/monitoring/grafana-dashboard.json",
    ):
        assert path in files, path
    assert not [f for f in files if "__pycache__" in f]


def test_units_start_the_packaged_binary_and_are_not_enabled(
    deb: str, tmp_path: os.PathLike[str]
) -> None:
    root = os.fspath(tmp_path)
    subprocess.run(["dpkg-deb", "-x", deb, root], check=True)
    subprocess.run(["dpkg-deb", "-e", deb, os.path.join(root, "DEBIAN")], check=True)
    for unit in ("checkswap-record.service", "checkswap-exporter.service"):
        with open(os.path.join(root, "lib/systemd/system", unit), encoding="utf-8") as f:
            text = f.read()
        assert "ExecStart=/usr/bin/checkswap " in text
    for script in ("postinst", "preinst"):
        path = os.path.join(root, "DEBIAN", script)
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                body = f.read()
            assert "systemctl" not in body and "deb-systemd-helper" not in body


@pytest.mark.skipif(shutil.which("lintian") is None, reason="lintian is not installed")
def test_lintian_finds_no_error(deb: str) -> None:
    proc = subprocess.run(
        ["lintian", "--allow-root", "--fail-on", "error,warning", deb],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
