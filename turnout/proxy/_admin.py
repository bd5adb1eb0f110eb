"""A small read-only admin endpoint: the route table the running proxy uses, and its counters.

Off unless `admin.port` is set; binds to loopback by default and warns when told otherwise,
because the route table and counters describe the force's traffic.

`GET /routes` is what `turnout routes set|check|list` and `turnout status` read to tell what is
in force, as JSON:

    source         the route file (absolute path), or null
    version        counts the pairs (table + translators) put in force: 1 at start, +1 a swap
    loaded_at      when the pair in force was put in force (ISO 8601, UTC)
    routes         the routes in force, as `Route.as_dict()` gives them
    translators    {name: version} of the translators in force (version: a hash of its files)
    refused        null, or the last refusal since the last change accepted whole:
                   {message, file, line, field, at, applied}; `applied` lists what was put in
                   force all the same (reads moved back to legacy, valid translators)
    source_sha256  SHA-256 of the route file content the proxy last considered (accepted or
                   refused), so a client knows when its edit has been looked at
    recordings     the absolute recording directory, or null

`GET /stats` gives the counters.

`GET /metrics` is the Prometheus exposition (OpenMetrics, with exemplars, when the scraper asks
for `application/openmetrics-text`); `GET /healthz` answers 200 while the process serves;
`GET /readyz` answers 200 when ready, else 503 with a JSON body naming the check that failed
(`turnout.gateway.Health`). Every metric and check is described in docs/operations.md.
"""

from __future__ import annotations

import ipaddress
import logging
from pathlib import Path
from typing import Any

from aiohttp import web
from prometheus_client.exposition import choose_encoder

from ..gateway import Health, ProxyState, registry_for

log = logging.getLogger("turnout.proxy")


class AdminServer:
    def __init__(self, state: ProxyState, host: str, port: int, engine: str = "") -> None:
        self.state = state
        self.host = host
        self.port = port
        self.health = Health(state)
        self.registry = registry_for(state, engine, lambda: self.health.last.ready)
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        if not _is_loopback(self.host):
            log.warning("admin endpoint on %s is reachable beyond this machine", self.host)
        app = web.Application()
        app.router.add_get("/routes", self._routes)
        app.router.add_get("/stats", self._stats)
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []  # aiohttp keeps the bound server private
        if sockets:
            self.port = sockets[0].getsockname()[1]
        self.state.admin_url = f"http://{self.host}:{self.port}"
        log.info("admin endpoint on %s (routes, stats, metrics, healthz, readyz; read-only)",
                 self.state.admin_url)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _routes(self, request: web.Request) -> web.Response:
        return web.json_response(routes_document(self.state))

    async def _stats(self, request: web.Request) -> web.Response:
        stats: dict[str, Any] = self.state.stats.snapshot()
        if self.state.shadow is not None:
            stats["shadow.pending"] = self.state.shadow.pending
        return web.json_response(stats)


    async def _metrics(self, request: web.Request) -> web.Response:
        await self.health.readiness()  # turnout_ready says what /readyz would (cached bus probe)
        encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
        return web.Response(body=encoder(self.registry), headers={"Content-Type": content_type})

    async def _healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"alive": True})

    async def _readyz(self, request: web.Request) -> web.Response:
        readiness = await self.health.readiness()
        return web.json_response(readiness.as_dict(), status=200 if readiness.ready else 503)


def routes_document(state: ProxyState) -> dict[str, Any]:
    """What `GET /routes` answers (see the module's docstring)."""
    watcher = state.watcher
    # the hash first: the watcher sets it only once the outcome (pair or refusal) is in place,
    # so a client that sees its file's hash here also sees that outcome
    evaluated = watcher.evaluated if watcher is not None else None
    refusal = watcher.refused if watcher is not None else None
    served = state.routes.served()
    table, config = served.table, state.config
    source = table.source or (config.source if config is not None else None)
    record_dir = config.record_dir if config is not None else None
    return {
        "source": str(Path(source).resolve()) if source else None,
        "version": served.version,
        "loaded_at": served.loaded_at.isoformat(),
        "routes": [route.as_dict() for route in table],
        "translators": served.translator_versions,
        "refused": refusal.as_dict() if refusal is not None else None,
        "source_sha256": evaluated,
        "recordings": str(Path(record_dir).resolve()) if record_dir is not None else None,
    }


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
