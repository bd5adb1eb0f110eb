"""The two mocks over HTTP (aiohttp): the virtual bus and the virtual services.

Thin: each handler turns the aiohttp request into plain values, asks `VirtualBus` or
`ServiceBook`, waits as `Latency` says, and writes the answer. `serve` runs one until SIGINT
or SIGTERM.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web

from turnout.soap import HttpRequest

from ._bus import VirtualBus
from ._latency import Latency
from ._services import ServiceBook
from ._wsdl import WsdlDocuments

_XML = "text/xml; charset=utf-8"


def _base_url(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


def legacy_app(bus: VirtualBus, wsdl: WsdlDocuments, latency: Latency) -> web.Application:
    """The virtual bus: POST a SOAP request to a service path; GET `path?wsdl` (and
    `path?xsd=name`) for the documents."""

    async def handle(request: web.Request) -> web.StreamResponse:
        if request.method in ("GET", "HEAD"):
            return _document(request, wsdl)
        body = await request.read()
        plain = HttpRequest(request.method, request.raw_path, list(request.headers.items()), body)
        answer = bus.answer(plain)
        wait = latency.seconds(answer.bus_ms)
        if wait:
            await asyncio.sleep(wait)
        response = answer.response
        return web.Response(status=response.status, body=response.body,
                            headers={"Content-Type": response.header("content-type") or _XML,
                                     "X-Turnout-Mock": answer.how})

    app = web.Application(client_max_size=16 * 1024 * 1024)
    app.router.add_route("*", "/{tail:.*}", handle)
    return app


def _document(request: web.Request, wsdl: WsdlDocuments) -> web.Response:
    service = request.path.rstrip("/") or "/"
    query = {key.lower(): value for key, value in request.query.items()}
    if "wsdl" in query:
        document = wsdl.wsdl(service, _base_url(request))
        if document is not None:
            return web.Response(body=document, content_type="text/xml", charset="utf-8")
        return web.Response(status=404, text=f"no WSDL for {service} (give --wsdl DIR)\n")
    if "xsd" in query:
        schema = wsdl.schema(service, query["xsd"])
        if schema is not None:
            return web.Response(body=schema, content_type="text/xml", charset="utf-8")
        return web.Response(status=404, text=f"no schema {query['xsd']!r} for {service}\n")
    return web.Response(text=f"turnout mock legacy: POST SOAP requests to {service}\n")


def services_app(book: ServiceBook, latency: Latency) -> web.Application:
    """The virtual services: any method and path, JSON in and out."""

    async def handle(request: web.Request) -> web.Response:
        raw = await request.read()
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode("utf-8", "replace")
        query: dict[str, list[str]] = {}
        for key, value in request.query.items():
            query.setdefault(key, []).append(value)
        answer = book.answer(request.method, request.path, query, body)
        wait = latency.seconds(answer.service_ms)
        if wait:
            await asyncio.sleep(wait)
        return web.Response(status=answer.status, body=answer.body,
                            headers={"Content-Type": answer.content_type,
                                     "X-Turnout-Mock": answer.how})

    app = web.Application(client_max_size=16 * 1024 * 1024)
    app.router.add_route("*", "/{tail:.*}", handle)
    return app


def serve(app: web.Application, host: str, port: int) -> None:
    """Serve `app` until SIGINT or SIGTERM."""
    web.run_app(app, host=host, port=port, print=None, access_log=None)


def serve_all(apps: list[tuple[web.Application, int]], host: str) -> None:
    """Serve each app on its port, in one event loop, until SIGINT or SIGTERM (the virtual bus
    and the virtual services side by side, sharing what they handed out)."""
    if len(apps) == 1:
        serve(apps[0][0], host, apps[0][1])
        return
    web.run_app(_side_by_side(apps, host), host=host, port=apps[0][1], print=None,
                access_log=None)


async def _side_by_side(apps: list[tuple[web.Application, int]], host: str) -> web.Application:
    """`run_app` serves one application: the first on its port, each other one on its own
    port through a runner the first one's cleanup stops."""
    first, others = apps[0][0], apps[1:]
    runners: list[web.AppRunner] = []

    async def start_others(_: web.Application) -> None:
        for app, port in others:
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, host, port).start()
            runners.append(runner)

    async def stop_others(_: web.Application) -> None:
        for runner in runners:
            await runner.cleanup()

    first.on_startup.append(start_others)
    first.on_cleanup.append(stop_others)
    return first
