"""Attachments (MTOM / SwA) travelling with a request envelope to a translator.

`turnout.soap.Envelope` is the envelope alone: an MTOM or SwA request is split first
(`split_related`) and its root part read as the envelope. `with_attachments` gives the same
envelope carrying the other parts, so a mapping's `attachment:` values can resolve
`xop:Include href="cid:..."` and SwA `cid:` references. An envelope without them has none.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from ..soap import Envelope, MimePart, RelatedParts


@dataclass(frozen=True)
class AttachedEnvelope(Envelope):
    """An envelope with the MIME parts that came with it (every part but the root)."""

    attachments: tuple[MimePart, ...] = ()


def with_attachments(
    envelope: Envelope, parts: RelatedParts | tuple[MimePart, ...]
) -> AttachedEnvelope:
    """`envelope` carrying `parts`' attachments (a split body, or the parts themselves)."""
    attachments = parts.attachments if isinstance(parts, RelatedParts) else tuple(parts)
    values = {f.name: getattr(envelope, f.name) for f in fields(Envelope)}
    return AttachedEnvelope(**values, attachments=attachments)


def attachments_of(envelope: Envelope) -> tuple[MimePart, ...]:
    return envelope.attachments if isinstance(envelope, AttachedEnvelope) else ()
