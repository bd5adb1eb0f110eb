"""One scrape of one proxy's `/metrics`, read into the few numbers `turnout top` shows.

The admin port serves the Prometheus text format (turnout/proxy/_admin.py); it is parsed with
prometheus-client's own parser, and only the series `turnout top` needs are kept, keyed by
their labels. A scrape that fails (nothing listening, a timeout, an HTTP error, a body that does
not parse) is a `Scrape` too, with `error` set: a proxy that stops answering stays in the view.
"""

from __future__ import annotations

import math
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics_families
from prometheus_client.parser import text_string_to_metric_families

#: a /metrics body bigger than this is refused rather than read (a proxy answers a few hundred KB)
MAX_BODY = 16 * 1024 * 1024

#: (operation, mode, outcome)
RequestKey = tuple[str, str, str]
#: (operation, mode)
SeriesKey = tuple[str, str]
#: cumulative bucket counts: upper bound (`le`, +inf included) -> observations at or below it
Buckets = Mapping[float, float]


@dataclass(frozen=True)
class Scrape:
    """What one proxy's `/metrics` said at one moment (`at`, from `time.monotonic()`)."""

    url: str
    at: float
    #: why nothing could be read (None: the proxy answered and its body parsed)
    error: str | None = None
    #: turnout_requests_total by (operation, mode, outcome)
    requests: Mapping[RequestKey, float] = field(default_factory=dict)
    #: turnout_request_duration_seconds buckets by (operation, mode)
    durations: Mapping[SeriesKey, Buckets] = field(default_factory=dict)
    #: turnout_fallbacks_total by (operation, reason)
    fallbacks: Mapping[SeriesKey, float] = field(default_factory=dict)
    #: turnout_shadow_comparisons_total by (operation, result: same|different|failed)
    shadow: Mapping[SeriesKey, float] = field(default_factory=dict)
    #: the mode in force per operation (turnout_route_mode == 1)
    modes: Mapping[str, str] = field(default_factory=dict)
    #: whether the proxy reports route modes at all (then an operation it does not list is `legacy`)
    reports_modes: bool = False
    table_version: float | None = None
    ready: bool | None = None
    #: turnout_queue_items by queue
    queues: Mapping[str, float] = field(default_factory=dict)
    #: turnout_build_info's labels (version, engine, instance)
    build: Mapping[str, str] = field(default_factory=dict)

    @property
    def reachable(self) -> bool:
        return self.error is None


def metrics_url(admin_url: str) -> str:
    """`http://127.0.0.1:9901` (or `127.0.0.1:9901`) -> `http://127.0.0.1:9901/metrics`."""
    base = admin_url if "://" in admin_url else f"http://{admin_url}"
    return f"{base.rstrip('/')}/metrics"


def scrape(admin_url: str, timeout: float = 2.0) -> Scrape:
    """GET the proxy's `/metrics` and read it; never raises for what the proxy does."""
    request = urllib.request.Request(metrics_url(admin_url), headers={"Accept": "text/plain"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            body = reply.read(MAX_BODY + 1)
            kind = reply.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        return Scrape(admin_url, time.monotonic(), error=f"HTTP {exc.code} {exc.reason}")
    except urllib.error.URLError as exc:
        return Scrape(admin_url, time.monotonic(), error=str(exc.reason))
    except (OSError, ValueError) as exc:  # a timeout while reading, a reset, a bad URL
        return Scrape(admin_url, time.monotonic(), error=str(exc) or type(exc).__name__)
    at = time.monotonic()
    if len(body) > MAX_BODY:
        return Scrape(admin_url, at, error=f"/metrics body over {MAX_BODY} bytes")
    openmetrics = kind.startswith("application/openmetrics-text")
    return read_exposition(body.decode("utf-8", errors="replace"), admin_url, at, openmetrics=openmetrics)


def scrape_all(admin_urls: Sequence[str], timeout: float = 2.0) -> list[Scrape]:
    """Every proxy at once, so one that hangs costs the view one timeout, not one each."""
    if not admin_urls:
        return []
    with ThreadPoolExecutor(max_workers=min(len(admin_urls), 16)) as pool:
        return list(pool.map(lambda url: scrape(url, timeout), admin_urls))


def read_exposition(text: str, url: str, at: float, *, openmetrics: bool = False) -> Scrape:
    """A `/metrics` body (Prometheus text format; OpenMetrics when the proxy answered in it)
    read into a `Scrape`; a body that does not parse gives a Scrape with `error` set, never an
    exception."""
    parse = openmetrics_families if openmetrics else text_string_to_metric_families
    requests: dict[RequestKey, float] = {}
    durations: dict[SeriesKey, dict[float, float]] = {}
    fallbacks: dict[SeriesKey, float] = {}
    shadow: dict[SeriesKey, float] = {}
    modes: dict[str, str] = {}
    reports_modes = False
    table_version: float | None = None
    ready: bool | None = None
    queues: dict[str, float] = {}
    build: dict[str, str] = {}
    try:
        for family in parse(text):
            # the family is written, samples or not, by a proxy that reports modes; with an
            # empty route table it has no sample, and every operation is legacy
            reports_modes = reports_modes or family.name == "turnout_route_mode"
            for sample in family.samples:
                name, labels, value = sample.name, sample.labels, float(sample.value)
                operation = labels.get("operation", "")
                if name == "turnout_requests_total":
                    key = (operation, labels.get("mode", ""), labels.get("outcome", ""))
                    requests[key] = requests.get(key, 0.0) + value
                elif name == "turnout_request_duration_seconds_bucket":
                    series = durations.setdefault((operation, labels.get("mode", "")), {})
                    series[float(labels.get("le", "+Inf"))] = value
                elif name == "turnout_fallbacks_total":
                    key2 = (operation, labels.get("reason", ""))
                    fallbacks[key2] = fallbacks.get(key2, 0.0) + value
                elif name == "turnout_shadow_comparisons_total":
                    key2 = (operation, labels.get("result", ""))
                    shadow[key2] = shadow.get(key2, 0.0) + value
                elif name == "turnout_route_mode":
                    reports_modes = True
                    if value == 1:
                        modes[operation] = labels.get("mode", "?")
                elif name == "turnout_route_table_version":
                    table_version = value
                elif name == "turnout_ready":
                    ready = value == 1
                elif name == "turnout_queue_items":
                    queue = labels.get("queue", "")
                    queues[queue] = queues.get(queue, 0.0) + value
                elif name == "turnout_build_info":
                    build = dict(labels)
    except Exception as exc:  # broad: the parser raises what it likes, and the view must not fall over
        return Scrape(url, at, error=f"/metrics did not parse: {exc}")
    for series in durations.values():
        if math.inf not in series:  # a histogram always ends with +Inf; keep the sum honest if not
            series[math.inf] = max(series.values(), default=0.0)
    return Scrape(url, at, None, requests, durations, fallbacks, shadow, modes, reports_modes,
                  table_version, ready, queues, build)
