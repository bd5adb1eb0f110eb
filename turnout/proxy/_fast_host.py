"""The fast host: the gateway served on a plain asyncio server (uvloop), for production traffic.

mitmproxy is a fine host for watching and intercepting traffic, but it costs several times
what the job needs per request (docs/performance.md). This host reads each request itself
(`_fast_request`, `_fast_connection`), hands it to the same `turnout.gateway` and writes back
what it is given; no mitmproxy is imported. Start-up and stop follow the mitmproxy launcher's:

- `prepare` (routes, translators, identity, recording, audit) before anything listens, so a bad
  file stops the start; the TLS context is built then too;
- listen on `listen.host`/`listen.port` (0: a free port, reported through `on_ready`);
- SIGTERM or SIGINT (with `handle_signals`): drain, then stop (see `_drain`); a second signal
  skips the waits. SIGHUP re-reads the route file and never stops the proxy.

The drain, for a load balancer in front (docs/operations-instances.md): `ProxyState.draining`
is set, so `/readyz` fails, and the host keeps serving for `shutdown.drain_delay` seconds (the
balancer's probe interval x failure threshold), each answer now closing its connection; then it
stops listening, closes connections idle after an answer, serves what was accepted or is in
flight (bounded by `timeouts.upstream` + 5 s), and stops the gateway (queued shadows and
recordings are written).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import urlsplit

from ..config import ProxyConfig
from ..gateway import Gateway, ProxyState, prepare
from ._accept_queue import accept_queued
from ._client_limits import ClientLimits
from ._fast_connection import ClientConnection
from ._host import close_host, open_host
from ._loop_errors import quiet_loop_errors
from ._signals import reload_on_hup

log = logging.getLogger("turnout.proxy")

#: seconds a connection accepted before the host stopped listening has to send its first request
FRESH_GRACE = 2.0


def upstream_host_header(upstream: str) -> str:
    """The Host the bus is reached by (the default port left out), as mitmproxy's reverse mode
    sets it when `keep_host_header` is off."""
    parts = urlsplit(upstream)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    default = 443 if parts.scheme == "https" else 80
    return host if port == default else f"{host}:{port}"


class FastHost:
    """What every connection of one running fast host shares."""

    def __init__(self, gateway: Gateway) -> None:
        config = gateway.config
        self.gateway = gateway
        self.limits = ClientLimits(gateway.state.stats, config.max_connections_per_client)
        self.max_bytes = config.limits.max_bytes
        self.body_timeout = config.client_body_timeout
        self.header_timeout = config.client_header_timeout
        self.host_header = None if config.keep_host_header else upstream_host_header(config.upstream)
        self.connections: set[ClientConnection] = set()
        #: requests whose head is in and whose answer is not yet written
        self.in_flight = 0
        #: a graceful stop has begun: answers close their connections (still listening)
        self.draining = False
        #: no longer listening: only what was accepted is served
        self.stopping = False
        #: the listener's TLS context (None: plain HTTP), for connections taken from its queue
        self.tls_context: Any = None
        self.trailers_dropped = 0
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def request_started(self) -> None:
        self.in_flight += 1

    def request_done(self) -> None:
        self.in_flight = max(0, self.in_flight - 1)

    async def drained(self, timeout: float) -> bool:
        """Wait until no request is in flight and no fresh connection's first request is still
        to come (at most `timeout` s; a fresh one at most `FRESH_GRACE` s from its accept);
        True when nothing is left."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (self.in_flight > 0 or self._awaited_fresh(loop.time())) and loop.time() < deadline:
            await asyncio.sleep(0.05)
        return self.in_flight == 0

    def _awaited_fresh(self, now: float) -> bool:
        return any(c.idle and c.answered == 0 and not c.closed and now - c.connected_at < FRESH_GRACE
                   for c in self.connections)

    def close_idle(self) -> None:
        """Close the connections idle after an answer; fresh ones keep their first request."""
        for connection in list(self.connections):
            if connection.kept_alive:
                connection.close()

    def close_all(self) -> None:
        for connection in list(self.connections):
            connection.close()


