"""`--latency recorded|none|Nms`: how long a mock waits before it answers."""

from __future__ import annotations

import re
from dataclasses import dataclass

_FIXED = re.compile(r"(\d+(?:\.\d+)?)ms")


@dataclass(frozen=True)
class Latency:
    """`recorded` waits as long as the recorded backend took for that exchange (the bus's own
    time, `timings.upstream`; the service's for a JSON call, `translation.service_ms` when
    recorded, else nothing); `none` answers at once; a fixed `ms` waits that long for every
    answer."""

    mode: str  # recorded | none | fixed
    ms: float = 0.0

    def seconds(self, recorded_ms: float | None) -> float:
        if self.mode == "recorded":
            return max(recorded_ms or 0.0, 0.0) / 1000.0
        if self.mode == "fixed":
            return self.ms / 1000.0
        return 0.0


def parse_latency(text: str) -> Latency:
    """`recorded`, `none` or `250ms`; raises ValueError otherwise."""
    value = text.strip().lower()
    if value in ("recorded", "none"):
        return Latency(value)
    match = _FIXED.fullmatch(value)
    if match is None:
        raise ValueError(f"latency {text!r}: expected recorded, none, or a time such as 250ms")
    return Latency("fixed", float(match.group(1)))
