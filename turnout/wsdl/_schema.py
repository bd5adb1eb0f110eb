"""The schema layer: XSD declarations turned into element trees with types, cardinality, facets.

zeep reads the same schemas, but its type model keeps neither facets (enumerations, patterns,
lengths) nor choices as choices nor substitution groups, and all three matter to a person
deciding how an operation maps to JSON. So the trees are built here from the schema documents
themselves (already read through the hardened parser): global declarations are indexed by
qualified name, and an element's tree is its type expanded, with extension flattened onto the
base, groups and attribute groups inlined, choices and substitution groups kept as choices, and
recursion cut where a type repeats on the path.

A reference that cannot be resolved (an undeclared prefix, a type no schema defines, a schema
that was not fetched) is a `Problem`, and the node is marked `unresolved`; nothing here raises.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from lxml import etree

from ._fetch import DocumentSet, Loaded
from ._model import (
    OLD_XSD_NS,
    SOAP_ENC_NS,
    WSDL_NS,
    XML_NS,
    XSD_NS,
    Field,
    Problem,
    SimpleType,
    clark,
)

_SCHEMA_NS = (XSD_NS, *OLD_XSD_NS)
BUILTINS = frozenset("""
    anyType anySimpleType string normalizedString token language Name NCName NMTOKEN NMTOKENS
    ID IDREF IDREFS ENTITY ENTITIES QName NOTATION anyURI boolean base64Binary hexBinary float
    double decimal integer nonPositiveInteger negativeInteger long int short byte
    nonNegativeInteger unsignedLong unsignedInt unsignedShort unsignedByte positiveInteger
    duration dateTime date time gYearMonth gYear gMonthDay gDay gMonth dateTimeStamp
