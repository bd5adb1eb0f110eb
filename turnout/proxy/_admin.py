"""A small read-only admin endpoint: the route table the running proxy uses, and its counters.

Off unless `admin.port` is set; binds to loopback by default and warns when told otherwise,
because the route table and counters describe the force's traffic.
"""

from __future__ import annotations

import ipaddress
import logging
from typing import Any

from aiohttp import web

from ._state import ProxyState

log = logging.getLogger("turnout.proxy")


class AdminServer:
    def __init__(self, state: ProxyState, host: str, port: int) -> None:
        self.state = state
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        if not _is_loopback(self.host):
            log.warning("admin endpoint on %s is reachable beyond this machine", self.host)
        app = web.Application()
        app.router.add_get("/routes", self._routes)
        app.router.add_get("/stats", self._stats)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        sockets = site._server.sockets if site._server else []  # type: ignore[union-attr]
        if sockets:
            self.port = sockets[0].getsockname()[1]
        self.state.admin_url = f"http://{self.host}:{self.port}"
        log.info("admin endpoint on %s (routes, stats; read-only)", self.state.admin_url)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _routes(self, request: web.Request) -> web.Response:
        table = self.state.routes.get()
        return web.json_response({"source": str(table.source) if table.source else None,
                                  "routes": [r.as_dict() for r in table]})

    async def _stats(self, request: web.Request) -> web.Response:
        stats: dict[str, Any] = self.state.stats.snapshot()
        if self.state.shadow is not None:
            stats["shadow.pending"] = self.state.shadow.pending
        return web.json_response(stats)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
