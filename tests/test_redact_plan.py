"""Body rules that select by name, found in one walk, redact exactly as their own XPaths do.

`Redactor(by_name=False)` evaluates each rule's XPath in turn: the reference. Both redactors
run over the golden recordings and over generated documents and rule sets, and must give the
same bytes and ask for the same tokens in the same order (a replacement may depend on its rule
and on what it was asked before: the first token of a value is the one hidden everywhere else).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from turnout.demo.config import demo_proxy_config
from turnout.recording import (
    BodyRule,
    Exchange,
    Pseudonymiser,
    RecordingStore,
    Redactor,
    Rule,
    dumps,
    redactor_from_config,
)
from turnout.recording._redact_plan import compile_names

GOLDEN = Path(__file__).resolve().parents[1] / "recordings"
DEMO = demo_proxy_config("http://127.0.0.1:1", None).redaction
NS = {"a": "urn:a", "b": "urn:b", "pnc": "urn:police:pnc:v1"}
KEY = b"0123456789abcdef0123456789abcdef"

#: rules of the shapes compiled to a walk, and of others (kept as XPaths), mixed in the tests
NAMED = [
    "//*[local-name()='surname']",
    "//*[local-name()='surname' or local-name()='id']",
    '//*[ local-name() = "person" ]',  # a container: what it holds is tokenised, then again
    "//@*[local-name()='id' or local-name()='surname']",
    "//@*[local-name()='lang']",  # xml:lang: kept by a container rule, hidden by this one
    "//a:surname",
    "//surname",
    "//b:person | //a:id",
    "//@a:id",
    "//@id | //@b:surname",
    "//*[local-name()='note'] | //a:person",
    "//pnc:surname",
    "//*[local-name()='registrationMark' or local-name()='postcode']",
    # by name, kept where a condition holds: asked of each element at the rule's turn (a rule
    # before it may have changed the value it reads)
    "//*[local-name()='id'][../*[local-name()='note']='o']",
    "//a:surname[@a:surname = 'Thistlewood' or ../@id != '']",
    "//surname[contains(., 'o') and not(../@lang)][string-length(.) > 3]",
]
GENERAL = [
    "//a:person[a:surname]",
    "//*[local-name()='id']/text()",
    "//@*",
    "//text()[contains(., 'o')]",
    "//*[local-name()='surname'][1]",
    "//a:surname | //@id",  # elements and attributes together: XPath orders them
    "//*[local-name(.)='note']",
    "//*[local-name()='person' and @id]",
    "//*[local-name()='id'][count(../*)]",  # a number: the position among siblings
    "//*[local-name()='id'][position() = 2]",
    "//*[local-name()='note'][last() > 1]",
    "//a:id | //b:id[../a:note = 'o']",  # a condition in a union
    "//@*[local-name()='id'][. = 'o']",  # a condition on attributes
]


def _recording(calls: list[tuple[str, str]]) -> Callable[[str, Any], str]:
    """A replacement that depends on its rule, writes down each call, and keeps the value's
    length (so a token can be hidden by value like a pseudonym's)."""
    def replace(value: str, rule: Any) -> str:
        name = repr(rule)
        calls.append((value, name))
        return value[::-1].swapcase() + f"~{len(name) % 7}"
    return replace


def _both(rules: Sequence[Rule], replacement: str) -> tuple[Redactor, Redactor, list[Any], list[Any]]:
    calls: tuple[list[Any], list[Any]] = ([], [])
    made = []
    for by_name, log in zip((True, False), calls, strict=True):
        chosen: Callable[[str, Any], str] = (
            Pseudonymiser(KEY) if replacement == "pseudonym" else _recording(log)
        )
        made.append(Redactor(rules, replacement=chosen, by_name=by_name))
    walked = [index is not None for _, _, index in made[0]._steps]
    body = [rule for rule in rules if isinstance(rule, BodyRule) and not rule.quoted]
    assert walked == [rule.xpath not in GENERAL for rule in body]  # each shape took its path
    assert not any(index is not None for _, _, index in made[1]._steps)
    return made[0], made[1], calls[0], calls[1]


def test_the_shapes_operators_write_are_compiled_and_others_are_not() -> None:
    for xpath in [*NAMED, *DEMO["body"]]:
        assert compile_names(xpath, NS) is not None, xpath
    for xpath in GENERAL:
        assert compile_names(xpath, NS) is None, xpath
    assert compile_names("//*[local-name()='id'][$value = 'o']", NS) is None  # nobody binds it
    demo = redactor_from_config(DEMO)
    assert all(index is not None for _, _, index in demo._steps)


def _golden() -> list[Exchange]:
    exchanges = list(RecordingStore(GOLDEN).iter_exchanges())
    assert len(exchanges) > 50
    return exchanges


@pytest.mark.parametrize("replacement", ["pseudonym", "recording"])
def test_the_demo_rules_redact_the_golden_recordings_alike(replacement: str) -> None:
    rules = list(redactor_from_config(DEMO).rules)
    named, general, named_calls, general_calls = _both(rules, replacement)
    for exchange in _golden():
        assert dumps(named.redact(exchange), verify=False) == dumps(general.redact(exchange), verify=False)
    assert named_calls == general_calls


@pytest.mark.parametrize("seed", range(6))
def test_mixed_rule_sets_redact_the_golden_recordings_alike(seed: int) -> None:
    import random

    pool = NAMED + GENERAL + list(DEMO["body"])
    chosen = random.Random(seed).sample(pool, 6)
    rules = [BodyRule(xpath, NS) for xpath in chosen]
    named, general, named_calls, general_calls = _both(rules, "recording")
    changed = 0
    for exchange in _golden():
        mine, theirs = named.redact(exchange), general.redact(exchange)
        assert dumps(mine, verify=False) == dumps(theirs, verify=False)
        changed += mine.response is not None and exchange.response is not None \
            and mine.response.body != exchange.response.body
    assert named_calls == general_calls
    assert changed  # the rules hid something


# -- generated documents -----------------------------------------------------------------------

_NAMES = ["surname", "person", "id", "Surname", "note", "lang"]
_URIS = [None, "urn:a", "urn:b"]
_ATTRIBUTE_URIS = [None, "urn:a", "http://www.w3.org/2001/XMLSchema-instance",
                   "http://www.w3.org/XML/1998/namespace"]
_VALUES = ["Thistlewood", "THISTLEWOOD", "TB19 XKF", "14/03/1961", "  ", "", "Zoë Smith", "o", "x\ny"]


def _name(uri: str | None, local: str) -> str:
    return local if uri is None else f"{{{uri}}}{local}"


_elements: st.SearchStrategy[Any] = st.deferred(lambda: st.tuples(
    st.sampled_from(_NAMES), st.sampled_from(_URIS),
    st.lists(st.tuples(st.sampled_from(_NAMES), st.sampled_from(_ATTRIBUTE_URIS),
                       st.sampled_from(_VALUES)), max_size=3),
    st.sampled_from(_VALUES), st.sampled_from(_VALUES),
    st.sampled_from([None, "comment", "pi"]),
    st.lists(_elements, max_size=3),
))


def _build(spec: Any, parent: etree._Element | None = None) -> etree._Element:
    local, uri, attributes, text, tail, extra, children = spec
    name = _name(uri, local)
    nsmap = {"a": "urn:a", "b": "urn:b"} if parent is None else None
    element = etree.Element(name, nsmap=nsmap) if parent is None else etree.SubElement(parent, name)
    for attribute, attribute_uri, value in attributes:
        element.set(_name(attribute_uri, attribute), value)
    element.text = text or None
    if parent is not None:
        element.tail = tail or None
    if extra == "comment":
        element.append(etree.Comment(f" note {text} "))
    elif extra == "pi":
        element.append(etree.ProcessingInstruction("note", text.strip() or "x"))
    for child in children:
        _build(child, element)
    return element


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    document=_elements,
    chosen=st.lists(st.sampled_from(NAMED + GENERAL), min_size=1, max_size=5),
    replacement=st.sampled_from(["pseudonym", "recording"]),
)
def test_generated_documents_and_rules_redact_alike(
    document: Any, chosen: list[str], replacement: str
) -> None:
    body = etree.tostring(_build(document), xml_declaration=True, encoding="utf-8")
    rules = [BodyRule(xpath, NS) for xpath in chosen]
    named, general, named_calls, general_calls = _both(rules, replacement)
    assert named.redact_body(body) == general.redact_body(body)
    assert named_calls == general_calls


def test_a_rule_the_walk_would_read_otherwise_is_checked_against_its_xpath() -> None:
    """The probe catches a compiled reading that differs from the XPath's: here a selector
    that claims the wrong namespace for `a:`."""
    from turnout.recording._redact_plan import NameSelector, _agrees

    right = compile_names("//a:surname", NS)
    assert right is not None and _agrees(right, "//a:surname", NS)
    wrong = NameSelector(attributes=False, names=frozenset({"{urn:b}surname"}))
    assert not _agrees(wrong, "//a:surname", NS)
