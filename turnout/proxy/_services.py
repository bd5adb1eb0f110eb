"""The proxy's HTTP client towards the modern JSON services: async, pooled per service.

Measured before choosing (issue notes): inside mitmproxy at 16 connections aiohttp kept p99 far
below httpx, so the JSON side uses the same client as the legacy side.

An https:// service is reached with its own CA bundle and client certificate (`services: {pnc:
{url:, ca:, client_cert:, client_key:}}`), certificate and host name always verified; one whose
certificate cannot be verified gets nothing (`service.certificate`, never acted on).
"""

from __future__ import annotations

import asyncio
import json
import ssl
from urllib.parse import urlencode

import aiohttp

from ..config import PeerTls
from ..translators import JsonCall, JsonReply

#: a modern service's reply larger than this is refused as unusable
MAX_REPLY_BYTES = 4 * 1024 * 1024


class ServiceError(Exception):
    """A call to a modern service failed. `may_have_acted` is False only when the request
    certainly never reached the service (the connection was refused), so a write is safe."""

    def __init__(self, kind: str, message: str, may_have_acted: bool) -> None:
        super().__init__(message)
        self.kind = kind
        self.may_have_acted = may_have_acted


class ServiceClients:
    """One pooled aiohttp session for all services; base URLs by service name."""

    def __init__(self, services: dict[str, str], max_connections: int = 16,
                 tls: dict[str, PeerTls] | None = None) -> None:
        self.services = {name: url.rstrip("/") for name, url in services.items()}
        #: service name -> the context its https:// URL is reached with (verification always on)
        self._ssl: dict[str, ssl.SSLContext] = {
            name: (tls or {}).get(name, PeerTls()).ssl_context()
            for name, url in self.services.items() if url.lower().startswith("https://")
        }
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=max_connections * max(1, len(services)),
                                           limit_per_host=max_connections),
            cookie_jar=aiohttp.DummyCookieJar(),
        )
        # aiohttp sends a GET, PUT or DELETE a second time when the connection breaks before the
        # reply's headers. PUT and DELETE are writes: the service may have acted on the first
        # one, so every call is made exactly once. No public option; aiohttp's own test client
        # sets the same attribute (tests/test_failing_neighbours.py fails if it stops working).
        self._session._retry_connection = False

    def url_for(self, call: JsonCall) -> str:
        base = self.services.get(call.service)
        if base is None:
            raise ServiceError("service.unknown", f"no URL configured for service {call.service!r}", False)
        url = base + call.path
        if call.query:
            url += "?" + urlencode(call.query)
        return url

    async def call(self, call: JsonCall, timeout: float) -> JsonReply:
        url = self.url_for(call)
        headers = dict(call.headers)
        data = None
        if call.body is not None:
            data = json.dumps(call.body, ensure_ascii=False).encode("utf-8")
            headers.setdefault("Content-Type", "application/json")
        headers.setdefault("Accept", "application/json, application/problem+json")
        try:
            async with self._session.request(
                call.method, url, data=data, headers=headers, allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=timeout), ssl=self._ssl.get(call.service, True),
            ) as reply:
                raw = await _read_whole(reply.content, MAX_REPLY_BYTES)
                reply_headers = tuple((k, v) for k, v in reply.headers.items())
                status = reply.status
        except asyncio.TimeoutError:
            raise ServiceError("service.timeout", f"{call.service} did not answer within {timeout:g} s", True) from None
        except aiohttp.ClientConnectorCertificateError as exc:
            error = exc.certificate_error
            raise ServiceError(
                "service.certificate",
                f"{call.service} presented a certificate that could not be verified "
                f"({getattr(error, 'verify_message', None) or error}); nothing was sent to it", False,
            ) from None
        except aiohttp.ClientConnectorSSLError as exc:
            raise ServiceError(
                "service.tls", f"no TLS connection could be made with {call.service} "
                f"({getattr(exc.os_error, 'reason', None) or exc.os_error}); nothing was sent to it", False,
            ) from None
        except aiohttp.ClientConnectorError as exc:
            raise ServiceError("service.unreachable", f"{call.service} is unreachable: {exc.os_error}", False) from None
        except aiohttp.ClientError as exc:
            raise ServiceError("service.broken", f"{call.service} broke off: {type(exc).__name__}", True) from None
        return JsonReply(status=status, headers=reply_headers, body=_json_or_none(raw))

    async def close(self) -> None:
        await self._session.close()


async def _read_whole(content: aiohttp.StreamReader, limit: int) -> bytes:
    """The whole body, to its end. `read(n)` alone returns only what has arrived so far: a
    reply in several TCP segments would be cut short. A body cut off by the service raises
    ClientPayloadError (service.broken); one that stalls, the call's timeout."""
    raw = bytearray()
    while chunk := await content.read(limit + 1 - len(raw)):
        raw += chunk
        if len(raw) > limit:
            raise ServiceError("service.too-large", f"reply over {limit} bytes", True)
    return bytes(raw)


def _json_or_none(raw: bytes) -> object:
    """The decoded JSON body, or None for an empty or non-JSON one (the translator decides)."""
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
