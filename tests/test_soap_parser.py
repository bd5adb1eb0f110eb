"""The one hardened parser refuses every way of smuggling a DTD, an entity or a bomb past it."""

import pytest

from turnout.soap import XmlLimits, XmlThreat, XmlUnreadable, parse_xml

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<lolz>&lol3;</lolz>"""

EXTERNAL_FILE = b"""<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><x>&xxe;</x>"""
EXTERNAL_DTD = b"""<?xml version="1.0"?><!DOCTYPE x SYSTEM "http://127.0.0.1:9/evil.dtd"><x/>"""
PARAMETER_ENTITY = b"""<!DOCTYPE x [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]><x/>"""


@pytest.mark.parametrize(
    "document",
    [BILLION_LAUGHS, EXTERNAL_FILE, EXTERNAL_DTD, PARAMETER_ENTITY, b"<!doctype x><x/>"],
    ids=["billion-laughs", "external-file", "external-dtd", "parameter-entity", "lowercase-doctype"],
)
def test_any_doctype_is_a_threat(document: bytes) -> None:
    with pytest.raises(XmlThreat) as info:
        parse_xml(document)
    assert info.value.kind == "doctype"


def test_doctype_in_utf16_is_still_found() -> None:
    document = EXTERNAL_FILE.replace(b'<?xml version="1.0"?>', b"").decode().encode("utf-16")
    with pytest.raises(XmlThreat):
        parse_xml(document)


def test_nesting_past_the_bound_is_a_threat() -> None:
    deep = b"<a>" * 65 + b"</a>" * 65
    with pytest.raises(XmlThreat) as info:
        parse_xml(deep, XmlLimits(max_depth=64))
    assert info.value.kind == "too-deep"
    parse_xml(b"<a>" * 64 + b"</a>" * 64, XmlLimits(max_depth=64))  # exactly at the bound is fine


def test_nesting_past_libxml_ceiling_is_a_threat_not_unreadable() -> None:
    deep = b"<a>" * 10_000 + b"</a>" * 10_000
    with pytest.raises(XmlThreat) as info:
        parse_xml(deep, XmlLimits(max_bytes=10**6))
    assert info.value.kind == "too-deep"


def test_size_is_checked_before_parsing() -> None:
    with pytest.raises(XmlThreat) as info:
        parse_xml(b"<a>" + b"x" * 2000 + b"</a>", XmlLimits(max_bytes=1024))
    assert info.value.kind == "too-large"


@pytest.mark.parametrize("document", [b"", b"not xml", b"<a><b></a>", b"<a/><b/>"])
def test_malformed_is_unreadable_not_a_threat(document: bytes) -> None:
    with pytest.raises(XmlUnreadable):
        parse_xml(document)


def test_xinclude_is_not_processed() -> None:
    document = (
        b'<a xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="file:///etc/passwd" parse="text"/></a>'
    )
    root = parse_xml(document)
    assert b"root:" not in __import__("lxml.etree").etree.tostring(root)
    assert root[0].tag == "{http://www.w3.org/2001/XInclude}include"
