"""One value of a mapping file: where it comes from, what must hold, and how it is transformed.

    registration: {xpath: "pnc:registrationMark", trim: true, case: upper}
    pnc:colourCode: {json: colour, unmap: colours}
    pnc:timestamp: {generate: now, date: {from: iso, to: "%d/%m/%Y %H:%M:%S", utc: true}}

A plain string is a path on the other message: an XPath on the request half, a JSON path on the
reply half. Numbers, booleans and null are literals. Everything is compiled when the file loads
(XPaths, JSON paths, formats, value-map names), so a broken file fails then, with its line.
"""

from __future__ import annotations

import base64
import dataclasses
import re
from collections.abc import Callable
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from urllib.parse import unquote

from lxml import etree

from ..config import Node
from ..soap import MimePart
from . import _transforms as tf
from ._jsonpath import MISSING, compile_json_path
from ._protocol import DEFAULT_VOLATILES, Volatiles

Side = Literal["request", "response"]

#: returned by `ValueSpec.evaluate` when the value is absent and may be left out
OMIT: Any = type("Omit", (), {"__repr__": lambda self: "OMIT", "__bool__": lambda self: False})()

_SOURCES = ("xpath", "json", "value", "generate", "soap_header", "attachment")
_GENERATED = ("now", "message_id")
#: what `absent:` may say, per side (see `compile_value`)
_ABSENT = {"request": ("null", "omit", "required"), "response": ("error", "omit", "nil", "empty")}
#: NIL: an absent reply value written as an element with xsi:nil="true"
NIL: Any = type("Nil", (), {"__repr__": lambda self: "NIL", "__bool__": lambda self: False})()
XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"
XOP_INCLUDE = "{http://www.w3.org/2004/08/xop/include}Include"
_TRANSFORM_KEYS = (
    "date", "type", "map", "unmap", "case", "format", "template", "join", "split", "replace",
)
_COMMON = {"trim", "default", "unmapped", "absent", "precision", "offset", *_SOURCES,
           *_TRANSFORM_KEYS}
REQUEST_KEYS = _COMMON - {"json"} | {
    "list", "required", "omit_if_empty", "field", "invalid", "pattern", "max_length", "items",
    "xml", "part",
}
RESPONSE_KEYS = _COMMON | {"optional"}
_LOCAL_NAME = re.compile(r"^(?:.*/)?(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)$")


@dataclass
class Declarations:
    """What a mapping file declares once and uses everywhere: namespaces and value maps."""

    namespaces: dict[str, str]
    value_maps: dict[str, dict[Any, Any]] = field(default_factory=dict)
    #: named element templates (`templates:`), as nodes; compiled on first `use:`
    templates: dict[str, Node] = field(default_factory=dict)
    compiled_templates: dict[str, Any] = field(default_factory=dict)
    _reversed: dict[str, dict[Any, Any]] = field(default_factory=dict)

    def xpath(self, node: Node) -> etree.XPath:
        """Compile `node` as an XPath over the declared namespaces, and try it once on an empty
        element so an undeclared prefix or unknown function fails now, not on a request."""
        text = node.string()
        try:
            # a prefix bound to "" names no-namespace elements in templates (rpc parts); XPath
            # has no such prefix (an unprefixed name already means no namespace), lxml refuses it
            namespaces = {prefix: uri for prefix, uri in self.namespaces.items() if uri}
            compiled = etree.XPath(text, namespaces=namespaces, smart_strings=False)
            compiled(etree.Element("probe"))
        except etree.XPathError as exc:
            raise node.error(f"bad XPath {text!r}: {exc}") from None
        return compiled

    def value_map(self, node: Node, reverse: bool) -> dict[Any, Any]:
        """A value map by name (declared under `value_maps`) or inline; reversed for `unmap`."""
        if isinstance(node.value, str):
            name = node.value
            if name not in self.value_maps:
                known = ", ".join(sorted(self.value_maps)) or "none declared"
                raise node.error(f"unknown value map {name!r} (declared: {known})")
            table = self.value_maps[name]
        else:
            table = parse_value_map(node)
            name = ""
        if not reverse:
            return table
        if name and name in self._reversed:
            return self._reversed[name]
        backwards: dict[Any, Any] = {}
        for code, word in table.items():
            if word in backwards:
                raise node.error(
                    f"value map {name or '(inline)'} cannot be reversed: {word!r} is the word "
                    f"for both {backwards[word]!r} and {code!r}"
                )
            backwards[word] = code
        if name:
            self._reversed[name] = backwards
        return backwards


