"""Templates: the XML a reply becomes, and the JSON body a request becomes.

An element template mirrors the legacy response, one YAML key per element, in document order:

    pnc:vehicle:
      pnc:make: make                      # a leaf: a JSON path (or a value spec)
      pnc:keeper:                         # a complex element
        from: keeper                      #   its children read from this JSON object
        optional: true                    #   and it is left out when that is absent or null
        pnc:pncId: pncId
      pnc:marker: {each: markers, json: .}   # one leaf per array item

Element names always carry a prefix declared under `namespaces` (declare `x: ""` for elements in
no namespace), so a bare key is always a directive and a typo in one is an error.

A JSON body template is JSON with value specs at the leaves:

    body:
      offence: {xpath: "cris:offenceCode", map: offences}
      victims: {each: "cris:victim", item: {id: "cris:pncId"}}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lxml import etree

from ..config import Node
from ._jsonpath import MISSING, JsonPath, compile_json_path, json_type
from ._protocol import TranslationError
from ._transforms import TYPES, BadValue
from ._values import OMIT, Declarations, Scope, ValueSpec, compile_value

_SOURCES = {"xpath", "json", "value", "generate"}
_ELEMENT_DIRECTIVES = {"each", "from", "optional", "use"}
_COMPILING: Any = object()  # marks a named template being compiled, to catch a use: cycle
_to_string = TYPES["string"]


# --- XML element templates (the reply half) --------------------------------------------------


@dataclass(frozen=True)
class Leaf:
    tag: str
    value: ValueSpec
    each: JsonPath | None = None
    each_optional: bool = False

    def build(self, parent: etree._Element, scope: Scope) -> None:
        if self.each is None:
            self._one(parent, scope)
            return
        for item in _items(self.each, scope, self.each_optional):
            self._one(parent, scope.at(json=item))

    def _one(self, parent: etree._Element, scope: Scope) -> None:
        value = self.value.evaluate(scope)
        if value is OMIT:
            return
        child = etree.SubElement(parent, self.tag)
        if value is not None:
            child.text = _text(value, self.value)


@dataclass(frozen=True)
class Complex:
    tag: str
    children: tuple[Leaf | Complex, ...]
    each: JsonPath | None = None
    source: JsonPath | None = None  # `from:`
    optional: bool = False

    def build(self, parent: etree._Element, scope: Scope) -> None:
        if self.each is not None:
            for item in _items(self.each, scope, self.optional):
                self._one(parent, scope.at(json=item))
            return
        if self.source is not None:
            context = self.source.read(scope.json, scope.root)
            if context is None or context is MISSING:
                if self.optional:
                    return
                raise TranslationError(f"JSON {self.source.text} is missing from the reply")
            scope = scope.at(json=context)
        self._one(parent, scope)

    def _one(self, parent: etree._Element, scope: Scope) -> None:
        element = etree.SubElement(parent, self.tag)
        for child in self.children:
            child.build(element, scope)


Element = Leaf | Complex


def _items(path: JsonPath, scope: Scope, optional: bool) -> list[Any]:
    value = path.read(scope.json, scope.root)
    if value is None or value is MISSING:
        if optional:
            return []
        raise TranslationError(f"JSON {path.text} is missing from the reply")
    if not isinstance(value, list):
        raise TranslationError(f"JSON {path.text} is {json_type(value)}, not an array")
    return value


def _text(value: Any, spec: ValueSpec) -> str:
    if isinstance(value, str):
        return value
    try:
        text: str = _to_string(value)
    except BadValue as bad:
        raise TranslationError(f"{spec.field} {bad.message} ({spec.where})") from None
    return text


def qualified(key: str, node: Node, decl: Declarations) -> str:
    """`pnc:vehicle` as `{urn:police:pnc:v1}vehicle`, or a load error naming the key."""
    prefix, sep, local = key.partition(":")
    if not sep or not prefix or not local:
        raise node.error(
            f"{key!r} is neither an element (prefix:name, with the prefix declared under "
            f"namespaces) nor one of: {', '.join(sorted(_ELEMENT_DIRECTIVES))}"
        )
    if prefix not in decl.namespaces:
        raise node.error(f"element {key!r} uses undeclared namespace prefix {prefix!r}")
    try:
        etree.QName(local)
    except ValueError:
        raise node.error(f"{local!r} is not a valid XML element name") from None
    namespace = decl.namespaces[prefix]
    return f"{{{namespace}}}{local}" if namespace else local


def _json_path(node: Node) -> JsonPath:
    try:
        return compile_json_path(node.string())
    except ValueError as exc:
        raise node.error(str(exc)) from None


def compile_element(key: str, node: Node, decl: Declarations) -> Element:
    """Compile the template of element `key` (a `prefix:name`) from `node`."""
    tag = qualified(key, node, decl)
    value = node.value
    if not isinstance(value, dict) or _SOURCES & set(value):
        if isinstance(value, dict) and "each" in value:
            each_node = node.get("each")
            assert each_node is not None
            spec = compile_value(node, decl, "response", extra=frozenset({"each"}))
            optional = spec.absent == "omit"
            return Leaf(tag, spec, _json_path(each_node), optional)
        if value is None:
            return Complex(tag, ())
        return Leaf(tag, compile_value(node, decl, "response"))
    children: list[Element] = []
    options: dict[str, Any] = {}
    for child_key in value:
        child = node.get(child_key)
        assert child is not None
        if child_key == "each":
            options["each"] = _json_path(child)
        elif child_key == "from":
            options["source"] = _json_path(child)
        elif child_key == "optional":
            options["optional"] = child.boolean()
        elif child_key == "use":
            for name_node in child.items() if isinstance(child.value, list) else [child]:
                children.extend(named_template(name_node, decl))
        else:
            children.append(compile_element(str(child_key), child, decl))
    if "each" in options and "source" in options:
        raise node.error("give each or from, not both")
    if options.get("optional") and "each" not in options and "source" not in options:
        raise node.error("optional: true needs from: (or each:) to say what may be absent")
    return Complex(tag, tuple(children), **options)


def named_template(node: Node, decl: Declarations) -> tuple[Element, ...]:
    """The children of the template named by `node` (declared under `templates:`)."""
    name = node.string()
    if name not in decl.templates:
        known = ", ".join(sorted(decl.templates)) or "none declared"
        raise node.error(f"unknown template {name!r} (declared: {known})")
    compiled = decl.compiled_templates.get(name)
    if compiled is _COMPILING:
        raise node.error(f"template {name!r} uses itself")
    if compiled is None:
        decl.compiled_templates[name] = _COMPILING
        definition = decl.templates[name]
        if not isinstance(definition.value, dict) or not definition.value:
            raise definition.error("a template must be a mapping of prefix:element to template")
        compiled = _children(definition, decl, allowed={"use"})
        decl.compiled_templates[name] = compiled
    return tuple(compiled)


def _children(node: Node, decl: Declarations, allowed: set[str]) -> tuple[Element, ...]:
    children: list[Element] = []
    for key in node.value:
        child = node.get(key)
        assert child is not None
        if key == "use" and "use" in allowed:
            for name_node in child.items() if isinstance(child.value, list) else [child]:
                children.extend(named_template(name_node, decl))
        else:
            children.append(compile_element(str(key), child, decl))
    return tuple(children)


def compile_elements(node: Node, decl: Declarations, what: str) -> tuple[Element, ...]:
    """A mapping of element templates, in order (a response body, a header, a fault detail)."""
    if not isinstance(node.value, dict) or not node.value:
        raise node.error(f"{what} must be a mapping of prefix:element to its template")
    elements = []
    for key in node.value:
        child = node.get(key)
        assert child is not None
        elements.append(compile_element(str(key), child, decl))
    return tuple(elements)


# --- JSON body templates (the request half) --------------------------------------------------


@dataclass(frozen=True)
class JsonObject:
    fields: tuple[tuple[str, JsonTemplate], ...]

    def build(self, scope: Scope) -> Any:
        result = {}
        for name, template in self.fields:
            value = template.build(scope)
            if value is not OMIT:
                result[name] = value
        return result


@dataclass(frozen=True)
class JsonArray:
    items: tuple[JsonTemplate, ...]

    def build(self, scope: Scope) -> Any:
        return [v for v in (item.build(scope) for item in self.items) if v is not OMIT]


@dataclass(frozen=True)
class JsonEach:
    """One item per node the XPath selects, each built with that node as the XPath context."""

    nodes: Any  # a compiled etree.XPath
    item: JsonTemplate
    omit_if_empty: bool = False

    def build(self, scope: Scope) -> Any:
        found = self.nodes(scope.node)
        if not isinstance(found, list):
            found = []
        items = [self.item.build(scope.at(node=n)) for n in found if isinstance(n, etree._Element)]
        items = [item for item in items if item is not OMIT]
        if not items and self.omit_if_empty:
            return OMIT
        return items


@dataclass(frozen=True)
class JsonValue:
    spec: ValueSpec

    def build(self, scope: Scope) -> Any:
        return self.spec.evaluate(scope)


JsonTemplate = JsonObject | JsonArray | JsonEach | JsonValue


def compile_json(node: Node, decl: Declarations, name: str = "") -> JsonTemplate:
    """Compile a JSON body template: objects and arrays, value specs at the leaves."""
    value = node.value
    if isinstance(value, list):
        return JsonArray(tuple(compile_json(item, decl, name) for item in node.items()))
    if isinstance(value, dict) and "each" in value and not _SOURCES & set(value):
        node.mapping({"each", "item", "omit_if_empty"})
        each_node, item_node = node.get("each"), node.get("item")
        assert each_node is not None
        if item_node is None:
            raise node.error("each: needs item: (the template of one array item)")
        flag = node.get("omit_if_empty")
        return JsonEach(
            decl.xpath(each_node),
            compile_json(item_node, decl, name),
            flag.boolean() if flag is not None else False,
        )
    if isinstance(value, dict) and not _SOURCES & set(value):
        fields = []
        for key in value:
            child = node.get(key)
            assert child is not None
            fields.append((str(key), compile_json(child, decl, str(key))))
        return JsonObject(tuple(fields))
    return JsonValue(compile_value(node, decl, "request", name=name))
