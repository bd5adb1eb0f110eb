"""One client connection of the fast host: read a request, hand it to the gateway, write the answer.

An asyncio protocol, one request at a time (no pipelining: bytes that arrive while a request is
served wait in the buffer, as with mitmproxy). What the mitmproxy host does with addons and
patches is done here in line, with the same counters and the same Faults (`_host_faults`):
- a head over 64 KiB: Fault 431 `proxy.http-431`, closed; a head that cannot be read or framed
  (both Content-Length and Transfer-Encoding, say): Fault 400 `proxy.http-400`, closed;
- a body over `limits.max_bytes`, declared or while it arrives: Fault `threat.too-large` (HTTP
  500), closed, recorded as refused through `Gateway.unanswered(..., too_large=True)`;
- a body not complete `timeouts.client_body` seconds after its head: Fault `client.body-timeout`,
  closed (`client-body-timeout`);
- no complete head within `timeouts.client_header` seconds of connecting or of the last answer:
  closed (`connections.idle-closed`); over the per-client or total bound: closed at once;
- `Expect: 100-continue` answered here; trailers dropped; an answer too large to hold passed on
  chunk by chunk, awaiting the client between chunks, then the connection closed.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from ..gateway import Handled, Peer, answer_of, fault_answer, fault_of, is_power_of_ten
from ..soap import SOAP11, Fault, HttpRequest, HttpResponse, version_for_content_type
from . import _host_faults
from ._fast_request import BLANK_LINE, BadRequest, ChunkedBody, RequestHead, parse_head
from ._wire import head_of, streamed_head

if TYPE_CHECKING:
    from ._fast_host import FastHost

log = logging.getLogger("turnout.proxy")

_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
#: bytes a busy connection buffers before it stops reading from its client
_PAUSE_AT = 256 * 1024


class ClientConnection(asyncio.Protocol):
    def __init__(self, host: FastHost) -> None:
        self.host = host
        self.transport: Any = None
        self.peer = Peer()
        self.buf = bytearray()
        #: the request being read (its head is in), None between requests
        self.head: RequestHead | None = None
        self._chunked: ChunkedBody | None = None
        #: a request is with the gateway or its answer is being written
        self.busy = False
        self.closed = False
        #: requests answered on this connection (0: a fresh one, its first request yet to come)
        self.answered = 0
        self.connected_at = 0.0
        self._admitted = False
        self._header_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._reading_paused = False
        self._writing_paused = False
        self._drained: asyncio.Future[None] | None = None

    # --- asyncio's callbacks ---------------------------------------------------------------

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.connected_at = asyncio.get_running_loop().time()
        peer = transport.get_extra_info("peername")
        self.peer = Peer(str(peer[0]), int(peer[1])) if peer else Peer()
        if not self.host.limits.admit(self.peer.host):
            transport.close()  # at once, and before a byte is read (as the mitmproxy host does)
            return
        self._admitted = True
        self.host.connections.add(self)
        # accepted, even if the host has stopped listening since: its client has sent, or is
        # sending, a request it cannot know to send elsewhere; it is served, then closed
        self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._cancel_timers()
        if self._admitted:
            self._admitted = False
            self.host.limits.release(self.peer.host)
            self.host.connections.discard(self)
        if self.head is not None and not self.busy:  # went away in the middle of a body
            head, self.head = self.head, None
            self.host.request_done()
            self.host.gateway.unanswered(None, self._request(head), self.peer,
                                         "client disconnected before the request body was complete")
        waiter, self._drained = self._drained, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(ConnectionResetError("the client went away"))

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if self.busy:
            if len(self.buf) > _PAUSE_AT and not self._reading_paused:
                self._reading_paused = True
                self.transport.pause_reading()
            return
        try:
            self._advance()
        except Exception:  # noqa: BLE001 - a bug in reading ends in a Fault, never a silent close
            log.exception("the fast host could not read a request from %s", self.peer)
            self._broken_read()

    def eof_received(self) -> bool:
        # A client that sent its FIN wants nothing more from us (mitmproxy's reading too).
        return False

    def pause_writing(self) -> None:
        self._writing_paused = True

    def resume_writing(self) -> None:
        self._writing_paused = False
        waiter, self._drained = self._drained, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # --- reading a request -----------------------------------------------------------------

    def _advance(self) -> None:
        while not self.busy and not self.closed:
            if self.head is None and not self._read_head():
                return
            if not self._read_body():
                return

    def _read_head(self) -> bool:
        buf = self.buf
        while buf[:1] == b"\n" or buf[:2] == b"\r\n":  # blank lines before a request (h11)
            del buf[: 1 if buf[:1] == b"\n" else 2]
        match = BLANK_LINE.search(buf, 0, _host_faults.MAX_HEADER_BYTES + 3)
        if match is None:
            if len(buf) > _host_faults.MAX_HEADER_BYTES:
                log.warning("refused a request from %s: headers over %d bytes", self.peer,
                            _host_faults.MAX_HEADER_BYTES)
                message = f"request headers are over the limit of {_host_faults.MAX_HEADER_BYTES} bytes"
                self._refuse(_host_faults.refusal(431, message))
            return False
        raw = bytes(buf[: match.start()])
        del buf[: match.end()]
        try:
            head = parse_head(raw)
        except BadRequest as exc:
            log.info("%s: %s", self.peer, exc)
            version = version_for_content_type(_content_type(exc.head.headers)) if exc.head else None
            if exc.head is not None:
                self.host.gateway.unanswered(None, self._request(exc.head), self.peer, str(exc))
            self._refuse(_host_faults.refusal(400, str(exc), version=version) if version
                         else _host_faults.refusal(400, str(exc)))
            return False
        self._cancel_header_timer()
        self.host.request_started()
        self.head = head
        host = self.host
        if host.host_header is not None:
            head.headers = _with_host(head.headers, host.host_header)
        if head.length is not None and head.length > host.max_bytes:
            self._too_large()
            return False
        if head.expect_continue:
            self.transport.write(_CONTINUE)
        if head.length is None:
            self._chunked = ChunkedBody()
        elif head.length == 0:
            return True
        if host.body_timeout:
            self._body_timer = asyncio.get_running_loop().call_later(host.body_timeout, self._body_expired)
        return True

    def _read_body(self) -> bool:
        """Take the body of `self.head` from the buffer; dispatch the request once it is whole."""
        head = self.head
        assert head is not None
        buf = self.buf
        chunked = self._chunked
        if chunked is None:
            length = head.length or 0
            if len(buf) < length:
                return False
            body = bytes(buf[:length])
            del buf[:length]
        else:
            try:
                chunked.feed(buf)
            except BadRequest as exc:
                self._refuse_body(400, str(exc))
                return False
            if len(chunked.body) > self.host.max_bytes:
                self._too_large()
                return False
            if not chunked.done:
                return False
            body = bytes(chunked.body)
            self._chunked = None
            if chunked.dropped_trailers:
                self.host.trailers_dropped += 1
                if is_power_of_ten(self.host.trailers_dropped):
                    log.warning("dropped the trailer fields of %d chunked requests so far",
                                self.host.trailers_dropped)
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None
        self.head = None
        self.busy = True
        request = HttpRequest(head.method, head.target, head.headers, body)
        self.host.spawn(self._serve(request, head.keep_alive, head.version))
        return True

    def _request(self, head: RequestHead) -> HttpRequest:
        """What is known of a request that never reached the gateway, for its audit line."""
        body = bytes(self._chunked.body) if self._chunked is not None else b""
        return HttpRequest(head.method, head.target, head.headers, body)

    # --- answering -------------------------------------------------------------------------

    async def _serve(self, request: HttpRequest, keep_alive: bool, version: str) -> None:
        gateway = self.host.gateway
        handled: Handled | None = None
        keep = False
        try:
            handled = await gateway.handle(request, self.peer)
            if handled.stream is not None:
                await self._pass_on(handled)
                return
            response = handled.response
            assert response is not None
            if self.closed:
                gateway.unanswered(handled.note, request, self.peer, "client disconnected before the answer")
                return
            keep = keep_alive and not (self.host.stopping or self.host.draining)
            connection = None if keep and version == "HTTP/1.1" else ("keep-alive" if keep else "close")
            self.transport.write(head_of(response, connection) + response.body)
            gateway.finish(handled, response.status)
        except Exception:  # noqa: BLE001 - never a stack trace to the client: a Fault
            log.exception("the fast host failed on %s %s", request.method, request.path)
            keep = False
            self._answer_internal(handled, request)
        finally:
            self.host.request_done()
            self.busy = False
            self.answered += 1
            if keep and not self.closed:
                self._arm_header_timer()
                if self._reading_paused:
                    self._reading_paused = False
                    self.transport.resume_reading()
                if self.buf:
                    self._advance()
            else:
                self.close()

    def _answer_internal(self, handled: Handled | None, request: HttpRequest) -> None:
        if self.closed:
            return
        if handled is not None:
            response = fault_of(handled.note, "internal", "the proxy could not answer", method=request.method)
        else:
            version = version_for_content_type(request.header("content-type"))
            fault = Fault("the request could not be answered", sender=False, kind="internal")
            response = answer_of(fault_answer(version, fault), request.method)
        try:
            self.transport.write(head_of(response, "close") + response.body)
        except Exception:  # noqa: BLE001 - the connection is going away regardless
            return
        if handled is not None and handled.stream is None:
            handled.response = response
            self.host.gateway.finish(handled, response.status)

    async def _pass_on(self, handled: Handled) -> None:
        """An answer too large to hold: its head, then its chunks as they come, then close."""
        stream = handled.stream
        assert stream is not None
        broken: str | None = None
        try:
            if self.closed:
                raise ConnectionResetError("the client went away")
            head = handled.note.streamed if handled.note.streamed is not None else stream.head
            self.transport.write(streamed_head(head))
            async for chunk in stream.chunks():
                if self.closed:
                    raise ConnectionResetError("the client went away")
                self.transport.write(chunk)
                if self._writing_paused:
                    await self._drain()
        except Exception as exc:  # noqa: BLE001 - the client or the bus went away mid-stream
            broken = type(exc).__name__
        finally:
            stream.release()
            self.close()
        self.host.gateway.streamed(handled, broken)

    async def _drain(self) -> None:
        if self.closed:
            raise ConnectionResetError("the client went away")
        if self._drained is None or self._drained.done():
            self._drained = asyncio.get_running_loop().create_future()
        await self._drained

    def _broken_read(self) -> None:
        head = self.head
        version = version_for_content_type(_content_type(head.headers)) if head is not None else None
        fault = Fault("the request could not be read", sender=False, kind="internal")
        response = answer_of(fault_answer(version or SOAP11, fault))
        if head is not None:
            message = "internal: the request could not be read"
            self.host.gateway.unanswered(None, self._request(head), self.peer, message)
        self._refuse(response)

    # --- refusing --------------------------------------------------------------------------

    def _refuse(self, response: HttpResponse) -> None:
        """Write a Fault the host answers itself, and close."""
        if self.head is not None:
            self.head = None
            self.host.request_done()
        if not self.closed:
            self.transport.write(head_of(response) + response.body)
        self.close()

    def _refuse_body(self, status: int, message: str) -> None:
        head = self.head
        assert head is not None
        version = version_for_content_type(_content_type(head.headers))
        self.host.gateway.unanswered(None, self._request(head), self.peer, message)
        self._refuse(_host_faults.refusal(status, message, version=version))

    def _too_large(self) -> None:
        head = self.head
        assert head is not None
        host = self.host
        version = version_for_content_type(_content_type(head.headers))
        request = HttpRequest(head.method, head.target, head.headers, b"")
        host.gateway.unanswered(None, request, self.peer, "request body over limits.max_bytes", too_large=True)
        self._refuse(_host_faults.refusal(413, limit_bytes=host.max_bytes, version=version))

    def _body_expired(self) -> None:
        self._body_timer = None
        head = self.head
        if head is None or self.busy or self.closed:
            return
        host = self.host
        host.gateway.state.stats.count("client-body-timeout")
        log.warning("closing %s: request body not complete %g s after its headers", self.peer, host.body_timeout)
        host.gateway.unanswered(None, self._request(head), self.peer, "client body timeout")
        version = version_for_content_type(_content_type(head.headers))
        self._refuse(_host_faults.body_timeout(version, host.body_timeout))

    # --- timers and closing ----------------------------------------------------------------

    def _arm_header_timer(self) -> None:
        seconds = self.host.header_timeout
        if seconds:
            self._cancel_header_timer()
            self._header_timer = asyncio.get_running_loop().call_later(seconds, self._header_expired)

    def _header_expired(self) -> None:
        self._header_timer = None
        if self.busy or self.head is not None or self.closed:
            return
        self.host.gateway.state.stats.count("connections.idle-closed")
        self.close()

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _cancel_timers(self) -> None:
        self._cancel_header_timer()
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None

    @property
    def idle(self) -> bool:
        """Between requests, with nothing of the next one read."""
        return not self.busy and self.head is None and not self.buf

    @property
    def kept_alive(self) -> bool:
        """Idle after answering a request (the client was told it may send another): safe to
        close when stopping. A fresh connection is not: its first request is on its way."""
        return self.idle and self.answered > 0

    def close(self) -> None:
        self._cancel_timers()
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()


def _content_type(headers: list[tuple[str, str]]) -> str | None:
    for name, value in headers:
        if name.lower() == "content-type":
            return value
    return None


def _with_host(headers: list[tuple[str, str]], host: str) -> list[tuple[str, str]]:
    """`headers` with the Host the bus is reached by, in place of the client's (mitmproxy's reverse
    mode does the same when `keep_host_header` is off)."""
    out: list[tuple[str, str]] = []
    placed = False
    for name, value in headers:
        if name.lower() == "host":
            if not placed:
                out.append((name, host))
                placed = True
            continue
        out.append((name, value))
    if not placed:
        out.append(("Host", host))
    return out
