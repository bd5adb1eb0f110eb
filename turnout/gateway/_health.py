"""Is this proxy fit to be sent traffic? What `/readyz` answers (docs/operations.md).

Checked in this order; the first that fails is named:

    draining   a graceful stop has begun (`ProxyState.draining`): fail first, so a load balancer
               stops sending new requests while those in flight still finish
    routes     the route table and its translators are loaded and the transport is open
               (`prepare` and `start` have run)
    bus        the legacy bus is reachable: it answered a request within the last
               `recent_seconds`, else a TCP connect to its host and port succeeds (no TLS
               handshake, no request). A connect's result is kept for `cache_seconds`, and
               probes arriving meanwhile share one connect, so a probe every second costs the
               bus at most one connection every `cache_seconds` when there is no traffic and
               none when there is.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ._state import ProxyState


@dataclass(frozen=True)
class Readiness:
    """The verdict: `failed` names the first check that failed (None: ready); `checks` says
    what each check found, in words."""

    failed: str | None
    checks: dict[str, str] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return self.failed is None

    def as_dict(self) -> dict[str, object]:
        return {"ready": self.ready, "failed": self.failed, "checks": self.checks}


class Health:
    def __init__(self, state: ProxyState, *, recent_seconds: float = 5.0, cache_seconds: float = 2.0,
                 connect_timeout: float = 1.0) -> None:
        self.state = state
        self.recent_seconds = recent_seconds
        self.cache_seconds = cache_seconds
        self.connect_timeout = connect_timeout
        #: the last TCP probe: when (monotonic) and what it found (None: reachable)
        self._probed: tuple[float, str | None] | None = None
        self._probing: asyncio.Task[str | None] | None = None
        #: the last verdict, for the `turnout_ready` gauge (False until checked once)
        self.last: Readiness = Readiness("unchecked")

    async def readiness(self) -> Readiness:
        state = self.state
        checks: dict[str, str] = {}
        failed: str | None = None
        if state.draining:
            checks["draining"] = "a graceful stop has begun"
            failed = "draining"
        else:
            checks["draining"] = "ok"
        if state.config is None or state.bus is None:
            checks["routes"] = "the route table and translators are not loaded yet"
            failed = failed or "routes"
        else:
            served = state.routes.served()
            checks["routes"] = f"ok: version {served.version}, {len(served.translators)} translators"
        problem = await self._bus()
        checks["bus"] = "ok" if problem is None else problem
        if problem is not None:
            failed = failed or "bus"
        self.last = Readiness(failed, checks)
        return self.last

    async def _bus(self) -> str | None:
        """None when the bus is reachable, else why not."""
        state = self.state
        if state.config is None:
            return "no upstream configured"
        metrics = state.metrics
        now = time.monotonic()
        answered = metrics.last_bus_answer if metrics is not None else None
        if answered is not None and now - answered <= self.recent_seconds:
            return None
        if self._probed is not None and now - self._probed[0] <= self.cache_seconds:
            return self._probed[1]
        if self._probing is None or self._probing.done():
            self._probing = asyncio.ensure_future(self._connect(state.config.upstream))
        # shielded: one probe's caller going away must not cancel the connect others wait on
        return await asyncio.shield(self._probing)

    async def _connect(self, upstream: str) -> str | None:
        parts = urlsplit(upstream)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
        problem: str | None = None
        try:
            async with asyncio.timeout(self.connect_timeout):
                _, writer = await asyncio.open_connection(host, port)
            writer.close()
            try:
                await writer.wait_closed()
            except OSError:
                pass
        except TimeoutError:
            problem = f"no TCP connection to the bus at {host}:{port} within {self.connect_timeout:g} s"
        except OSError as exc:
            problem = f"the bus at {host}:{port} refused or is unreachable: {exc.strerror or exc}"
        self._probed = (time.monotonic(), problem)
        return problem