def parse_value_map(node: Node) -> dict[Any, Any]:
    if not isinstance(node.value, dict) or not node.value:
        raise node.error("a value map must be a non-empty mapping of code: word")
    table: dict[Any, Any] = {}
    for key in node.value:
        word = node.value[key]
        if isinstance(word, (dict, list)):
            raise node.error(f"value map entry {key!r} must map to a single value")
        table[key if not isinstance(key, (int, float)) or isinstance(key, bool) else str(key)] = (
            word
        )
    return table


class _Stamps:
    """The volatile values of one message, taken on first use and then kept, so a header and a
    body that both say `now` agree."""

    __slots__ = ("message_id", "now", "volatiles")

    def __init__(self, volatiles: Volatiles) -> None:
        self.volatiles = volatiles
        self.now: datetime | None = None
        self.message_id: str | None = None


class Scope:
    """What one evaluation sees: the request node XPaths start from, the JSON context and root
    of the reply, and the message's volatile values."""

    __slots__ = ("_stamps", "attachments", "json", "node", "root")

    def __init__(
        self, node: etree._Element, json: Any = None, root: Any = None,
        volatiles: Volatiles = DEFAULT_VOLATILES, attachments: tuple[MimePart, ...] = (),
    ) -> None:
        self.node = node
        self.json = json
        self.root = root
        self._stamps = _Stamps(volatiles)
        #: the request's MTOM / SwA parts other than the envelope
        self.attachments = attachments

    def at(self, node: etree._Element | None = None, json: Any = MISSING) -> Scope:
        """The same message, one level in: another request node or JSON context."""
        inner = Scope.__new__(Scope)
        inner.node = self.node if node is None else node
        inner.json = self.json if json is MISSING else json
        inner.root = self.root
        inner._stamps = self._stamps
        inner.attachments = self.attachments
        return inner

    @property
    def soap_header(self) -> etree._Element | None:
        """The request's SOAP Header element, or None."""
        root = self.node.getroottree().getroot()
        for child in root.iterchildren("{*}Header"):
            return child
        return None

    @property
    def now(self) -> datetime:
        stamps = self._stamps
        if stamps.now is None:
            stamps.now = stamps.volatiles.clock()
        return stamps.now

    @property
    def message_id(self) -> str:
        stamps = self._stamps
        if stamps.message_id is None:
            stamps.message_id = stamps.volatiles.message_id()
        return stamps.message_id


class ValueProblem(Exception):
    """A value could not be produced. `field` is the request field (request half) or the JSON
    path (reply half) it was read from; `message` already starts with that field."""

    def __init__(self, field: str, kind: str, message: str, where: str) -> None:
        super().__init__(message)
        self.field = field
        self.kind = kind
        self.message = message
        self.where = where


