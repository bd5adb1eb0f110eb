"""Properties of the diff over generated documents: a document equals itself, however written,
and whatever differs is reported at a path that selects it."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from turnout.compare import EXTRA, diff

URIS = ("urn:police:pnc:v1", "urn:a", "urn:b")
ATTRIBUTE_URI = "urn:attr"
NAMES = ("person", "id", "surname", "marker", "p")
PREFIXES = ("pnc", "p", "q", "ns0", "ns1", "soap", "x")
TEXT = st.text(alphabet="ab <&>\"'é\u00a0\t", max_size=6)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@dataclass(frozen=True)
class Spec:
    """One element, independent of how it is written: namespace, name, attributes, content."""

    uri: str | None
    name: str
    attributes: tuple[tuple[str | None, str, str], ...]
    text: str | None
    children: tuple[Spec, ...]


def specs(max_depth: int = 4) -> st.SearchStrategy[Spec]:
    attributes = st.lists(
        st.tuples(st.sampled_from((None, ATTRIBUTE_URI)), st.sampled_from(("a", "b", "c")), TEXT),
        max_size=3,
        unique_by=lambda a: (a[0], a[1]),
    ).map(tuple)
    uri = st.sampled_from((None, *URIS))
    name = st.sampled_from(NAMES)
    leaf = st.builds(Spec, uri, name, attributes, st.one_of(st.none(), TEXT), st.just(()))
    return st.recursive(
        leaf,
        lambda inner: st.builds(
            Spec, uri, name, attributes, st.none(), st.lists(inner, min_size=1, max_size=4).map(tuple)
        ),
        max_leaves=25,
    )


def uses_no_namespace(spec: Spec) -> bool:
    return spec.uri is None or any(uses_no_namespace(c) for c in spec.children)


@dataclass(frozen=True)
class Writing:
    """How a document is written: prefixes, where they are declared, attribute order, indent."""

    prefixes: dict[str, str | None]
    at_root: bool
    reverse_attributes: bool
    indent: bool
    declaration: bool


def writings(default_allowed: bool) -> st.SearchStrategy[Writing]:
    pool = st.permutations(PREFIXES).map(lambda p: dict(zip((*URIS, ATTRIBUTE_URI), p)))
    if default_allowed:  # one element namespace may be the default namespace
        pool = st.tuples(pool, st.sampled_from((None, *URIS))).map(
            lambda pair: {k: (None if k == pair[1] else v) for k, v in pair[0].items()}
        )
    return st.builds(Writing, pool, st.booleans(), st.booleans(), st.booleans(), st.booleans())


def write(spec: Spec, how: Writing) -> bytes:
    def nsmap_for(node: Spec) -> dict[str | None, str]:
        used = {node.uri} | {u for u, _, _ in node.attributes}
        return {how.prefixes[u]: u for u in used if u is not None}

    def build(node: Spec, parent: etree._Element | None) -> etree._Element:
        tag = f"{{{node.uri}}}{node.name}" if node.uri else node.name
        if parent is None:
            nsmap = {how.prefixes[u]: u for u in (*URIS, ATTRIBUTE_URI)} if how.at_root else {}
            nsmap.update(nsmap_for(node))
            element = etree.Element(tag, nsmap=nsmap)
        else:
            element = etree.SubElement(parent, tag, nsmap={} if how.at_root else nsmap_for(node))
        attributes = reversed(node.attributes) if how.reverse_attributes else node.attributes
        for uri, name, value in attributes:
            element.set(f"{{{uri}}}{name}" if uri else name, value)
        element.text = node.text
        for child in node.children:
            build(child, element)
        return element

    root = build(spec, None)
    if how.indent:
        etree.indent(root, space="  ")
    return etree.tostring(root, xml_declaration=how.declaration, encoding="utf-8")


@st.composite
def documents_written_twice(draw: st.DrawFn) -> tuple[bytes, bytes]:
    spec = draw(specs())
    default_allowed = not uses_no_namespace(spec)
    return write(spec, draw(writings(default_allowed))), write(spec, draw(writings(default_allowed)))


@SETTINGS
@given(documents_written_twice())
def test_a_document_equals_itself(pair: tuple[bytes, bytes]) -> None:
    document, _ = pair
    assert diff(document, document).exact
    tree = etree.fromstring(document)
    assert diff(tree, tree).exact


@SETTINGS
@given(documents_written_twice())
def test_rewriting_with_other_prefixes_and_layout_keeps_equality(pair: tuple[bytes, bytes]) -> None:
    first, second = pair
    result = diff(first, second)
    assert result.differences == []
    assert result.exact


@SETTINGS
@given(documents_written_twice(), st.integers(min_value=0), st.sampled_from(("text", "drop", "add")))
def test_every_difference_has_a_path_that_selects_it(
    pair: tuple[bytes, bytes], pick: int, change: str
) -> None:
    first, second = pair
    legacy, new = etree.fromstring(first), etree.fromstring(second)
    elements = list(new.iter())
    target = elements[pick % len(elements)]
    if change == "drop" and target is not new:
        target.getparent().remove(target)
    elif change == "add" or len(target):
        etree.SubElement(target, "added").text = "§"
    else:
        target.text = (target.text or "") + "§"
    result = diff(legacy, new)
    assert not result.equal
    for difference in result.differences:
        document = new if difference.kind == EXTRA else legacy
        selected = document.xpath(difference.path, namespaces=result.namespaces)
        assert len(selected) == 1, (difference, etree.tostring(document))
        element = difference.new_element if difference.kind == EXTRA else difference.legacy_element
        if "/@" not in difference.path and not difference.path.endswith("text()"):
            assert selected[0] is element
