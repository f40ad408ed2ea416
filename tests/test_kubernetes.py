"""Kubernetes: the pod_uid and container_id of kubepods cgroup paths (both cgroup drivers, v1
and v2), as labels of serve's per-cgroup series, and the manifests of contrib/kubernetes/."""

from __future__ import annotations

import json

import pytest
from clihelp import FIXTURES, run_cli

from checkswap.model.cgroups import kube_ids

UID = "0fb5b7c4-1e2d-4c3b-9a8f-7e6d5c4b3a21"
UNDERSCORED = UID.replace("-", "_")
CID = "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b"


@pytest.mark.parametrize(
    "path, ids",
    [
        # systemd driver (v1 paths are relative to the memory hierarchy: the same text as v2)
        (
            f"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{UNDERSCORED}.slice"
            f"/cri-containerd-{CID}.scope",
            (UID, CID),
        ),
        (
            f"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod{UNDERSCORED}"
            f".slice/crio-{CID}.scope",
            (UID, CID),
        ),
        (f"/kubepods.slice/kubepods-pod{UNDERSCORED}.slice/docker-{CID}.scope", (UID, CID)),
        (
            f"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{UNDERSCORED}.slice",
            (UID, ""),
        ),
        # cgroupfs driver
        (f"/kubepods/burstable/pod{UID}/{CID}", (UID, CID)),
        (f"/kubepods/besteffort/pod{UID}/{CID}", (UID, CID)),
        (f"/kubepods/pod{UID}/{CID}", (UID, CID)),
        (f"/kubepods/pod{UID}", (UID, "")),
        # a kubelet with --cgroup-root below a runtime's own slice (kind, nested nodes)
        (f"/system.slice/kubelet.slice/kubepods/burstable/pod{UID}/{CID}", (UID, CID)),
        # not a pod
        ("/kubepods", None),
        ("/kubepods.slice/kubepods-burstable.slice", None),
        (f"/system.slice/docker-{CID}.scope", None),
        ("/system.slice/pod-manager.service", None),
        (f"/user.slice/pod{UID}", None),
        ("/", None),
        ("", None),
    ],
)
def test_kube_ids_of_cgroup_paths(path: str, ids: tuple[str, str] | None) -> None:
    assert kube_ids(path) == ids


def _cgroup_series(tree: str) -> dict[str, tuple[str, str, float]]:
    pytest.importorskip("prometheus_client")
    from checkswap.fleet.metrics import process_metrics

    status, out, err = run_cli("top", "--cgroups", "--format", "json", "--root", tree)
    assert status == 0, err
    fams = {f.name: f for f in process_metrics(json.loads(out.splitlines()[0]), 100)}
    return {
        s.labels["cgroup"]: (s.labels["pod_uid"], s.labels["container_id"], s.value)
        for s in fams["checkswap_cgroup_swap_bytes"].samples
    }


def test_serve_labels_pods_on_cgroup_v1_cgroupfs() -> None:
    series = _cgroup_series(f"{FIXTURES}/kubepods-v1-cgroupfs")
    burstable = "7c3e2a10-5b4d-4e6f-8a9b-0c1d2e3f4a5b"
    guaranteed = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
    cid = "4f3e2d1c0b0a99887766554433221100ffeeddccbbaa99887766554433221100"
    assert series[f"/kubepods/burstable/pod{burstable}/{cid}"] == (burstable, cid, 64 << 20)
    assert series[f"/kubepods/burstable/pod{burstable}"] == (burstable, "", 64 << 20)
    guaranteed_cid = "0123456789abcdef" * 4
    assert series[f"/kubepods/pod{guaranteed}/{guaranteed_cid}"] == (
        guaranteed,
        guaranteed_cid,
        32 << 20,
    )
    assert series["/kubepods"][:2] == ("", "")


def test_serve_labels_pods_on_cgroup_v2_systemd() -> None:
    series = _cgroup_series(f"{FIXTURES}/top-cgroup-v2-server")
    pod = f"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{UNDERSCORED}.slice"
    assert series[f"{pod}/cri-containerd-{CID}.scope"][:2] == (UID, CID)
    outside = [labels for path, labels in series.items() if not path.startswith("/kubepods")]
    assert outside and all(labels[:2] == ("", "") for labels in outside)
