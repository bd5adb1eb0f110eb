"""Body rules that select by name alone, found in one walk of the tree instead of one XPath each.

The rules operators write are mostly of a few shapes: a field by local name in any namespace
(`//*[local-name()='surname' or local-name()='forenames']`, and the attribute form
`//@*[local-name()='surname']`), or by its qualified name (`//pnc:surname`, `//@pnc:id`), or a
union of these with `|`; and an element by name kept only where a condition on its
surroundings holds (`//*[local-name()='reference'][../*[local-name()='source']='PNC']`, a
MetSearch hit's reference when the hit is PNC's). libxml2 evaluates `local-name()` for every element of the document,
once per name per rule: the demo's seven such rules cost 13.5 ms on a 200 KB answer. Selecting
by name is what lxml's `iter` does in C with a tag filter (`{*}surname`): 55 µs for the same
answer, all seven rules at once.

`compile_names` recognises those shapes and returns what the rule selects as sets of names (and
the condition, kept as an XPath of its own), or None for anything else (that rule keeps its
XPath). `Selections` then finds, for every
recognised rule of a redactor, what its XPath would have selected, with one `iter` over the
elements and one `//@*` over the attributes for all of them together; each rule's nodes are in
document order, as XPath returns them.

Exactly what the XPath selects, whenever it is asked:
- a name test depends on names only, and redaction never renames, adds or removes a node (it
  sets texts, tails and existing attributes), so what a name rule selects before any rule has
  run is what its XPath selects at its turn, after the rules before it have run;
- an attribute is kept as its element and name, and its value read when its rule's turn
  comes, as the XPath's string would have been read then;
- a condition (`[../*[local-name()='source']='PNC']`) reads values, which the rules before it
  may have changed, so it is evaluated on each element the name selects at its rule's turn, as
  the XPath's predicate is. Only a condition whose value is a boolean (a comparison, `and`,
  `or` at its top) that does not ask `position()` or `last()` of the step is accepted: a
  number there would select by position among siblings, which one element alone cannot say;
- each recognised expression is checked, when it is compiled, against its own XPath on a
  document that holds every name it names in several namespaces, as elements and as
  attributes; a difference (a reading of the grammar libxml2 does not share) keeps the XPath.

`tests/test_redact_plan.py` runs both paths over the golden recordings and over generated
documents and rule sets and compares the redacted bytes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from lxml import etree

#: XPath 1.0 tokens, enough for the shapes recognised; anything else is `other`
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<literal>"[^"]*"|'[^']*')
      | (?P<punct>//|[|\[\]()=@*])
      | (?P<name>[^\W\d][\w.\-]*(?::[^\W\d][\w.\-]*)?)
      | (?P<other>\S)
    )""",
    re.VERBOSE,
)
#: a local name an element or attribute can have (anything else can match nothing)
_NCNAME = re.compile(r"[^\W\d][\w.\-]*")
#: operators that make a condition's value a boolean when they are at its top
_BOOLEAN_AT_TOP = frozenset({"=", "!", "<", ">", "or", "and"})


@dataclass(frozen=True)
class NameSelector:
    """What a rule selects by name: elements or attributes whose local name is in
    `local_names` (any namespace, or none), or whose whole name is in `names` (lxml's form:
    `{uri}local`, or `local` for no namespace)."""

    attributes: bool
    local_names: frozenset[str] = frozenset()
    names: frozenset[str] = frozenset()
    #: a condition each element must meet (the XPath of the predicate), or None
    where: str | None = None
    _where: etree.XPath | None = field(default=None, compare=False, repr=False)

    def matches(self, name: str) -> bool:
        return name in self.names or name.rpartition("}")[2] in self.local_names

    def keep(self, selected: Selected) -> Selected:
        """What the name selected that meets the condition now, in the same order (all of it
        without a condition). Raises etree.XPathError as the rule's XPath would."""
        if self._where is None:
            return selected
        return [element for element in selected if self._where(element) is True]


def _tokens(xpath: str) -> list[tuple[str, str, int, int]]:
    """`xpath` as (kind, text, start, end) tokens; `other` is a character only a condition
    may hold."""
    tokens = []
    for match in _TOKEN.finditer(xpath):  # every character but whitespace is in some token
        kind = match.lastgroup
        assert kind is not None
        tokens.append((kind, match.group(kind), match.start(kind), match.end(kind)))
    return tokens


