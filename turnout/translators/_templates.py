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

from dataclasses import dataclass, replace
from typing import Any

from lxml import etree

from ..config import Node
from ..soap import XmlThreat, XmlUnreadable, parse_xml
from ._jsonpath import MISSING, JsonPath, compile_json_path, json_type
from ._protocol import TranslationError
from ._transforms import TYPES, BadValue
from ._values import NIL, OMIT, XSI_NIL, Declarations, Scope, ValueSpec, compile_value

_SOURCES = {"xpath", "json", "value", "generate", "soap_header", "attachment"}
_ELEMENT_DIRECTIVES = {"each", "from", "optional", "use", "items", "json", "absent", "@name"}
#: an element's attributes: (name in Clark notation, value)
Attributes = tuple[tuple[str, ValueSpec], ...]
_COMPILING: Any = object()  # marks a named template being compiled, to catch a use: cycle
_to_string = TYPES["string"]


# --- XML element templates (the reply half) --------------------------------------------------


def _set_attributes(element: etree._Element, attributes: Attributes, scope: Scope) -> None:
    for name, spec in attributes:
        value = spec.evaluate(scope)
        if value is OMIT:
            continue
        element.set(name, "" if value is None or value is NIL else _text(value, spec))


@dataclass(frozen=True)
class Leaf:
    tag: str
    value: ValueSpec
    each: JsonPath | None = None
    each_optional: bool = False
    attributes: Attributes = ()
    #: the value is XML text, parsed (hardened) and inserted as the element's content (xs:any)
    xml: bool = False

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
        if self.attributes:
            _set_attributes(child, self.attributes, scope)
        if value is NIL:
            child.set(XSI_NIL, "true")
        elif value is not None:
            if self.xml:
                _insert_xml(child, _text(value, self.value), self.value)
            else:
                child.text = _text(value, self.value)


def _insert_xml(element: etree._Element, text: str, spec: ValueSpec) -> None:
    """Parse `text` (a fragment: elements and text) with the hardened parser, in a wrapper, and
    move what it holds into `element`. Markup is never written as escaped text."""
    try:
        wrapper = parse_xml(f"<any>{text}</any>".encode())
    except (XmlThreat, XmlUnreadable) as exc:
        raise TranslationError(
            f"{spec.field} is not XML that can be inserted: {exc} ({spec.where})"
        ) from None
    element.text = wrapper.text
    for child in list(wrapper):
        element.append(child)


@dataclass(frozen=True)
class Wrapper:
    """An array wrapper (`items:`): one element around one element per array item. An absent
    or null array is an error, or (by `absent:`) no wrapper, a nil one or an empty one."""

    tag: str
    array: ValueSpec
    item: Leaf | Complex  # built per item, with the item as the JSON context
    attributes: Attributes = ()

    def build(self, parent: etree._Element, scope: Scope) -> None:
        items = self.array.evaluate(scope)
        if items is OMIT:
            return
        wrapper = etree.SubElement(parent, self.tag)
        if self.attributes:
            _set_attributes(wrapper, self.attributes, scope)
        if items is NIL:
            wrapper.set(XSI_NIL, "true")
            return
        if items is None:
            return
        if not isinstance(items, list):
            raise TranslationError(
                f"JSON {self.array.field} is {json_type(items)}, not an array ({self.array.where})"
            )
        for item in items:
            self.item.build(wrapper, scope.at(json=item))


@dataclass(frozen=True)
class Complex:
    tag: str
    children: tuple[Leaf | Complex | Wrapper, ...]
    each: JsonPath | None = None
    source: JsonPath | None = None  # `from:`
    optional: bool = False
    attributes: Attributes = ()
    #: `absent: omit` with no `from:`/`each:`: left out when nothing inside it is written (no
    #: child, attribute or text), e.g. a reply header whose values all echo an absent request
    #: header; an envelope whose Header is then empty has no Header
    omit_empty: bool = False

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
        if self.attributes:
            _set_attributes(element, self.attributes, scope)
        for child in self.children:
            child.build(element, scope)
        if self.omit_empty and len(element) == 0 and not element.attrib and not element.text:
            parent.remove(element)


Element = Leaf | Complex | Wrapper


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


def _attributes(node: Node, decl: Declarations) -> tuple[Node, Attributes]:
    """Split the `"@name"` keys off an element's template: the rest, and the attributes."""
    if not isinstance(node.value, dict) or not any(str(k).startswith("@") for k in node.value):
        return node, ()
    attributes = []
    for key in node.value:
        if str(key).startswith("@"):
            child = node.get(key)
            assert child is not None
            name = str(key)[1:]
            if ":" in name:
                name = qualified(name, child, decl)
            else:
                try:
                    etree.QName(name)
                except ValueError:
                    raise child.error(f"{name!r} is not a valid XML attribute name") from None
            attributes.append((name, compile_value(child, decl, "response", name=name)))
    rest = type(node.value)((k, v) for k, v in node.value.items() if not str(k).startswith("@"))
    if hasattr(node.value, "lc") and hasattr(rest, "lc"):  # keep lines for errors in the rest
        rest.lc.data = node.value.lc.data
    return Node(rest, node.file, node.field, node.line), tuple(attributes)


