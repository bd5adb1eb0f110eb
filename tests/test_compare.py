"""The semantic XML diff: what never counts, and each kind of difference with its path."""

from __future__ import annotations

import pytest
from lxml import etree

from turnout.compare import (
    CHANGED,
    EXTRA,
    MISSING,
    REORDERED,
    Difference,
    Ignore,
    Rules,
    Unordered,
    diff,
)
from turnout.soap import XmlThreat

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
PNC = "urn:police:pnc:v1"
NS = {"pnc": PNC}
BODY = "/soap:Envelope/soap:Body/pnc:PersonEnquiryResponse"

LEGACY = f"""<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="{SOAP11}" xmlns:pnc="{PNC}"><soap:Header><pnc:MessageHeader>
<pnc:messageId>m-1</pnc:messageId><pnc:timestamp>25/11/2026 07:53:01</pnc:timestamp>
</pnc:MessageHeader></soap:Header><soap:Body><pnc:PersonEnquiryResponse>
<pnc:matchCount>2</pnc:matchCount>
<pnc:person status="active" source="pnc"><pnc:pncId>98/1A</pnc:pncId><pnc:surname>ASHGROVE</pnc:surname>
<pnc:dateOfBirth>03/03/1951</pnc:dateOfBirth></pnc:person>
<pnc:person status="active" source="pnc"><pnc:pncId>98/2B</pnc:pncId><pnc:surname>MARCHBANK</pnc:surname>
<pnc:dateOfBirth>25/12/1949</pnc:dateOfBirth></pnc:person>
</pnc:PersonEnquiryResponse></soap:Body></soap:Envelope>""".encode()


def same_meaning(**changes: str) -> bytes:
    """LEGACY written differently, with the same meaning: other prefixes, declarations where
    they are used, default namespace, attribute order, indentation, a comment and a PI, and no
    XML declaration."""
    text = (
        f'<S:Envelope xmlns:S="{SOAP11}">\n  <S:Header>\n    <MessageHeader xmlns="{PNC}">'
        "<messageId>m-1</messageId><timestamp>25/11/2026 07:53:01</timestamp></MessageHeader>\n"
        f'  </S:Header>\n  <S:Body>\n    <!-- translated -->\n    <p:PersonEnquiryResponse xmlns:p="{PNC}">\n'
        "      <p:matchCount>2</p:matchCount>\n"
        '      <p:person source="pnc" status="active">\n'
        "        <p:pncId>98/1A</p:pncId>\n        <?trace x?><p:surname>ASHGROVE</p:surname>\n"
        "        <p:dateOfBirth>03/03/1951</p:dateOfBirth>\n      </p:person>\n"
        '      <p:person source="pnc" status="active">\n'
        "        <p:pncId>98/2B</p:pncId>\n        <p:surname>MARCHBANK</p:surname>\n"
        "        <p:dateOfBirth>25/12/1949</p:dateOfBirth>\n      </p:person>\n"
        "    </p:PersonEnquiryResponse>\n  </S:Body>\n</S:Envelope>"
    )
    for old, new in changes.items():
        assert old.replace("_", ":") in text or old in text, old
        text = text.replace(old.replace("_", ":") if old.replace("_", ":") in text else old, new)
    return text.encode()


def edited(source: bytes, xpath: str, edit) -> bytes:  # type: ignore[no-untyped-def]
    """`source` with `edit(element)` applied to the first element `xpath` selects."""
    root = etree.fromstring(source)
    edit(root.xpath(xpath, namespaces={"soap": SOAP11, "pnc": PNC})[0])
    return etree.tostring(root)


def only(result_differences: list[Difference]) -> Difference:
    assert len(result_differences) == 1, result_differences
    return result_differences[0]


# -- what never counts ------------------------------------------------------------------------


def test_prefixes_declarations_attribute_order_whitespace_and_declaration_never_count() -> None:
    result = diff(LEGACY, same_meaning())
    assert result.equal and result.exact
    assert result.differences == []