class _Parser:
    """expr := step ('|' step)* | step condition+; step := '//' ('*' | '@' '*') '[' test
    ('or' test)* ']' | '//' '@'? QName; test := 'local-name' '(' ')' '=' literal;
    condition := '[' a boolean XPath ']' (elements only)."""

    def __init__(self, xpath: str, tokens: list[tuple[str, str, int, int]],
                 namespaces: Mapping[str, str]) -> None:
        self.xpath = xpath
        self.tokens = tokens
        self.at = 0
        self.namespaces = namespaces
        #: where the name part ends in `xpath` when conditions follow it
        self.name_end: int | None = None

    def peek(self, value: str) -> bool:
        return self.at < len(self.tokens) and self.tokens[self.at][1] == value \
            and self.tokens[self.at][0] in ("punct", "name")

    def take(self, value: str) -> bool:
        if self.peek(value):
            self.at += 1
            return True
        return False

    def take_kind(self, kind: str) -> str | None:
        if self.at < len(self.tokens) and self.tokens[self.at][0] == kind:
            self.at += 1
            return self.tokens[self.at - 1][1]
        return None

    def expression(self) -> NameSelector | None:
        steps = []
        while True:
            step = self.step()
            if step is None:
                return None
            steps.append(step)
            if not self.take("|"):
                break
        conditions = []
        if len(steps) == 1 and not steps[0][0] and self.peek("["):
            self.name_end = self.tokens[self.at][2]
            while self.peek("["):
                condition = self.condition()
                if condition is None:
                    return None
                conditions.append(condition)
        if self.at != len(self.tokens):
            return None
        kinds = {attributes for attributes, _, _ in steps}
        if len(kinds) != 1:
            return None  # elements and attributes together: their order is XPath's to say
        return NameSelector(
            attributes=kinds.pop(),
            local_names=frozenset(name for _, local, _ in steps for name in local),
            names=frozenset(name for _, _, names in steps for name in names),
            where=" and ".join(f"({c})" for c in conditions) if conditions else None,
        )

    def condition(self) -> str | None:
        """The XPath between '[' and its ']', when its value is a boolean that does not
        depend on the element's position among its siblings; else None."""
        start = self.at
        self.at += 1  # the '['
        brackets = parens = 0
        boolean = False
        while self.at < len(self.tokens):
            kind, text, _, _ = self.tokens[self.at]
            if kind == "punct" and text == "]" and brackets == 0:
                break
            if kind == "other" and text == "$":
                return None  # a variable: none is bound when the rule runs
            if kind != "literal" and brackets == 0:
                if text in ("position", "last"):
                    return None  # the step's context: one element alone cannot say
                if parens == 0 and text in _BOOLEAN_AT_TOP:
                    boolean = True
            if kind == "punct":
                brackets += {"[": 1, "]": -1}.get(text, 0)
                parens += {"(": 1, ")": -1}.get(text, 0)
            self.at += 1
        if self.at >= len(self.tokens) or self.at == start + 1 or not boolean:
            return None
        inside = self.xpath[self.tokens[start][3]:self.tokens[self.at][2]]
        self.at += 1  # the ']'
        return inside

    def step(self) -> tuple[bool, frozenset[str], frozenset[str]] | None:
        if not self.take("//"):
            return None
        attributes = self.take("@")
        if self.take("*"):
            if not self.take("["):
                return None
            local = set()
            while True:
                literal = self.test()
                if literal is None:
                    return None
                local.add(literal)
                if not self.take("or"):
                    break
            if not self.take("]"):
                return None
            return attributes, frozenset(local), frozenset()
        qname = self.take_kind("name")
        if qname is None or qname in ("or", "and", "div", "mod") or self.peek("("):
            return None  # a '[' after it is a condition, for `expression` to read
        prefix, colon, local_name = qname.rpartition(":")
        if colon:
            uri = self.namespaces.get(prefix)
            if not uri:
                return None
            return attributes, frozenset(), frozenset({f"{{{uri}}}{local_name}"})
        return attributes, frozenset(), frozenset({local_name})

    def test(self) -> str | None:
        if not (self.take("local-name") and self.take("(") and self.take(")") and self.take("=")):
            return None
        literal = self.take_kind("literal")
        return None if literal is None else literal[1:-1]


def compile_names(xpath: str, namespaces: Mapping[str, str]) -> NameSelector | None:
    """What `xpath` selects as names, when it has one of the shapes this module knows and
    selects exactly that on a probe document; else None."""
    tokens = _tokens(xpath)
    if not tokens:
        return None
    parser = _Parser(xpath, tokens, namespaces)
    selector = parser.expression()
    if selector is None:
        return None
    if selector.where is None:
        return selector if _agrees(selector, xpath, namespaces) else None
    # the name part as its own XPath, then the condition compiled to be asked of one element
    assert parser.name_end is not None
    if not _agrees(replace(selector, where=None), xpath[:parser.name_end], namespaces):
        return None
    try:
        where = etree.XPath(f"boolean({selector.where})", namespaces=dict(namespaces))
    except (etree.XPathSyntaxError, TypeError, ValueError):
        return None
    filtered = replace(selector, _where=where)
    return filtered if _agrees(filtered, xpath, namespaces) else None


