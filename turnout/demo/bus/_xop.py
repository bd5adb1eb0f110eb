"""MTOM on the bus: an `xop:Include` in the Body put back as the base64 text it stands for.

XOP (the packaging MTOM uses) lifts a base64Binary value out of the envelope into a MIME part
and leaves `<xop:Include href="cid:..."/>` in its place. The message means what it would with
the base64 text inline, so the bus rebuilds that before a handler reads the fields: a handler
reads one form, whichever the client sent. The part's media type is kept on the element as
`xmime:contentType`, as the XOP infoset does. A reference to a part the message does not carry
is an invalid value of the element that holds it (INVAL, naming that field).
"""

from __future__ import annotations

import base64
from urllib.parse import unquote

from lxml import etree

from ...soap import Envelope
from ._fault import BusFault

XOP_INCLUDE = "{http://www.w3.org/2004/08/xop/include}Include"
XMIME_CONTENT_TYPE = "{http://www.w3.org/2005/05/xmlmime}contentType"


def resolve_xop(envelope: Envelope) -> None:
    """Replace each `xop:Include` in `envelope`'s Body with its part's bytes as base64 text."""
    for include in list(envelope.body.iter(XOP_INCLUDE)):
        href = include.get("href") or ""
        wanted = unquote(href[4:]) if href.startswith("cid:") else None
        part = next((p for p in envelope.attachments if p.content_id == wanted), None)
        parent = include.getparent()
        if parent is None:
            continue  # an Include as the Body itself names no value
        if part is None or wanted is None:
            field = etree.QName(parent).localname
            raise BusFault.invalid(
                field, f"{field} refers to attachment {href}, which the request does not carry"
            )
        parent.remove(include)
        parent.text = base64.b64encode(part.content).decode("ascii")
        if part.content_type:
            parent.set(XMIME_CONTENT_TYPE, part.content_type)
