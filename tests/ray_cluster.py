"""A real Ray cluster of two nodes on this machine, on 127.0.0.1 only, for the tests that need one.

    with two_nodes() as (cluster, second): ...   # ray.cluster_utils.Cluster: a head and one node, one CPU each

Every process it started is checked gone afterwards, and killed by its id if not, also when a test fails
or CI's timeout sends SIGTERM. Ray must be imported after RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 is set.
"""

import contextlib
import os
import signal
import time
from pathlib import Path

import pytest

FAST_CHECKS = {"health_check_initial_delay_ms": 0, "health_check_period_ms": 500, "health_check_timeout_ms": 500,
               "health_check_failure_threshold": 4}  # a removed node is noticed in about 2 s, not 30


def _descendants(root: int) -> dict[int, str]:
    """pid -> start time of every process below `root` (from /proc)."""
    parents, starts = {}, {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry)], starts[int(entry)] = int(fields[1]), fields[19]
    found, frontier = {}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == parent and pid not in found:
                found[pid] = starts[pid]
                frontier.append(pid)
    return found


def _alive(pid: int, start: str) -> bool:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[19] == start and fields[0] != "Z"


@contextlib.contextmanager
def two_nodes():
    import ray
    from ray.cluster_utils import Cluster

    from ray._private import ray_constants

    if ray_constants.ENABLE_RAY_CLUSTER:  # Ray was imported before this module set the variable
        pytest.fail("Ray was imported before the tests could keep it on 127.0.0.1: run "
                    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 python -m pytest")
    seen: dict[int, str] = {}
    made = None

    def terminated(signum, frame):  # a CI timeout's SIGTERM: tear the cluster down on the way out
        raise KeyboardInterrupt("SIGTERM")

    previous = signal.signal(signal.SIGTERM, terminated)
    try:
        made = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False,
                                                             "_system_config": FAST_CHECKS})
        second = made.add_node(num_cpus=1)
        made.wait_for_nodes()
        seen.update(_descendants(os.getpid()))
        yield made, second
    finally:
        seen.update(_descendants(os.getpid()))
        if ray.is_initialized():
            ray.shutdown()
        if made is not None:
            made.shutdown()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(_alive(p, s) for p, s in seen.items()):
            time.sleep(0.2)
        left = [p for p, s in seen.items() if _alive(p, s)]
        for pid in left:
            os.kill(pid, 9)
        signal.signal(signal.SIGTERM, previous)
        assert not left, f"Ray processes left behind (killed now): {left}"


@contextlib.contextmanager
def hang_alarm(seconds: int, what: str):
    """A test that hangs fails after `seconds` instead of holding CI (the cluster is then torn down)."""
    def expired(signum, frame):
        raise TimeoutError(f"{what} took more than {seconds} s: it hangs")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
