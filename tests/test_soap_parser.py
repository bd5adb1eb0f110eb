"""The one hardened parser refuses every way of smuggling a DTD, an entity or a bomb past it."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from turnout.soap import SoapError, XmlLimits, XmlThreat, XmlUnreadable, make_parser, parse_xml

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
    assert b"root:" not in etree.tostring(root)
    assert root[0].tag == "{http://www.w3.org/2001/XInclude}include"


# --- a threat is found whatever follows it ---------------------------------------------------------
# For a threat at byte N, the bytes after N must not change the verdict: a syntax error later in
# the document used to make the strict parse fail first, and the threat came out as "unreadable",
# which the proxy forwards to the bus.

BIG = XmlLimits(max_bytes=4 * 1024 * 1024)
LONG_NAME = b"n" * 60_000  # libxml2 stops at names over 50,000 characters, even when recovering


def attributes(count: int) -> bytes:
    return b" ".join(b'a%d="1"' % i for i in range(count))


#: name -> (the document up to and including its threat, what completes it well-formed, kind)
THREATS = {
    "deep-65": (b"<r>" + b"<a>" * 64, b"</a>" * 64 + b"</r>", "too-deep"),
    "deep-10000": (b"<a>" * 10_000, b"</a>" * 10_000, "too-deep"),
    "attributes-300": (b"<r><e " + attributes(300), b"/></r>", "too-many-attributes"),
    "attributes-90000": (b"<r><e " + attributes(90_000), b"/></r>", "too-many-attributes"),
}
#: what may follow a threat: junk, and each kind of error libxml2 stops or recovers at
TAILS = {
    "nothing (truncated)": b"",
    "junk": b"junk<<&&",
    "over-long element name": b"<" + LONG_NAME + b"/>",
    "over-long attribute name": b" " + LONG_NAME + b'="1"/>',
    "invalid utf-8": b"\xff\xfe\x80",
    "nul": b"\x00",
    "undefined entity": b"&bogus;",
    "stray <": b"<",
    "mismatched end tag": b"</nope>",
    "second root": b"<again/>",
}


def verdict(document: bytes, limits: XmlLimits = BIG) -> str:
    try:
        parse_xml(document, limits)
    except XmlThreat as threat:
        return f"threat:{threat.kind}"
    except XmlUnreadable:
        return "unreadable"
    return "ok"


@pytest.mark.parametrize("threat", THREATS)
def test_each_threat_alone_is_found(threat: str) -> None:
    prefix, rest, kind = THREATS[threat]
    assert verdict(prefix + rest) == f"threat:{kind}"
    assert verdict(b"<r>" + b"<a/>" * 10 + b"</r>") == "ok"  # and the bounds are not everything


@pytest.mark.parametrize("tail", TAILS)
@pytest.mark.parametrize("threat", THREATS)
@pytest.mark.parametrize("where", ["inside", "after"])
def test_what_follows_a_threat_does_not_change_its_verdict(threat: str, tail: str, where: str) -> None:
    """`inside`: the tail comes straight after the threat's bytes (in the start tag carrying the
    300th attribute, in the 65th level); `after`: after the document, complete and well-formed."""
    prefix, rest, kind = THREATS[threat]
    document = prefix + TAILS[tail] if where == "inside" else prefix + rest + TAILS[tail]
    assert verdict(document) == verdict(prefix + rest) == f"threat:{kind}"


def test_a_tail_without_a_threat_is_still_only_unreadable() -> None:
    """Recovering never turns junk alone into a threat: bounds are what it checks, not syntax."""
    for tail in TAILS.values():
        if tail:
            assert verdict(b"<r><a/><a/></r>" + tail) == "unreadable"
    assert verdict(b"<r>" + b"<a></b>" * 100 + b"</r>") == "unreadable"  # mismatches do not nest
    assert verdict(b"<r>" + b"<a>" * 20) == "unreadable"  # truncated, within the bounds


def test_truncating_after_the_threat_keeps_the_verdict() -> None:
    prefix, rest, kind = THREATS["attributes-300"]
    document = prefix + rest
    for cut in range(len(prefix), len(document) + 1):
        assert verdict(document[:cut]) == f"threat:{kind}", cut


def test_libxml_depth_ceiling_is_too_deep_even_at_the_highest_bound() -> None:
    """With max_depth 255, the recovered tree (libxml2 stops at 256 levels) is within the bound:
    libxml2's own depth error in the parser's log still names the threat."""
    limits = XmlLimits(max_bytes=10**6, max_depth=255)
    deep = b"<a>" * 300
    assert verdict(deep + b"</a>" * 300, limits) == "threat:too-deep"
    assert verdict(deep + b"junk", limits) == "threat:too-deep"
    assert verdict(b"<a>" * 255 + b"</a>" * 255, limits) == "ok"


def test_an_element_named_depth_in_an_error_is_not_a_depth_error() -> None:
    assert verdict(b"<depth></excessive>") == "unreadable"


def test_comments_count_towards_depth_and_text_does_not() -> None:
    limits = XmlLimits(max_depth=3)
    assert verdict(b"<a><b><c>text</c></b></a>", limits) == "ok"
    assert verdict(b"<a><b><c><!-- c --></c></b></a>", limits) == "threat:too-deep"
    assert verdict(b"<a><b><c><?pi x?></c></b></a>", limits) == "threat:too-deep"
    assert verdict(b"<a><b><c><d/></c></b></a>", limits) == "threat:too-deep"


def test_attribute_bound_is_exact_and_ignores_namespace_declarations() -> None:
    limits = XmlLimits(max_attributes=3)
    assert verdict(b'<a x="1" y="2" z="3"/>', limits) == "ok"
    assert verdict(b'<a x="1" y="2" z="3" w="4"/>', limits) == "threat:too-many-attributes"
    assert verdict(b'<r><q/><a x="1" y="2" z="3" w="4"/></r>', limits) == "threat:too-many-attributes"
    assert verdict(b'<a xmlns="urn:a" xmlns:b="urn:b" xmlns:c="urn:c" x="1" y="2" z="3"/>', limits) == "ok"


def test_checks_hold_from_several_threads() -> None:
    """Each thread compiles its own XPath (lxml locks a compiled one to one caller at a time)."""
    from concurrent.futures import ThreadPoolExecutor

    documents = [(THREATS["deep-65"][0] + b"junk", "threat:too-deep"),
                 (THREATS["attributes-300"][0] + b"/></r>", "threat:too-many-attributes"),
                 (b"<r>" + b"<a/>" * 1000 + b"</r>", "ok")] * 20
    with ThreadPoolExecutor(4) as pool:
        verdicts = list(pool.map(lambda item: verdict(item[0]), documents))
    assert verdicts == [expected for _, expected in documents]


# --- declared encodings ----------------------------------------------------------------------------


@pytest.mark.parametrize("label", ["UTF-7", "utf-7", "UTF7", "unicode-1-1-utf-7", "csUnicode11UTF7"])
def test_utf7_is_refused_under_any_name(label: str) -> None:
    document = f'<?xml version="1.0" encoding="{label}"?>+ADw-a/+AD4-'.encode()
    with pytest.raises(XmlThreat) as info:
        parse_xml(document)
    assert info.value.kind == "encoding"


def test_utf7_doctype_with_junk_after_is_refused() -> None:
    """`+ADw-!DOCTYPE` is `<!DOCTYPE` to libxml2, and bytes no scan of ours would match."""
    smuggled = (
        b'<?xml version="1.0" encoding="UTF-7"?>+ADw-!DOCTYPE x +AFs-+ADw-!ENTITY e SYSTEM '
        b'"file:///etc/passwd"+AD4-+AF0-+AD4-+ADw-x+AD4-+ACY-e;+ADw-/x+AD4-'
    )
    assert etree.fromstring(smuggled, make_parser()).getroottree().docinfo.doctype == "<!DOCTYPE x>"
    assert verdict(smuggled) == verdict(smuggled + b"junk<<") == "threat:encoding"


def test_utf7_declared_in_utf16_is_refused() -> None:
    document = '<?xml version="1.0" encoding="UTF-7"?><a/>'.encode("utf-16")
    assert verdict(document) == "threat:encoding"


@pytest.mark.parametrize(
    ("label", "codec", "document"),
    [
        # ISO-2022-JP escape sequences are invisible once decoded: `<!DOC ESC ( B TYPE`
        ("ISO-2022-JP", "iso2022_jp", b'<!DOC\x1b(BTYPE x [<!ENT\x1b(BITY e "boom">]><x>&e;</x>'),
        # HZ drops `~` + newline: `<!DOC~\nTYPE`
        ("HZ-GB-2312", "hz", b'<!DOC~\nTYPE x [<!ENT~\nITY e "boom">]><x>&e;</x>'),
    ],
)
def test_doctype_spelled_only_in_its_declared_encoding_is_found_before_junk(
    label: str, codec: str, document: bytes
) -> None:
    full = f'<?xml version="1.0" encoding="{label}"?>'.encode() + document
    assert b"DOCTYPE" not in full and "<!DOCTYPE" in full.decode(codec)
    assert verdict(full) == "threat:doctype"
    assert verdict(full + b"<<junk") == "threat:doctype"  # was "unreadable" when only lxml saw it


def test_declared_encodings_without_a_doctype_still_parse() -> None:
    for label, codec in [("ISO-8859-1", "latin-1"), ("windows-1252", "cp1252"), ("Shift_JIS", "shift_jis"),
                         ("UTF-16", "utf-16"), ("x-unknown-to-python", "ascii")]:
        document = f'<?xml version="1.0" encoding="{label}"?><a>Zo</a>'.encode(codec)
        expected = "unreadable" if label.startswith("x-") else "ok"  # libxml2 refuses what it cannot read
        assert verdict(document) == expected, label


# --- cost ------------------------------------------------------------------------------------------

WIDE = (
    b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><p:Op xmlns:p="urn:x">'
    + b"<a/>" * 250_000 + b"</p:Op></s:Body></s:Envelope>"
)


def test_wide_siblings_parse_and_no_python_loop_visits_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """A legal 1 MiB envelope of 250,000 empty siblings parses; the checks run in C. Wall-clock
    time is measured in bench/guard_isolation.py, not asserted here: this counts the calls made
    from Python (to Python functions and to C ones), which a loop over the elements multiplies."""
    import sys

    assert len(WIDE) <= XmlLimits().max_bytes
    calls = 0

    def count(frame, event, arg):  # noqa: ANN001 - sys.setprofile's signature
        nonlocal calls
        if event in ("call", "c_call"):
            calls += 1

    sys.setprofile(count)
    try:
        root = parse_xml(WIDE)
    finally:
        sys.setprofile(None)
    assert len(root[0][0]) == 250_000
    assert calls < 200, f"{calls} calls from Python for one document"


# --- one parse that reads on past errors accepts what a strict parse accepts ---------------------

SEEDS = [
    b'<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">'
    b'<s:Header><h:Id xmlns:h="urn:h" s:mustUnderstand="1">1</h:Id></s:Header><s:Body><!-- c --><?pi x?>'
    b'<p:Op xmlns:p="urn:p"><p:v a="&lt;&#65;">Zo\xc3\xab &amp; <![CDATA[x<y]]></p:v></p:Op></s:Body></s:Envelope>',
    b"<a><b c='1' d=\"2\"/><e>text</e>tail<f xmlns='urn:f'><g/></f></a>",
    '<?xml version="1.0" encoding="ISO-8859-1"?><a>Zoë</a>'.encode("latin-1"),
    '<?xml version="1.0" encoding="UTF-16"?><a><b/></a>'.encode("utf-16"),
]
TOKENS = [b"<", b">", b"/>", b"</a>", b"<a>", b"&", b"&amp;", b"&x;", b"&#0;", b'"', b"'", b"=", b"xmlns:q=''",
          b"q:x", b"<!--", b"-->", b"]]>", b"<![CDATA[", b"<?", b"?>", b"\x00", b"\xff", b"\xc3", b" ", b"\r\n"]


@st.composite
def mangled(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(data)))
        operation = draw(st.integers(0, 3))
        if operation == 0:
            del data[at:]
        elif operation == 1:
            data[at:at] = draw(st.sampled_from(TOKENS))
        elif operation == 2:
            data[at:at] = draw(st.binary(min_size=1, max_size=4))
        else:
            del data[at:at + draw(st.integers(1, 8))]
    return bytes(data)


@settings(max_examples=400, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(data=mangled())
def test_parse_xml_accepts_what_a_strict_parse_accepts_to_the_same_tree(data: bytes) -> None:
    try:
        strict = etree.fromstring(data, make_parser())
    except (etree.XMLSyntaxError, ValueError):
        strict = None
    try:
        ours = parse_xml(data, XmlLimits(max_depth=255, max_attributes=10**6))
    except XmlThreat as threat:
        assert threat.kind in ("doctype", "encoding", "too-deep")  # refused before or without a parse
        return
    except SoapError:
        assert strict is None, "parse_xml refused a well-formed document"
        return
    assert strict is not None, "parse_xml returned a tree for a document a strict parse refuses"
    assert etree.tostring(ours.getroottree()) == etree.tostring(strict.getroottree())


# --- the cheap ways are exactly as strict -----------------------------------------------------------


def _ungated(data: bytes) -> bool:
    from turnout.soap._parser import _DECLARATIONS

    return any(pattern.search(data) for pattern in _DECLARATIONS)


@pytest.mark.parametrize("codec", ["ascii", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be", "cp037", "cp500"])
@pytest.mark.parametrize("word", ["DOCTYPE", "doctype", "DocType", "ENTITY", "entity", "eNtItY"])
def test_every_declaration_holds_a_byte_of_its_gate(codec: str, word: str) -> None:
    """A pattern runs only when a byte of its gate is in the document; every spelling the
    pattern matches holds one, so a gate never hides a declaration."""
    from turnout.soap._parser import _gate, declares_doctype

    declaration = f"<!{word} x>".encode(codec)
    assert any(byte in declaration for byte in _gate(codec))
    for document in (declaration, b"<a>" + declaration + b"</a>", b"\x00" * 3 + declaration):
        assert declares_doctype(document) and _ungated(document)


_DECLARATION_PIECES = [f"<!{word}".encode(codec) for word in ("DOCTYPE", "ENTITY", "doctype", "Entity")
                       for codec in ("ascii", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be", "cp037", "cp500")]


@settings(max_examples=300, deadline=None, database=None)
@given(st.lists(st.one_of(st.binary(max_size=12), st.sampled_from(_DECLARATION_PIECES),
                          st.sampled_from([b"!", b"E", b"e", b"\xc5", b"\x85", b"<", b"\x00"])), max_size=12))
def test_the_gated_scan_finds_exactly_what_every_pattern_finds(pieces: list[bytes]) -> None:
    from turnout.soap._parser import declares_doctype

    data = b"".join(pieces)
    assert declares_doctype(data) == _ungated(data)


def test_one_parser_per_thread_carries_nothing_from_one_document_to_the_next() -> None:
    """`parse_xml` reuses its thread's parser: a threat, a syntax error or libxml2's own depth
    error in one document never shows in the verdict or the tree of the next."""
    limits = XmlLimits(max_bytes=10**6, max_depth=255)
    clean = b"<r><a x='1'>text</a><b/></r>"
    expected = etree.tostring(etree.fromstring(clean, make_parser()))
    before = [b"<a>" * 300 + b"</a>" * 300, b"<a>" * 300 + b"junk", b"<r><a></b>" + b"<" * 50,
              THREATS["attributes-300"][0], b"", b"not xml", b"<a/><b/>", BILLION_LAUGHS,
              b"<r>" + b"&bogus;" * 20 + b"</r>"]
    for document in before:
        verdict(document, limits)
        assert verdict(clean, limits) == "ok", document[:40]
        assert etree.tostring(parse_xml(clean, limits)) == expected


def test_a_declared_encoding_gets_the_same_verdict_every_time() -> None:
    """The verdict on a label is worked out once and kept: the second document declaring it is
    refused, or decoded and scanned, exactly as the first."""
    smuggled = b'<?xml version="1.0" encoding="ISO-2022-JP"?>' + b'<!DOC\x1b(BTYPE x><x/>'
    clean = b'<?xml version="1.0" encoding="ISO-2022-JP"?><x/>'
    utf7 = b'<?xml version="1.0" encoding="UTF-7"?><a/>'
    for _ in range(3):
        assert verdict(smuggled) == "threat:doctype"
        assert verdict(clean) == "ok"
        assert verdict(utf7) == "threat:encoding"


@pytest.mark.parametrize("bound", [1, 7, 8, 9, 10, 16, 64, 255])
def test_the_depth_bound_is_exact_on_both_sides_of_the_shallow_document_gate(bound: int) -> None:
    """Past depth 8 the full depth check runs only when an element is that deep: each bound
    still lets its own depth through and refuses one more level, of an element, a comment or a
    processing instruction, after text or not."""
    limits = XmlLimits(max_bytes=10**6, max_depth=bound)

    def nested(depth: int, inner: bytes = b"") -> bytes:
        return b"<a>" * (depth - 1) + b"<b>text" + inner + b"</b>" + b"</a>" * (depth - 1)

    assert verdict(nested(bound), limits) == "ok"
    assert verdict(b"<r>" + nested(bound - 1) + b"<z/></r>" if bound > 1 else b"<r/>", limits) == "ok"
    for inner in (b"<c/>", b"<!-- c -->", b"<?pi x?>"):
        assert verdict(nested(bound, inner), limits) == "threat:too-deep", (bound, inner)


def _declared_encoding_reference(data: bytes) -> str | None:
    """The declared encoding read as it always was: the first 512 bytes, any BOM dropped,
    decoded whole as libxml2 would read the declaration, the pattern matched on all of it."""
    import codecs

    from turnout.soap._parser import _DECLARATION_STARTS, _ENCODING_DECLARATION

    head = data[:512]
    for bom in (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        if head.startswith(bom):
            head = head[len(bom):]
            break
    codec = _DECLARATION_STARTS.get(head[:4])
    if codec is None:
        return None
    match = _ENCODING_DECLARATION.match(head.decode(codec, errors="replace"))
    return match.group(2) if match else None


@st.composite
def declarations(draw: st.DrawFn) -> bytes:
    """XML declarations naming an encoding, in the encodings libxml2 reads them in, with and
    without a BOM, near-misses and a `>` in odd places, then perhaps one byte changed."""
    space = st.sampled_from(["", " ", "\t", "\n", "  ", "\x85", "\xa0"])
    quote = draw(st.sampled_from(["'", '"']))
    label = draw(st.sampled_from(["utf-8", "UTF-16", "ISO-2022-JP", "x-unknown", "9bad", "a" * 70, "", "ut>f"]))
    before = draw(st.sampled_from(["", "", "version='1.0' ", "standalone='yes' ", ">", "a>b", "x" * 190 + " ",
                                   "x" * 220 + " ", "é "]))
    opening = draw(st.sampled_from([" ", " ", "\n", "", "\x85"]))  # mostly what the pattern needs
    closing = draw(st.sampled_from([quote, quote, quote, chr(39), chr(34), ""]))
    text = (f"<?xml{opening}{before}{draw(space)}encoding{draw(space)}={draw(space)}{quote}{label}"
            f"{closing}{draw(st.sampled_from(['?>', '>', '', '?><a/>']))}")
    codec = draw(st.sampled_from(["latin-1", "utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be", "cp037"]))
    data = bytearray(text.encode(codec, errors="replace"))
    if draw(st.booleans()):
        data[:0] = "\ufeff".encode(codec, errors="ignore")
    if draw(st.booleans()) and data:
        at = draw(st.integers(0, len(data) - 1))
        data[at:at + 1] = draw(st.binary(max_size=2))
    return bytes(data)


_DECLARATION_BITS = [b"<?xml", b" ", b"\t", b"\n", b"\x85", b"\xa0", b"version='1.0'", b"encoding", b"=", b"'", b'"',
                     b"utf-8", b"UTF-16", b"ISO-2022-JP", b">", b"?>", b"<a/>", b"\xef\xbb\xbf", b"\xff\xfe", b"\x00",
                     b"\xe9", b"x" * 100, b"standalone='yes'"]


@settings(max_examples=1500, deadline=None, database=None)
@given(declarations(), st.lists(st.one_of(st.sampled_from(_DECLARATION_BITS), st.binary(max_size=3)), max_size=14))
def test_the_declared_encoding_is_read_as_it_always_was(declaration: bytes, pieces: list[bytes]) -> None:
    """Read from the bytes before the first `>` and kept per spelling when the declaration is
    ASCII-compatible: the same label as decoding the whole head and matching on it."""
    from turnout.soap._parser import _declared_encoding

    for data in (declaration, declaration + b"".join(pieces), b"<?xml " + b"".join(pieces)):
        assert _declared_encoding(data) == _declared_encoding_reference(data)
