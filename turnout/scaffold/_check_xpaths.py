"""Every XPath a mapping file reads from the request, with its line, tried on example requests.

A mapping's XPaths are checked for syntax and declared prefixes when the file loads, but an
XPath with a misspelt element name or a namespace URI one character off is valid: it just finds
nothing, and the translator sends `null` (or no query parameter, or its `default`) as if the
caller had left the field out. Only a request that has the field tells the two apart, so this
module lists the XPaths as the file spells them (file, line, field, text, and the `each:`
XPaths they are relative to) and says which found nothing in any of the example requests.

The walk reads the YAML, not the compiled translator, because a compiled value no longer knows
its XPath's text. It takes every `xpath:` key anywhere in the file and the file it includes
(the reply half reads the request too: a fault's reason from the request's registration mark),
and, under `request:`, every plain string where a value goes (checks, path parameters, query,
headers, JSON body leaves) and every JSON body `each:`, whose `item:` XPaths start from each
node it selects.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from ..config import Node, load_yaml

_SOURCES = {"xpath", "json", "value", "generate"}
#: request sections whose values are value specs: a plain string there is an XPath
_VALUE_SECTIONS = ("path_params", "query", "headers")


@dataclass(frozen=True)
class ReadXPath:
    """One XPath a mapping reads from the request."""

    text: str
    file: str
    line: int | None
    field: str
    #: the `each:` XPaths it is relative to, outermost first (empty: relative to the payload)
    within: tuple[str, ...] = ()

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}: {self.field}" if self.line else f"{self.file}: {self.field}"


@dataclass(frozen=True)
class MappingXPaths:
    """A mapping file's request XPaths and the namespaces they are compiled with."""

    xpaths: tuple[ReadXPath, ...]
    namespaces: dict[str, str]

    def missing(self, payloads: list[etree._Element]) -> list[ReadXPath]:
        """The XPaths that found nothing in any of `payloads` (the requests' Body elements).

        An XPath whose result is a number or a boolean (`count(...)`, `boolean(...)`) cannot be
        told to have found nothing, and is never listed.
        """
        return [x for x in self.xpaths if not any(self._finds(x, p) for p in payloads)]

    def _finds(self, read: ReadXPath, payload: etree._Element) -> bool:
        contexts = [payload]
        for each in read.within:
            step = self._compile(each)
            if step is None:
                return True
            contexts = [n for c in contexts for n in _nodes(step(c))]
        compiled = self._compile(read.text)
        if compiled is None:
            return True  # the loader refuses a broken XPath; nothing to add here
        return any(_found(compiled(context)) for context in contexts)

    def _compile(self, text: str) -> etree.XPath | None:
        namespaces = {prefix: uri for prefix, uri in self.namespaces.items() if uri}
        try:
            return etree.XPath(text, namespaces=namespaces, smart_strings=False)
        except etree.XPathError:
            return None


def _nodes(result: object) -> list[etree._Element]:
    return [n for n in result if isinstance(n, etree._Element)] if isinstance(result, list) else []


def _found(result: object) -> bool:
    if isinstance(result, list):
        return bool(result)
    if isinstance(result, str):
        return result != ""
    return True  # a number or a boolean: cannot tell


def mapping_xpaths(path: Path) -> MappingXPaths:
    """The request XPaths of the mapping file at `path` (and of the file it includes). Raises
    ConfigError as loading the mapping would."""
    root = load_yaml(path)
    files = [root]
    include = root.get("include")
    if include is not None and isinstance(include.value, str):
        target = path.parent / include.value
        if target.is_file():
            files.insert(0, load_yaml(target))
    namespaces: dict[str, str] = {}
    found: list[ReadXPath] = []
    for node in files:
        if (declared := node.get("namespaces")) is not None and isinstance(declared.value, dict):
            namespaces.update({str(k): str(v or "") for k, v in declared.value.items()})
        request = node.get("request")
        if request is not None and isinstance(request.value, dict):
            found.extend(_request(request))
        for key in ("response", "templates"):
            section = node.get(key)
            if section is not None:
                found.extend(_xpath_keys(section, ()))
        if request is not None and (invalid := request.get("invalid")) is not None:
            found.extend(_xpath_keys(invalid, ()))
    unique = list(dict.fromkeys(found))
    return MappingXPaths(tuple(unique), namespaces)


def _request(request: Node) -> Iterator[ReadXPath]:
    checks = request.get("checks")
    if checks is not None and isinstance(checks.value, list):
        for item in checks.items():
            yield from _value(item, ())
    for section in _VALUE_SECTIONS:
        node = request.get(section)
        if node is None or not isinstance(node.value, dict):
            continue
        for key in node.value:
            child = node.get(str(key))
            if child is not None:
                yield from _value(child, ())
    body = request.get("body")
    if body is not None:
        yield from _json_body(body, ())


def _value(node: Node, within: tuple[str, ...]) -> Iterator[ReadXPath]:
    """A value spec on the request side: a plain string is an XPath, else its `xpath:`."""
    if isinstance(node.value, str):
        yield _read(node, node.value, within)
    elif isinstance(node.value, dict) and isinstance(node.value.get("xpath"), str):
        xpath = node.get("xpath")
        assert xpath is not None
        yield _read(xpath, xpath.value, within)


def _json_body(node: Node, within: tuple[str, ...]) -> Iterator[ReadXPath]:
    value = node.value
    if isinstance(value, list):
        for item in node.items():
            yield from _json_body(item, within)
    elif isinstance(value, dict) and "each" in value and not _SOURCES & set(value):
        each = node.get("each")
        assert each is not None
        if isinstance(each.value, str):
            yield _read(each, each.value, within)
            template = node.get("item")
            if template is not None:
                yield from _json_body(template, (*within, each.value))
    elif isinstance(value, dict) and not _SOURCES & set(value):
        for key in value:
            child = node.get(str(key))
            if child is not None:
                yield from _json_body(child, within)
    else:
        yield from _value(node, within)


def _xpath_keys(node: Node, within: tuple[str, ...]) -> Iterator[ReadXPath]:
    """Every `xpath:` under `node` (reply-side templates: relative to the request payload)."""
    if isinstance(node.value, dict):
        for key in node.value:
            child = node.get(str(key))
            if child is None:
                continue
            if key == "xpath" and isinstance(child.value, str):
                yield _read(child, child.value, within)
            else:
                yield from _xpath_keys(child, within)
    elif isinstance(node.value, list):
        for item in node.items():
            yield from _xpath_keys(item, within)


def _read(node: Node, text: str, within: tuple[str, ...]) -> ReadXPath:
    return ReadXPath(text.strip(), node.file, node.line, node.field, within)
