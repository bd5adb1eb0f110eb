"""Graceful stop: on SIGTERM, stop listening, let requests in flight finish, then shut down.

Orchestrators (systemd, Kubernetes) send SIGTERM before SIGKILL; an officer's request that is
half-way through the proxy at that moment should still get its answer, and its recording should
still be written. Shutting down then runs the done hooks, which drain the shadow queue and the
recording writer.
"""

from __future__ import annotations

import asyncio
import logging

from mitmproxy import http
from mitmproxy.master import Master

log = logging.getLogger("turnout.proxy")


class InFlight:
    """Counts flows between their request headers and their response or error."""

    def __init__(self) -> None:
        self.flows: set[str] = set()

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        self.flows.add(flow.id)

    def response(self, flow: http.HTTPFlow) -> None:
        self.flows.discard(flow.id)

    def error(self, flow: http.HTTPFlow) -> None:
        self.flows.discard(flow.id)


async def drain_and_stop(master: Master, in_flight: InFlight, timeout: float) -> None:
    """Stop accepting connections, wait (bounded) for in-flight flows, then shut down."""
    log.warning("stopping: no new connections; %d requests in flight", len(in_flight.flows))
    master.options.update(server=False)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while in_flight.flows and loop.time() < deadline:
        await asyncio.sleep(0.05)
    if in_flight.flows:
        log.error("stopping with %d requests still in flight after %g s", len(in_flight.flows), timeout)
    master.shutdown()
