"""The gateway's own cheap aggregation of what Prometheus is shown (docs/operations.md).

The hot path is measured in microseconds, so a request does not go through prometheus-client's
`Counter.labels().inc()` / `Histogram.labels().observe()` (a label look-up, a lock and a
`Value` per series per call, several times per request). `GatewayMetrics.observe` takes one
lock once per request and updates plain dicts keyed by label tuples, with histogram buckets
found by `bisect`; `_prometheus.TurnoutCollector` turns them into metric families only when
someone scrapes. An operation's label and its series are resolved once per route table and
(operation, mode, outcome), not per request (`_Series`); bench/metrics_cost.py measures it.
Gauges (queue depths, the route table's version, translators) are read at scrape time, never
updated per request.

Bounded cardinality: no label carries a request's value. `operation` is a key the route table
in force names, else one of the first `MAX_OTHER_OPERATIONS` other names seen (the key when its
service path is one the table names, else `* Name`: a path the table does not name may be a
value), else "other"; requests that name no operation (a WSDL GET, a body that is not an
envelope) are "none". Fallback reasons and difference kinds come from the code, and are capped
all the same.
"""

from __future__ import annotations

import threading
import time
from bisect import bisect_left
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._outcomes import Outcome

if TYPE_CHECKING:
    from ..routing import RouteHolder, RouteTable
    from ..soap import OperationName
    from ._state import RequestNote

#: upper bounds in seconds, for latencies from half a millisecond to ten seconds (+Inf beyond)
BUCKETS: tuple[float, ...] = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)
#: operations the route table does not name that get a label of their own; the rest: "other"
MAX_OTHER_OPERATIONS = 100
#: names longer than this are "other" whatever their rank
MAX_LABEL_LENGTH = 160
#: distinct fallback reasons, or difference kinds, kept before "other"
MAX_REASONS = 50
OTHER = "other"
NONE = "none"
#: an exemplar's labels may hold 128 characters in all (OpenMetrics)
_EXEMPLAR_ID = 64
#: resolved series kept per route table; past it a request resolves its own (see `_resolve`)
_MAX_SERIES = 4096
_FALLBACK = Outcome.FALLBACK


@dataclass(slots=True)
class Exemplar:
    """The last request seen in one bucket: its ids, its value (seconds), when (Unix time)."""

    request_id: str
    trace_id: str
    value: float
    at: float


#: an exemplar as `observe` keeps it: (request id, trace id, value, at); a tuple costs a request
#: less than an `Exemplar`, which `Histogram.copy` makes at scrape time
_Seen = tuple[str, str, float, float]


class Histogram:
    """One series: a count per bucket (not cumulative; the last is +Inf) and the sum. In a
    `Snapshot`, `exemplars` holds `Exemplar`s; while counting, `_Seen` tuples."""

    __slots__ = ("counts", "total", "exemplars")

    def __init__(self, exemplars: bool = False) -> None:
        self.counts = [0] * (len(BUCKETS) + 1)
        self.total = 0.0
        self.exemplars: list[Any] | None = [None] * (len(BUCKETS) + 1) if exemplars else None

    def observe(self, seconds: float) -> int:
        i = bisect_left(BUCKETS, seconds)
        self.counts[i] += 1
        self.total += seconds
        return i

    def copy(self) -> Histogram:
        twin = Histogram()
        twin.counts = list(self.counts)
        twin.total = self.total
        if self.exemplars is not None:
            twin.exemplars = [seen if seen is None or isinstance(seen, Exemplar) else Exemplar(*seen)
                              for seen in self.exemplars]
        return twin


@dataclass(slots=True)
class _Series:
    """What one (operation, mode, outcome) updates, resolved once per route table: its
    `operation` label, its key in the request counts and its histograms (shared with every
    other mode and outcome of the same label; bus and service made on first use)."""

    label: str
    requests: tuple[str, str, str]
    duration: Histogram
    own: Histogram
    bus: Histogram | None = None
    service: Histogram | None = None


@dataclass
class Snapshot:
    """A consistent copy of every count, taken under the lock at scrape time."""

    requests: dict[tuple[str, str, str], int]
    duration: dict[tuple[str, str], Histogram]
    bus: dict[str, Histogram]
    service: dict[str, Histogram]
    own: dict[tuple[str, str], Histogram]
    fallbacks: dict[tuple[str, str], int]
    comparisons: dict[tuple[str, str], int]
    differences: dict[tuple[str, str], int]
    shadow_dropped: int


