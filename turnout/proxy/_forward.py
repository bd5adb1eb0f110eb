"""LegacyForwarder: sends what the guard let through to the legacy bus, with its own timeouts.

An upstream failure becomes a SOAP Fault of the caller's version that says what happened,
never mitmproxy's HTML 502 page. The hook catches everything it can foresee and turns the rest
into a Fault too: mitmproxy's default, when a hook raises, is to forward the request anyway.
"""

from __future__ import annotations

import logging

from mitmproxy import http

from ..soap import Fault, HttpResponse, version_for_content_type
from ._convert import fault_response, request_of, to_mitmproxy
from ._inspect import Inspection
from ._state import META_KEY, FlowNote, ProxyState
from ._pass_large import pass_on
from ._upstream import Oversized, UpstreamClient, UpstreamError, UpstreamTimeouts

log = logging.getLogger("turnout.proxy")


class LegacyForwarder:
    def __init__(self, state: ProxyState) -> None:
        self.state = state
        self.client: UpstreamClient | None = None

    def _ensure_client(self) -> UpstreamClient:
        config = self.state.config
        assert config is not None
        if self.client is None:  # created lazily: an aiohttp session belongs to the running loop
            self.client = UpstreamClient(
                config.upstream, UpstreamTimeouts(config.upstream_timeout, config.connect_timeout),
                tls=config.upstream_tls,
            )
        return self.client

    async def request(self, flow: http.HTTPFlow) -> None:
        if flow.response is not None or self.state.config is None:
            return
        note: FlowNote | None = flow.metadata.get(META_KEY)
        if note is None:  # the guard did not run (should not happen); be safe, not silent
            log.error("flow reached the forwarder without inspection; answering a fault")
            version = version_for_content_type(flow.request.headers.get("content-type"))
            flow.response = _fault(Inspection(version), "internal", "request was not inspected", sender=False)
            return
        if not note.forward_allowed:  # a translated route whose router did not finish
            log.error("%s: not forwarded to the bus: its route does not allow it", note.inspection.operation)
            note.outcome = "translator-fault"
            flow.response = _fault(note.inspection, "internal", "the request could not be answered", sender=False)
            return
        try:
            response, upstream_ms = await self._ensure_client().send(
                note.request or request_of(flow), self.state.config.max_response_bytes
            )
        except UpstreamError as exc:
            self.state.stats.count(exc.kind)
            log.error("%s: %s", note.inspection.operation or flow.request.path, exc)
            note.outcome = "upstream-error"
            note.notes.append(exc.kind)
            flow.response = _fault(note.inspection, exc.kind, str(exc), sender=False)
            return
        except Exception as exc:  # noqa: BLE001 - a bug here must not let mitmproxy forward
            log.exception("forwarding failed unexpectedly")
            note.outcome = "upstream-error"
            note.notes.append("internal")
            flow.response = _fault(note.inspection, "internal", f"proxy error: {type(exc).__name__}", sender=False)
            return
        note.upstream_ms = upstream_ms
        if isinstance(response, Oversized):
            await self._pass_on_large(flow, note, response)
            return
        flow.response = to_mitmproxy(response, flow.request.method)

    async def _pass_on_large(self, flow: http.HTTPFlow, note: FlowNote, answer: Oversized) -> None:
        """Over `limits.max_response_bytes`: to the client as it arrives, never held; recorded
        without its body, never diffed."""
        self.state.stats.count("response.too-large")
        note.notes.append("response-not-held: over limits.max_response_bytes")
        note.streamed = HttpResponse(answer.head.status, answer.head.headers, b"", answer.head.reason)
        try:
            sent = await pass_on(flow, answer)
        except Exception as exc:  # noqa: BLE001 - the client or the bus went away mid-stream
            note.notes.append(f"stream broken: {type(exc).__name__}")
            flow.kill()
            return
        if sent is None:
            flow.response = _fault(note.inspection, "internal", "the answer could not be passed on", sender=False)

    async def done(self) -> None:
        if self.client is not None:
            await self.client.close()
            self.client = None


def _fault(inspection: Inspection, kind: str, reason: str, sender: bool = True) -> http.Response:
    return fault_response(inspection.version, Fault(reason, sender=sender, kind=kind))
