"""The proxy's HTTP client towards the legacy bus: async, pooled, with timeouts of its own.

Why not let mitmproxy forward? When the upstream is down or slow, mitmproxy answers the client
with an HTML 502 page and offers no hook to replace it; a SOAP client needs a SOAP Fault that
says what happened, within a timeout the operator chose. So the addon forwards the request
itself and hands mitmproxy a finished response. End-to-end headers and body bytes are passed
unchanged both ways; only hop-by-hop headers (RFC 9110 section 7.6.1) are dropped.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import aiohttp
import yarl

from ..soap import HttpRequest, HttpResponse, end_to_end

class UpstreamError(Exception):
    """The bus could not be reached or did not answer in time. `kind` is a stable token."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class UpstreamTimeouts:
    total: float = 10.0
    connect: float = 3.0


class UpstreamClient:
    """Sends plain `HttpRequest`s to one base URL. Create and close inside the event loop."""

    def __init__(self, base_url: str, timeouts: UpstreamTimeouts, max_connections: int = 64) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeouts = timeouts
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=max_connections, limit_per_host=max_connections),
            timeout=aiohttp.ClientTimeout(total=timeouts.total, connect=timeouts.connect),
            auto_decompress=False,  # the client gets the bus's bytes, compressed or not
            skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
            cookie_jar=aiohttp.DummyCookieJar(),  # never carry one caller's cookies to another
        )

    async def send(self, request: HttpRequest) -> tuple[HttpResponse, float]:
        """Forward `request`; return the response and the upstream time in milliseconds."""
        started = time.perf_counter()
        # Sent as given: the guard normalised the path already, and what we route on must be
        # exactly what the bus receives (yarl would otherwise re-normalise it its own way).
        url = yarl.URL(self.base_url + request.path, encoded=True)
        try:
            async with self._session.request(
                request.method,
                url,
                headers=end_to_end(request.headers, frozenset({"content-length"})),
                data=request.body if request.body or request.method in ("POST", "PUT") else None,
                allow_redirects=False,
                compress=None,
            ) as reply:
                body = await reply.read()
                headers = [
                    (k.decode("latin-1"), v.decode("latin-1")) for k, v in reply.raw_headers
                ]
                response = HttpResponse(
                    status=reply.status, headers=headers, body=body, reason=reply.reason or ""
                )
        except asyncio.TimeoutError:
            raise UpstreamError(
                "upstream.timeout",
                f"the legacy bus did not answer within {self.timeouts.total:g} s",
            ) from None
        except aiohttp.ClientConnectorError as exc:
            raise UpstreamError(
                "upstream.unreachable", f"the legacy bus at {self.base_url} is unreachable: {exc.os_error}"
            ) from None
        except aiohttp.ClientError as exc:
            raise UpstreamError(
                "upstream.broken", f"the legacy bus broke off the exchange: {type(exc).__name__}: {exc}"
            ) from None
        return response, (time.perf_counter() - started) * 1000

    async def close(self) -> None:
        await self._session.close()
