"""A quantile from histogram buckets, computed as Prometheus's `histogram_quantile` does.

The observations are taken to be spread evenly inside the bucket the quantile falls in (linear
interpolation between its lower and upper bound); the first bucket starts at 0 when its upper
bound is positive; a quantile in the +Inf bucket is the highest finite upper bound, since
nothing better is known.
"""

from __future__ import annotations

import math
from collections.abc import Mapping


def bucket_quantile(q: float, buckets: Mapping[float, float]) -> float | None:
    """The `q` quantile (0..1) of cumulative `buckets` ({upper bound: count at or below it},
    +Inf included), or None when they hold no observation."""
    if not buckets:
        return None
    bounds = sorted(buckets)
    if bounds[-1] != math.inf:
        return None  # not a whole histogram: Prometheus answers NaN
    counts = [buckets[b] for b in bounds]
    for i in range(1, len(counts)):  # counts that dip (a scrape mid-update) are made monotonic
        counts[i] = max(counts[i], counts[i - 1])
    total = counts[-1]
    if total <= 0 or math.isnan(total):
        return None
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    if len(bounds) < 2:
        return None  # only +Inf: nothing to interpolate between
    rank = q * total
    b = next((i for i in range(len(bounds) - 1) if counts[i] >= rank), len(bounds) - 1)
    if b == len(bounds) - 1:
        return bounds[-2]
    if b == 0 and bounds[0] <= 0:
        return bounds[0]
    start = 0.0 if b == 0 else bounds[b - 1]
    below = 0.0 if b == 0 else counts[b - 1]
    inside = counts[b] - below
    if inside <= 0:
        return bounds[b]
    return start + (bounds[b] - start) * (rank - below) / inside
