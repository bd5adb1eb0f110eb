"""ClientBodyTimeout: cuts off a client that does not finish sending its request body in time.

mitmproxy's only client timeout is ten minutes of silence, so a client that dribbles one byte now
and then holds a connection, and a growing buffer, for as long as it likes. `flow.kill()` does not
help: mitmproxy honours it only when a hook returns, and no hook runs while a body arrives. So
when a body is still incomplete `timeouts.client_body` seconds after its headers, we write a SOAP
Fault to the client and close the connection the way mitmproxy's own inactivity watchdog does,
by cancelling the task that reads it. That handler is private API of the pinned mitmproxy 11.x.
"""

from __future__ import annotations

import asyncio
import logging

from mitmproxy import http
from mitmproxy.net.http import http1

from ..gateway import ProxyState, answer_of, fault_answer
from ..soap import Fault, version_for_content_type
from ._client_io import client_io
from ._convert import to_mitmproxy

log = logging.getLogger("turnout.proxy")


class ClientBodyTimeout:
    def __init__(self, state: ProxyState) -> None:
        self.state = state
        #: flow id -> the timer that cuts it off; cancelled as soon as the body is complete
        self._timers: dict[str, asyncio.TimerHandle] = {}

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        config = self.state.config
        if config is None or not config.client_body_timeout:
            return
        loop = asyncio.get_running_loop()
        self._timers[flow.id] = loop.call_later(config.client_body_timeout, self._expire, flow)

    def request(self, flow: http.HTTPFlow) -> None:  # the whole body has arrived
        self._cancel(flow)

    def error(self, flow: http.HTTPFlow) -> None:
        self._cancel(flow)

    def response(self, flow: http.HTTPFlow) -> None:
        self._cancel(flow)

    def done(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()

    def _cancel(self, flow: http.HTTPFlow) -> None:
        timer = self._timers.pop(flow.id, None)
        if timer is not None:
            timer.cancel()

    def _expire(self, flow: http.HTTPFlow) -> None:
        self._timers.pop(flow.id, None)
        if flow.request.timestamp_end is not None or flow.response is not None or not flow.live:
            return  # complete, answered or already ended
        io = client_io(flow.client_conn.id)
        if io is None:
            return  # the connection is already gone
        config = self.state.config
        seconds = config.client_body_timeout if config else 0
        self.state.stats.count("client-body-timeout")
        peer = flow.client_conn.peername
        log.warning(
            "closing %s: request body not complete %g s after its headers",
            f"{peer[0]}:{peer[1]}" if peer else "?", seconds,
        )
        if io.writer is not None and not io.writer.is_closing():
            version = version_for_content_type(flow.request.headers.get("content-type"))
            fault = Fault(
                f"Request refused by the proxy: the body did not arrive within {seconds:g} s",
                sender=True, kind="client.body-timeout",
            )
            response = to_mitmproxy(answer_of(fault_answer(version, fault)))
            response.headers["Connection"] = "close"
            io.writer.write(http1.assemble_response(response))
        io.handler.cancel("client body timeout")
