"""What `turnout top` shows, from two scrapes of each proxy: per operation, summed over them all.

Interval figures (rate, p50/p99, errors and fallbacks "now") come from the increase of each
series between a proxy's previous scrape and this one. A series that went down has restarted,
and so has a whole proxy that now reports another `instance` in turnout_build_info or a lower
route table version (it counts from 1 in each process; a proxy restarted at the same address
keeps its `instance`): then the current value is the increase, as Prometheus's `increase()`
counts a counter reset. A proxy whose previous scrape failed (or that has none yet) adds
nothing to the interval figures this round, only its totals. Totals are since each reachable
proxy started; an unreachable proxy adds nothing but its line.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

from ._quantile import bucket_quantile
from ._scrape import Buckets, Scrape

#: outcomes counted as errors (a fallback is not one: it is counted apart, from turnout_fallbacks_total)
ERROR_OUTCOMES = frozenset({"upstream-error", "translator-fault", "rejected", "client-error", "mismatch-rejected"})

K = TypeVar("K")


@dataclass(frozen=True)
class ProxyLine:
    """One proxy's header line."""

    url: str
    reachable: bool
    error: str | None = None
    table_version: float | None = None
    ready: bool | None = None
    queues: Mapping[str, float] = field(default_factory=dict)
    build: Mapping[str, str] = field(default_factory=dict)
    #: seconds between the two scrapes its interval figures come from (None: no interval yet)
    interval: float | None = None
    #: requests it has counted since it started (all operations)
    requests_total: float = 0.0
    #: True when it restarted between the two scrapes (its counters started again)
    restarted: bool = False


@dataclass(frozen=True)
class OperationRow:
    """One operation, summed over the reachable proxies."""

    operation: str
    #: mode -> how many reachable proxies serve the operation that way
    modes: Mapping[str, int]
    #: reachable proxies that say which mode they serve (the denominator of `modes`)
    proxies: int
    #: requests per second over the interval (None: no proxy has an interval yet)
    rate: float | None
    requests: float | None
    #: latency quantiles over the interval, in seconds (None: no request in it)
    p50: float | None
    p99: float | None
    errors: float | None
    fallbacks: float | None
    requests_total: float
    errors_total: float
    fallbacks_total: float
    #: shadow comparisons, totals: answered the same, and compared at all (same, different or
    #: the translator failed, which counts as not the same, as the readiness gate counts it)
    shadow_same: float
    shadow_compared: float

    def mode_text(self) -> str:
        """`translator`, or `translator 2/3, legacy 1/3` when the proxies disagree, or `?`."""
        if not self.modes:
            return "?"
        if len(self.modes) == 1 and next(iter(self.modes.values())) == self.proxies:
            return next(iter(self.modes))
        ranked = sorted(self.modes.items(), key=lambda item: (-item[1], item[0]))
        return ", ".join(f"{mode} {n}/{self.proxies}" for mode, n in ranked)

    @property
    def agreed(self) -> bool:
        return len(self.modes) == 1 and next(iter(self.modes.values())) == self.proxies


