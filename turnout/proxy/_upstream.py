"""The proxy's HTTP client towards the legacy bus: async, pooled, with timeouts of its own.

Why not let mitmproxy forward? When the upstream is down or slow, mitmproxy answers the client
with an HTML 502 page and offers no hook to replace it; a SOAP client needs a SOAP Fault that
says what happened, within a timeout the operator chose. So the addon forwards the request
itself and hands mitmproxy a finished response. End-to-end headers and body bytes are passed
unchanged both ways; only hop-by-hop headers (RFC 9110 section 7.6.1) are dropped.

An https:// bus is reached with the `tls:` section's CA bundle and client certificate
(`PeerTls`), certificate and host name always verified. A bus whose certificate cannot be
verified gets nothing: the request is never sent, in clear or otherwise, and the client gets a
Fault `upstream.certificate` that says so.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from dataclasses import dataclass
from typing import AsyncIterator

import aiohttp
import yarl

from ..config import PeerTls
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


class Oversized:
    """A bus answer too large to hold: its head and first bytes, and the rest still unread.
    The caller passes it on chunk by chunk and must call `release` when done."""

    def __init__(self, head: HttpResponse, reply: aiohttp.ClientResponse) -> None:
        self.head = head
        self._reply = reply

    async def chunks(self, size: int = 64 * 1024) -> AsyncIterator[bytes]:
        if self.head.body:
            yield self.head.body
        async for chunk in self._reply.content.iter_chunked(size):
            yield chunk

    def release(self) -> None:
        self._reply.release()


async def _read_up_to(content: aiohttp.StreamReader, limit: int) -> bytes:
    """The whole body, or its first `limit` + 1 bytes when it is longer (limit < 0: no bound)."""
    if limit < 0:
        return await content.read()
    raw = bytearray()
    while len(raw) <= limit and (chunk := await content.read(limit + 1 - len(raw))):
        raw += chunk
    return bytes(raw)


class UpstreamClient:
    """Sends plain `HttpRequest`s to one base URL. Create and close inside the event loop."""

    def __init__(self, base_url: str, timeouts: UpstreamTimeouts, max_connections: int = 64,
                 tls: PeerTls | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeouts = timeouts
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=max_connections, limit_per_host=max_connections,
                                           ssl=_ssl_context(self.base_url, tls)),
            timeout=aiohttp.ClientTimeout(total=timeouts.total, connect=timeouts.connect),
            auto_decompress=False,  # the client gets the bus's bytes, compressed or not
            skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
            cookie_jar=aiohttp.DummyCookieJar(),  # never carry one caller's cookies to another
        )

    async def send(
        self, request: HttpRequest, max_body: int | None = None
    ) -> tuple[HttpResponse | Oversized, float]:
        """Forward `request`; return the response and the upstream time in milliseconds.

        An answer whose body is over `max_body` bytes (declared, or found while reading) comes
        back as `Oversized`: its head and the first bytes, and the rest still to be read, so
        the caller can pass it on without ever holding it whole."""
        started = time.perf_counter()
        # Sent as given: the guard normalised the path already, and what we route on must be
        # exactly what the bus receives (yarl would otherwise re-normalise it its own way).
        url = yarl.URL(self.base_url + request.path, encoded=True)
        handed_on = False
        reply: aiohttp.ClientResponse | None = None
        try:
            reply = await self._session.request(
                request.method,
                url,
                headers=end_to_end(request.headers, frozenset({"content-length"})),
                data=request.body if request.body or request.method in ("POST", "PUT") else None,
                allow_redirects=False,
                compress=None,
            )
            headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in reply.raw_headers]
            limit = max_body if max_body is not None else -1
            if limit >= 0 and (reply.content_length or 0) > limit:
                body = b""
            else:
                body = await _read_up_to(reply.content, limit)
            response = HttpResponse(
                status=reply.status, headers=headers, body=body, reason=reply.reason or ""
            )
            if limit >= 0 and (len(body) > limit or (reply.content_length or 0) > limit):
                handed_on = True
                return Oversized(response, reply), (time.perf_counter() - started) * 1000
        except asyncio.TimeoutError:
            raise UpstreamError(
                "upstream.timeout",
                f"the legacy bus did not answer within {self.timeouts.total:g} s",
            ) from None
        except aiohttp.ClientConnectorCertificateError as exc:
            raise UpstreamError(
                "upstream.certificate",
                f"the legacy bus at {self.base_url} presented a certificate that could not be verified "
                f"({_verify_message(exc)}); nothing was sent to it",
            ) from None
        except aiohttp.ClientConnectorSSLError as exc:
            raise UpstreamError(
                "upstream.tls",
                f"no TLS connection could be made with the legacy bus at {self.base_url} "
                f"({_ssl_reason(exc)}); nothing was sent to it",
            ) from None
        except aiohttp.ClientConnectorError as exc:
            raise UpstreamError(
                "upstream.unreachable", f"the legacy bus at {self.base_url} is unreachable: {exc.os_error}"
            ) from None
        except aiohttp.ClientError as exc:
            raise UpstreamError(
                "upstream.broken", f"the legacy bus broke off the exchange: {type(exc).__name__}: {exc}"
            ) from None
        finally:
            if reply is not None and not handed_on:
                reply.release()
        return response, (time.perf_counter() - started) * 1000

    async def close(self) -> None:
        await self._session.close()


def _ssl_context(base_url: str, tls: PeerTls | None) -> ssl.SSLContext | bool:
    """The context an https:// bus is reached with; `True` (aiohttp's default, unused) for http://.
    Never `False`: nothing here can switch verification off."""
    if not base_url.lower().startswith("https://"):
        return True
    return (tls or PeerTls()).ssl_context()


def _verify_message(exc: aiohttp.ClientConnectorCertificateError) -> str:
    error = exc.certificate_error
    return getattr(error, "verify_message", None) or getattr(error, "reason", None) or str(error)


def _ssl_reason(exc: aiohttp.ClientConnectorSSLError) -> str:
    error = exc.os_error
    return getattr(error, "reason", None) or str(error)
