"""Reading a request once, the way the bus will: target normalised, body decoded, envelope named.

Everything the router, the forwarder and the recorder decide rests on this one reading, so it
reads what the bus will execute, not what the client's bytes look like: the path as the bus
resolves it (`turnout.soap.normalise_target`), the body after its Content-Encoding is undone
(bounded), and every method that carries a body, not just POST. An MTOM or SwA body
(multipart/related) is split: its root is the envelope, and the other parts travel with it as
the envelope's `attachments`, so a translator's `attachment:` values find them. The bus itself
still receives the bytes the client sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..soap import (
    BadTarget,
    Envelope,
    Fault,
    HttpRequest,
    SoapVersion,
    Target,
    XmlLimits,
    XmlThreat,
    XmlUnreadable,
    decode_content,
    headers_dict,
    is_encoded,
    is_multipart_related,
    normalise_target,
    read_envelope,
    read_related,
    version_for_content_type,
)


@dataclass(slots=True)
class ReadRequest:
    """What one request is, before any route is looked at."""

    version: SoapVersion
    #: the normalised target; None only when the target was refused
    target: Target | None = None
    envelope: Envelope | None = None
    #: passthrough (no body to read) | readable | unreadable | rejected
    reading: str = "readable"
    notes: list[str] = field(default_factory=list)
    #: the refusal the proxy answers with itself (HTTP status and Fault), or None
    refusal: tuple[int, Fault] | None = None
    #: the body as the bus will read it (decoded); the request's own bytes when not encoded
    body: bytes = b""
    #: the request's headers for lookups (`headers_dict`: lower-case names, first values), built
    #: once per request; never for forwarding
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def service(self) -> str | None:
        """The normalised service path (no query, no trailing slash), when the target was read."""
        if self.target is None:
            return None
        return self.target.path.rstrip("/") or "/"


#: methods that carry no body by definition; with an empty body they pass unread (WSDL GETs)
_BODYLESS_OK = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})


def read_request(
    request: HttpRequest, limits: XmlLimits, case_insensitive_paths: bool = False
) -> ReadRequest:
    headers = headers_dict(request.headers)
    guessed = version_for_content_type(headers.get("content-type"))
    try:
        target = normalise_target(request.path, case_insensitive_paths)
    except BadTarget as bad:
        fault = Fault(f"Request refused by the proxy: {bad}", sender=True, kind=f"request.{bad.kind}")
        return ReadRequest(guessed, reading="rejected", notes=[f"bad-target:{bad.kind}"],
                           refusal=(400, fault), body=request.body, headers=headers)
    if not request.body and request.method.upper() in _BODYLESS_OK:
        return ReadRequest(guessed, target, reading="passthrough", body=request.body, headers=headers)
    body = request.body
    notes: list[str] = []
    try:
        encoding = headers.get("content-encoding")
        if is_encoded(encoding):
            body = decode_content(body, encoding, limits.max_bytes)
            notes.append(f"decoded:{encoding}")
        content_type = headers.get("content-type")
        if is_multipart_related(content_type):
            assert content_type is not None
            envelope = read_related(body, content_type, target.path, headers, limits)
            notes.append("multipart/related")
        else:
            envelope = read_envelope(body, target.path, headers, limits)
    except XmlThreat as threat:
        fault = Fault(f"Request refused by the proxy: {threat}", sender=True, kind=f"threat.{threat.kind}")
        return ReadRequest(guessed, target, reading="rejected", notes=[*notes, f"threat:{threat.kind}"],
                           refusal=(500, fault), body=body, headers=headers)
    except XmlUnreadable as problem:
        return ReadRequest(guessed, target, reading="unreadable",
                           notes=[*notes, f"unreadable: {problem}"], body=body, headers=headers)
    return ReadRequest(envelope.version, target, envelope, notes=notes, body=body, headers=headers)

