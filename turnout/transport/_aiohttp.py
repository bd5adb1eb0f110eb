"""The real transport: one pooled aiohttp client session for every peer of a process.

Written once here: the pool, the timeouts, never following redirects, never keeping cookies
(one caller's must never reach another), never resending a request (aiohttp resends a GET,
PUT or DELETE when a kept-alive connection breaks before the answer's head; a PUT or DELETE
is a write the peer may have acted on), never decompressing (the client gets the bus's bytes)
and never adding headers the client did not send, and the mapping of aiohttp's exceptions to
`TransportError` kinds, each saying whether the request can have reached the peer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import yarl

from ..soap import HttpResponse
from ._values import Outbound, Streamed, Timeouts, TransportError


class AiohttpTransport:
    """Create and close inside the event loop that uses it."""

    def __init__(self, max_connections: int = 128, max_per_host: int = 64) -> None:
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=max_connections, limit_per_host=max_per_host),
            auto_decompress=False,
            skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
            cookie_jar=aiohttp.DummyCookieJar(),
        )
        # No public option; aiohttp's own test client sets the same attribute
        # (tests/test_failing_neighbours.py fails if it stops working).
        self._session._retry_connection = False

    async def send(self, request: Outbound, *, timeouts: Timeouts, max_body: int | None = None,
                   stream_over: bool = False) -> HttpResponse | Streamed:
        url = yarl.URL(request.url, encoded=True)  # sent exactly as routed on
        reply: aiohttp.ClientResponse | None = None
        handed_on = False
        try:
            reply = await self._session.request(
                request.method, url, headers=request.headers, data=request.body,
                allow_redirects=False, compress=None,
                timeout=aiohttp.ClientTimeout(total=timeouts.total, connect=timeouts.connect),
                ssl=request.ssl if request.ssl is not None else True,
            )
            headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in reply.raw_headers]
            limit = -1 if max_body is None else max_body
            declared = reply.content_length or 0
            body = b"" if limit >= 0 and declared > limit and stream_over else \
                await _read_up_to(reply.content, limit)
            response = HttpResponse(reply.status, headers, body, reply.reason or "")
            if limit >= 0 and (len(body) > limit or declared > limit):
                if not stream_over:
                    raise TransportError("too-large", f"answer over {limit} bytes", sent=True)
                handed_on = True
                return Streamed(response, _rest(reply), reply.release)
            return response
        except TimeoutError:
            raise TransportError("timeout", f"no answer within {timeouts.total:g} s", sent=True) from None
        except aiohttp.ClientConnectorCertificateError as exc:
            error = exc.certificate_error
            why = getattr(error, "verify_message", None) or getattr(error, "reason", None) or str(error)
            raise TransportError("certificate", f"a certificate that could not be verified ({why})",
                                 sent=False) from None
        except aiohttp.ClientConnectorSSLError as exc:
            why = getattr(exc.os_error, "reason", None) or str(exc.os_error)
            raise TransportError("tls", f"no TLS connection could be made ({why})", sent=False) from None
        except aiohttp.ClientConnectorError as exc:
            raise TransportError("connect", f"unreachable: {exc.os_error}", sent=False) from None
        except aiohttp.ClientError as exc:
            raise TransportError("broken", f"broke off the exchange: {type(exc).__name__}: {exc}",
                                 sent=True) from None
        finally:
            if reply is not None and not handed_on:
                reply.release()

    async def close(self) -> None:
        await self._session.close()


async def _read_up_to(content: aiohttp.StreamReader, limit: int) -> bytes:
    """The whole body, or its first `limit` + 1 bytes when it is longer (limit < 0: no bound).
    Read to its end: `read(n)` alone returns only what has arrived so far."""
    if limit < 0:
        return await content.read()
    raw = bytearray()
    while len(raw) <= limit and (chunk := await content.read(limit + 1 - len(raw))):
        raw += chunk
    return bytes(raw)


async def _rest(reply: aiohttp.ClientResponse, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    async for chunk in reply.content.iter_chunked(size):
        yield chunk