@dataclass(frozen=True)
class ValueSpec:
    """A compiled value: `evaluate(scope)` gives the value, OMIT, or raises ValueProblem."""

    side: Side
    read: Callable[[Scope], Any]
    transforms: tuple[tuple[str, tf.Transform], ...]
    field: str
    where: str  # `file:line: field`, for messages about the mapping rather than the message
    trim: bool = False
    absent: Literal["null", "omit", "required", "error", "nil"] = "null"
    default: Any = MISSING
    is_list: bool = False
    max_length: int | None = None
    pattern: re.Pattern[str] | None = None
    pattern_example: str | None = None
    invalid: str | dict[str, str] | None = None
    #: "" counts as absent: always in a request, and for XPath values in a reply
    blank_is_absent: bool = False
    #: a bare path (no trim, checks or transforms): a present value is returned as it is
    _plain: bool = dataclasses.field(init=False, repr=False, compare=False, default=False)

    def __post_init__(self) -> None:
        # most values are a path and nothing else: skip the pipeline for them when present
        plain = not (self.trim or self.transforms or self.is_list or self.max_length or self.pattern)
        object.__setattr__(self, "_plain", plain)

    def evaluate(self, scope: Scope) -> Any:
        try:
            raw = self.read(scope)
        except tf.BadValue as bad:  # a reference the message cannot resolve (an attachment)
            self._fail(bad.kind, f"{self.field} {bad.message}", MISSING)
        if self._plain and raw is not None and raw is not MISSING and raw != "":
            return raw
        if self.is_list and isinstance(raw, list):
            return [self._one(item) for item in raw if not self._empty(item)]
        return self._one(raw)  # an absent list (no wrapper) is absent, not []

    def _empty(self, value: Any) -> bool:
        if value is None or value is MISSING:
            return True
        return self.blank_is_absent and value == ""

    def _one(self, value: Any) -> Any:
        if self.trim and isinstance(value, str):
            value = value.strip()
        if self._empty(value):
            if self.default is not MISSING:
                value = self.default
            elif self.absent == "omit":
                return OMIT
            elif self.absent == "null":
                return None
            elif self.absent == "nil":
                return NIL
            elif self.absent == "required":
                self._fail("required", f"{self.field} is required", value)
            else:
                self._fail("missing", f"{self.field} is missing from the reply", value)
        if self.max_length is not None and isinstance(value, str) and len(value) > self.max_length:
            self._fail(
                "length", f"{self.field} is longer than {self.max_length} characters", value
            )
        if self.pattern is not None and not self.pattern.fullmatch(str(value)):
            form = self.pattern_example or f"matching {self.pattern.pattern}"
            self._fail("pattern", f"{self.field} {value!r} is not in the form {form}", value)
        for _, step in self.transforms:
            try:
                value = step(value)
            except tf.BadValue as bad:
                self._fail(bad.kind, f"{self.field} {bad.message}", value)
        return value

    def _fail(self, kind: str, message: str, value: Any) -> None:
        template = self.invalid.get(kind) if isinstance(self.invalid, dict) else self.invalid
        if template is not None:
            shown = value if value is not MISSING else None
            message = template.format(field=self.field, value=shown, reason=message)
        raise ValueProblem(self.field, kind, message, self.where)


def _string_value(item: Any) -> Any:
    if isinstance(item, etree._Element):
        if len(item) == 0:
            return item.text or ""
        return "".join(item.itertext())
    return str(item)


def _xpath_reader(compiled: etree.XPath, as_list: bool) -> Callable[[Scope], Any]:
    def read(scope: Scope) -> Any:
        result = compiled(scope.node)
        if isinstance(result, list):
            if as_list:
                return [_string_value(item) for item in result]
            return _string_value(result[0]) if result else MISSING
        if isinstance(result, float) and result.is_integer():
            return int(result)
        return [result] if as_list else result

    return read


def _items_reader(wrapper: etree.XPath, items: etree.XPath) -> Callable[[Scope], Any]:
    """An array wrapper: absent (MISSING) without the wrapper element, else its items' text."""

    def read(scope: Scope) -> Any:
        found = wrapper(scope.node)
        if not isinstance(found, list) or not found or not isinstance(found[0], etree._Element):
            return MISSING
        return [_string_value(item) for item in items(found[0])]

    return read


def _xml_reader(compiled: etree.XPath, whole: bool) -> Callable[[Scope], Any]:
    """xs:any content as XML text: the element itself, or its children (and text) in order."""

    def read(scope: Scope) -> Any:
        found = compiled(scope.node)
        if not isinstance(found, list) or not found or not isinstance(found[0], etree._Element):
            return MISSING
        element = found[0]
        if whole:
            return _xml_text(element)
        parts = [element.text or ""]
        for child in element:
            parts.append(_xml_text(child))  # its tail comes with it
        return "".join(parts)

    return read


