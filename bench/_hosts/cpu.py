"""What a proxy process costs, read from /proc (through psutil): CPU seconds and resident memory
of the serving process alone and of its whole process tree.

Turnout runs work beside the serving process (a diff worker, a recording writer process), and
that work is part of what a request costs. A child's CPU is read while it lives; once it has
exited and been reaped, its time is in its parent's `children_user`/`children_system`, which
are counted for every process of the tree, so nothing is counted twice or lost.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psutil  # type: ignore[import-untyped]


@dataclass(frozen=True)
class Usage:
    serving_cpu: float  # seconds, user + system
    total_cpu: float  # the tree's, reaped children included
    serving_rss: int  # bytes
    total_rss: int  # the tree's, summed (pages shared between them counted in each)


def _own(times: Any) -> float:
    return float(times.user + times.system)


def _reaped(times: Any) -> float:
    return float(getattr(times, "children_user", 0.0) + getattr(times, "children_system", 0.0))


def usage(root: psutil.Process, serving: Callable[[psutil.Process], psutil.Process]) -> Usage:
    """One reading of the tree under `root`; `serving` picks the process that serves requests
    (the root itself for most hosts, the worker for nginx)."""
    server = serving(root)
    tree = [root]
    try:
        tree += root.children(recursive=True)
    except psutil.NoSuchProcess:
        pass
    total_cpu = 0.0
    total_rss = 0
    serving_cpu = 0.0
    serving_rss = 0
    for process in tree:
        try:
            with process.oneshot():
                times = process.cpu_times()
                rss = process.memory_info().rss
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            continue  # it ended between the listing and the reading; its parent has its time
        total_cpu += _own(times) + _reaped(times)
        total_rss += rss
        if process.pid == server.pid:
            serving_cpu, serving_rss = _own(times), rss
    return Usage(serving_cpu, total_cpu, serving_rss, total_rss)


def wait_idle(root: psutil.Process, serving: Callable[[psutil.Process], psutil.Process], *,
              quiet: float = 0.5, threshold: float = 0.01, bound: float = 60.0,
              poll: float = 0.1) -> tuple[float, bool]:
    """Wait until the tree's CPU time moves by less than `threshold` seconds over `quiet`
    seconds (queued recording and shadow work done), at most `bound` seconds. Returns the
    seconds waited until the quiet spell began, and whether it came."""
    started = time.monotonic()
    readings: list[tuple[float, float]] = []
    while True:
        now = time.monotonic()
        readings.append((now, usage(root, serving).total_cpu))
        while len(readings) > 1 and readings[1][0] <= now - quiet:
            readings.pop(0)
        first_time, first_cpu = readings[0]
        if now - first_time >= quiet and readings[-1][1] - first_cpu < threshold:
            return max(0.0, first_time - started), True
        if now - started >= bound:
            return now - started, False
        time.sleep(poll)
