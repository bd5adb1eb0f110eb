"""Finding subject identifiers in a request: by element local name, or by XPath per operation.

By default the Body is searched for elements with these local names, in any namespace:

| kind | elements |
| --- | --- |
| `pncId` | `pncId`, `victimPncId` |
| `surname` | `surname` |
| `registrationMark` | `registrationMark` |
| `crimeReference` | `crimeReference` |
| `postcode` | `postcode` |
| `name` (combined) | `surname` with its sibling `forenames` and `dateOfBirth`, hashed together |

`audit.identifiers.names` and `.combined` replace these lists; `.xpaths` reads the operations it
lists by their XPaths alone. The search runs in libxml2 (one pass over the Body), never a
Python walk (lxml's tag filters run in C), and stops at `MAX_PER_REQUEST` identifiers.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from types import MappingProxyType
from typing import TYPE_CHECKING

from lxml import etree

from ..config import ConfigError
from ..soap import Envelope
from ._hash import AuditKey, combine, normalise

if TYPE_CHECKING:
    from ..config import AuditSettings

DEFAULT_NAMES: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "pncId": ("pncId", "victimPncId"),
    "surname": ("surname",),
    "registrationMark": ("registrationMark",),
    "crimeReference": ("crimeReference",),
    "postcode": ("postcode",),
})
DEFAULT_COMBINED: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "name": ("surname", "forenames", "dateOfBirth"),
})
#: identifiers hashed for one request at most (a Body of 250,000 postcodes costs no more)
MAX_PER_REQUEST = 64
#: the longest value hashed, in characters (longer ones are cut: still one stable hash)
MAX_VALUE = 1024


@dataclass(frozen=True)
class Found:
    """One identifier: its kind and its keyed hash. Never the value."""

    kind: str
    hmac: str


class IdentifierFinder:
    """Reads the identifiers of one request, as `audit.identifiers` says, and hashes them."""

    def __init__(self, settings: AuditSettings, key: AuditKey, case_insensitive_paths: bool = False) -> None:
        self.key = key
        self.names = dict(settings.names if settings.names is not None else DEFAULT_NAMES)
        self.combined = dict(settings.combined if settings.combined is not None else DEFAULT_COMBINED)
        self.case_insensitive = case_insensitive_paths
        self._kind_of: dict[str, list[str]] = {}
        for kind, names in self.names.items():
            for name in names:
                self._kind_of.setdefault(name, []).append(kind)
        firsts = {parts[0] for parts in self.combined.values()}
        wanted = sorted(set(self._kind_of) | firsts)
        #: lxml's tag filter (any namespace) runs in C: only matches come back to Python
        self._tags = tuple(f"{{*}}{name}" for name in wanted)
        self._xpaths: dict[str, dict[str, tuple[etree.XPath, ...]]] = {}
        for operation, kinds in settings.xpaths.items():
            service, _, name = operation.partition(" ")
            key_ = f"{service.lower() if case_insensitive_paths else service} {name}"
            self._xpaths[key_] = {
                kind: tuple(etree.XPath(x, namespaces=dict(settings.namespaces)) for x in expressions)
                for kind, expressions in kinds.items()
            }
        self.arity = kind_arity(settings)

    def find(self, envelope: Envelope) -> tuple[list[Found], bool]:
        """The hashed identifiers of `envelope` (each kind and hash once), and whether the
        search stopped at `MAX_PER_REQUEST`."""
        seen: dict[tuple[str, str], None] = {}
        truncated = False
        for kind, value in self._values(envelope):
            if len(seen) >= MAX_PER_REQUEST:
                truncated = True
                break
            seen[(kind, self.key.digest(kind, value))] = None
        return [Found(kind, digest) for kind, digest in seen], truncated

    def _values(self, envelope: Envelope) -> Iterator[tuple[str, str]]:
        """(kind, normalised value) pairs; an empty value is no identifier."""
        operation = envelope.operation
        service = operation.service.lower() if self.case_insensitive else operation.service
        by_xpath = self._xpaths.get(f"{service} {operation.name}")
        if by_xpath is not None:
            yield from self._by_xpath(envelope, by_xpath)
            return
        if not self._tags:
            return
        siblings: dict[tuple[etree._Element, str], str] = {}  # one look per parent and part
        # The first matches only: past them every identifier would be over the bound anyway.
        for element in islice(envelope.body.iter(*self._tags), MAX_PER_REQUEST * 4):
            local = etree.QName(element).localname
            for kind in self._kind_of.get(local, ()):
                if value := normalise(kind, _text(element)):
                    yield kind, value
            for kind, parts in self.combined.items():
                if parts[0] != local or not _text(element).strip():
                    continue
                values = [_text(element)] + [_sibling(element, part, siblings) for part in parts[1:]]
                yield kind, combine(kind, values)

    def _by_xpath(
        self, envelope: Envelope, kinds: Mapping[str, tuple[etree.XPath, ...]]
    ) -> Iterator[tuple[str, str]]:
        for kind, expressions in kinds.items():
            columns = [_strings(expression(envelope.root)) for expression in expressions]
            if len(columns) == 1:
                for value in columns[0]:
                    if normalised := normalise(kind, value):
                        yield kind, normalised
                continue
            for row, first in enumerate(columns[0]):
                if not first.strip():
                    continue
                parts = [first] + [column[row] if row < len(column) else "" for column in columns[1:]]
                yield kind, combine(kind, parts)


def kind_arity(settings: AuditSettings) -> dict[str, int]:
    """Each kind the settings can produce -> its number of parts (1: a plain identifier).
    A kind with two arities (a name of three parts here, one there) is a ConfigError."""
    names = settings.names if settings.names is not None else DEFAULT_NAMES
    combined = settings.combined if settings.combined is not None else DEFAULT_COMBINED
    arity: dict[str, int] = {kind: 1 for kind in names}
    for kind, parts in combined.items():
        _set_arity(arity, kind, len(parts), "audit.identifiers.combined")
    for operation, kinds in settings.xpaths.items():
        for kind, expressions in kinds.items():
            _set_arity(arity, kind, len(expressions), f"audit.identifiers.xpaths.{operation}")
    return arity


def _set_arity(arity: dict[str, int], kind: str, n: int, where: str) -> None:
    if arity.setdefault(kind, n) != n:
        raise ConfigError(f"{kind} has {n} part(s) here and {arity[kind]} elsewhere: one kind, one shape",
                          field=f"{where}.{kind}")


def _text(element: etree._Element) -> str:
    """The element's text content (its descendants' too), at most MAX_VALUE characters."""
    if len(element) == 0:
        return (element.text or "")[:MAX_VALUE]
    return "".join(islice(element.itertext(), 64))[:MAX_VALUE]


def _sibling(element: etree._Element, local: str, cache: dict[tuple[etree._Element, str], str]) -> str:
    """The text of the first sibling of `element` named `local` (any namespace), or ""."""
    parent = element.getparent()
    if parent is None:
        return ""
    key = (parent, local)
    if key not in cache:  # 250,000 surnames under one parent cost one look, not 250,000
        match = next(parent.iterchildren(f"{{*}}{local}"), None)
        cache[key] = _text(match) if match is not None else ""
    return cache[key]


def _strings(result: object) -> Sequence[str]:
    """An XPath result as strings: elements by their text, attributes and strings as they are."""
    if isinstance(result, list):
        out = []
        for item in result:
            if isinstance(item, etree._Element):
                out.append(_text(item))
            else:
                out.append(str(item)[:MAX_VALUE])
        return out
    if isinstance(result, str):  # string(...), concat(...)
        return [result[:MAX_VALUE]]
    return []  # a number or a boolean names nobody
