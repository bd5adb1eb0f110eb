"""Compressed bodies are stored decoded, so they are redacted, read and compared like any other.

A bus behind mod_deflate answers `Content-Encoding: gzip` to every client that accepts it (zeep
and node-soap do), and some clients compress what they send. Kept as sent, such a body is
bytes no rule can read: nothing in it is redacted (it is omitted, or stored raw when there are
no rules), compare and readiness see "not XML", and `recordings scan` sees base64. So the
store decodes each message's body first, within bounds, and writes it without
`Content-Encoding` and `Content-Length` (they described the bytes on the wire, not the bytes
on disk), with a note naming what was decoded. A body that cannot be decoded is omitted, its
hash and length kept, as for any body that cannot be redacted.
"""

from __future__ import annotations

import copy
import hashlib
import logging

from turnout.soap import Headers, HttpRequest, HttpResponse, XmlThreat, decode_content, is_encoded

from ._exchange import Exchange, OmittedBody

log = logging.getLogger("turnout.recording")

#: the largest decoded body the store keeps (a store setting); SOAP bodies are far smaller
DEFAULT_MAX_DECODED = 64 * 1024 * 1024

#: headers that describe the encoded bytes, dropped once the body is stored decoded
_WIRE_HEADERS = frozenset({"content-encoding", "content-length"})


def content_encoding(headers: Headers) -> str | None:
    """Every Content-Encoding header's value joined in order (several lines are one list)."""
    values = [value for name, value in headers if name.lower() == "content-encoding"]
    return ", ".join(values) if values else None


def decode_bodies(exchange: Exchange, max_bytes: int = DEFAULT_MAX_DECODED) -> Exchange:
    """`exchange` with each compressed body (request, response, translated) decoded.

    Returns `exchange` itself when nothing was compressed, else a copy; the original is not
    changed. A body that fails to decode is omitted with the decoder's reason (`bad-encoding`,
    `unsupported-encoding`, `too-large`, `compression-ratio`).
    """
    messages: list[tuple[str, HttpRequest | HttpResponse]] = [("request", exchange.request)]
    if exchange.response is not None:
        messages.append(("response", exchange.response))
    if exchange.translated is not None:
        messages.append(("translated", exchange.translated))
    todo = [
        (which, message) for which, message in messages
        if message.body and which not in exchange.omitted_bodies
        and is_encoded(content_encoding(message.headers))
    ]
    if not todo:
        return exchange
    result = copy.copy(exchange)
    result.notes = list(exchange.notes)
    result.omitted_bodies = dict(exchange.omitted_bodies)
    for which, message in todo:
        coding = content_encoding(message.headers)
        assert coding is not None
        copied = copy.copy(message)
        copied.headers = list(message.headers)
        setattr(result, which, copied)
        try:
            decoded = decode_content(message.body, coding, max_bytes)
        except XmlThreat as exc:
            log.info("%s body not recorded: cannot decode %s (%s)", which, coding, exc.kind)
            result.omitted_bodies[which] = OmittedBody(
                reason=exc.kind,
                sha256=hashlib.sha256(message.body).hexdigest(),
                length=len(message.body),
            )
            copied.body = b""
            result.notes.append(f"{which}: could not decode {coding} ({exc.kind})")
            continue
        copied.body = decoded
        copied.headers = [(k, v) for k, v in message.headers if k.lower() not in _WIRE_HEADERS]
        result.notes.append(f"{which}: decoded {coding} from {len(message.body)} bytes")
    return result
