"""Attachments (MTOM / SwA) travelling with a request envelope to a translator.

They travel on the envelope itself: `turnout.soap.Envelope.attachments`, filled by
`turnout.soap.read_message` (the proxy, shadow runs, golden tests and compare all read requests
with it) from a multipart/related body's parts. A mapping's `attachment:` values resolve
`xop:Include href="cid:..."` and SwA `cid:` references against them. The names below came first
and still work: `AttachedEnvelope` is `Envelope`, `with_attachments` a copy carrying given parts.
"""

from __future__ import annotations

from dataclasses import replace

from ..soap import Envelope, MimePart, RelatedParts

#: an envelope with the MIME parts that came with it: every `Envelope` now (kept as a name)
AttachedEnvelope = Envelope


def with_attachments(
    envelope: Envelope, parts: RelatedParts | tuple[MimePart, ...]
) -> Envelope:
    """`envelope` carrying `parts`' attachments (a split body, or the parts themselves), for an
    envelope read without them (`read_envelope` on a root part)."""
    attachments = parts.attachments if isinstance(parts, RelatedParts) else tuple(parts)
    return replace(envelope, attachments=attachments)


def attachments_of(envelope: Envelope) -> tuple[MimePart, ...]:
    return envelope.attachments
