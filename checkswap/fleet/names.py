"""The names of the metric families serve builds itself (fleet/metrics.py) and fleet asks
Prometheus for (fleet/ranking.py).

The families made from fields (swap-in, swap used, a process's or a cgroup's swap...) are named
in the field registry (fields.py); these few are not fields of a sample, so they are named
here, once, for both sides: a family renamed in serve is then renamed in fleet's queries too.
Standard library only, unlike fleet/metrics.py: fleet runs where prometheus_client (the
``exporter`` extra) is not installed.
"""

from __future__ import annotations

# 1 for each doctor finding serve exports, labelled id and severity.
FINDING = "checkswap_doctor_finding"
# Seconds the processes of one {comm, unit} waited for swap-in (taskstats, serve --delayacct).
PROCESS_SWAPIN_WAIT = "checkswap_process_swapin_wait_seconds_total"
# Seconds the tasks of one memory cgroup stalled on memory (cgroup v2 memory.pressure).
CGROUP_MEMORY_PRESSURE = "checkswap_cgroup_memory_pressure_seconds_total"