@pytest.mark.parametrize(
    "legacy, new",
    [
        (f'<a:x xmlns:a="{PNC}"><a:y>1</a:y></a:x>', f'<b:x xmlns:b="{PNC}"><b:y>1</b:y></b:x>'),
        (f'<a:x xmlns:a="{PNC}"><a:y>1</a:y></a:x>', f'<x xmlns="{PNC}"><y>1</y></x>'),
        (
            f'<a:x xmlns:a="{PNC}"><a:y>1</a:y></a:x>',
            f'<a:x xmlns:a="{PNC}"><a:y xmlns:a="{PNC}">1</a:y></a:x>',
        ),
        ('<x a="1" b="2"/>', '<x b="2" a="1"/>'),
        ("<x>\n  <y>1</y>\n  <z/>\n</x>", "<x><y>1</y><z/></x>"),
        ('<?xml version="1.0" encoding="utf-8"?><x/>', "<x></x>"),
        ("<x><!-- c --><y>1</y><?pi data?></x>", "<x><y>1</y></x>"),
        ("<x><y>ab</y></x>", "<x><y>a<!-- split -->b</y></x>"),
        ("<x><y>a&amp;b</y></x>", "<x><y><![CDATA[a&b]]></y></x>"),
        (
            f'<x xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:p="{PNC}" '
            'xsi:type="p:Person"/>',
            f'<x xmlns:i="http://www.w3.org/2001/XMLSchema-instance" xmlns:q="{PNC}" '
            'i:type="q:Person"/>',
        ),
    ],
    ids=[
        "prefix",
        "default-namespace",
        "redeclared",
        "attribute-order",
        "indentation",
        "xml-declaration",
        "comment-and-pi",
        "comment-inside-text",
        "cdata",
        "xsi-type-prefix",
    ],
)
def test_pairs_that_mean_the_same_are_exact(legacy: str, new: str) -> None:
    result = diff(legacy.encode(), new.encode())
    assert result.differences == []
    assert result.exact


def test_leading_and_trailing_whitespace_of_a_text_counts() -> None:
    difference = only(diff(b"<x><y>ASHGROVE</y></x>", b"<x><y> ASHGROVE</y></x>").differences)
    assert difference == Difference("/x/y", CHANGED, "ASHGROVE", " ASHGROVE")


def test_empty_element_spellings_are_equal() -> None:
    assert diff(b"<x><y/></x>", b"<x><y></y></x>").exact


def test_elements_are_compared_as_given_and_not_changed() -> None:
    legacy, new = etree.fromstring(LEGACY), etree.fromstring(same_meaning())
    before = etree.tostring(new)
    assert diff(legacy, new).exact
    assert diff(legacy.getroottree(), new).exact
    assert etree.tostring(new) == before


def test_bytes_go_through_the_hardened_parser() -> None:
    bomb = b'<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'
    with pytest.raises(XmlThreat):
        diff(bomb, b"<x/>")


# -- each kind of difference, with its path ---------------------------------------------------


def test_one_value_changed_is_reported_at_its_path() -> None:
    new = same_meaning(**{"<p:surname>MARCHBANK<": "<p:surname>MARCHBANKS<"})
    result = diff(LEGACY, new)
    assert not result.equal and not result.exact
    difference = only(result.differences)
    assert difference == Difference(
        f"{BODY}/pnc:person[2]/pnc:surname", CHANGED, "MARCHBANK", "MARCHBANKS"
    )
    assert difference.legacy_element is not None and difference.new_element is not None
    assert difference.legacy_element.text == "MARCHBANK"
    assert difference.new_element.text == "MARCHBANKS"


def test_one_missing_element_is_reported_with_its_legacy_path() -> None:
    new = same_meaning(**{"<p:dateOfBirth>25/12/1949</p:dateOfBirth>": ""})
    difference = only(diff(LEGACY, new).differences)
    assert difference.kind == MISSING
    assert difference.path == f"{BODY}/pnc:person[2]/pnc:dateOfBirth"
    assert (difference.legacy, difference.new) == ("25/12/1949", None)
    assert difference.new_element is None


def test_one_extra_element_is_reported_with_its_new_path() -> None:
    new = same_meaning(**{"<p:surname>ASHGROVE</p:surname>": "<p:surname>ASHGROVE</p:surname>"
                          "<p:alias>ASH</p:alias>"})
    difference = only(diff(LEGACY, new).differences)
    assert difference == Difference(f"{BODY}/pnc:person[1]/pnc:alias", EXTRA, None, "ASH")
    assert difference.legacy_element is None and difference.new_element is not None


def test_a_missing_subtree_is_one_difference_shown_compactly() -> None:
    new = edited(LEGACY, "//pnc:person[2]", lambda e: e.getparent().remove(e))
    difference = only(diff(LEGACY, new).differences)
    assert difference.kind == MISSING
    assert difference.path == f"{BODY}/pnc:person[2]"
    assert difference.legacy is not None
    assert difference.legacy.startswith('<pnc:person status="active" source="pnc"><pnc:pncId>98/2B')


def test_dropping_the_first_of_a_list_is_missing_first_not_changed_everywhere() -> None:
    new = edited(LEGACY, "//pnc:person[1]", lambda e: e.getparent().remove(e))
    difference = only(diff(LEGACY, new).differences)
    assert (difference.path, difference.kind) == (f"{BODY}/pnc:person[1]", MISSING)