def _agrees(selector: NameSelector, xpath: str, namespaces: Mapping[str, str]) -> bool:
    """Whether `selector` and the XPath select the same nodes of a document that holds each
    local name named, as an element and an attribute, in no namespace, in each namespace
    named, and in another."""
    try:
        compiled = etree.XPath(xpath, namespaces=dict(namespaces))
    except (etree.XPathSyntaxError, TypeError, ValueError):
        return False
    locals_ = set(selector.local_names) | {n.rpartition("}")[2] for n in selector.names}
    locals_ = {n for n in locals_ if _NCNAME.fullmatch(n)} | {"other"}
    uris = {n[1:].partition("}")[0] for n in selector.names if n.startswith("{")}
    uris |= set(namespaces.values()) | {"urn:turnout:probe"}
    root = etree.Element("probe")
    for local in sorted(locals_):
        for name in [local, *(f"{{{uri}}}{local}" for uri in sorted(uris))]:
            try:
                element = etree.SubElement(root, name)
                element.set(name, "v")
            except ValueError:
                return False
    try:
        found = compiled(root)
    except etree.XPathError:
        return False
    if not isinstance(found, list):
        return False
    try:
        expected = selector.keep(Selections([selector]).find(root)[0])
    except etree.XPathError:
        return False
    if selector.attributes:
        smart: list[Any] = [item for item in found
                            if isinstance(item, str) and getattr(item, "is_attribute", False)]
        got = [(item.getparent(), item.attrname) for item in smart]
        return len(got) == len(found) and got == expected
    return found == expected


#: what a name rule selects in one tree: elements, or (element, attribute name) pairs
Selected = list[etree._Element] | list[tuple[etree._Element, str]]


class Selections:
    """The nodes each of `selectors` selects in one tree, found with one walk for the
    elements and one for the attributes."""

    def __init__(self, selectors: Sequence[NameSelector]) -> None:
        self.selectors = tuple(selectors)
        tags: set[str] = set()
        for selector in self.selectors:
            if selector.attributes:
                continue
            tags.update(f"{{*}}{name}" for name in selector.local_names if _NCNAME.fullmatch(name))
            tags.update(name if name.startswith("{") else f"{{}}{name}"
                        for name in selector.names)
        self._tags = tuple(sorted(tags))
        self._elements = [s for s in self.selectors if not s.attributes]
        self._attributes = [s for s in self.selectors if s.attributes]
        #: a name (lxml's `{uri}local`) -> the selectors of its kind it matches, by position
        self._element_routes: dict[str, tuple[int, ...]] = {}
        self._attribute_routes: dict[str, tuple[int, ...]] = {}

    def find(self, root: etree._Element) -> list[Selected]:
        """For each selector, in its order: the elements it selects in document order, or the
        attributes as (element, attribute name) pairs in document order."""
        elements: list[list[etree._Element]] = [[] for _ in self._elements]
        if self._tags:
            routes = self._element_routes
            for element in root.iter(*self._tags):
                tag = element.tag
                assert isinstance(tag, str)  # a string tag filter yields elements only
                route = routes.get(tag)
                if route is None:
                    route = _route(routes, self._elements, tag)
                for index in route:
                    elements[index].append(element)
        attributes: list[list[tuple[etree._Element, str]]] = [[] for _ in self._attributes]
        if self._attributes:
            routes = self._attribute_routes
            found: Any = _ATTRIBUTES(root)  # lxml's "smart strings": they know their element
            for value in found:
                name = value.attrname
                route = routes.get(name)
                if route is None:
                    route = _route(routes, self._attributes, name)
                if route:
                    parent = value.getparent()
                    for index in route:
                        attributes[index].append((parent, name))
        by_kind = (iter(elements), iter(attributes))
        return [next(by_kind[selector.attributes]) for selector in self.selectors]


#: the most names whose selectors are remembered (a document's namespaces are its own to pick)
_ROUTES = 1024


def _route(routes: dict[str, tuple[int, ...]], selectors: Sequence[NameSelector],
           name: str) -> tuple[int, ...]:
    """Which of `selectors` match `name`, remembered in `routes`."""
    if len(routes) >= _ROUTES:
        routes.clear()
    route = routes[name] = tuple(i for i, s in enumerate(selectors) if s.matches(name))
    return route


#: every attribute of the document (not namespace declarations), in document order
_ATTRIBUTES = etree.XPath("//@*")
