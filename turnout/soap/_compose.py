"""Writing an envelope: Envelope, an optional Header, Body, in the prefixes the writer chose.

Every envelope Turnout writes itself (a translator's response, a Fault, the demo bus's answers)
starts here, so the SOAP prefix, the declared namespaces and "no empty Header" are decided once.
What goes into a Header, a Body or a Fault's detail is given as `Part`s: elements already built,
simple `(name, text)` values, or a function that appends children to the parent it is given
(templates that must see the envelope's prefixes while they build).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from itertools import chain, count
from typing import TypeAlias

from lxml import etree

from ._version import SoapVersion

#: a child to add: an element (moved in when it stands alone, copied when it belongs to another
#: tree), a `(name, text)` pair (name in Clark notation, `{urn:x}code`, or a local name), or a
#: function that appends children to the element it is given
Part: TypeAlias = etree._Element | tuple[str, str] | Callable[[etree._Element], None]


def soap_prefix(namespaces: Mapping[str, str]) -> str:
    """`soap`; `env` when the caller's own namespaces already use `soap`; then `soap1`, ..."""
    candidates = chain(("soap", "env"), (f"soap{n}" for n in count(1)))
    return next(prefix for prefix in candidates if prefix not in namespaces)


def add_parts(parent: etree._Element, parts: Iterable[Part]) -> etree._Element:
    """Append `parts` to `parent`, in order; returns `parent`."""
    for part in parts:
        if isinstance(part, etree._Element):
            parent.append(part if part.getparent() is None else copy.deepcopy(part))
        elif isinstance(part, tuple):
            name, text = part
            etree.SubElement(parent, name).text = text
        else:
            part(parent)
    return parent


def new_envelope(
    version: SoapVersion, namespaces: Mapping[str, str] | None = None, header: Iterable[Part] = ()
) -> tuple[etree._Element, etree._Element]:
    """An Envelope declaring the SOAP namespace (as `soap_prefix` chooses) and `namespaces`
    (prefix -> URI; an empty URI is left out), a Header holding `header` (left out when that adds
    nothing), and the empty Body, returned with the Envelope for the caller to fill."""
    namespaces = namespaces or {}
    soap_ns = version.namespace
    nsmap = {soap_prefix(namespaces): soap_ns}
    nsmap.update((prefix, uri) for prefix, uri in namespaces.items() if uri)
    envelope = etree.Element(f"{{{soap_ns}}}Envelope", nsmap=nsmap)
    header_el = add_parts(etree.SubElement(envelope, f"{{{soap_ns}}}Header"), header)
    if len(header_el) == 0:
        envelope.remove(header_el)
    body = etree.SubElement(envelope, f"{{{soap_ns}}}Body")
    return envelope, body


def serialise(envelope: etree._Element) -> bytes:
    """UTF-8 with an XML declaration, as every envelope Turnout writes."""
    data: bytes = etree.tostring(envelope, xml_declaration=True, encoding="utf-8")
    return data