def _wrapper(tag: str, node: Node, decl: Declarations, attributes: Attributes) -> Wrapper:
    """`ms:linkedRefs: {json: linkedRefs, items: ms:string}`, or `items:` an element template
    of one item (`{ms:Contact: {...}}`)."""
    items_node = node.get("items")
    assert items_node is not None
    value = node.value
    if isinstance(items_node.value, str):  # scalar items: the value's transforms, per item
        item_tag = qualified(items_node.value, items_node, decl)
        rest = {k: v for k, v in value.items() if k not in ("json", "items", "absent", "optional")}
        item_node = Node({**rest, "json": "."}, node.file, node.field, node.line)
        item: Leaf | Complex = Leaf(item_tag, compile_value(item_node, decl, "response"))
        array_node = Node(
            {k: v for k, v in value.items() if k in ("json", "absent", "optional")},
            node.file, node.field, node.line,
        )
    else:
        node.mapping({"json", "items", "absent", "optional"})
        if not isinstance(items_node.value, dict) or len(items_node.value) != 1:
            raise items_node.error(
                "items: names the element of one item (ms:string), or is the template of one "
                "item: {ms:Contact: {...}}"
            )
        item_key = next(iter(items_node.value))
        item_child = items_node.get(item_key)
        assert item_child is not None
        built = compile_element(str(item_key), item_child, decl)
        if isinstance(built, Wrapper):
            raise item_child.error("an item of an array cannot itself be a wrapper here")
        item = built
        array_node = Node(
            {k: v for k, v in value.items() if k != "items"}, node.file, node.field, node.line
        )
    if "json" not in array_node.value:
        raise node.error("items: needs json: (the JSON array the items come from)")
    array = compile_value(array_node, decl, "response")
    return Wrapper(tag, array, item, attributes)


def compile_element(key: str, node: Node, decl: Declarations) -> Element:
    """Compile the template of element `key` (a `prefix:name`) from `node`."""
    tag = qualified(key, node, decl)
    node, attributes = _attributes(node, decl)
    value = node.value
    if isinstance(value, dict) and "items" in value:
        return _wrapper(tag, node, decl, attributes)
    if not isinstance(value, dict) or _SOURCES & set(value):
        xml = False
        if isinstance(value, dict) and "xml" in value:
            xml_node = node.get("xml")
            assert xml_node is not None
            xml = xml_node.boolean()
            node = Node({k: v for k, v in value.items() if k != "xml"}, node.file, node.field,
                        node.line)
            value = node.value
        if isinstance(value, dict) and "each" in value:
            each_node = node.get("each")
            assert each_node is not None
            spec = compile_value(node, decl, "response", extra=frozenset({"each"}))
            optional = spec.absent == "omit"
            return Leaf(tag, spec, _json_path(each_node), optional, attributes, xml)
        if value is None or (isinstance(value, dict) and not value):
            return Complex(tag, (), attributes=attributes)
        return Leaf(tag, compile_value(node, decl, "response"), attributes=attributes, xml=xml)
    children: list[Element] = []
    attributes_of_templates: list[tuple[str, ValueSpec]] = []
    options: dict[str, Any] = {}
    absent_omit = False
    for child_key in value:
        child = node.get(child_key)
        assert child is not None
        if child_key == "each":
            options["each"] = _json_path(child)
        elif child_key == "from":
            options["source"] = _json_path(child)
        elif child_key == "optional":
            options["optional"] = child.boolean()
        elif child_key == "absent":
            options["optional"] = child.choice(("error", "omit")) == "omit"
            absent_omit = options["optional"]
        elif child_key == "use":
            for name_node in child.items() if isinstance(child.value, list) else [child]:
                template = compiled_template(name_node, decl)
                children.extend(template.children)
                attributes_of_templates.extend(template.attributes)
        else:
            children.append(compile_element(str(child_key), child, decl))
    if "each" in options and "source" in options:
        raise node.error("give each or from, not both")
    if options.get("optional") and "each" not in options and "source" not in options:
        if not absent_omit:
            raise node.error("optional: true needs from: (or each:) to say what may be absent; "
                             "absent: omit leaves the element out when nothing inside it is "
                             "written")
        del options["optional"]
        options["omit_empty"] = True
    options["attributes"] = attributes + tuple(attributes_of_templates)
    return Complex(tag, tuple(children), **options)


