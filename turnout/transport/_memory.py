"""An in-memory transport for tests of pure logic (in the way httpx's MockTransport works): a
handler function answers each `Outbound`, and every request sent is kept for inspection."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable

from ..soap import HttpResponse
from ._values import Outbound, Streamed, Timeouts, TransportError

Handler = Callable[[Outbound], HttpResponse | Awaitable[HttpResponse]]


class MemoryTransport:
    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.sent: list[Outbound] = []
        self.closed = False

    async def send(self, request: Outbound, *, timeouts: Timeouts, max_body: int | None = None,
                   stream_over: bool = False) -> HttpResponse | Streamed:
        self.sent.append(request)
        answer = self.handler(request)
        if inspect.isawaitable(answer):
            answer = await answer
        assert isinstance(answer, HttpResponse)
        if max_body is not None and len(answer.body) > max_body:
            if not stream_over:
                raise TransportError("too-large", f"answer over {max_body} bytes", sent=True)
            head = HttpResponse(answer.status, answer.headers, answer.body[: max_body + 1], answer.reason)
            rest = answer.body[max_body + 1:]

            async def remaining() -> AsyncIterator[bytes]:
                if rest:
                    yield rest

            return Streamed(head, remaining(), lambda: None)
        return answer

    async def close(self) -> None:
        self.closed = True
