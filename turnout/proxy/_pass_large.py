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

from ..transport import Streamed
from ._client_io import client_io
from ._wire import streamed_head

log = logging.getLogger("turnout.proxy")


async def pass_on(flow: http.HTTPFlow, answer: Streamed) -> int | None:
    """Stream `answer` to the flow's client; return the body bytes sent, or None when the
    client's connection could not be reached (the caller answers a Fault instead)."""
    io = client_io(flow.client_conn.id)
    writer = io.writer if io is not None else None
    if writer is None or writer.is_closing():
        answer.release()
        return None
    writer.write(streamed_head(answer.head))
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

