"""What crosses the transport seam: the request going out, an answer too large to hold, errors."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol

from ..soap import Headers, HttpResponse

#: connect: nothing was sent | timeout | certificate / tls: nothing was sent | broken: the
#: peer broke off mid-exchange | too-large: the answer is over the caller's bound
ErrorKind = Literal["connect", "timeout", "certificate", "tls", "broken", "too-large"]


class TransportError(Exception):
    """The peer could not be reached, or did not answer whole in time.

    `sent` is False only when the request certainly never reached the peer (the connection or
    the TLS handshake failed), so a write may safely go elsewhere."""

    def __init__(self, kind: ErrorKind, message: str, *, sent: bool) -> None:
        super().__init__(message)
        self.kind: ErrorKind = kind
        self.sent = sent


@dataclass(frozen=True)
class Timeouts:
    total: float = 10.0
    connect: float = 3.0


@dataclass(frozen=True)
class Outbound:
    """One request to send: an absolute URL already encoded as it must go on the wire."""

    method: str
    url: str
    headers: Headers = field(default_factory=list)
    body: bytes | None = None
    #: how an https:// peer is verified (None: plain http, or the platform default)
    ssl: ssl.SSLContext | None = None


class Streamed:
    """An answer too large to hold: its head and first bytes, and the rest still unread.
    The caller passes it on chunk by chunk and must call `release` when done."""

    def __init__(self, head: HttpResponse, rest: AsyncIterator[bytes], release: Callable[[], None]) -> None:
        self.head = head
        self._rest = rest
        self._release = release

    async def chunks(self) -> AsyncIterator[bytes]:
        if self.head.body:
            yield self.head.body
        async for chunk in self._rest:
            yield chunk

    def release(self) -> None:
        self._release()


class Transport(Protocol):
    """Sends one request and returns its answer, whole or (over `max_body` with `stream_over`)
    as `Streamed`. Raises `TransportError`, never anything transport-specific."""

    async def send(self, request: Outbound, *, timeouts: Timeouts, max_body: int | None = None,
                   stream_over: bool = False) -> HttpResponse | Streamed: ...

    async def close(self) -> None: ...
