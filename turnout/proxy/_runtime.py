"""Runtime: what the proxy holds beyond one flow — the route watcher, the JSON service pool, the
shadow runner and the admin endpoint — started when mitmproxy runs and stopped when it is done.

The route table and the translators are loaded *before* mitmproxy starts listening (see
`prepare`), so a broken file stops the proxy from starting rather than surfacing at the first
request. After that, the watcher swaps in each valid edit and logs what changed; an invalid edit
is logged with file, line and field and the last good table keeps serving.
"""

from __future__ import annotations

import logging

from ..config import ProxyConfig
from ..routing import RouteTable, RouteWatcher
from ..setup import check_routes, load_translators_of
from ._admin import AdminServer
from ._services import ServiceClients
from ._shadow import Differ, ShadowRunner
from ._state import ProxyState

log = logging.getLogger("turnout.proxy")


def prepare(state: ProxyState, config: ProxyConfig, differ: Differ) -> None:
    """Load translators and routes, validating both; raise ConfigError before anything listens.

    Leaves the started route watcher in `state.watcher`; the Runtime addon stops it.
    """
    state.translators = load_translators_of(config)
    watcher = None
    if config.source is not None:
        watcher = RouteWatcher(
            config.source,
            on_change=lambda table: _accept(state, table),
            on_error=lambda error: log.error(
                "route change refused, still serving the last good table: %s", error
            ),
            validate=lambda table: check_routes(table, state.translators, config),
        )
        state.routes.swap(watcher.start())  # raises ConfigError on a bad file
    state.watcher = watcher
    warm = getattr(differ, "warm", None)
    if warm is not None and any(route.mode == "shadow" for route in state.routes.get()):
        warm(wait=True)
    state.shadow = ShadowRunner(
        state, differ, config.shadow_concurrency, config.shadow_queue,
        queue_bytes=config.shadow_queue_bytes, max_diff_bytes=config.shadow_max_diff_bytes,
        limits=config.limits, max_response_bytes=config.max_response_bytes,
    )


def _accept(state: ProxyState, table: RouteTable) -> None:
    old = state.routes.swap(table)
    changes = old.diff(table)
    state.stats.count("routes.reloaded")
    log.warning("route table reloaded: %s", "; ".join(changes) if changes else "no change in effect")


class Runtime:
    """The mitmproxy addon that starts and stops the long-lived parts."""

    def __init__(self, state: ProxyState) -> None:
        self.state = state
        self.admin: AdminServer | None = None

    async def running(self) -> None:
        config = self.state.config
        assert config is not None
        self.state.services = ServiceClients(config.services)
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