""".split())
#: prefixes people use without declaring them, and what they almost always mean
_USUAL_PREFIXES = {
    "xs": XSD_NS, "xsd": XSD_NS, "s": XSD_NS, "wsdl": WSDL_NS, "soapenc": SOAP_ENC_NS,
    "SOAP-ENC": SOAP_ENC_NS, "soap-enc": SOAP_ENC_NS, "enc": SOAP_ENC_NS,
}
_MAX_DEPTH = 24
_MAX_NODES = 4000
_FACETS = {
    "length": "length", "minLength": "min_length", "maxLength": "max_length",
    "minInclusive": "min_inclusive", "maxInclusive": "max_inclusive",
    "minExclusive": "min_exclusive", "maxExclusive": "max_exclusive",
    "totalDigits": "total_digits", "fractionDigits": "fraction_digits",
}
_INT_FACETS = {"length", "min_length", "max_length", "total_digits", "fraction_digits"}
_ARRAY_TYPE = f"{{{WSDL_NS}}}arrayType"


def xs_name(node: object) -> str | None:
    """The local name of an XSD element (`element`, `sequence`, ...), else None."""
    if not isinstance(node, etree._Element) or not isinstance(node.tag, str):
        return None
    name = etree.QName(node)
    return name.localname if name.namespace in _SCHEMA_NS else None


def documentation(node: etree._Element) -> str | None:
    texts = []
    for annotation in node:
        if xs_name(annotation) != "annotation":
            continue
        for doc in annotation:
            if xs_name(doc) == "documentation":
                texts.append(" ".join("".join(doc.itertext()).split()))
    text = " ".join(t for t in texts if t)
    return text[:400] or None


@dataclass(frozen=True)
class Ctx:
    """Where a declaration lives: its file, target namespace and form defaults."""

    location: str
    tns: str | None
    element_form: str = "unqualified"
    attribute_form: str = "unqualified"


class _Budget:
    """Bounds one tree, so a huge or deeply recursive schema cannot make inspect hang."""

    def __init__(self) -> None:
        self.nodes = 0

    def spend(self) -> bool:
        self.nodes += 1
        return self.nodes <= _MAX_NODES


class Schemas:
    """Every global declaration of every schema read, and trees built from them."""

    def __init__(self, documents: DocumentSet, problems: list[Problem]) -> None:
        self.documents = documents
        self.problems = problems
        self._seen_problems: set[tuple[str, int | None, str]] = set()
        self.elements: dict[str, tuple[etree._Element, Ctx]] = {}
        self.types: dict[str, tuple[etree._Element, Ctx]] = {}
        self.groups: dict[str, tuple[etree._Element, Ctx]] = {}
        self.attribute_groups: dict[str, tuple[etree._Element, Ctx]] = {}
        self.attributes: dict[str, tuple[etree._Element, Ctx]] = {}
        self.members: dict[str, list[str]] = {}  # substitution group head -> members
        self.namespaces: set[str | None] = set()
        for doc, schema in documents.schema_elements():
            self._index(doc, schema)
        self.unfetched = {
            skipped.namespace for skipped in documents.skipped.values() if skipped.namespace
        }

    # --- indexing -----------------------------------------------------------------------------

    def _index(self, doc: Loaded, schema: etree._Element) -> None:
        tns = schema.get("targetNamespace") or doc.included_by
        ctx = Ctx(
            doc.location, tns,
            schema.get("elementFormDefault", "unqualified"),
            schema.get("attributeFormDefault", "unqualified"),
        )
        self.namespaces.add(tns)
        tables = {
            "element": self.elements, "complexType": self.types, "simpleType": self.types,
            "group": self.groups, "attributeGroup": self.attribute_groups,
            "attribute": self.attributes,
        }
        for node in _declarations(schema):
            what = xs_name(node)
            name = node.get("name")
            if what not in tables or not name:
                continue
            key = clark(tns, name.strip())
            tables[what].setdefault(key, (node, ctx))
            if what == "element" and node.get("substitutionGroup"):
                head = self.resolve(node, node.get("substitutionGroup", ""), ctx)
                if head is not None:
                    self.members.setdefault(head, []).append(key)

    # --- problems and names -------------------------------------------------------------------

    def problem(self, ctx: Ctx | str, node: etree._Element | None, message: str) -> None:
        file = ctx if isinstance(ctx, str) else ctx.location
        line = node.sourceline if node is not None else None
        key = (file, line, message)
        if key not in self._seen_problems:
            self._seen_problems.add(key)
            self.problems.append(Problem(file, message, line))

    def resolve(self, node: etree._Element, value: str, ctx: Ctx | str) -> str | None:
        """A QName attribute value as `{ns}local`. An undeclared prefix is a problem, read as the
        namespace such a prefix usually means, or else by the local name alone (None ns)."""
        value = value.strip()
        if not value:
            return None
        prefix, sep, local = value.rpartition(":")
        if not sep:
            namespace = node.nsmap.get(None)
        elif prefix == "xml":
            namespace = XML_NS
        else:
            namespace = node.nsmap.get(prefix)
            if namespace is None:
                guess = _USUAL_PREFIXES.get(prefix)
                if prefix == "tns" and not isinstance(ctx, str):
                    guess = ctx.tns
                read_as = f"read as {guess}" if guess else "looked up by its local name"
                self.problem(ctx, node, f"prefix {prefix!r} is used but never declared "
                             f"({value!r}); {read_as}")
                if guess is None:
                    return "{?}" + local
                namespace = guess
        if namespace in OLD_XSD_NS:
            namespace = XSD_NS
        return clark(namespace, local)

    def _lookup(
        self, table: dict[str, tuple[etree._Element, Ctx]], name: str
    ) -> tuple[etree._Element, Ctx] | None:
        found = table.get(name)
        if found is not None:
            return found
        if name.startswith("{?}"):  # an undeclared prefix: by local name, when that is unique
            local = name[3:]
            matches = [v for k, v in table.items() if k.rpartition("}")[2] == local]
            return matches[0] if len(matches) == 1 else None
        return None

    def _missing(self, what: str, name: str, ctx: Ctx | str, node: etree._Element | None) -> None:
        namespace = name[1:].partition("}")[0] if name.startswith("{") else None
        if namespace in self.unfetched:
            self.problem(ctx, node, f"{what} {name} is declared in a schema that was not read "
                         f"(namespace {namespace}); shown as unknown content")
        else:
            self.problem(ctx, node, f"{what} {name} is not declared in any schema read; shown "
                         "as unknown content")

    # --- public entry points ------------------------------------------------------------------

    def global_element(self, name: str, where: str, node: etree._Element | None) -> Field:
        """The tree of global element `name` (a message part's element=)."""
        found = self._lookup(self.elements, name)
        namespace, _, local = name[1:].partition("}") if name.startswith("{") else ("", "", name)
        if found is None:
            self._missing("element", name, where, node)
            return Field("element", local, namespace or None, unresolved=True)
        decl, ctx = found
        return self._declared(decl, ctx, [], _Budget(), qualified=True)

    def typed_element(
        self, local: str, namespace: str | None, type_name: str, where: str,
        node: etree._Element | None,
    ) -> Field:
        """An element named `local` of type `type_name`: an rpc part, a document part with type=."""
        field = Field("element", local, namespace, type_name=type_name)
        return self._with_type(field, type_name, where, node, [], _Budget())

    # --- elements -----------------------------------------------------------------------------

    def _element(
        self, node: etree._Element, ctx: Ctx, stack: list[str], budget: _Budget,
        occurs: tuple[int, int | None],
    ) -> Field:
        ref = node.get("ref")
        if ref:
            name = self.resolve(node, ref, ctx)
            found = self._lookup(self.elements, name) if name else None
            if found is None or name is None:
                self._missing("element", name or ref, ctx, node)
                local = (name or ref).rpartition("}")[2].rpartition(":")[2]
                return Field("element", local, None, unresolved=True, min_occurs=occurs[0],
                             max_occurs=occurs[1])
            decl, decl_ctx = found
            field = self._declared(decl, decl_ctx, stack, budget, qualified=True)
            field = replace(field, min_occurs=occurs[0], max_occurs=occurs[1])
            return self._substitutions(field, name, stack, budget)
        qualified = (node.get("form") or ctx.element_form) == "qualified"
        field = self._declared(node, ctx, stack, budget, qualified)
        return replace(field, min_occurs=occurs[0], max_occurs=occurs[1])

    def _substitutions(
        self, head: Field, name: str, stack: list[str], budget: _Budget
    ) -> Field:
        """A reference to a substitution group head: a choice of the head (unless abstract) and
        every member, transitively."""
        members = []
        pending, seen = list(self.members.get(name, ())), {name}
        while pending:
            member = pending.pop(0)
            if member in seen:
                continue
            seen.add(member)
            pending.extend(self.members.get(member, ()))
            decl, ctx = self.elements[member]
            field = self._declared(decl, ctx, stack, budget, qualified=True)
            if not field.abstract:
                members.append(field)
        if not members:
            return head
        single = replace(head, min_occurs=1, max_occurs=1)
        options = ([] if head.abstract else [single]) + members
        return Field("choice", children=tuple(options), min_occurs=head.min_occurs,
                     max_occurs=head.max_occurs, documentation=f"substitution group of {name}")

    def _declared(
        self, node: etree._Element, ctx: Ctx, stack: list[str], budget: _Budget, qualified: bool
    ) -> Field:
        name = (node.get("name") or "").strip()
        field = Field(
            "element", name, ctx.tns if qualified else None,
            nillable=node.get("nillable") in ("true", "1"),
            default=node.get("default"), fixed=node.get("fixed"),
            documentation=documentation(node),
            abstract=node.get("abstract") in ("true", "1"),
        )
        if not budget.spend() or len(stack) > _MAX_DEPTH:
            return replace(field, recursive=True)
        type_attr = node.get("type")
        if type_attr:
            type_name = self.resolve(node, type_attr, ctx)
            if type_name is not None:
                return self._with_type(replace(field, type_name=type_name), type_name, ctx, node,
                                       stack, budget)
        for child in node:
            what = xs_name(child)
            if what == "simpleType":
                return replace(field, simple=self._simple(child, ctx, None, []))
            if what == "complexType":
                return self._complex(field, child, ctx, f"#{id(child)}", stack, budget)
        head = node.get("substitutionGroup")
        if head:  # no type of its own: the head's
            head_name = self.resolve(node, head, ctx)
            found = self._lookup(self.elements, head_name) if head_name else None
            if found is not None:
                head_field = self._declared(found[0], found[1], stack, budget, qualified)
                return replace(head_field, name=field.name, namespace=field.namespace,
                               abstract=field.abstract, documentation=field.documentation)
        return replace(field, simple=SimpleType("anyType"), type_name=clark(XSD_NS, "anyType"))

    def _with_type(
        self, field: Field, type_name: str, ctx: Ctx | str, node: etree._Element | None,
        stack: list[str], budget: _Budget,
    ) -> Field:
        namespace, _, local = type_name[1:].partition("}") if type_name.startswith("{") else (
            None, "", type_name
        )
        if namespace == XSD_NS and local in BUILTINS:
            return replace(field, simple=SimpleType(local, type_name))
        found = self._lookup(self.types, type_name)
        if found is None:
            self._missing("type", type_name, ctx, node)
            return replace(field, unresolved=True)
        decl, decl_ctx = found
        doc = field.documentation or documentation(decl)
        field = replace(field, documentation=doc)
        if xs_name(decl) == "simpleType":
            return replace(field, simple=self._simple(decl, decl_ctx, type_name, []))
        return self._complex(field, decl, decl_ctx, type_name, stack, budget)

    # --- complex types ------------------------------------------------------------------------

    def _complex(
        self, field: Field, node: etree._Element, ctx: Ctx, key: str, stack: list[str],
        budget: _Budget,
    ) -> Field:
        if key in stack:
            return replace(field, recursive=True)
        stack.append(key)
        try:
            children, simple, array = self._content(node, ctx, stack, budget)
        finally:
            stack.pop()
        return replace(field, children=tuple(children), simple=simple, encoded_array=array)

    def _content(
        self, node: etree._Element, ctx: Ctx, stack: list[str], budget: _Budget
    ) -> tuple[list[Field], SimpleType | None, bool]:
        """The children (elements, then attributes), simple content, and whether it is a
        SOAP-encoded array, of a complexType (or of its extension/restriction)."""
        elements: list[Field] = []
        attributes: list[Field] = []
        simple: SimpleType | None = None
        array = False
        for child in node:
            what = xs_name(child)
            if what in ("sequence", "choice", "all", "group", "element", "any"):
                elements.extend(self._particle(child, ctx, stack, budget, (1, 1)))
            elif what in ("attribute", "attributeGroup"):
                attributes.extend(self._attributes(child, ctx, []))
            elif what in ("simpleContent", "complexContent"):
                for derivation in child:
                    how = xs_name(derivation)
                    if how not in ("extension", "restriction"):
                        continue
                    base_name = self.resolve(derivation, derivation.get("base", ""), ctx)
                    if what == "complexContent" and how == "restriction" and base_name == clark(
                        SOAP_ENC_NS, "Array"
                    ):
                        array = True
                        elements = self._array_items(derivation, ctx, stack, budget)
                        continue
                    if how == "extension" or what == "simpleContent":
                        base = self._base(base_name, derivation, ctx, stack, budget)
                        elements.extend(base[0])
                        attributes.extend(base[1])
                        simple = base[2]
                        array = array or base[3]
                    if what == "simpleContent" and how == "restriction":
                        simple = self._restricted(simple, derivation, ctx)
                    more, _, _ = self._content(derivation, ctx, stack, budget)
                    for extra in more:
                        (attributes if extra.kind == "attribute" else elements).append(extra)
        # attributes already include those of a base; keep elements then attributes
        return elements + attributes, simple, array

    def _base(
        self, base_name: str | None, node: etree._Element, ctx: Ctx, stack: list[str],
        budget: _Budget,
    ) -> tuple[list[Field], list[Field], SimpleType | None, bool]:
        if base_name is None:
            return [], [], None, False
        namespace, _, local = base_name[1:].partition("}") if base_name.startswith("{") else (
            None, "", base_name
        )
        if namespace == XSD_NS and local in BUILTINS:
            return [], [], (SimpleType(local, base_name) if local != "anyType" else None), False
        found = self._lookup(self.types, base_name)
        if found is None:
            self._missing("base type", base_name, ctx, node)
            return [], [], None, False
        decl, decl_ctx = found
        if xs_name(decl) == "simpleType":
            return [], [], self._simple(decl, decl_ctx, base_name, []), False
        if base_name in stack:
            return [], [], None, False
        stack.append(base_name)
        try:
            children, simple, array = self._content(decl, decl_ctx, stack, budget)
        finally:
            stack.pop()
        elements = [c for c in children if c.kind != "attribute"]
        attributes = [c for c in children if c.kind == "attribute"]
        return elements, attributes, simple, array

    def _array_items(
        self, node: etree._Element, ctx: Ctx, stack: list[str], budget: _Budget
    ) -> list[Field]:
        """SOAP-ENC:Array restricted to an item type: one repeated `item` element."""
        for descendant in node.iter():
            array_type = descendant.get(_ARRAY_TYPE)
            if array_type:
                item_type = self.resolve(descendant, re.split(r"\[", array_type, maxsplit=1)[0],
                                         ctx)
                if item_type:
                    item = Field("element", "item", None, type_name=item_type, min_occurs=0,
                                 max_occurs=None)
                    return [self._with_type(item, item_type, ctx, descendant, stack, budget)]
        for child in node:
            if xs_name(child) in ("sequence", "all", "choice"):
                items = self._particle(child, ctx, stack, budget, (1, 1))
                return [replace(f, min_occurs=0, max_occurs=None) for f in items]
        return [Field("element", "item", None, simple=SimpleType("anyType"), min_occurs=0,
                      max_occurs=None)]

    def _particle(
        self, node: etree._Element, ctx: Ctx, stack: list[str], budget: _Budget,
        factor: tuple[int, int | None],
    ) -> list[Field]:
        """The fields of one particle, with enclosing groups' occurrences multiplied in."""
        what = xs_name(node)
        own = _occurs(node)
        occurs = (own[0] * factor[0], _times(own[1], factor[1]))
        if what == "element":
            return [self._element(node, ctx, stack, budget, occurs)]
        if what == "any":
            return [Field("any", min_occurs=occurs[0], max_occurs=occurs[1],
                          wildcard=node.get("namespace", "##any"),
                          process_contents=node.get("processContents", "strict"))]
        if what in ("sequence", "all"):
            found: list[Field] = []
            for child in node:
                if xs_name(child) in ("element", "any", "sequence", "choice", "group"):
                    found.extend(self._particle(child, ctx, stack, budget, occurs))
            return found
        if what == "choice":
            options = []
            for child in node:
                kind = xs_name(child)
                if kind not in ("element", "any", "sequence", "choice", "group"):
                    continue
                fields = self._particle(child, ctx, stack, budget, (1, 1))
                if kind == "sequence" or len(fields) != 1:
                    seq_occurs = _occurs(child)
                    options.append(Field("sequence", children=tuple(fields),
                                         min_occurs=seq_occurs[0], max_occurs=seq_occurs[1]))
                else:
                    options.extend(fields)
            return [Field("choice", children=tuple(options), min_occurs=occurs[0],
                          max_occurs=occurs[1])]
        if what == "group":
            ref = node.get("ref")
            name = self.resolve(node, ref, ctx) if ref else None
            found_group = self._lookup(self.groups, name) if name else None
            if found_group is None:
                if ref:
                    self._missing("group", name or ref, ctx, node)
                return []
            decl, decl_ctx = found_group
            if name in stack:
                return []
            stack.append(name or "")
            try:
                fields = []
                for child in decl:
                    if xs_name(child) in ("sequence", "choice", "all"):
                        fields.extend(self._particle(child, decl_ctx, stack, budget, occurs))
                return fields
            finally:
                stack.pop()
        return []

    def _attributes(self, node: etree._Element, ctx: Ctx, seen: list[str]) -> list[Field]:
        what = xs_name(node)
        if what == "attributeGroup":
            ref = node.get("ref")
            name = self.resolve(node, ref, ctx) if ref else None
            found = self._lookup(self.attribute_groups, name) if name else None
            if found is None or name in seen:
                if ref and found is None:
                    self._missing("attribute group", name or ref, ctx, node)
                return []
            decl, decl_ctx = found
            out: list[Field] = []
            for child in decl:
                if xs_name(child) in ("attribute", "attributeGroup"):
                    out.extend(self._attributes(child, decl_ctx, [*seen, name or ""]))
            return out
        if node.get("use") == "prohibited":
            return []
        required = node.get("use") == "required"
        ref = node.get("ref")
        if ref:
            name = self.resolve(node, ref, ctx)
            found = self._lookup(self.attributes, name) if name else None
            namespace, _, local = (name or ref)[1:].partition("}") if (name or "").startswith(
                "{") else (None, "", ref)
            if found is None:
                if namespace == SOAP_ENC_NS or namespace == XML_NS:
                    return [Field("attribute", local, namespace, simple=SimpleType("string"),
                                  min_occurs=int(required))]
                self._missing("attribute", name or ref, ctx, node)
                return [Field("attribute", local, namespace, unresolved=True,
                              min_occurs=int(required))]
            decl, decl_ctx = found
            field = self._attribute_type(decl, decl_ctx, local, namespace)
            return [replace(field, min_occurs=int(required), default=node.get("default"),
                            fixed=node.get("fixed") or field.fixed)]
        qualified = (node.get("form") or ctx.attribute_form) == "qualified"
        name_attr = (node.get("name") or "").strip()
        field = self._attribute_type(node, ctx, name_attr, ctx.tns if qualified else None)
        return [replace(field, min_occurs=int(required))]

    def _attribute_type(
        self, node: etree._Element, ctx: Ctx, local: str, namespace: str | None
    ) -> Field:
        field = Field("attribute", local, namespace, min_occurs=0, default=node.get("default"),
                      fixed=node.get("fixed"), documentation=documentation(node))
        if node.get("type"):
            type_name = self.resolve(node, node.get("type", ""), ctx)
            if type_name:
                return self._with_type(replace(field, type_name=type_name), type_name, ctx,
                                       node, [], _Budget())
        for child in node:
            if xs_name(child) == "simpleType":
                return replace(field, simple=self._simple(child, ctx, None, []))
        return replace(field, simple=SimpleType("anySimpleType"))

    # --- simple types -------------------------------------------------------------------------

    def _simple_named(
        self, name: str | None, ctx: Ctx, node: etree._Element, seen: list[str]
    ) -> SimpleType:
        if name is None:
            return SimpleType("string")
        namespace, _, local = name[1:].partition("}") if name.startswith("{") else (None, "", name)
        if namespace == XSD_NS and local in BUILTINS:
            return SimpleType(local, name)
        found = self._lookup(self.types, name)
        if found is None or name in seen:
            if found is None:
                self._missing("type", name, ctx, node)
            return SimpleType("string", name)
        decl, decl_ctx = found
        if xs_name(decl) != "simpleType":  # a complex type with simple content, as a base
            _, simple, _ = self._content(decl, decl_ctx, [], _Budget())
            return simple or SimpleType("string", name)
        return self._simple(decl, decl_ctx, name, [*seen, name])

    def _simple(
        self, node: etree._Element, ctx: Ctx, name: str | None, seen: list[str]
    ) -> SimpleType:
        doc = documentation(node)
        for child in node:
            what = xs_name(child)
            if what == "restriction":
                base = self._restriction_base(child, ctx, seen)
                restricted = self._restricted(base, child, ctx)
                return replace(restricted, name=name or None,
                               documentation=doc or restricted.documentation)
            if what == "list":
                item = self._simple_named(self.resolve(child, child.get("itemType", ""), ctx),
                                          ctx, child, seen) if child.get("itemType") else next(
                    (self._simple(c, ctx, None, seen) for c in child if xs_name(c) ==
                     "simpleType"), SimpleType("string"))
                return SimpleType(item.builtin, name, item.facets, True, doc)
            if what == "union":
                members = (child.get("memberTypes") or "").split()
                if members:
                    first = self._simple_named(self.resolve(child, members[0], ctx), ctx, child,
                                               seen)
                else:
                    first = next((self._simple(c, ctx, None, seen) for c in child
                                  if xs_name(c) == "simpleType"), SimpleType("string"))
                return SimpleType(first.builtin, name, first.facets, first.is_list, doc)
        return SimpleType("string", name, documentation=doc)

    def _restriction_base(self, node: etree._Element, ctx: Ctx, seen: list[str]) -> SimpleType:
        if node.get("base"):
            return self._simple_named(self.resolve(node, node.get("base", ""), ctx), ctx, node,
                                      seen)
        for child in node:
            if xs_name(child) == "simpleType":
                return self._simple(child, ctx, None, seen)
        return SimpleType("string")

    def _restricted(
        self, base: SimpleType | None, node: etree._Element, ctx: Ctx
    ) -> SimpleType:
        base = base or SimpleType("string")
        values: dict[str, object] = {}
        enumeration: list[str] = []
        patterns: list[str] = []
        for child in node:
            what = xs_name(child)
            value = child.get("value")
            if value is None:
                continue
            if what == "enumeration":
                enumeration.append(value)
            elif what == "pattern":
                patterns.append(value)
            elif what in _FACETS:
                attr = _FACETS[what]
                if attr in _INT_FACETS:
                    try:
                        values[attr] = int(value)
                    except ValueError:
                        self.problem(ctx, child, f"{what} {value!r} is not a whole number")
                else:
                    values[attr] = value
        facets = replace(
            base.facets,
            enumeration=tuple(enumeration) or base.facets.enumeration,
            patterns=base.facets.patterns + tuple(patterns),
            **values,  # type: ignore[arg-type]
        )
        return replace(base, facets=facets)


def _declarations(schema: etree._Element) -> Iterable[etree._Element]:
    """Top-level declarations, including those inside xs:redefine / xs:override."""
    for node in schema:
        if xs_name(node) in ("redefine", "override"):
            yield from node
        else:
            yield node


def _occurs(node: etree._Element) -> tuple[int, int | None]:
    try:
        low = int(node.get("minOccurs", "1"))
    except ValueError:
        low = 1
    high_text = node.get("maxOccurs", "1")
    if high_text == "unbounded":
        return low, None
    try:
        return low, int(high_text)
    except ValueError:
        return low, 1


def _times(a: int | None, b: int | None) -> int | None:
    return None if a is None or b is None else a * b