def test_attributes_changed_missing_and_extra() -> None:
    def edit(person: etree._Element) -> None:
        person.set("status", "archived")
        del person.attrib["source"]
        person.set("checked", "Y")

    result = diff(LEGACY, edited(LEGACY, "//pnc:person[1]", edit))
    assert result.differences == [
        Difference(f"{BODY}/pnc:person[1]/@status", CHANGED, "active", "archived"),
        Difference(f"{BODY}/pnc:person[1]/@source", MISSING, "pnc", None),
        Difference(f"{BODY}/pnc:person[1]/@checked", EXTRA, None, "Y"),
    ]
    assert result.differences[0].attribute == "status"


def test_a_keyed_list_in_another_order_is_reordered_without_a_rule() -> None:
    new = edited(LEGACY, "//pnc:person[1]", lambda e: e.getparent().append(e))
    difference = only(diff(LEGACY, new).differences)
    assert difference == Difference(f"{BODY}/pnc:person[1]", REORDERED, "1", "2")


def test_a_keyed_list_in_another_order_is_equal_under_an_unordered_rule() -> None:
    new = edited(LEGACY, "//pnc:person[1]", lambda e: e.getparent().append(e))
    result = diff(LEGACY, new, Rules(unordered=[Unordered("//pnc:person", "pnc:pncId", NS)]))
    assert result.equal and not result.exact


def test_moving_one_of_many_reports_only_that_one() -> None:
    people = "".join(f"<p><id>{i}</id></p>" for i in range(1, 7))
    moved = "".join(f"<p><id>{i}</id></p>" for i in (2, 3, 4, 5, 6, 1))
    difference = only(diff(f"<r>{people}</r>".encode(), f"<r>{moved}</r>".encode()).differences)
    assert difference == Difference("/r/p[1]", REORDERED, "1", "6")


def test_differently_named_siblings_in_another_order_are_reordered_on_the_parent() -> None:
    difference = only(diff(b"<r><a>1</a><b>2</b><c/></r>", b"<r><b>2</b><a>1</a><c/></r>").differences)
    assert difference == Difference("/r", REORDERED, "a b c", "b a c")


def test_a_changed_member_of_a_list_is_paired_with_its_counterpart() -> None:
    legacy = b"<r><p><id>1</id><n>A</n></p><p><id>2</id><n>B</n></p><p><id>3</id><n>C</n></p></r>"
    new = b"<r><p><id>1</id><n>A</n></p><p><id>2</id><n>X</n></p><p><id>3</id><n>C</n></p></r>"
    assert diff(legacy, new).differences == [Difference("/r/p[2]/n", CHANGED, "B", "X")]


def test_a_text_beside_elements_is_reported_as_text() -> None:
    difference = only(diff(b"<r>one<b/>two</r>", b"<r>one<b/>three</r>").differences)
    assert (difference.path, difference.kind) == ("/r/text()", CHANGED)
    assert (difference.legacy, difference.new) == ("one two", "one three")


def test_another_root_is_one_change() -> None:
    difference = only(diff(b"<a/>", b"<b/>").differences)
    assert (difference.path, difference.kind, difference.legacy, difference.new) == (
        "/", CHANGED, "a", "b"
    )


def test_paths_use_legacy_prefixes_then_the_new_ones_then_ns0() -> None:
    legacy = f'<x xmlns="urn:a"><p:y xmlns:p="{PNC}">1</p:y></x>'.encode()
    new = f'<x xmlns="urn:a"><q:y xmlns:q="{PNC}">2</q:y><t:z xmlns:t="urn:t"/></x>'.encode()
    result = diff(legacy, new)
    assert [d.path for d in result.differences] == ["/ns0:x/p:y", "/ns0:x/t:z"]
    assert result.namespaces == {"ns0": "urn:a", "p": PNC, "t": "urn:t"}


def test_paths_are_xpaths_that_select_the_element() -> None:
    new = same_meaning(**{"<p:pncId>98/2B<": "<p:pncId>98/2C<"})
    result = diff(LEGACY, new)
    difference = only(result.differences)
    legacy_root = etree.fromstring(LEGACY)
    assert [e.text for e in legacy_root.xpath(difference.path, namespaces=result.namespaces)] == [
        "98/2B"
    ]


def test_differences_compare_by_value_not_by_element() -> None:
    a = diff(LEGACY, same_meaning(**{">2</p:matchCount>": ">3</p:matchCount>"})).differences
    b = diff(LEGACY, same_meaning(**{">2</p:matchCount>": ">3</p:matchCount>"})).differences
    assert a == b
    assert "Element" not in repr(a)