class GatewayMetrics:
    """Counts and latencies per request, shadow comparisons, drops; see the module's docstring.

    Updated from the serving loop (and safe from any thread: one lock, taken once per call)."""

    def __init__(self, routes: RouteHolder | None = None) -> None:
        self._routes = routes
        self._lock = threading.Lock()
        self._requests: dict[tuple[str, str, str], int] = {}
        self._duration: dict[tuple[str, str], Histogram] = {}
        self._bus: dict[str, Histogram] = {}
        self._service: dict[str, Histogram] = {}
        self._own: dict[tuple[str, str], Histogram] = {}
        self._fallbacks: dict[tuple[str, str], int] = {}
        self._comparisons: dict[tuple[str, str], int] = {}
        self._differences: dict[tuple[str, str], int] = {}
        self._shadow_dropped = 0
        self._others: set[str] = set()
        self._reasons: set[str] = set()
        self._table: RouteTable | None = None
        self._services: frozenset[str] = frozenset()
        #: (service, name, mode, outcome) -> its series, for the route table in `_table`; at
        #: most `_MAX_SERIES` (names not in the table are request values: they must not grow it)
        self._series: dict[tuple[str, str, str, str], _Series] = {}
        #: when the bus last answered a request (`time.monotonic()`), for the readiness check
        self.last_bus_answer: float | None = None
        #: queue name -> (items, bytes or None), read at scrape time (the audit trail's, set
        #: by `prepare`; the recording writer's and the shadow runner's are read from the state)
        self.queues: dict[str, Callable[[], tuple[int, int | None]]] = {}

    # -- per request ----------------------------------------------------------------------------
    def observe(self, note: RequestNote) -> None:
        """One finished request: its count, its latencies (total, bus, service, Turnout's own).

        Runs once per request on the serving loop: the label and the series are looked up in
        one dict by the operation's parts and the mode and outcome as they are (`StrEnum`s hash
        as their words), and the buckets are counted inline."""
        total = time.perf_counter() - note.started
        bus_ms = note.upstream_ms
        run = note.translation
        service_ms = run.service_ms if run is not None else None
        own = total
        if bus_ms is not None:
            own -= bus_ms / 1000
            self.last_bus_answer = time.monotonic()
        if service_ms is not None:
            own -= service_ms / 1000
        operation = note.inspection.operation
        mode, outcome = note.route, note.outcome
        seen: _Seen = (note.request_id[:_EXEMPLAR_ID], note.trace_id, total, time.time())
        with self._lock:
            table = self._routes.get() if self._routes is not None else None
            if table is not self._table:
                self._new_table(table)
            # no operation (a WSDL GET, not an envelope): "" for its parts, which no Body has
            key = (operation.service, operation.name, mode, outcome) if operation is not None \
                else ("", "", mode, outcome)
            series = self._series.get(key)
            if series is None:
                series = self._resolve(key, operation)
            self._requests[series.requests] += 1
            histogram = series.duration
            i = bisect_left(BUCKETS, total)
            histogram.counts[i] += 1
            histogram.total += total
            histogram.exemplars[i] = seen  # type: ignore[index]  # made with exemplars
            histogram = series.own
            if own < 0.0:
                own = 0.0
            histogram.counts[bisect_left(BUCKETS, own)] += 1
            histogram.total += own
            if bus_ms is not None:
                histogram = series.bus or self._bus_of(series)
                seconds = bus_ms / 1000
                histogram.counts[bisect_left(BUCKETS, seconds)] += 1
                histogram.total += seconds
            if service_ms is not None:
                histogram = series.service or self._service_of(series)
                seconds = service_ms / 1000
                histogram.counts[bisect_left(BUCKETS, seconds)] += 1
                histogram.total += seconds
            if outcome is _FALLBACK:
                fallback = (series.label, self._reason(_fallback_reason(note.notes)))
                self._fallbacks[fallback] = self._fallbacks.get(fallback, 0) + 1

    def _new_table(self, table: RouteTable | None) -> None:
        """A route table swapped in: labels may change, so every resolved series is dropped
        (their counts stay, under their labels). Called holding the lock."""
        self._table = table
        self._services = frozenset(route.service for route in table) if table is not None else frozenset()
        self._series.clear()

    def _resolve(self, key: tuple[str, str, str, str], operation: OperationName | None) -> _Series:
        """The series of a request whose key (service, name, mode, outcome) is not cached yet;
        cached up to `_MAX_SERIES` keys (past that, resolved each time: still right, slower).
        Called holding the lock."""
        mode, outcome = str(key[2]), str(key[3])
        label = self._label(operation.key, operation.service, operation.name) if operation is not None else NONE
        requests = (label, mode, outcome)
        if requests not in self._requests:
            self._requests[requests] = 0
        pair = (label, mode)
        duration = self._duration.get(pair)
        if duration is None:
            duration = self._duration[pair] = Histogram(exemplars=True)
        own = self._own.get(pair)
        if own is None:
            own = self._own[pair] = Histogram()
        series = _Series(label, requests, duration, own, self._bus.get(label), self._service.get(label))
        if len(self._series) < _MAX_SERIES:
            self._series[key] = series
        return series

    def _bus_of(self, series: _Series) -> Histogram:
        histogram = self._bus.get(series.label)
        if histogram is None:
            histogram = self._bus[series.label] = Histogram()
        series.bus = histogram
        return histogram

    def _service_of(self, series: _Series) -> Histogram:
        histogram = self._service.get(series.label)
        if histogram is None:
            histogram = self._service[series.label] = Histogram()
        series.service = histogram
        return histogram

    def _label(self, key: str, service: str, name: str) -> str:
        """The `operation` label (see the module's docstring), for the table in `_table`;
        called holding the lock."""
        table = self._table
        if table is not None and key in table:
            return key
        label = key if service in self._services else f"* {name}"
        if label in self._others:
            return label
        if len(self._others) < MAX_OTHER_OPERATIONS and len(label) <= MAX_LABEL_LENGTH:
            self._others.add(label)
            return label
        return OTHER

    def _reason(self, reason: str) -> str:
        if reason in self._reasons:
            return reason
        if len(self._reasons) < MAX_REASONS and len(reason) <= MAX_LABEL_LENGTH:
            self._reasons.add(reason)
            return reason
        return OTHER

    # -- off the client's path ------------------------------------------------------------------
    def compared(self, operation: str, result: str, kinds: Iterable[str] = ()) -> None:
        """One shadow comparison of `operation` (a route key: shadows run only for routes the
        table names): `result` same | different | failed | skipped, and each difference's kind."""
        with self._lock:
            key = (operation, result)
            self._comparisons[key] = self._comparisons.get(key, 0) + 1
            for kind in kinds:
                difference = (operation, self._reason(kind))
                self._differences[difference] = self._differences.get(difference, 0) + 1

    def shadow_dropped(self) -> None:
        """A shadow the runner had no room for: the client had legacy's answer only."""
        with self._lock:
            self._shadow_dropped += 1

    # -- at scrape time -------------------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        with self._lock:
            return Snapshot(
                requests=dict(self._requests),
                duration={k: h.copy() for k, h in self._duration.items()},
                bus={k: h.copy() for k, h in self._bus.items()},
                service={k: h.copy() for k, h in self._service.items()},
                own={k: h.copy() for k, h in self._own.items()},
                fallbacks=dict(self._fallbacks),
                comparisons=dict(self._comparisons),
                differences=dict(self._differences),
                shadow_dropped=self._shadow_dropped,
            )


def _fallback_reason(notes: list[str]) -> str:
    for note in notes:
        if note.startswith("fallback:"):
            return note[len("fallback:"):]
    return "unknown"


def audit_queue(audit: object) -> Callable[[], tuple[int, int | None]]:
    """The audit trail's queue depth, for `GatewayMetrics.queues`: lines queued, not yet
    written (it does not count their bytes). AuditTrail keeps its queue private and offers no
    depth of its own, so this reads the `queue.Queue`'s size (approximate, as qsize is)."""
    trail = getattr(audit, "trail", None)
    waiting = getattr(trail, "_queue", None)

    def depth() -> tuple[int, int | None]:
        return (waiting.qsize() if waiting is not None else 0), None

    return depth
