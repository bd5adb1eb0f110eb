"""Graceful stop of the mitmproxy host: on SIGTERM, drain, stop listening, let requests in
flight finish, then shut down.

Orchestrators (systemd, Kubernetes) send SIGTERM before SIGKILL; an officer's request that is
half-way through the proxy at that moment should still get its answer, and its recording should
still be written. Behind a load balancer, the instance first says it is going: `/readyz` fails
(`ProxyState.draining`) and it keeps serving for `shutdown.drain_delay` seconds, each answer
closing its connection (`CloseWhileDraining`), so the balancer stops sending before the port
closes. Shutting down then runs the done hooks, which drain the shadow queue and the recording
writer. The fast host does the same in `_fast_host._drain`.
"""

from __future__ import annotations

import asyncio
import logging

from mitmproxy import connection, http
from mitmproxy.master import Master

from ..gateway import ProxyState

log = logging.getLogger("turnout.proxy")


#: seconds a connection accepted before the listener closed has to send its first request
FRESH_GRACE = 2.0


class InFlight:
    """Counts flows between their request headers and their response or error, and client
    connections whose first request has not arrived yet (`fresh`)."""

    def __init__(self) -> None:
        self.flows: set[str] = set()
        self.fresh: set[str] = set()

    def client_connected(self, client: connection.Client) -> None:
        self.fresh.add(client.id)

    def client_disconnected(self, client: connection.Client) -> None:
        self.fresh.discard(client.id)

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        self.fresh.discard(flow.client_conn.id)
        self.flows.add(flow.id)

    def response(self, flow: http.HTTPFlow) -> None:
        self.flows.discard(flow.id)

    def error(self, flow: http.HTTPFlow) -> None:
        self.flows.discard(flow.id)


class CloseWhileDraining:
    """While draining, every answer says `Connection: close`, so mitmproxy closes the client's
    connection after it and the client's next request opens one (to another instance, once the
    balancer has taken this one out). Added after Turnout's addons: they see the answer as is."""

    def __init__(self, state: ProxyState) -> None:
        self.state = state

    def response(self, flow: http.HTTPFlow) -> None:
        if self.state.draining and flow.response is not None:
            flow.response.headers["connection"] = "close"


async def drain_and_stop(master: Master, in_flight: InFlight, timeout: float,
                         state: ProxyState | None = None, delay: float = 0.0) -> None:
    """Fail /readyz and keep serving for `delay` s, then stop accepting connections, wait
    (bounded by `timeout`) for in-flight flows, then shut down."""
    if state is not None:
        state.draining = True
    if delay > 0:
        log.warning("draining: /readyz fails; still serving for %g s before no longer listening", delay)
        await asyncio.sleep(delay)
    log.warning("stopping: no new connections; %d requests in flight", len(in_flight.flows))
    master.options.update(server=False)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    # a connection accepted before the listener closed is served too: its client has sent, or
    # is sending, a request it cannot know to send elsewhere (waited for at most FRESH_GRACE s)
    fresh_until = loop.time() + FRESH_GRACE
    while (in_flight.flows or (in_flight.fresh and loop.time() < fresh_until)) and loop.time() < deadline:
        await asyncio.sleep(0.05)
    if in_flight.flows:
        log.error("stopping with %d requests still in flight after %g s", len(in_flight.flows), timeout)
    master.shutdown()