def test_exact_means_equal_before_rules_not_merely_equal() -> None:
    new = same_meaning(**{">m-1<": ">m-2<"})
    rules = Rules(ignore=[Ignore("//pnc:messageId", NS)])
    assert not diff(LEGACY, new).equal
    result = diff(LEGACY, new, rules)
    assert result.equal and not result.exact
    assert diff(LEGACY, same_meaning(), rules).exact


# -- faults -----------------------------------------------------------------------------------


def fault11(code: str, reason: str, detail: str = "NOREC", prefix: str = "soap") -> bytes:
    return (
        f'<{prefix}:Envelope xmlns:{prefix}="{SOAP11}"><{prefix}:Body><{prefix}:Fault>'
        f"<faultcode>{prefix}:{code}</faultcode><faultstring>{reason}</faultstring>"
        f'<detail><e:ServiceFault xmlns:e="{PNC}"><e:errorCode>{detail}</e:errorCode>'
        f"</e:ServiceFault></detail></{prefix}:Fault></{prefix}:Body></{prefix}:Envelope>"
    ).encode()


def fault12(code: str, reason: str, subcode: str = "", lang: str = "en") -> bytes:
    sub = f"<env:Subcode><env:Value>{subcode}</env:Value></env:Subcode>" if subcode else ""
    return (
        f'<env:Envelope xmlns:env="{SOAP12}" xmlns:e="{PNC}"><env:Body><env:Fault>'
        f"<env:Code><env:Value>env:{code}</env:Value>{sub}</env:Code>"
        f'<env:Reason><env:Text xml:lang="{lang}">{reason}</env:Text></env:Reason>'
        f"<env:Detail><e:x>{reason}</e:x></env:Detail></env:Fault></env:Body></env:Envelope>"
    ).encode()


def test_a_fault_code_that_differs_is_reported() -> None:
    difference = only(diff(fault11("Client", "no vehicle"), fault11("Server", "no vehicle")).differences)
    assert difference == Difference(
        "/soap:Envelope/soap:Body/soap:Fault/faultcode", CHANGED, "soap:Client", "soap:Server"
    )


def test_a_fault_code_compares_as_a_qname_whatever_its_prefix() -> None:
    assert diff(fault11("Client", "no vehicle"), fault11("Client", "no vehicle", prefix="s")).exact


def test_a_fault_reason_that_differs_is_reported() -> None:
    difference = only(diff(fault11("Client", "no vehicle"), fault11("Client", "No vehicle")).differences)
    assert difference.path == "/soap:Envelope/soap:Body/soap:Fault/faultstring"
    assert (difference.legacy, difference.new) == ("no vehicle", "No vehicle")


def test_fault_detail_is_ignored_unless_a_rule_says_otherwise() -> None:
    legacy, new = fault11("Client", "no vehicle", "NOREC"), fault11("Client", "no vehicle", "INVAL")
    assert diff(legacy, new).equal
    assert not diff(legacy, new).exact  # equal only because the detail was left out
    difference = only(diff(legacy, new, Rules(fault_detail=True)).differences)
    assert difference.path == (
        "/soap:Envelope/soap:Body/soap:Fault/detail/e:ServiceFault/e:errorCode"
    )
    assert (difference.legacy, difference.new) == ("NOREC", "INVAL")


def test_soap12_faults_compare_by_code_subcode_and_reason_per_language() -> None:
    base = fault12("Sender", "no vehicle", "e:NOREC")
    assert diff(base, fault12("Sender", "no vehicle", "e:NOREC")).exact
    code = only(diff(base, fault12("Receiver", "no vehicle", "e:NOREC")).differences)
    assert code.path == "/env:Envelope/env:Body/env:Fault/env:Code/env:Value"
    subcode = only(diff(base, fault12("Sender", "no vehicle", "e:INVAL")).differences)
    assert subcode.path == "/env:Envelope/env:Body/env:Fault/env:Code/env:Subcode/env:Value"
    reason = only(diff(base, fault12("Sender", "unknown", "e:NOREC")).differences)
    assert reason.path == "/env:Envelope/env:Body/env:Fault/env:Reason/env:Text"
    other_language = diff(base, fault12("Sender", "no vehicle", "e:NOREC", lang="cy")).differences
    assert [d.kind for d in other_language] == [MISSING, EXTRA]


def test_a_fault_for_an_answer_is_missing_answer_and_extra_fault() -> None:
    result = diff(LEGACY, fault11("Server", "bus down"))
    kinds = {(d.kind, d.path) for d in result.differences}
    assert (MISSING, BODY) in kinds
    assert (EXTRA, "/soap:Envelope/soap:Body/soap:Fault") in kinds