async def serve_fast(
    config: ProxyConfig,
    state: ProxyState | None = None,
    on_ready: Callable[[str, int], None] | None = None,
    on_stop: Callable[[Callable[[], None]], None] | None = None,
    handle_signals: bool = False,
) -> ProxyState:
    """Run the fast host until stopped; return the state (counters).

    `on_stop` is given a function that stops the host from any thread (as a signal would, once)."""
    state = state or ProxyState(config)
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(quiet_loop_errors)
    gateway = prepare(state, config)  # ConfigError before anything listens
    tls_context = None
    if config.listen_tls is not None:
        from ._fast_tls import server_context

        tls_context = server_context(config.listen_tls)  # an unreadable key stops the start
    admin = await open_host(gateway)
    host = FastHost(gateway)
    host.tls_context = tls_context
    server: asyncio.AbstractServer | None = None
    stopped = asyncio.Event()
    stopping: list[asyncio.Task[None]] = []

    def stop_now() -> None:
        stopped.set()

    def on_signal() -> None:
        if stopping:  # a second signal: stop at once
            stop_now()
            return
        stopping.append(loop.create_task(
            _drain(host, server, config.drain_delay, config.upstream_timeout + 5, stop_now)))

    try:
        server = await loop.create_server(_factory(host, tls_context), config.listen_host or None,
                                          config.listen_port, reuse_address=True, backlog=1024)
        if handle_signals:
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, on_signal)
            loop.add_signal_handler(signal.SIGHUP, lambda: reload_on_hup(state))
        if on_stop is not None:
            on_stop(lambda: _soon(loop, stop_now))
        if on_ready is not None:
            bound = server.sockets[0].getsockname()
            on_ready(str(bound[0]), int(bound[1]))
        await stopped.wait()
    finally:
        host.stopping = True
        if server is not None:
            server.close()
        host.close_all()
        if handle_signals:
            for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                loop.remove_signal_handler(signum)
        await close_host(gateway, admin)
    return state


async def _close_listening(host: FastHost, server: asyncio.AbstractServer) -> None:
    """Stop listening without resetting the connections queued at the listener: hold a copy of
    each listening socket, close the server, take what is queued and serve it (_accept_queue)."""
    held = [socket.fromfd(listening.fileno(), listening.family, listening.type)
            for listening in getattr(server, "sockets", None) or () if listening.type == socket.SOCK_STREAM]
    server.close()
    await asyncio.sleep(0)  # the loop lets go of the listening handle
    loop = asyncio.get_running_loop()
    factory = _factory(host, host.tls_context)
    taken = 0
    for listener in held:
        for conn in accept_queued(listener):
            taken += 1
            host.spawn(_serve_accepted(loop, factory, conn))
    if taken:
        log.info("took %d connections queued at the listener when it closed; serving them", taken)


async def _serve_accepted(loop: asyncio.AbstractEventLoop, factory: Callable[[], asyncio.Protocol],
                          conn: socket.socket) -> None:
    try:
        await loop.connect_accepted_socket(factory, conn)
    except OSError:
        conn.close()


def _soon(loop: asyncio.AbstractEventLoop, work: Callable[[], None]) -> None:
    loop.call_soon_threadsafe(work)


def _factory(host: FastHost, tls_context: Any) -> Callable[[], asyncio.Protocol]:
    if tls_context is None:
        return lambda: ClientConnection(host)
    from ._fast_tls import TlsTerminator

    stats = host.gateway.state.stats
    return lambda: TlsTerminator(tls_context, ClientConnection(host), stats)


async def _drain(host: FastHost, server: asyncio.AbstractServer | None, delay: float,
                 timeout: float, done: Callable[[], None]) -> None:
    """Fail /readyz and keep serving for `delay` s (answers close their connections), then stop
    accepting, close connections idle after an answer, wait (bounded by `timeout`) for requests
    in flight and for the first request of connections already accepted, then stop."""
    host.gateway.state.draining = True
    host.draining = True
    if delay > 0:
        log.warning("draining: /readyz fails; still serving for %g s before no longer listening", delay)
        await asyncio.sleep(delay)
    log.warning("stopping: no new connections; %d requests in flight", host.in_flight)
    host.stopping = True
    if server is not None:
        await _close_listening(host, server)
    host.close_idle()
    if not await host.drained(timeout):
        log.error("stopping with %d requests still in flight after %g s", host.in_flight, timeout)
    done()
