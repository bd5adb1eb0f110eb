"""An envelope from an HTTP body as it was sent: plain XML, or MTOM / SwA with its attachments.

An MTOM or SwA request is a multipart/related body: the root part is the envelope, the other
parts its attachments (an `xop:Include href="cid:..."` in the Body, or a SwA `cid:` reference,
names one). Everything that reads a request (the proxy, shadow runs, golden tests and offline
compare over a recording) reads it here, so a translator gets the same envelope, attachments
included, whichever of them hands it over.

Bounds: the attachments are parts of the body, so the body's own bound (`XmlLimits.max_bytes`,
which the hosts enforce before a request is read) bounds them all; `split_related` refuses more
than `max_parts` parts. Every XML part but the root passes the same guard as the envelope,
XInclude included (a bus resolving `xop:Include`, or reading an attachment as XML, parses it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from ._envelope import Envelope, envelope_threats, read_envelope
from ._multipart import MultipartUnreadable, is_multipart_related, split_related, xml_parts
from ._parser import DEFAULT_LIMITS, XmlLimits, parse_xml
from ._version import _header

#: the most parts a multipart/related request may have (the root and its attachments)
DEFAULT_MAX_PARTS = 64


def read_message(
    body: bytes,
    path: str,
    headers: Mapping[str, str] | None = None,
    limits: XmlLimits = DEFAULT_LIMITS,
) -> Envelope:
    """The envelope `body` carries, posted to `path` with `headers`: a multipart/related body
    (its Content-Type says so) is split and its root read, with the other parts as the
    envelope's `attachments`; any other body is read as it is (`read_envelope`).

    Raises what `read_envelope` and `split_related` raise.
    """
    content_type = _header(headers, "content-type") if headers is not None else None
    if content_type is not None and is_multipart_related(content_type):
        return read_related(body, content_type, path, headers, limits)
    return read_envelope(body, path, headers, limits)


def read_related(
    body: bytes,
    content_type: str,
    path: str,
    headers: Mapping[str, str] | None = None,
    limits: XmlLimits = DEFAULT_LIMITS,
    max_parts: int = DEFAULT_MAX_PARTS,
) -> Envelope:
    """A multipart/related `body`: its root part read as the envelope, carrying every other part
    as `attachments`. A broken body is unreadable (`MultipartUnreadable`), but the XML parts read
    before the break are still checked for threats first."""
    try:
        related = split_related(body, content_type, max_parts)
    except MultipartUnreadable as broken:
        for part in broken.parts:
            if part.is_xml:
                parse_xml(part.content, limits, check=envelope_threats)
        raise
    for part in xml_parts(related):
        parse_xml(part.content, limits, check=envelope_threats)
    envelope = read_envelope(related.root.content, path, headers, limits)
    return replace(envelope, attachments=related.attachments)