def _xml_text(element: etree._Element) -> str:
    """`element` serialised on its own, with the namespace declarations it uses and no others."""
    copy = deepcopy(element)  # detached, with the declarations it needs (no re-parse)
    copy.tail = None
    etree.cleanup_namespaces(copy)
    text: str = etree.tostring(copy, encoding="unicode", with_tail=False)
    return text + (element.tail or "")


def _header_reader(compiled: etree.XPath) -> Callable[[Scope], Any]:
    inner = _xpath_reader(compiled, False)

    def read(scope: Scope) -> Any:
        header = scope.soap_header
        if header is None:
            return MISSING
        return inner(scope.at(node=header))

    return read


def _attachment_reader(compiled: etree.XPath, part: str) -> Callable[[Scope], Any]:
    """The bytes an element carries, as base64 text: an MTOM `xop:Include`, a SwA `cid:`
    reference (text or `href`), or inline base64; `part: content_type` gives the media type."""

    def read(scope: Scope) -> Any:
        found = compiled(scope.node)
        if not isinstance(found, list) or not found or not isinstance(found[0], etree._Element):
            return MISSING
        element = found[0]
        include = next(element.iterchildren(XOP_INCLUDE), None)
        reference = include.get("href") if include is not None else element.get("href")
        if reference is None and (element.text or "").strip().startswith("cid:"):
            reference = (element.text or "").strip()
        if reference is None:
            text = "".join((element.text or "").split())
            if not text:
                return MISSING
            return text if part == "content" else "application/octet-stream"
        if not reference.startswith("cid:"):
            raise tf.BadValue("attachment", f"refers to {reference!r}, which is not a cid: URL")
        wanted = unquote(reference[4:])
        for attached in scope.attachments:
            if attached.content_id == wanted:
                if part == "content_type":
                    return attached.content_type or "application/octet-stream"
                return base64.b64encode(attached.content).decode("ascii")
        raise tf.BadValue(
            "attachment", f"refers to attachment {reference}, which the request does not carry"
        )

    return read


def _source(node: Node, spec: dict[str, Any], side: Side, decl: Declarations) -> tuple[
    Callable[[Scope], Any], str
]:
    """The reader for the one source key, and a default field name for messages."""
    given = [key for key in _SOURCES if key in spec]
    if len(given) != 1:
        what = "none" if not given else ", ".join(given)
        options = (
            "xpath, value, generate, soap_header, attachment" if side == "request"
            else "json, xpath, value, generate, soap_header"
        )
        raise node.error(f"give exactly one source ({options}), not {what}")
    key = given[0]
    source = node.get(key)
    assert source is not None
    for option, needs in (("items", "xpath"), ("xml", "xpath"), ("part", "attachment")):
        if option in spec and key != needs:
            raise node.error(f"{option}: needs a{'n' if needs[0] in 'ax' else ''} {needs} source")
    if key in ("xpath", "soap_header", "attachment"):
        compiled = decl.xpath(source)
        match = _LOCAL_NAME.match(source.value.strip())
        name = match.group(1) if match else ""
        if key == "soap_header":
            return _header_reader(compiled), name
        if key == "attachment":
            if side != "request":
                raise source.error("attachment: reads the request's attachments: request half only")
            part_node = node.get("part")
            part = part_node.choice(("content", "content_type")) if part_node else "content"
            return _attachment_reader(compiled, part), name
        if (items_node := node.get("items")) is not None:
            return _items_reader(compiled, decl.xpath(items_node)), name
        if (xml_node := node.get("xml")) is not None:
            return _xml_reader(compiled, xml_node.choice(("children", "element")) == "element"), name
        as_list = bool(spec.get("list"))
        return _xpath_reader(compiled, as_list), name
    if key == "json":
        try:
            path = compile_json_path(source.string())
        except ValueError as exc:
            raise source.error(str(exc)) from None
        return (lambda scope: path.read(scope.json, scope.root)), path.text
    if key == "generate":
        what = source.choice(_GENERATED)
        if what == "now":
            return (lambda scope: scope.now), "now"
        return (lambda scope: scope.message_id), "message_id"
    literal = source.plain()
    return (lambda scope: literal), ""


