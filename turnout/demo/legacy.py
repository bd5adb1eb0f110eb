"""The embedded legacy SOAP bus: five services over HTTP, as a Starlette app.

    GET  /services          JSON list of services: name, path, SOAP version, WSDL address
    GET  /<service>?wsdl    the WSDL, addressed to the host the request came in on
    GET  /<service>?xsd=..  the XSD the WSDL imports
    POST /<service>         a SOAP request: 200 and a response, or 500 and a SOAP Fault

With a `DemoIdentity` every POST must carry a valid WS-Security UsernameToken of an officer
holding the operation's role (else an AUTHFAIL or FORBIDDEN Fault); the documents stay open.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from .bus import SERVICES, BusService, answer
from .bus.documents import packaged, render_wsdl, wsdl_url
from .data import DemoStore
from .identity import DemoIdentity

_XML = "text/xml; charset=utf-8"
_HOST = re.compile(r"(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?")

Endpoint = Callable[[Request], Awaitable[Response]]


def make_legacy_app(store: DemoStore, identity: DemoIdentity | None = None) -> Starlette:
    """The bus over `store`. Each service is one route; nothing is shared between apps.

    With `identity`, every operation needs a valid UsernameToken and the operation's role
    (`DemoIdentity.load()` reads the demo's officers); without, anyone may call anything."""
    routes = [Route("/services", _services, methods=["GET"])]
    for service in SERVICES:
        endpoint = _service_endpoint(service, store, identity)
        routes.append(Route(service.path, endpoint, methods=["GET", "POST"]))
    return Starlette(routes=routes)


def base_url(request: Request) -> str:
    """`scheme://host[:port]` as the client addressed us: the Host header when it is a plain
    host name, else the socket we listen on. X-Forwarded-Proto picks the scheme when given."""
    forwarded = (request.headers.get("x-forwarded-proto") or "").strip().lower()
    scheme = forwarded if forwarded in ("http", "https") else request.url.scheme
    host = (request.headers.get("host") or "").strip()
    if not _HOST.fullmatch(host):
        server = request.scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}"
    return f"{scheme}://{host}"


def _describe(service: BusService, base: str) -> dict[str, Any]:
    return {
        "name": service.name,
        "title": service.title,
        "path": service.path,
        "soapVersion": service.version.name,
        "namespace": service.namespace,
        "wsdl": wsdl_url(service, base),
        "operations": [
            {"name": name, "soapAction": service.soap_action(name)} for name in service.handlers
        ],
    }


async def _services(request: Request) -> Response:
    base = base_url(request)
    return JSONResponse([_describe(service, base) for service in SERVICES])


def _service_endpoint(
    service: BusService, store: DemoStore, identity: DemoIdentity | None
) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        if request.method == "POST":
            reply = answer(service, store, await request.body(), request.headers, identity)
            return Response(reply.body, status_code=reply.status, media_type=reply.content_type)
        return _document(service, request)

    return endpoint


def _document(service: BusService, request: Request) -> Response:
    query = {key.lower(): value for key, value in request.query_params.items()}
    if "wsdl" in query:
        return Response(render_wsdl(service, base_url(request)), media_type=_XML)
    if "xsd" in query:
        if query["xsd"] != service.xsd_file:
            return PlainTextResponse(f"no schema {query['xsd']!r} here", status_code=404)
        return Response(packaged(service.xsd_file), media_type=_XML)
    return PlainTextResponse(
        f"{service.title}: SOAP {service.version} endpoint. "
        f"WSDL at {wsdl_url(service, base_url(request))}\n"
    )
