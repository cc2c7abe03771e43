"""Stop a process group for good: the one helper `engageflow down` and the test services share.

Servers here fork workers (BentoML, gunicorn, uvicorn, Airflow's executor); some workers start
sessions of their own, so a group signal alone can leave them running.
"""

from __future__ import annotations

import contextlib
import os
import signal

import psutil


def usable_cores() -> int:
    """The cores this process may run on: its CPU affinity (a container or `taskset` may give
    fewer than the machine has), else os.cpu_count()."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def stop_group(
    leader: psutil.Process | None, pgid: int, sig: int = signal.SIGTERM, timeout: float = 30.0
) -> int | None:
    """Send `sig` to group `pgid`, wait up to `timeout`, then SIGKILL whatever is left.

    `leader`'s descendants are gathered first, so children that left the group die too.
    Returns the leader's exit code when this process is its parent, else None.
    """
    procs = [] if leader is None else [leader]
    with contextlib.suppress(psutil.Error):
        procs += [] if leader is None else leader.children(recursive=True)
    procs += [p for p in _group_members(pgid) if p.pid not in {q.pid for q in procs}]
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)
    gone, alive = psutil.wait_procs(procs, timeout=timeout)
    if alive:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
        for proc in alive:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.kill()
        gone += psutil.wait_procs(alive, timeout=10)[0]
    codes = {proc.pid: proc.returncode for proc in gone}
    return None if leader is None else codes.get(leader.pid)


def _group_members(pgid: int) -> list[psutil.Process]:
    members = []
    for proc in psutil.process_iter():
        with contextlib.suppress(psutil.Error, ProcessLookupError):
            if os.getpgid(proc.pid) == pgid:
                members.append(proc)
    return members


def same_process(pid: int, create_time: float) -> psutil.Process | None:
    """The live process `pid` if it is still the one started at `create_time` (no pid reuse)."""
    try:
        proc = psutil.Process(pid)
        if abs(proc.create_time() - create_time) > 0.01 or proc.status() == psutil.STATUS_ZOMBIE:
            return None
        return proc
    except psutil.Error:
        return None