def compile_value(
    node: Node, decl: Declarations, side: Side, *, name: str = "", extra: frozenset[str] = frozenset()
) -> ValueSpec:
    """Compile a value spec. `name` is the field name to use in messages when the source does
    not suggest one; `extra` are keys the caller handles itself (such as `each`)."""
    if isinstance(node.value, str):
        key = "xpath" if side == "request" else "json"
        node = Node({key: node.value}, node.file, node.field, node.line)
    elif not isinstance(node.value, dict):
        node = Node({"value": node.value}, node.file, node.field, node.line)
    allowed = (REQUEST_KEYS if side == "request" else RESPONSE_KEYS) | extra
    node.mapping(allowed)
    spec: dict[str, Any] = node.value
    read, suggested = _source(node, spec, side, decl)
    field_name = suggested or name
    options: dict[str, Any] = {}

    if (item := node.get("field")) is not None:
        field_name = item.string()
    if (item := node.get("trim")) is not None:
        options["trim"] = item.boolean()
    if (item := node.get("list")) is not None:
        if "xpath" not in spec:
            raise item.error("list: true needs an xpath source")
        if "items" in spec:
            raise item.error("items: already gives a list; leave out list:")
        options["is_list"] = item.boolean()
    if "items" in spec:
        options["is_list"] = True
    if (item := node.get("default")) is not None:
        options["default"] = item.plain()

    absent = "null" if side == "request" else "error"
    for key, meaning in (("omit_if_empty", "omit"), ("optional", "omit"), ("required", "required")):
        if (item := node.get(key)) is not None and item.boolean():
            if absent not in ("null", "error"):
                raise item.error("give only one of required, omit_if_empty")
            absent = meaning
    if (item := node.get("absent")) is not None:
        if absent not in ("null", "error"):
            raise item.error("give absent: or required/optional/omit_if_empty, not both")
        absent = item.choice(_ABSENT[side])
        if absent == "empty":  # an empty element: what a null value writes
            absent = "null"
    options["absent"] = absent

    if (item := node.get("max_length")) is not None:
        options["max_length"] = item.integer(1, 10_000_000)
    if (item := node.get("pattern")) is not None:
        options.update(_pattern(item))
    if (item := node.get("invalid")) is not None:
        options["invalid"] = _invalid(item)

    keep_unknown = False
    if (item := node.get("unmapped")) is not None:
        if "map" not in spec and "unmap" not in spec:
            raise item.error("unmapped applies to map or unmap")
        keep_unknown = item.choice(("keep", "error")) == "keep"

    transforms: list[tuple[str, tf.Transform]] = []
    style = _iso_style(node, allowed_here="generate" in spec and spec["generate"] == "now")
    if style is not None:  # generate: now, formatted: the options of `date: {to: iso}`
        transforms.append(("date", tf.convert_date(
            tf.DateFormat(tf.ISO, datetime, None), tf.DateFormat(tf.ISO, datetime, None),
            False, style,
        )))
    for key in spec:  # in the order written
        if key not in _TRANSFORM_KEYS:
            continue
        item = node.get(key)
        assert item is not None
        transforms.append((key, _transform(key, item, decl, keep_unknown)))

    return ValueSpec(
        side=side,
        blank_is_absent=side == "request" or "xpath" in spec,
        read=read,
        transforms=tuple(transforms),
        field=field_name or node.field,
        where=f"{node.file}:{node.line}: {node.field}",
        **options,
    )


#: what can be wrong with a value, for `invalid: {kind: message}`
PROBLEM_KINDS = ("required", "length", "pattern", "date", "type", "map", "format", "attachment")


def _invalid(node: Node) -> str | dict[str, str]:
    """`invalid: "message"` for any problem, or `invalid: {map: "message", ...}` per kind."""
    items = [node]
    if isinstance(node.value, dict):
        node.mapping(set(PROBLEM_KINDS))
        items = [child for key in node.value if (child := node.get(key)) is not None]
    for item in items:
        try:
            item.string().format(field="f", value="v", reason="r")
        except (KeyError, IndexError, ValueError) as exc:
            raise item.error(
                f"bad message template ({exc}); it may use {{field}}, {{value}}, {{reason}}"
            ) from None
    if isinstance(node.value, dict):
        return {str(key): str(node.value[key]) for key in node.value}
    return node.string()


