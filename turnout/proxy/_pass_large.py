"""Passing on a bus answer too large to hold, chunk by chunk, straight to the client.

mitmproxy hands a response to the client only once its whole body is in memory, and our
forwarder (which gives Faults and timeouts of our own) builds that response. For an answer over
`limits.max_response_bytes` (a 200 MB document download once took the proxy to 1.78 GB), we
write the head and the body to the client's connection ourselves as they arrive, awaiting the
client between chunks, then close the connection and end the flow. Such an answer is counted
and recorded without its body: nothing holds more than one chunk of it. The client connection
is reached through `_client_io` (private API of the pinned mitmproxy 11.x).
"""

from __future__ import annotations

import logging

from mitmproxy import http

from ..soap import HttpResponse, end_to_end
from ._client_io import client_io
from ._upstream import Oversized

log = logging.getLogger("turnout.proxy")


async def pass_on(flow: http.HTTPFlow, answer: Oversized) -> int | None:
    """Stream `answer` to the flow's client; return the body bytes sent, or None when the
    client's connection could not be reached (the caller answers a Fault instead)."""
    io = client_io(flow.client_conn.id)
    writer = io.writer if io is not None else None
    if writer is None or writer.is_closing():
        answer.release()
        return None
    writer.write(_head(answer.head))
    sent = 0
    try:
        async for chunk in answer.chunks():
            writer.write(chunk)
            sent += len(chunk)
            await writer.drain()  # never more than a chunk or two waiting for a slow client
    finally:
        answer.release()
    flow.kill()  # the answer is on the wire; mitmproxy closes the connection, sends nothing
    return sent


def _head(head: HttpResponse) -> bytes:
    """Status line and headers: the bus's end-to-end ones, its Content-Length when it gave one
    (else the body ends when the connection closes, which every HTTP version understands)."""
    headers = end_to_end(head.headers, frozenset({"content-length"}))
    length = head.header("content-length")
    if length is not None and length.strip().isdigit():
        headers.append(("Content-Length", length.strip()))
    headers.append(("Connection", "close"))
    lines = [f"HTTP/1.1 {head.status} {head.reason or 'OK'}"]
    lines += [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
