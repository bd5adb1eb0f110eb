"""What `/metrics` shows: a prometheus-client `Collector` that builds every family at scrape
time from `GatewayMetrics` (per-request counts and latencies) and from the running gateway's
parts (queues, the route table in force, counters the parts already keep).

Each admin endpoint has its own `CollectorRegistry` (`registry_for`), never the global one:
several proxies may run in one process (the tests do). docs/operations.md lists every metric.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable, Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from prometheus_client.samples import Exemplar
from prometheus_client.utils import floatToGoString

from .. import __version__
from ..config import instance_of
from ._metrics import BUCKETS, Histogram
from ._state import ProxyState

_LE = [*(floatToGoString(bound) for bound in BUCKETS), "+Inf"]


class TurnoutCollector(Collector):
    """Every `turnout_*` family; `ready()` says whether /readyz would answer 200 now."""

    def __init__(self, state: ProxyState, engine: str, ready: Callable[[], bool]) -> None:
        self.state = state
        self.engine = engine
        self.ready = ready

    def collect(self) -> Iterator[Metric]:
        state = self.state
        yield from self._per_request()
        stats = state.stats.snapshot()
        yield _counter("turnout_recording_failures_total",
                       "Exchanges the recording writer could not write (disk, directory, writer process).",
                       stats.get("recording.failed", 0))
        yield _counter("turnout_recording_dropped_total",
                       "Exchanges not recorded because the writer's queue was full (in items or bytes).",
                       stats.get("recording.dropped", 0))
        yield _counter("turnout_route_reloads_total",
                       "Route table + translators pairs put in force by a live reload.",
                       stats.get("routes.reloaded", 0))
        yield _counter("turnout_route_reloads_refused_total",
                       "Route or translator changes refused (the last good pair kept serving).",
                       stats.get("routes.refused", 0))
        yield from self._queues()
        yield from self._routes()
        ready = GaugeMetricFamily("turnout_ready", "1 when /readyz answers 200, else 0.")
        ready.add_metric([], 1.0 if self.ready() else 0.0)
        yield ready
        config = state.config
        port = config.listen_port if config is not None else 0
        # the instance's name (`instance:`, TURNOUT_INSTANCE), else this machine and port
        instance = instance_of(config) or f"{socket.gethostname()}:{port}"
        info = GaugeMetricFamily("turnout_build_info", "1, labelled with the version and host serving.",
                                 labels=["version", "engine", "instance"])
        info.add_metric([__version__, self.engine, instance], 1.0)
        yield info

    def _per_request(self) -> Iterator[Metric]:
        metrics = self.state.metrics
        if metrics is None:
            return
        snap = metrics.snapshot()
        requests = CounterMetricFamily("turnout_requests", "Requests finished, by operation, route mode and outcome.",
                                       labels=["operation", "mode", "outcome"])
        for request_labels, n in sorted(snap.requests.items()):
            requests.add_metric(list(request_labels), n)
        yield requests
        yield _histograms("turnout_request_duration_seconds",
                          "Whole request, from reading it to the client having its answer.",
                          ["operation", "mode"], snap.duration.items())
        yield _histograms("turnout_bus_duration_seconds", "The legacy bus's answer, as the proxy waited for it.",
                          ["operation"], (((k,), h) for k, h in snap.bus.items()))
        yield _histograms("turnout_service_duration_seconds",
                          "A translator's call to its modern service, as the proxy waited for it.",
                          ["operation"], (((k,), h) for k, h in snap.service.items()))
        yield _histograms("turnout_own_duration_seconds",
                          "Turnout's own share: the whole request less bus and service time.",
                          ["operation", "mode"], snap.own.items())
        comparisons = CounterMetricFamily("turnout_shadow_comparisons",
                                          "Shadow runs by result: same, different, failed (no translation "
                                          "or no diff), skipped (over shadow.max_diff_bytes).",
                                          labels=["operation", "result"])
        for labels, n in sorted(snap.comparisons.items()):
            comparisons.add_metric(list(labels), n)
        yield comparisons
        differences = CounterMetricFamily("turnout_shadow_differences",
                                          "Differences found by shadow diffs, by kind (each difference counts).",
                                          labels=["operation", "kind"])
        for labels, n in sorted(snap.differences.items()):
            differences.add_metric(list(labels), n)
        yield differences
        fallbacks = CounterMetricFamily("turnout_fallbacks", "Translator failures answered by the bus instead.",
                                        labels=["operation", "reason"])
        for labels, n in sorted(snap.fallbacks.items()):
            fallbacks.add_metric(list(labels), n)
        yield fallbacks
        yield _counter("turnout_shadow_dropped_total",
                       "Shadowed requests answered by legacy only: the shadow queue was full.",
                       snap.shadow_dropped)

    def _queues(self) -> Iterator[Metric]:
        state = self.state
        depths: dict[str, tuple[int, int | None]] = {}
        if state.writer is not None:
            depths["recording"] = (state.writer.pending, state.writer.pending_bytes)
        if state.shadow is not None:
            depths["shadow"] = (state.shadow.pending, state.shadow.pending_bytes)
        if state.metrics is not None:
            for name, depth in state.metrics.queues.items():
                depths[name] = depth()
        items = GaugeMetricFamily("turnout_queue_items", "Items queued off the client's path, not yet done.",
                                  labels=["queue"])
        size = GaugeMetricFamily("turnout_queue_bytes", "Body bytes held by those items (where the queue counts them).",
                                 labels=["queue"])
        for name, (n, held) in sorted(depths.items()):
            items.add_metric([name], n)
            if held is not None:
                size.add_metric([name], held)
        yield items
        yield size

    def _routes(self) -> Iterator[Metric]:
        served = self.state.routes.served()
        version = GaugeMetricFamily("turnout_route_table_version",
                                    "Counts the route table + translators pairs put in force: 1 at start.")
        version.add_metric([], served.version)
        yield version
        modes = GaugeMetricFamily("turnout_route_mode", "1 for the mode in force for each operation the table names.",
                                  labels=["operation", "mode"])
        info = GaugeMetricFamily("turnout_translator_info",
                                 "1 for each routed operation's translator in force, with its version.",
                                 labels=["operation", "translator", "version"])
        versions = served.translator_versions
        for route in served.table:
            modes.add_metric([route.key, str(route.mode)], 1.0)
            name = route.translator_name
            if name in versions:
                info.add_metric([route.key, name, versions[name] or ""], 1.0)
        yield modes
        yield info


def registry_for(state: ProxyState, engine: str, ready: Callable[[], bool]) -> CollectorRegistry:
    """A registry of its own holding only this gateway's collector."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(TurnoutCollector(state, engine, ready))
    return registry


def _counter(name: str, documentation: str, value: float) -> CounterMetricFamily:
    family = CounterMetricFamily(name.removesuffix("_total"), documentation)
    family.add_metric([], value)
    return family


def _histograms(name: str, documentation: str, labels: list[str],
                series: Iterable[tuple[tuple[str, ...], Histogram]]) -> HistogramMetricFamily:
    family = HistogramMetricFamily(name, documentation, labels=labels)
    for values, histogram in sorted(series, key=lambda item: item[0]):
        buckets: list[tuple[str, float] | tuple[str, float, Exemplar]] = []
        running = 0
        exemplars = histogram.exemplars
        for i, count in enumerate(histogram.counts):
            running += count
            seen = exemplars[i] if exemplars is not None else None
            if seen is None:
                buckets.append((_LE[i], running))
                continue
            ids = {"request_id": seen.request_id}
            if seen.trace_id:
                ids["trace_id"] = seen.trace_id
            buckets.append((_LE[i], running, Exemplar(ids, seen.value, seen.at)))
        family.add_metric(list(values), buckets, histogram.total)
    return family
