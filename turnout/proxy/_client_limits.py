"""Bounds on client connections that both hosts keep: per client address, and in all.

One client can otherwise open thousands of idle connections, and past the process's descriptor
limit every new accept fails while officers' terminals cannot connect. So one client address may
hold at most `limits.max_connections_per_client` connections (further ones are closed at once,
counted as `connections.refused`, logged at 1, 10, 100...), and all clients together at most 90%
of the descriptor limit, which is raised to its hard ceiling at start, so the proxy's own sockets
(the bus, the services, recordings) always fit. The mitmproxy host applies them in
`_connections.ConnectionGuard`; the fast host through `ClientLimits`.
"""

from __future__ import annotations

import logging
import resource
from collections import Counter

from ..gateway import ProxyStats, is_power_of_ten

log = logging.getLogger("turnout.proxy")


def raise_descriptor_limit() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard limit; return the limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return soft


def total_bound() -> int:
    """How many client connections all clients together may hold (90% of the raised limit)."""
    return max(64, int(raise_descriptor_limit() * 0.9))


class ClientLimits:
    """Counts open connections per client address; `admit` says whether one more may open."""

    def __init__(self, stats: ProxyStats, per_client: int) -> None:
        self.stats = stats
        self.per_client = per_client
        self.max_total = total_bound()
        self.open = 0
        self._by_address: Counter[str] = Counter()
        self._refused = 0

    def admit(self, address: str) -> bool:
        if self._by_address[address] >= self.per_client or self.open >= self.max_total:
            self._refused += 1
            self.stats.count("connections.refused")
            if is_power_of_ten(self._refused):
                log.warning("refused %d connections so far over the limits (latest from %s: %d open "
                            "from it, %d in all)", self._refused, address, self._by_address[address], self.open)
            return False
        self._by_address[address] += 1
        self.open += 1
        return True

    def release(self, address: str) -> None:
        self.open -= 1
        left = self._by_address[address] - 1
        if left > 0:
            self._by_address[address] = left
        else:
            del self._by_address[address]
