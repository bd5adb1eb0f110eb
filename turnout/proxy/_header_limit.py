"""A bound on a request's header section, which mitmproxy 11 does not have.

mitmproxy's HTTP/1 layer buffers a request head until the blank line that ends it, however long
that takes ("FIXME: protect against header size DoS" in its source): a client can make it hold
megabytes, and an enormous head that does end is forwarded to the bus. We wrap the one method
that reads a head: once more than `MAX_HEADER_BYTES` are waiting and the head has not ended
within them, the client gets mitmproxy's 431 error (a SOAP Fault, see `_error_pages`) and the
connection is closed. No flow exists yet, so nothing reaches an addon, the bus or the recorder.
Private API of the pinned mitmproxy 11.x, like `_error_pages`.
"""

from __future__ import annotations

import logging
import re

from mitmproxy.proxy import commands, events
from mitmproxy.proxy.layers.http import _http1

from ._host_faults import MAX_HEADER_BYTES

log = logging.getLogger("turnout.proxy")

_original = _http1.Http1Server.read_headers
_BLANK_LINE = re.compile(rb"\n\r?\n")  # where h11 (which mitmproxy uses) ends a head


def _bounded_read_headers(self, event):
    if isinstance(event, events.DataReceived) and len(self.buf) > MAX_HEADER_BYTES:
        # Checked only past the bound, so ordinary requests pay nothing; the buffer never grows
        # beyond the bound plus one read.
        if not _BLANK_LINE.search(bytes(self.buf)[: MAX_HEADER_BYTES + 3]):
            peer = self.conn.peername
            log.warning(
                "refused a request from %s: headers over %d bytes",
                f"{peer[0]}:{peer[1]}" if peer else "?", MAX_HEADER_BYTES,
            )
            message = f"request headers are over the limit of {MAX_HEADER_BYTES} bytes"
            yield commands.SendData(self.conn, _http1.make_error_response(431, message))
            yield commands.CloseConnection(self.conn)
            self.state = self.done
            return
    yield from _original(self, event)


def install() -> None:
    """Bound request heads in every HTTP/1 connection mitmproxy serves from now on. Idempotent."""
    _http1.Http1Server.read_headers = _bounded_read_headers  # type: ignore[method-assign]