def _pattern(node: Node) -> dict[str, Any]:
    if isinstance(node.value, dict):
        node.mapping({"regex", "example"})
        regex_node, example_node = node.get("regex"), node.get("example")
        if regex_node is None:
            raise node.error("pattern needs a regex")
        example = example_node.string() if example_node is not None else None
    else:
        regex_node, example = node, None
    try:
        compiled = re.compile(regex_node.string())
    except re.error as exc:
        raise regex_node.error(f"bad regular expression: {exc}") from None
    return {"pattern": compiled, "pattern_example": example}


def _transform(key: str, node: Node, decl: Declarations, keep_unknown: bool) -> tf.Transform:
    if key == "case":
        return tf.case(node.choice(tuple(tf.CASES)))
    if key == "type":
        return tf.TYPES[node.choice(tuple(tf.TYPES))]
    if key in ("map", "unmap"):
        table = decl.value_map(node, reverse=key == "unmap")
        what = f"values of {node.value}" if isinstance(node.value, str) else "mapped values"
        return tf.lookup(table, keep_unknown, what)
    if key == "format":
        spec = node.string()
        try:
            format(1.5, spec)
        except ValueError:
            try:
                format("x", spec)
            except ValueError as exc:
                raise node.error(f"bad format spec {spec!r}: {exc}") from None
        return tf.number_format(spec)
    if key in ("join", "split"):
        if not isinstance(node.value, str) or not node.value:
            raise node.error(f"{key} needs the separator, e.g. {key}: \", \"")
        return tf.join(node.value) if key == "join" else tf.split(node.value)
    if key == "replace":
        if not isinstance(node.value, dict) or not node.value:
            raise node.error("replace needs a mapping of old: new, e.g. {\" \": \"\"}")
        pairs = []
        for old, new in node.value.items():
            if not isinstance(old, str) or not old or not isinstance(new, (str, type(None))):
                raise node.error(f"replace {old!r}: {new!r} must map text to text")
            pairs.append((old, new or ""))
        return tf.replace_all(tuple(pairs))
    if key == "template":
        text = node.string()
        try:
            text.format(value="v")
        except (KeyError, IndexError, ValueError) as exc:
            raise node.error(f"bad template ({exc}); it may use {{value}}") from None
        return tf.template(text)
    # date
    node.mapping({"from", "to", "utc", "precision", "offset"})
    ends: dict[str, tf.DateFormat] = {}
    for end in ("from", "to"):
        item = node.get(end)
        if item is None:
            raise node.error(f"date needs {end}: (a strftime format such as '%d/%m/%Y', or iso)")
        try:
            ends[end] = tf.date_format(item.string())
        except ValueError as exc:
            raise item.error(str(exc)) from None
    source, target = ends["from"], ends["to"]
    if source.text == tf.ISO:  # iso reads whatever kind the other end spells
        source = tf.DateFormat(tf.ISO, target.kind, None)
    if target.text == tf.ISO:
        target = tf.DateFormat(tf.ISO, source.kind, None)
    utc_node = node.get("utc")
    utc = utc_node.boolean() if utc_node is not None else False
    style = _iso_style(node, allowed_here=target.text == tf.ISO)
    return tf.convert_date(source, target, utc, style or tf.PLAIN_ISO)


def _iso_style(node: Node, *, allowed_here: bool) -> tf.IsoStyle | None:
    """`precision:` and `offset:` (of `date: {to: iso}` or `generate: now`), or None."""
    precision, offset = node.get("precision"), node.get("offset")
    if precision is None and offset is None:
        return None
    if not allowed_here:
        given = precision if precision is not None else offset
        assert given is not None
        raise given.error("precision: and offset: apply to date: {to: iso} or generate: now")
    return tf.IsoStyle(
        tf.PRECISIONS[precision.choice(tuple(tf.PRECISIONS))] if precision else "auto",
        tf.OFFSETS[offset.choice(tuple(tf.OFFSETS))] if offset else "",
    )