@dataclass(frozen=True)
class TopView:
    proxies: tuple[ProxyLine, ...]
    operations: tuple[OperationRow, ...]

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-able numbers (`turnout top --once --json`); latencies in seconds."""
        def clean(value: Any) -> Any:
            if isinstance(value, float) and math.isinf(value):
                return None
            if isinstance(value, Mapping):
                return {str(k): clean(v) for k, v in value.items()}
            return value

        operations = []
        for row in self.operations:
            data = {k: clean(v) for k, v in asdict(row).items()}
            data["mode"] = row.mode_text()
            operations.append(data)
        return {"proxies": [{k: clean(v) for k, v in asdict(p).items()} for p in self.proxies],
                "operations": operations}


def increase(before: Mapping[K, float], now: Mapping[K, float], restarted: bool = False) -> dict[K, float]:
    """Per series, how much a counter went up from `before` to `now`; a series that went down
    (its process restarted) went up by its whole current value, as does a new one."""
    out: dict[K, float] = {}
    for key, value in now.items():
        old = None if restarted else before.get(key)
        out[key] = value if old is None or value < old else value - old
    return out


def bucket_increase(before: Buckets | None, now: Buckets, restarted: bool = False) -> dict[float, float]:
    """The increase of one histogram series' buckets; any bucket that went down means the
    series started again, and then its current buckets are the increase."""
    if before is None or restarted or any(now.get(le, 0.0) < old for le, old in before.items()):
        return dict(now)
    return {le: value - before.get(le, 0.0) for le, value in now.items()}


def merge_buckets(series: Iterable[Buckets]) -> dict[float, float]:
    """Cumulative buckets of several series summed bound by bound. Where layouts differ, a
    series counts at a bound what it has at its own highest bound not above it (a lower bound
    on the truth; exact when every series has the same bounds, as proxies of one version do)."""
    series = [s for s in series if s]
    bounds = sorted({le for s in series for le in s})
    merged = dict.fromkeys(bounds, 0.0)
    for one in series:
        own = sorted(one)
        i, carried = 0, 0.0
        for le in bounds:
            while i < len(own) and own[i] <= le:
                carried = one[own[i]]
                i += 1
            merged[le] += carried
    return merged


def restarted(before: Scrape, now: Scrape) -> bool:
    """True when another process answers now than before: its build_info `instance` changed,
    or its route table version went down (it counts from 1 in each process)."""
    old, new = before.build.get("instance"), now.build.get("instance")
    if old is not None and new is not None and old != new:
        return True
    return (before.table_version is not None and now.table_version is not None
            and now.table_version < before.table_version)


def top_view(pairs: Sequence[tuple[Scrape | None, Scrape]]) -> TopView:
    """The view from each proxy's (previous scrape or None, this scrape), in the given order."""
    lines: list[ProxyLine] = []
    totals: dict[str, _Sums] = {}
    for before, now in pairs:
        if not now.reachable:
            lines.append(ProxyLine(now.url, False, now.error))
            continue
        has_interval = before is not None and before.reachable and now.at > before.at
        reset = has_interval and before is not None and restarted(before, now)
        lines.append(ProxyLine(
            now.url, True, None, now.table_version, now.ready, dict(now.queues), dict(now.build),
            interval=(now.at - before.at) if has_interval and before is not None else None,
            requests_total=sum(now.requests.values()), restarted=reset,
        ))
        for operation in _operations(now):
            sums = totals.setdefault(operation, _Sums())
            mode = now.modes.get(operation) or ("legacy" if now.reports_modes else None)
            if mode is not None:
                sums.modes[mode] += 1
                sums.proxies += 1
        for (operation, _, outcome), value in now.requests.items():
            sums = totals[operation]
            sums.requests_total += value
            sums.errors_total += value if outcome in ERROR_OUTCOMES else 0.0
        for (operation, _), value in now.fallbacks.items():
            totals[operation].fallbacks_total += value
        for (operation, result), value in now.shadow.items():
            if result in ("same", "different", "failed"):
                totals[operation].shadow_compared += value
                totals[operation].shadow_same += value if result == "same" else 0.0
        if not has_interval or before is None:
            continue
        elapsed = now.at - before.at
        for (operation, _, outcome), value in increase(before.requests, now.requests, reset).items():
            sums = totals[operation]
            sums.requests += value
            sums.rate += value / elapsed
            sums.errors += value if outcome in ERROR_OUTCOMES else 0.0
        for (operation, _), value in increase(before.fallbacks, now.fallbacks, reset).items():
            totals[operation].fallbacks += value
        for key, buckets in now.durations.items():
            totals[key[0]].buckets.append(bucket_increase(before.durations.get(key), buckets, reset))
    rows = []
    any_interval = any(line.interval is not None for line in lines)
    for operation in sorted(totals):
        sums = totals[operation]
        merged = merge_buckets(sums.buckets)
        rows.append(OperationRow(
            operation, dict(sums.modes), sums.proxies,
            rate=sums.rate if any_interval else None, requests=sums.requests if any_interval else None,
            p50=bucket_quantile(0.5, merged), p99=bucket_quantile(0.99, merged),
            errors=sums.errors if any_interval else None, fallbacks=sums.fallbacks if any_interval else None,
            requests_total=sums.requests_total, errors_total=sums.errors_total,
            fallbacks_total=sums.fallbacks_total, shadow_same=sums.shadow_same,
            shadow_compared=sums.shadow_compared,
        ))
    return TopView(tuple(lines), tuple(rows))


@dataclass
class _Sums:
    modes: Counter[str] = field(default_factory=Counter)
    proxies: int = 0
    rate: float = 0.0
    requests: float = 0.0
    errors: float = 0.0
    fallbacks: float = 0.0
    buckets: list[dict[float, float]] = field(default_factory=list)
    requests_total: float = 0.0
    errors_total: float = 0.0
    fallbacks_total: float = 0.0
    shadow_same: float = 0.0
    shadow_compared: float = 0.0


def _operations(scrape: Scrape) -> set[str]:
    """Every operation a scrape names (an empty label, from a request not named, is kept)."""
    return ({k[0] for k in scrape.requests} | {k[0] for k in scrape.durations}
            | {k[0] for k in scrape.fallbacks} | {k[0] for k in scrape.shadow} | set(scrape.modes))
