"""Watching running proxies: their `/metrics` scraped and turned into what `turnout top` shows.

Plain numbers, no printing: `scrape`/`scrape_all` read each proxy's admin `/metrics`,
`top_view` turns two scrapes of each into rates, latency quantiles, error, fallback and shadow
counts per operation, summed over every proxy. The CLI renders them (turnout/cli/_top.py).
"""

from ._quantile import bucket_quantile
from ._scrape import Scrape, metrics_url, read_exposition, scrape, scrape_all
from ._top import (
    ERROR_OUTCOMES,
    OperationRow,
    ProxyLine,
    TopView,
    bucket_increase,
    increase,
    merge_buckets,
    top_view,
)

__all__ = [
    "ERROR_OUTCOMES",
    "OperationRow",
    "ProxyLine",
    "Scrape",
    "TopView",
    "bucket_increase",
    "bucket_quantile",
    "increase",
    "merge_buckets",
    "metrics_url",
    "read_exposition",
    "scrape",
    "scrape_all",
    "top_view",
]
