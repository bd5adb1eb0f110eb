"""Per-operation counts and latencies over a set of exchanges: data for a table, no rendering."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from turnout.soap import OperationName

from ._errors import RecordingError
from ._exchange import Exchange

UNREADABLE = "_unreadable"
REJECTED = "_rejected"


def bucket_of(exchange: Exchange) -> str:
    """The group an exchange belongs to: its operation's route key, or a bucket for none."""
    if exchange.operation is not None:
        return exchange.operation.key
    return REJECTED if exchange.outcome == "rejected" else UNREADABLE


@dataclass(frozen=True)
class LatencyStats:
    """Milliseconds of `timings["total"]`; percentiles by nearest rank."""

    count: int
    min_ms: float
    median_ms: float
    p95_ms: float
    max_ms: float
    mean_ms: float

    @classmethod
    def of(cls, values: list[float]) -> LatencyStats | None:
        if not values:
            return None
        ordered = sorted(values)
        return cls(
            count=len(ordered),
            min_ms=ordered[0],
            median_ms=_nearest_rank(ordered, 0.50),
            p95_ms=_nearest_rank(ordered, 0.95),
            max_ms=ordered[-1],
            mean_ms=sum(ordered) / len(ordered),
        )


def _nearest_rank(ordered: list[float], fraction: float) -> float:
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


@dataclass
class OperationSummary:
    """One row: `key` is `/pnc PersonEnquiry`, or `_unreadable` / `_rejected`."""

    key: str
    operation: OperationName | None
    count: int = 0
    routes: dict[str, int] = field(default_factory=dict)
    outcomes: dict[str, int] = field(default_factory=dict)
    #: HTTP status of the answer; exchanges without a response are in `no_response`
    statuses: dict[int, int] = field(default_factory=dict)
    no_response: int = 0
    latency: LatencyStats | None = None
    first_at: datetime | None = None
    last_at: datetime | None = None


@dataclass
class StoreSummary:
    operations: list[OperationSummary]
    #: files that could not be read; the summary covers the rest
    errors: list[RecordingError] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(row.count for row in self.operations)


def summarise(
    exchanges: Iterable[Exchange], errors: list[RecordingError] | None = None
) -> StoreSummary:
    rows: dict[str, OperationSummary] = {}
    latencies: dict[str, list[float]] = {}
    for exchange in exchanges:
        key = bucket_of(exchange)
        row = rows.get(key)
        if row is None:
            row = rows[key] = OperationSummary(key=key, operation=exchange.operation)
        row.count += 1
        row.routes[exchange.route] = row.routes.get(exchange.route, 0) + 1
        row.outcomes[exchange.outcome] = row.outcomes.get(exchange.outcome, 0) + 1
        if exchange.response is None:
            row.no_response += 1
        else:
            status = exchange.response.status
            row.statuses[status] = row.statuses.get(status, 0) + 1
        total = exchange.timings.get("total")
        if total is not None:
            latencies.setdefault(key, []).append(total)
        if row.first_at is None or exchange.started_at < row.first_at:
            row.first_at = exchange.started_at
        if row.last_at is None or exchange.started_at > row.last_at:
            row.last_at = exchange.started_at
    for key, row in rows.items():
        row.latency = LatencyStats.of(latencies.get(key, []))
    return StoreSummary(operations=[rows[k] for k in sorted(rows)], errors=list(errors or []))
