"""Graceful stop of the mitmproxy host: on SIGTERM, drain, stop listening, let requests in
flight finish, then shut down.

Orchestrators (systemd, Kubernetes) send SIGTERM before SIGKILL; an officer's request that is
half-way through the proxy at that moment should still get its answer, and its recording should
still be written. Behind a load balancer, the instance first says it is going: `/readyz` fails
(`ProxyState.draining`) and it keeps serving for `shutdown.drain_delay` seconds, each answer
closing its connection (`CloseWhileDraining`), so the balancer stops sending before the port
closes. Then, as the fast host's `_fast_host._drain` does: stop listening (wait until the
listener is really closed, and serve what the kernel had queued at it: `_listeners`), close the
connections idle after an answer, serve every connection already accepted and every request in
flight, and only then shut down, which runs the done hooks (they drain the shadow queue and the
recording writer).

Why each wait matters: mitmproxy closes its listener in a task of its own after
`options.update(server=False)`, and a connection the listener accepted reaches the
`client_connected` hook a few loop turns later. A balancer that keeps no upstream connections
(nginx's default) opens one per request and sends the request at once; a connection accepted in
that window, if not waited for, was cut by the loop's teardown after its request was read, and a
POST cut that way is never retried (nginx: "upstream prematurely closed connection").
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from mitmproxy import connection, http
from mitmproxy.master import Master

from ..gateway import ProxyState
from ._client_io import client_io
from ._listeners import stop_listening

log = logging.getLogger("turnout.proxy")


#: seconds a connection accepted before the listener closed has to send its first request
FRESH_GRACE = 2.0
#: seconds a connection answered while draining (told `Connection: close`) is given to close itself
CLOSE_GRACE = 1.0
#: loop turns for connections accepted just before the listener closed to reach
#: `client_connected`: from `accept()` it takes four or five (the accept task, the transport's
#: `connection_made`, mitmproxy's `handle_stream` task); counted in turns, not seconds, because a
#: process starved of CPU for longer than any wait in seconds still runs its turns in order
ACCEPT_SETTLE_TURNS = 20
_POLL = 0.05


@dataclass
class _Client:
    busy: int = 0  # flows between request headers and response or error
    answered: int = 0
    answered_at: float = 0.0  # loop time of the last answer


class InFlight:
    """Each live client connection, from `client_connected` to `client_disconnected`: its flows
    in flight and its answers. `flows` counts the flows in flight over all connections."""

    def __init__(self) -> None:
        self.flows: set[str] = set()
        self.clients: dict[str, _Client] = {}

    def client_connected(self, client: connection.Client) -> None:
        self.clients[client.id] = _Client()

    def client_disconnected(self, client: connection.Client) -> None:
        self.clients.pop(client.id, None)

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        self.flows.add(flow.id)
        self.clients.setdefault(flow.client_conn.id, _Client()).busy += 1

    def response(self, flow: http.HTTPFlow) -> None:
        self._ended(flow)

    def error(self, flow: http.HTTPFlow) -> None:
        self._ended(flow)

    def _ended(self, flow: http.HTTPFlow) -> None:
        if flow.id not in self.flows:
            return
        self.flows.discard(flow.id)
        client = self.clients.get(flow.client_conn.id)
        if client is not None:
            client.busy = max(0, client.busy - 1)
            client.answered += 1
            client.answered_at = asyncio.get_running_loop().time()

    def fresh(self) -> list[str]:
        """Connections whose first request has not arrived yet."""
        return [cid for cid, c in self.clients.items() if c.busy == 0 and c.answered == 0]

    def idle_since(self, before: float) -> list[str]:
        """Connections idle after an answer given before loop time `before`."""
        return [cid for cid, c in self.clients.items()
                if c.busy == 0 and c.answered > 0 and c.answered_at < before]

    def closing(self, since: float) -> list[str]:
        """Connections answered at or after loop time `since` and not closed yet."""
        return [cid for cid, c in self.clients.items()
                if c.busy == 0 and c.answered > 0 and c.answered_at >= since]


class CloseWhileDraining:
    """While draining, every answer says `Connection: close`, so mitmproxy closes the client's
    connection after it and the client's next request opens one (to another instance, once the
    balancer has taken this one out). Added after Turnout's addons: they see the answer as is."""

    def __init__(self, state: ProxyState) -> None:
        self.state = state

    def response(self, flow: http.HTTPFlow) -> None:
        if self.state.draining and flow.response is not None:
            flow.response.headers["connection"] = "close"


def _close(client_ids: list[str], why: str) -> None:
    for client_id in client_ids:
        io = client_io(client_id)
        if io is not None:
            io.handler.cancel(why)


async def drain_and_stop(master: Master, in_flight: InFlight, timeout: float,
                         state: ProxyState | None = None, delay: float = 0.0) -> None:
    """Fail /readyz and keep serving for `delay` s, then stop accepting connections, close the
    ones idle after an answer, wait (bounded by `timeout`) for in-flight flows and for the first
    request of connections already accepted, then shut down."""
    loop = asyncio.get_running_loop()
    draining_since = loop.time()
    if state is not None:
        state.draining = True
    if delay > 0:
        log.warning("draining: /readyz fails; still serving for %g s before no longer listening", delay)
        await asyncio.sleep(delay)
    log.warning("stopping: no new connections; %d requests in flight", len(in_flight.flows))
    deadline = loop.time() + timeout
    await stop_listening(master)
    stopped_at = loop.time()
    for _ in range(ACCEPT_SETTLE_TURNS):
        await asyncio.sleep(0)  # one loop turn each
    # kept alive from before the drain: nobody is waiting on them (answers since said close)
    _close(in_flight.idle_since(draining_since), "the proxy is stopping")
    # a connection accepted before the listener closed is served too: its client has sent, or
    # is sending, a request it cannot know to send elsewhere (waited for at most FRESH_GRACE s)
    while loop.time() < deadline:
        now = loop.time()
        if not (in_flight.flows or (in_flight.fresh() and now < stopped_at + FRESH_GRACE)
                or in_flight.closing(now - CLOSE_GRACE)):
            break
        await asyncio.sleep(_POLL)
    if in_flight.flows:
        log.error("stopping with %d requests still in flight after %g s", len(in_flight.flows), timeout)
    _close(list(in_flight.clients), "the proxy is stopping")
    master.shutdown()
