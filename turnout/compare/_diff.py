"""`diff(legacy, new, rules)`: do two envelopes mean the same, and where do they not?"""

from __future__ import annotations

from typing import TypeAlias

from lxml import etree

from turnout.soap import DEFAULT_LIMITS, XmlLimits, parse_xml

from ._model import Diff
from ._paths import PathNamer
from ._rules import Rules
from ._walk import Stop, Walk

_DEFAULT = Rules()
#: what `exact` is judged by: nothing disregarded, not even a Fault's detail, so that an exact
#: pair is equal under any rules (rules only ever disregard)
_STRICT = Rules(fault_detail=True)

Document: TypeAlias = bytes | etree._Element | etree._ElementTree


def diff(
    legacy: Document, new: Document, rules: Rules = _DEFAULT, limits: XmlLimits = DEFAULT_LIMITS
) -> Diff:
    """Compare `new` against `legacy` under `rules`.

    Bytes are read with the hardened parser (`XmlThreat` / `XmlUnreadable` propagate); elements
    are compared as given and never modified. Paths in the result are absolute in each
    element's own document.

    The documents are first compared with nothing disregarded, stopping at the first
    difference: if there is none they are `exact` and no rule needs to run. Real pairs differ
    early (the message id is in the header), so the check costs little when it fails.
    """
    legacy_root, new_root = _root(legacy, limits), _root(new, limits)
    namer = PathNamer(legacy_root)
    try:
        Walk(_STRICT, namer, first_only=True).roots(legacy_root, new_root)
    except Stop:
        pass
    else:
        return Diff([], exact=True)
    walk = Walk(rules, namer)
    walk.roots(legacy_root, new_root)
    return Diff(walk.found, exact=False, namespaces=namer.namespaces)


def _root(document: Document, limits: XmlLimits) -> etree._Element:
    if isinstance(document, (bytes, bytearray, memoryview)):
        return parse_xml(bytes(document), limits)
    if isinstance(document, etree._ElementTree):
        return document.getroot()
    if isinstance(document, etree._Element):
        return document
    raise TypeError(f"expected bytes or an lxml element, not {type(document).__name__}")
