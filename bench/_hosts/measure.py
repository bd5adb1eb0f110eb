"""One measured run of one row: wrk for a fixed time, the proxy's CPU before and after, counted
only once the proxy is idle again, divided by the requests it handled (wrk's answers, or the
backend's calls when more: those include requests still in flight when wrk stopped).

Waiting for idle is what makes recording and shadow honest: their work is queued while the load
runs and done after it, and a bench that stops the clock with the load leaves it out (the old
in-process bench did). The wait is bounded; a row that did not settle says so. The counters and
the recording count are read outside the CPU window (reading them costs the proxy a request).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path

from . import wrk
from .cpu import usage, wait_idle
from .targets import Running, clear_recordings, count_recordings

MB = 1024 * 1024


@dataclass
class Sample:
    row: str
    size: int
    connections: int
    round: int
    answered: int  # non-error answers wrk read
    handled: int  # what the CPU is divided by: wrk's answers, or the backend's calls if more
    errors: int  # non-2xx answers and socket errors
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    serving_us: float | None  # CPU per answer, the serving process alone
    total_us: float | None  # CPU per answer, with its children
    serving_rss_mb: float  # the most seen during the run
    total_rss_mb: float
    settle_s: float  # from the end of the load until the proxy was idle
    settled: bool
    recorded: int | None  # exchanges on disk once idle, for recording rows
    counters: dict[str, float] = field(default_factory=dict)  # what moved during the run


def counter_deltas(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}


def measure(running: Running, script: Path, *, size: int, connections: int, seconds: float,
            round_no: int, settle_bound: float) -> Sample:
    """Run wrk against `running` for `seconds` and read what it cost."""
    wait_idle(running.root, running.serving, bound=settle_bound)  # the warm-up's work, if any
    clear_recordings(running.record_dir)
    before = running.counters()
    calls_before = running.backend_calls()
    start = usage(running.root, running.serving)
    peak = [start.serving_rss, start.total_rss]

    def sample_rss() -> None:
        now = usage(running.root, running.serving)
        peak[0], peak[1] = max(peak[0], now.serving_rss), max(peak[1], now.total_rss)

    result = wrk.run(running.url, script, connections, seconds, while_running=sample_rss)
    sample_rss()
    settle, settled = wait_idle(running.root, running.serving, bound=settle_bound)
    end = usage(running.root, running.serving)
    calls_after = running.backend_calls()
    recorded = count_recordings(running.record_dir) if running.record_dir is not None else None
    after = running.counters()
    answered = result.ok
    # wrk stops with requests in flight, which the proxy still forwards (and records): the
    # backend's count of calls includes them, wrk's count of answers does not
    handled = result.requests
    if calls_before is not None and calls_after is not None:
        handled = max(handled, calls_after - calls_before)
    return Sample(
        row=running.row.key, size=size, connections=connections, round=round_no,
        answered=answered, handled=handled, errors=result.errors_status + result.errors_socket,
        seconds=result.seconds, rps=result.rps, p50_ms=result.p50_ms, p99_ms=result.p99_ms,
        serving_us=(end.serving_cpu - start.serving_cpu) / handled * 1e6 if handled else None,
        total_us=(end.total_cpu - start.total_cpu) / handled * 1e6 if handled else None,
        serving_rss_mb=peak[0] / MB, total_rss_mb=peak[1] / MB,
        settle_s=settle, settled=settled, recorded=recorded,
        counters=counter_deltas(before, after),
    )


@dataclass(frozen=True)
class Summary:
    """The median of a row's rounds in one cell (size, connections)."""

    row: str
    rounds: int
    serving_us: float | None
    total_us: float | None
    rps: float
    p50_ms: float
    p99_ms: float
    serving_rss_mb: float
    total_rss_mb: float
    settle_s: float
    unsettled: int
    errors: int
    answered: int
    handled: int
    recorded: int | None
    counters: dict[str, float]


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def summarise(samples: list[Sample]) -> Summary:
    counters: dict[str, float] = {}
    for s in samples:
        for k, v in s.counters.items():
            counters[k] = counters.get(k, 0) + v
    recorded = [s.recorded for s in samples if s.recorded is not None]
    return Summary(
        row=samples[0].row, rounds=len(samples),
        serving_us=_median([s.serving_us for s in samples]),
        total_us=_median([s.total_us for s in samples]),
        rps=statistics.median(s.rps for s in samples),
        p50_ms=statistics.median(s.p50_ms for s in samples),
        p99_ms=statistics.median(s.p99_ms for s in samples),
        serving_rss_mb=max(s.serving_rss_mb for s in samples),
        total_rss_mb=max(s.total_rss_mb for s in samples),
        settle_s=statistics.median(s.settle_s for s in samples),
        unsettled=sum(not s.settled for s in samples),
        errors=sum(s.errors for s in samples),
        answered=sum(s.answered for s in samples),
        handled=sum(s.handled for s in samples),
        recorded=sum(recorded) if recorded else None,
        counters=counters,
    )


#: seconds after the end of the soak's load at which the recordings on disk are counted
SOAK_CHECKS = (0.0, 1.0, 2.0, 5.0)


@dataclass(frozen=True)
class SoakResult:
    """A long run with recording: were all the exchanges on disk soon after the load ended?"""

    label: str
    answered: int  # non-error answers wrk read
    rps: float
    errors: int
    forwarded: int | None  # the bus's calls: requests the proxy handled, wrk's cut-offs included
    on_disk: dict[float, int]  # seconds after the load -> recordings on disk
    caught_up_s: float | None  # when as many were on disk as wrk had answers (None: not in bound)
    idle_after_s: float
    final: int  # recordings on disk once the proxy was idle
    counters: dict[str, float]

    @property
    def within_2s(self) -> bool:
        return self.on_disk.get(2.0, 0) >= self.answered


@dataclass(frozen=True)
class RssResult:
    """RSS (MB, serving process / whole tree) over a bounded run with recording."""

    label: str
    answered: int
    seconds: float
    before: tuple[float, float]  # idle, before the load
    first: tuple[float, float]  # the first reading a second or more into the load
    most: tuple[float, float]
    last: tuple[float, float]  # as the load ended
    idle: tuple[float, float]  # once the proxy was idle again
    idle_after_s: float
    recorded: int
    series: list[tuple[float, float, float]]  # (seconds, serving MB, tree MB), every second
