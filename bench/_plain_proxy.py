"""The yardstick of bench/hosts.py: a plain aiohttp + uvloop reverse proxy that does no SOAP work.

    python bench/_plain_proxy.py --upstream http://127.0.0.1:8000 --port 8080

What any Python proxy on the same stack must pay at least: read the request, send it on through
one pooled ClientSession, read the answer, send it back; headers passed through but for the
hop-by-hop ones, bodies untouched (no decompression). Issue 12 sets the fast host's targets as
ratios to this proxy measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio

import aiohttp
from aiohttp import web
from multidict import CIMultiDict

#: not forwarded either way (RFC 9110 7.6.1), plus what aiohttp sets itself from the body
_HOP = {
    "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding",
    "upgrade", "proxy-authenticate", "proxy-authorization", "content-length", "host",
}


def make_app(upstream: str) -> web.Application:
    """The proxy: every method and path to `upstream`, through one pooled session."""
    app = web.Application(client_max_size=16 * 1024 * 1024)

    async def open_session(app: web.Application) -> None:
        app["session"] = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0, keepalive_timeout=60, ttl_dns_cache=None),
            auto_decompress=False, skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding"),
            timeout=aiohttp.ClientTimeout(total=30),
        )

    async def close_session(app: web.Application) -> None:
        await app["session"].close()

    async def forward(request: web.Request) -> web.Response:
        body = await request.read()
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in _HOP]
        session: aiohttp.ClientSession = app["session"]
        async with session.request(request.method, upstream + request.path_qs, data=body,
                                   headers=headers, allow_redirects=False) as reply:
            payload = await reply.read()
            out = CIMultiDict((k, v) for k, v in reply.headers.items() if k.lower() not in _HOP)
            return web.Response(body=payload, status=reply.status, reason=reply.reason, headers=out)

    app.on_startup.append(open_session)
    app.on_cleanup.append(close_session)
    app.router.add_route("*", "/{tail:.*}", forward)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    try:
        import uvloop
    except ImportError:
        loop = None
    else:
        loop = uvloop.new_event_loop()
        asyncio.set_event_loop(loop)
    web.run_app(make_app(args.upstream.rstrip("/")), host=args.host, port=args.port,
                access_log=None, print=None, loop=loop)


if __name__ == "__main__":
    main()
