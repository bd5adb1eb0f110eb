"""Reaching the legacy bus through the transport seam: its timeouts, its error words.

Why not let the host forward? When the bus is down or slow, mitmproxy answers the client with
an HTML 502 page and offers no hook to replace it; a SOAP client needs a SOAP Fault that says
what happened, within a timeout the operator chose. So the gateway forwards the request itself
and hands the host a finished answer. End-to-end headers and body bytes pass unchanged both
ways; only hop-by-hop headers (RFC 9110 section 7.6.1) are dropped.

An https:// bus is reached with the `tls:` section's CA bundle and client certificate
(`PeerTls`), certificate and host name always verified. A bus whose certificate cannot be
verified gets nothing: the request is never sent, in clear or otherwise, and the client gets a
Fault `upstream.certificate` that says so.
"""

from __future__ import annotations

import time

from ..config import PeerTls
from ..soap import HttpRequest, HttpResponse, end_to_end
from ..transport import Outbound, Streamed, Timeouts, Transport, TransportError
from ._trace_context import REPLACED

#: the transport's error kinds in the words of the bus's Faults
_WORDING = {
    "timeout": ("upstream.timeout", "the legacy bus did not answer within {total:g} s"),
    "certificate": ("upstream.certificate",
                    "the legacy bus at {url} presented {why}; nothing was sent to it"),
    "tls": ("upstream.tls", "{why} with the legacy bus at {url}; nothing was sent to it"),
    "connect": ("upstream.unreachable", "the legacy bus at {url} is {why}"),
    "broken": ("upstream.broken", "the legacy bus {why}"),
    "too-large": ("upstream.broken", "the legacy bus sent an {why}"),
}


class UpstreamError(Exception):
    """The bus could not be reached or did not answer in time. `kind` is a stable token."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


#: dropped from what the client sent: recomputed, or replaced by the request's own ids
_DROP = frozenset({"content-length"})
_DROP_AND_IDS = _DROP | REPLACED

#: the old name, for code that caught it before the transport seam existed
Oversized = Streamed
UpstreamTimeouts = Timeouts


class BusClient:
    """Sends plain `HttpRequest`s to the bus's base URL through `transport`."""

    def __init__(self, base_url: str, transport: Transport, timeouts: Timeouts,
                 tls: PeerTls | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.transport = transport
        self.timeouts = timeouts
        self._ssl = (tls or PeerTls()).ssl_context() if self.base_url.lower().startswith("https://") else None

    async def send(self, request: HttpRequest, max_body: int | None = None,
                   ids: tuple[tuple[str, str], ...] = ()) -> tuple[HttpResponse | Streamed, float]:
        """Forward `request` (its path already normalised: what we route on is exactly what the
        bus receives); return the answer and the upstream time in milliseconds. An answer over
        `max_body` bytes comes back as `Streamed`, never held whole. `ids`: the request's
        `X-Request-Id` and `traceparent`, sent in place of the client's (`_trace_context`)."""
        started = time.perf_counter()
        body = request.body if request.body or request.method in ("POST", "PUT") else None
        headers = end_to_end(request.headers, _DROP_AND_IDS if ids else _DROP)
        if ids:
            headers.extend(ids)
        outbound = Outbound(request.method, self.base_url + request.path, headers, body, self._ssl)
        try:
            answer = await self.transport.send(outbound, timeouts=self.timeouts, max_body=max_body,
                                               stream_over=True)
        except TransportError as exc:
            kind, template = _WORDING[exc.kind]
            raise UpstreamError(kind, template.format(total=self.timeouts.total, url=self.base_url,
                                                      why=exc)) from None
        return answer, (time.perf_counter() - started) * 1000