@dataclass(frozen=True)
class Template:
    """A named template (`templates:`), compiled: the children and the attributes it gives the
    element that uses it (`use:`)."""

    children: tuple[Element, ...]
    attributes: Attributes = ()


def named_template(node: Node, decl: Declarations) -> tuple[Element, ...]:
    """The children of the template named by `node` (declared under `templates:`)."""
    return compiled_template(node, decl).children


def compiled_template(node: Node, decl: Declarations) -> Template:
    """The template named by `node`: its children and its `"@name"` attributes."""
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
        rest, attributes = _attributes(definition, decl)
        children, used = _children(rest, decl, allowed={"use"})
        compiled = Template(children, attributes + used)
        decl.compiled_templates[name] = compiled
    assert isinstance(compiled, Template)
    return compiled


def _children(
    node: Node, decl: Declarations, allowed: set[str]
) -> tuple[tuple[Element, ...], Attributes]:
    children: list[Element] = []
    attributes: list[tuple[str, ValueSpec]] = []
    for key in node.value:
        child = node.get(key)
        assert child is not None
        if key == "use" and "use" in allowed:
            for name_node in child.items() if isinstance(child.value, list) else [child]:
                template = compiled_template(name_node, decl)
                children.extend(template.children)
                attributes.extend(template.attributes)
        else:
            children.append(compile_element(str(key), child, decl))
    return tuple(children), tuple(attributes)


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


@dataclass(frozen=True)
class JsonWrapped:
    """An array wrapper of records (`{xpath: wrapper, items: item, item: {...}}`): absent
    without the wrapper element (then `absent:` decides), else one object per item element."""

    wrapper: Any  # a compiled etree.XPath
    items: Any
    item: JsonTemplate
    absent: ValueSpec  # evaluated only when the wrapper is absent, for its absent rule

    def build(self, scope: Scope) -> Any:
        found = self.wrapper(scope.node)
        if not isinstance(found, list) or not found or not isinstance(found[0], etree._Element):
            return self.absent.evaluate(scope)
        nodes = self.items(found[0])
        built = [self.item.build(scope.at(node=n)) for n in nodes if isinstance(n, etree._Element)]
        return [item for item in built if item is not OMIT]


@dataclass(frozen=True)
class JsonRecord:
    """One object read from one element (`{xpath: element, item: {...}}`): the item's XPaths
    are relative to that element; without the element the object is absent (then `absent:`
    decides, e.g. `omit` leaves the key out rather than sending `{}`)."""

    element: Any  # a compiled etree.XPath
    item: JsonTemplate
    absent: ValueSpec  # evaluated only when the element is absent, for its absent rule

    def build(self, scope: Scope) -> Any:
        found = self.element(scope.node)
        if not isinstance(found, list) or not found or not isinstance(found[0], etree._Element):
            return self.absent.evaluate(scope)
        return self.item.build(scope.at(node=found[0]))


JsonTemplate = JsonObject | JsonArray | JsonEach | JsonValue | JsonWrapped | JsonRecord


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
    if isinstance(value, dict) and "items" in value and "item" in value:
        node.mapping({"xpath", "items", "item", "absent", "required", "omit_if_empty", "field"})
        wrapper_node, items_node, item_node = node.get("xpath"), node.get("items"), node.get("item")
        assert items_node is not None and item_node is not None
        if wrapper_node is None:
            raise node.error("items: needs xpath: (the wrapper element)")
        # the absent rule, as a value read from nowhere: absent by construction
        rule = {k: v for k, v in value.items() if k not in ("items", "item")}
        rule["xpath"] = "/.."
        absent = compile_value(Node(rule, node.file, node.field, node.line), decl, "request",
                               name=name)
        if "field" not in value:
            absent = replace(absent, field=name or absent.field)
        return JsonWrapped(decl.xpath(wrapper_node), decl.xpath(items_node),
                           compile_json(item_node, decl, name), absent)
    if isinstance(value, dict) and "item" in value and "xpath" in value:
        node.mapping({"xpath", "item", "absent", "required", "field"})
        element_node, item_node = node.get("xpath"), node.get("item")
        assert element_node is not None and item_node is not None
        rule = {k: v for k, v in value.items() if k != "item"}
        rule["xpath"] = "/.."  # the absent rule, as a value read from nowhere
        absent = compile_value(Node(rule, node.file, node.field, node.line), decl, "request",
                               name=name)
        if "field" not in value:
            absent = replace(absent, field=name or absent.field)
        return JsonRecord(decl.xpath(element_node), compile_json(item_node, decl, name), absent)
    if isinstance(value, dict) and not _SOURCES & set(value):
        fields = []
        for key in value:
            child = node.get(key)
            assert child is not None
            fields.append((str(key), compile_json(child, decl, str(key))))
        return JsonObject(tuple(fields))
    return JsonValue(compile_value(node, decl, "request", name=name))
