"""The mitmproxy adapter: one addon that hands each flow to the gateway and its answer back.

Everything Turnout decides about a request lives in `turnout.gateway`; this addon only turns a
flow into an `HttpRequest`, awaits `Gateway.handle`, and sets the flow's response (or streams
an answer too large to hold straight to the client). It always sets a response: mitmproxy's
default for a flow without one is to forward the request to the bus itself, which must never
happen by accident (a moved write would reach the bus).
"""

from __future__ import annotations

import logging

from mitmproxy import http

from ..gateway import Gateway, Handled, Peer, fault_of
from ._convert import request_of, to_mitmproxy
from ._pass_large import pass_on

log = logging.getLogger("turnout.proxy")

META_KEY = "turnout"


def peer_of(flow: http.HTTPFlow) -> Peer:
    peer = flow.client_conn.peername
    return Peer(peer[0], peer[1]) if peer else Peer()


class GatewayAddon:
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    async def request(self, flow: http.HTTPFlow) -> None:
        if flow.response is not None:  # answered by a host part before the gateway
            return
        handled: Handled | None = None
        try:
            handled = await self.gateway.handle(request_of(flow), peer_of(flow))
            flow.metadata[META_KEY] = handled
            if handled.stream is None:
                assert handled.response is not None
                flow.response = to_mitmproxy(handled.response, flow.request.method)
                return
            await self._pass_on(flow, handled)
        except Exception:  # noqa: BLE001 - never let mitmproxy forward by default
            log.exception("the mitmproxy adapter failed on %s", flow.request.path)
            if handled is not None:
                flow.response = to_mitmproxy(fault_of(handled.note, "internal", "the proxy could not answer"))

    async def _pass_on(self, flow: http.HTTPFlow, handled: Handled) -> None:
        assert handled.stream is not None
        try:
            sent = await pass_on(flow, handled.stream)
        except Exception as exc:  # noqa: BLE001 - the client or the bus went away mid-stream
            handled.note.notes.append(f"stream broken: {type(exc).__name__}")
            flow.kill()
            return
        if sent is None:
            handled.stream = None
            handled.note.streamed = None
            handled.response = fault_of(handled.note, "internal", "the answer could not be passed on")
            flow.response = to_mitmproxy(handled.response, flow.request.method)

    def response(self, flow: http.HTTPFlow) -> None:
        handled: Handled | None = flow.metadata.get(META_KEY)
        if handled is None or flow.response is None:
            return
        handled.response = handled.response if handled.stream is None else None
        self.gateway.finish(handled, flow.response.status_code)

    def error(self, flow: http.HTTPFlow) -> None:
        """A flow that ended without a response: refused for size, the client went away, or an
        answer too large to hold that was passed on and the connection closed."""
        if flow.response is not None:
            return
        handled: Handled | None = flow.metadata.get(META_KEY)
        if handled is not None and handled.note.streamed is not None:
            self.gateway.streamed(handled)
            return
        message = flow.error.msg if flow.error else "unknown error"
        self.gateway.unanswered(handled.note if handled else None, request_of(flow), peer_of(flow),
                                message, too_large="body_size_limit" in message)


class NoDefaultForwarding:
    """The last addon in the chain: a flow that reaches it with no response and not killed gets
    a Fault. mitmproxy logs an addon's exception and carries on, and its default for a flow
    with no response is to forward the request itself: a bug that escapes `GatewayAddon` must
    still never let a request (a moved write) reach the bus."""

    def request(self, flow: http.HTTPFlow) -> None:
        if flow.response is not None or flow.error is not None:
            return
        log.error("%s %s reached the end of the addons unanswered; answering a Fault",
                  flow.request.method, flow.request.path)
        from ..gateway import answer_of, fault_answer
        from ..soap import Fault, version_for_content_type

        version = version_for_content_type(flow.request.headers.get("content-type"))
        fault = Fault("the request could not be answered", sender=False, kind="internal")
        flow.response = to_mitmproxy(answer_of(fault_answer(version, fault)), flow.request.method)
