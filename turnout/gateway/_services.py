"""Reaching the modern JSON services through the transport seam: one base URL per service.

An https:// service is reached with its own CA bundle and client certificate (`services: {pnc:
{url:, ca:, client_cert:, client_key:}}`), certificate and host name always verified; one whose
certificate cannot be verified gets nothing (`service.certificate`, never acted on).
"""

from __future__ import annotations

import json
import ssl
from urllib.parse import urlencode

from ..config import PeerTls
from ..translators import JsonCall, JsonReply
from ..transport import Outbound, Timeouts, Transport, TransportError

#: a modern service's reply larger than this is refused as unusable
MAX_REPLY_BYTES = 4 * 1024 * 1024

_WORDING = {
    "timeout": "{service} did not answer within {timeout:g} s",
    "certificate": "{service} presented {why}; nothing was sent to it",
    "tls": "{why} with {service}; nothing was sent to it",
    "connect": "{service} is {why}",
    "broken": "{service} {why}",
    "too-large": "{service} sent an {why}",
}
_KINDS = {"connect": "service.unreachable", "too-large": "service.too-large"}


class ServiceError(Exception):
    """A call to a modern service failed. `may_have_acted` is False only when the request
    certainly never reached the service (the connection was refused), so a write is safe."""

    def __init__(self, kind: str, message: str, may_have_acted: bool) -> None:
        super().__init__(message)
        self.kind = kind
        self.may_have_acted = may_have_acted


class ServiceClients:
    """Base URLs by service name, every call through one transport, made exactly once."""

    def __init__(self, services: dict[str, str], transport: Transport,
                 tls: dict[str, PeerTls] | None = None) -> None:
        self.services = {name: url.rstrip("/") for name, url in services.items()}
        self.transport = transport
        #: service name -> the context its https:// URL is reached with (verification always on)
        self._ssl: dict[str, ssl.SSLContext] = {
            name: (tls or {}).get(name, PeerTls()).ssl_context()
            for name, url in self.services.items() if url.lower().startswith("https://")
        }

    def url_for(self, call: JsonCall) -> str:
        base = self.services.get(call.service)
        if base is None:
            raise ServiceError("service.unknown", f"no URL configured for service {call.service!r}", False)
        url = base + call.path
        if call.query:
            url += "?" + urlencode(call.query)
        return url

    async def call(self, call: JsonCall, timeout: float) -> JsonReply:
        url = self.url_for(call)
        headers = dict(call.headers)
        data = None
        if call.body is not None:
            data = json.dumps(call.body, ensure_ascii=False).encode("utf-8")
            headers.setdefault("Content-Type", "application/json")
        headers.setdefault("Accept", "application/json, application/problem+json")
        outbound = Outbound(call.method, url, list(headers.items()), data, self._ssl.get(call.service))
        try:
            reply = await self.transport.send(outbound, timeouts=Timeouts(total=timeout, connect=timeout),
                                              max_body=MAX_REPLY_BYTES)
        except TransportError as exc:
            kind = _KINDS.get(exc.kind, f"service.{exc.kind}")
            message = _WORDING[exc.kind].format(service=call.service, timeout=timeout, why=exc)
            raise ServiceError(kind, message, exc.sent) from None
        assert not hasattr(reply, "chunks")  # never streamed: over the bound raised too-large
        return JsonReply(status=reply.status, headers=tuple(reply.headers), body=_json_or_none(reply.body))


def _json_or_none(raw: bytes) -> object:
    """The decoded JSON body, or None for an empty or non-JSON one (the translator decides)."""
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
