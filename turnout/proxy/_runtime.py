"""Runtime: what the proxy holds beyond one flow — the route watcher, the JSON service pool, the
shadow runner and the admin endpoint — started when mitmproxy runs and stopped when it is done.

The route table and the translators are loaded *before* mitmproxy starts listening (see
`prepare`), so a broken file stops the proxy from starting rather than surfacing at the first
request. After that, the watcher (`LiveRoutes`) follows both the route file and the translators
directory: each valid new pair (table + translators) is swapped in, in one assignment made on
the event loop (so no request sees half of a swap), and logged with what changed; an invalid one
is logged with file, line and field, and the last good pair keeps serving, but for the reads it
moves back to legacy, which are always applied.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from types import MappingProxyType

from ..config import ProxyConfig
from ..routing import LiveRoutes, Refusal, Served
from ..setup import TranslatorsOnDisk, check_routes
from ._admin import AdminServer
from ._services import ServiceClients
from ._shadow import Differ, ShadowRunner
from ._state import ProxyState

log = logging.getLogger("turnout.proxy")


def prepare(state: ProxyState, config: ProxyConfig, differ: Differ) -> None:
    """Load translators and routes, validating both; raise ConfigError before anything listens.

    Leaves the started route watcher in `state.watcher`; the Runtime addon stops it.
    """
    source = TranslatorsOnDisk(config)
    watcher = None
    if config.source is not None:
        watcher = LiveRoutes(
            config.source, source=source,
            on_swap=lambda served, changes: _accept(state, served, changes),
            on_refused=_refused,
            check=lambda table, translators: check_routes(table, translators, config),
        )
        state.routes.install(watcher.start())  # raises ConfigError on a bad file
    else:
        state.routes.install(Served(state.routes.get(), MappingProxyType(dict(source.load()))))
    state.watcher = watcher
    if config.identity is not None:  # a bad officers file or a missing key stops the start
        from ..gateway import Gatekeeper

        state.gatekeeper = Gatekeeper(config.identity)
    warm = getattr(differ, "warm", None)
    if warm is not None and any(route.mode == "shadow" for route in state.routes.get()):
        warm(wait=True)
    state.shadow = ShadowRunner(
        state, differ, config.shadow_concurrency, config.shadow_queue,
        queue_bytes=config.shadow_queue_bytes, max_diff_bytes=config.shadow_max_diff_bytes,
        limits=config.limits, max_response_bytes=config.max_response_bytes,
    )


def _accept(state: ProxyState, served: Served, changes: list[str]) -> None:
    _install(state, served)
    state.stats.count("routes.reloaded")
    log.warning("route table reloaded (version %d): %s", served.version,
                "; ".join(changes) if changes else "no change in effect")


def _refused(refusal: Refusal) -> None:
    log.error("route change refused, still serving the last good table: %s", refusal)
    if refusal.applied:
        log.warning("applied all the same (safe: reads back to legacy, valid translators): %s",
                    "; ".join(refusal.applied))


def _install(state: ProxyState, served: Served) -> None:
    """Put `served` in force on the event loop's thread, between two steps of any request, so
    a request that reads its route and then its translator reads both from one pair."""
    loop = state.loop
    if loop is None or not loop.is_running() or _on_thread_of(loop):
        state.routes.install(served)
        return
    done = threading.Event()
    claim = threading.Lock()
    claimed: list[bool] = []

    def install_once() -> None:
        with claim:  # either the loop installs it or, if it never gets to it, this thread
            if not claimed:
                claimed.append(True)
                state.routes.install(served)

    def on_loop() -> None:
        try:
            install_once()
        finally:
            done.set()

    try:
        loop.call_soon_threadsafe(on_loop)
    except RuntimeError:  # the loop closed meanwhile: nothing serves from it any more
        install_once()
        return
    if not done.wait(5.0):
        install_once()  # a loop too busy to take it in 5 s: one assignment is atomic all the same


def _on_thread_of(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False


class Runtime:
    """The mitmproxy addon that starts and stops the long-lived parts."""

    def __init__(self, state: ProxyState) -> None:
        self.state = state
        self.admin: AdminServer | None = None

    async def running(self) -> None:
        config = self.state.config
        assert config is not None
        self.state.services = ServiceClients(config.services, tls=config.service_tls)
        self.state.loop = asyncio.get_running_loop()
        if self.state.shadow is not None:
            self.state.shadow.start()
        if config.admin_port is not None:
            self.admin = AdminServer(self.state, config.admin_host, config.admin_port)
            await self.admin.start()

    async def done(self) -> None:
        if self.state.watcher is not None:
            self.state.watcher.stop()
        if self.state.shadow is not None:
            await self.state.shadow.drain(timeout=10.0)
        if self.state.services is not None:
            await self.state.services.close()
        if self.state.writer is not None:  # last: the shadow runner records into it
            self.state.writer.close(timeout=10.0)
        if self.admin is not None:
            await self.admin.stop()
