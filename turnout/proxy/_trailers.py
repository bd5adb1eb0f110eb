"""Request trailers, which mitmproxy 11 cannot take: dropped, so the request is served.

A chunked request may end with trailer fields. mitmproxy's HTTP/1 layer raises
NotImplementedError on them, which kills the connection's handler: the client gets no answer
and the flow stays "in flight" forever (every later graceful stop then waits its full drain
time). Trailers carry metadata about the body (a checksum, a signature), never SOAP content, and
no bus we know reads them; RFC 9110 section 6.5.1 lets a recipient discard them. So we drop them
on the way in (counted in the log), and the request is inspected and served like any other.
Private API of the pinned mitmproxy 11.x, like `_header_limit`.
"""

from __future__ import annotations

import logging
from typing import Any

import h11
from mitmproxy.proxy.layers.http import _http1

log = logging.getLogger("turnout.proxy")

_original = _http1.Http1Connection.read_body
_dropped = 0


class _TrailerDropping:
    """Wraps an h11 body reader: its end-of-message event loses its trailer fields."""

    def __init__(self, reader: Any) -> None:
        self.reader = reader

    def __call__(self, buf: Any) -> Any:
        event = self.reader(buf)
        if isinstance(event, h11.EndOfMessage) and event.headers:
            global _dropped
            _dropped += 1
            if _dropped in (1, 10, 100, 1000, 10000):
                log.warning("dropped the trailer fields of %d chunked requests so far", _dropped)
            return h11.EndOfMessage()
        return event

    def read_eof(self) -> Any:
        return self.reader.read_eof()


def _read_body(self, event):
    if isinstance(self, _http1.Http1Server) and not isinstance(self.body_reader, _TrailerDropping):
        self.body_reader = _TrailerDropping(self.body_reader)  # type: ignore[assignment]
    yield from _original(self, event)


def install() -> None:
    """Drop request trailers in every HTTP/1 connection mitmproxy serves from now on. Idempotent."""
    _http1.Http1Connection.read_body = _read_body  # type: ignore[method-assign]
