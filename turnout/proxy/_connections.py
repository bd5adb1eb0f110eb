"""ConnectionGuard: bounds on client connections, which mitmproxy 11 leaves open-ended.

mitmproxy holds every connection it accepts until ten minutes of silence: one client can open
thousands of idle connections, and past the process's descriptor limit every new accept fails
(with a traceback each in the log) while officers' terminals cannot connect. So:
- one client address may hold at most `limits.max_connections_per_client` connections; further
  ones are closed at once (counted, and logged at 1, 10, 100... with the count);
- a connection must send a request's headers within `timeouts.client_header` seconds of
  connecting or of its previous answer (a keep-alive connection idle for that long is closed,
  as nginx's `keepalive_timeout` and `client_header_timeout` do);
- the descriptor limit is raised to its hard ceiling at start, and all clients together may hold
  at most 90% of it, so the proxy's own sockets (the bus, the services, recordings) always fit.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter

from mitmproxy import connection, http

from ..gateway import ProxyState, is_power_of_ten
from ._client_io import client_io
from ._client_limits import raise_descriptor_limit

log = logging.getLogger("turnout.proxy")


class ConnectionGuard:
    def __init__(self, state: ProxyState) -> None:
        self.state = state
        self._per_client: Counter[str] = Counter()
        self._open: set[str] = set()
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._refused = 0
        self.max_total = max(64, int(raise_descriptor_limit() * 0.9))

    def client_connected(self, client: connection.Client) -> None:
        config = self.state.config
        if config is None:
            return
        address = client.peername[0] if client.peername else "?"
        if (self._per_client[address] >= config.max_connections_per_client
                or len(self._open) >= self.max_total):
            client.error = "connection limit"
            self._refused += 1
            self.state.stats.count("connections.refused")
            if is_power_of_ten(self._refused):
                log.warning("refused %d connections so far over the limits (latest from %s: %d open "
                            "from it, %d in all)", self._refused, address,
                            self._per_client[address], len(self._open))
            return
        self._per_client[address] += 1
        self._open.add(client.id)
        self._arm(client)

    def client_disconnected(self, client: connection.Client) -> None:
        if client.id not in self._open:
            return
        self._open.discard(client.id)
        self._cancel(client.id)
        address = client.peername[0] if client.peername else "?"
        self._per_client[address] -= 1
        if self._per_client[address] <= 0:
            del self._per_client[address]

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        self._cancel(flow.client_conn.id)

    def response(self, flow: http.HTTPFlow) -> None:
        if flow.client_conn.id in self._open:
            self._arm(flow.client_conn)

    def error(self, flow: http.HTTPFlow) -> None:
        self.response(flow)

    def done(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()

    def _arm(self, client: connection.Client) -> None:
        config = self.state.config
        if config is None or not config.client_header_timeout:
            return
        self._cancel(client.id)
        loop = asyncio.get_running_loop()
        self._timers[client.id] = loop.call_later(config.client_header_timeout, self._expire, client)

    def _cancel(self, client_id: str) -> None:
        timer = self._timers.pop(client_id, None)
        if timer is not None:
            timer.cancel()

    def _expire(self, client: connection.Client) -> None:
        self._timers.pop(client.id, None)
        io = client_io(client.id)
        if io is None:
            return
        self.state.stats.count("connections.idle-closed")
        io.handler.cancel("no request headers in time")
