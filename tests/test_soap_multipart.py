"""multipart/related (MTOM, SwA): split strictly, the root found, XML parts told apart, and every
malformation either unreadable (broken) or a threat (readable two ways)."""

from __future__ import annotations

import base64

import pytest

from turnout.soap import (
    MultipartUnreadable,
    XmlThreat,
    XmlUnreadable,
    is_multipart_related,
    looks_like_xml,
    parse_xml,
    read_envelope,
    split_related,
    xml_parts,
)

BOUNDARY = "uuid:6b62cda6-95a7-4f3f-9c58-4d5a2f5a1b0e"
ROOT_ID = "root.message@cxf.apache.org"
ENVELOPE = (
    b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
    b'<f:SubmitWitnessStatement xmlns:f="urn:police:eforms:v1"><f:statement>'
    b'<xop:Include xmlns:xop="http://www.w3.org/2004/08/xop/include" href="cid:statement@x"/>'
    b"</f:statement></f:SubmitWitnessStatement></soap:Body></soap:Envelope>"
)
PDF = b"%PDF-1.4\r\n\x00\x01\x02binary\r\n--not-the-boundary\r\n"
MTOM_TYPE = (
    f'multipart/related; type="application/xop+xml"; boundary="{BOUNDARY}"; '
    f'start="<{ROOT_ID}>"; start-info="text/xml"'
)


def mime(*parts: tuple[list[str], bytes], boundary: str = BOUNDARY, newline: bytes = b"\r\n",
         preamble: bytes = b"", epilogue: bytes = b"") -> bytes:
    """A multipart body: each part its header lines and content, delimiters on their own lines."""
    dash = b"--" + boundary.encode()
    out = [preamble]
    for headers, content in parts:
        out.append(dash + newline + b"".join(h.encode() + newline for h in headers) + newline + content + newline)
    return b"".join(out) + dash + b"--" + newline + epilogue


def mtom(*extra: tuple[list[str], bytes]) -> bytes:
    """The attachment first and the root second: `start` must be what names the root."""
    return mime(
        (["Content-Type: application/octet-stream", "Content-Transfer-Encoding: binary",
          "Content-ID: <statement@x>"], PDF),
        ([f"Content-Type: application/xop+xml; charset=UTF-8; type=\"text/xml\"",
          "Content-Transfer-Encoding: binary", f"Content-ID: <{ROOT_ID}>"], ENVELOPE),
        *extra,
    )


# --- reading ---------------------------------------------------------------------------------------


def test_mtom_root_is_the_part_start_names_with_exact_bytes() -> None:
    related = split_related(mtom(), MTOM_TYPE)
    assert len(related.parts) == 2
    assert related.root_index == 1
    assert related.root.content == ENVELOPE
    assert related.root.content_id == ROOT_ID
    assert related.root.content_type == "application/xop+xml"
    assert related.attachments[0].content == PDF  # the CRLF before the delimiter is not content
    assert related.attachments[0].header("content-id") == "<statement@x>"
    assert (related.boundary, related.type, related.start, related.start_info) == (
        BOUNDARY, "application/xop+xml", ROOT_ID, "text/xml")
    assert read_envelope(related.root.content, "/eforms").operation.name == "SubmitWitnessStatement"


def test_without_start_the_first_part_is_the_root() -> None:
    body = mime((["Content-Type: text/xml"], ENVELOPE), (["Content-Type: image/jpeg"], b"\xff\xd8\xff"))
    related = split_related(body, f"Multipart/Related; type=text/xml; boundary={BOUNDARY}")
    assert related.root_index == 0 and related.root.content == ENVELOPE
    assert related.start is None and related.type == "text/xml"


def test_bare_lf_line_breaks_preamble_padding_and_epilogue() -> None:
    body = mime((["Content-Type: text/xml"], ENVELOPE), newline=b"\n",
                preamble=b"This is a MIME message.\n", epilogue=b"trailing words\n")
    body = body.replace(f"--{BOUNDARY}\n".encode(), f"--{BOUNDARY} \t\n".encode(), 1)  # transport padding
    related = split_related(body, f'multipart/related; boundary="{BOUNDARY}"')
    assert [part.content for part in related.parts] == [ENVELOPE]


def test_unquoted_parameters_and_folded_headers() -> None:
    body = mime((["Content-Type: application/xop+xml;", "\tcharset=UTF-8", "Content-ID: <r@x>"], ENVELOPE))
    related = split_related(body, f"multipart/related;boundary={BOUNDARY};start=<r@x>;type=application/xop+xml;")
    assert related.root.header("Content-Type") == "application/xop+xml; charset=UTF-8"
    assert (related.start, related.type) == ("r@x", "application/xop+xml")


def test_a_part_without_headers_and_an_empty_part() -> None:
    body = mime(([], ENVELOPE), ([], b""))
    related = split_related(body, f"multipart/related; boundary={BOUNDARY}")
    assert [(p.headers, p.content) for p in related.parts] == [((), ENVELOPE), ((), b"")]


@pytest.mark.parametrize(
    ("coding", "encode"),
    [("base64", lambda b: base64.encodebytes(b)), ("BASE64", lambda b: base64.b64encode(b)),
     ("quoted-printable", lambda b: b.replace(b"=", b"=3D")), ("8bit", lambda b: b)],
)
def test_transfer_encodings_are_undone(coding: str, encode) -> None:  # noqa: ANN001
    body = mime((["Content-Type: text/xml", f"Content-Transfer-Encoding: {coding}"], encode(ENVELOPE)))
    part = split_related(body, f"multipart/related; boundary={BOUNDARY}").root
    assert part.content == ENVELOPE
    assert part.raw == encode(ENVELOPE)


def test_a_doctype_in_a_base64_attachment_is_there_to_find() -> None:
    """What the proxy does: read_envelope on the root, parse_xml on every other XML part."""
    xxe = b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
    body = mtom((["Content-Type: application/octet-stream", "Content-Transfer-Encoding: base64"],
                 base64.encodebytes(xxe)))
    related = split_related(body, MTOM_TYPE)
    read_envelope(related.root.content, "/eforms")
    found = xml_parts(related)
    assert [part.content for part in found] == [xxe]  # the PDF is not XML; the root is left out
    with pytest.raises(XmlThreat) as info:
        parse_xml(found[0].content)
    assert info.value.kind == "doctype"


# --- which parts are XML -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "content", "is_xml"),
    [
        (["Content-Type: application/xop+xml; type=\"text/xml\""], b"whatever", True),
        (["Content-Type: text/xml; charset=utf-8"], b"", True),
        (["Content-Type: application/soap+xml"], b"x", True),
        (["Content-Type: APPLICATION/ATOM+XML"], b"x", True),
        (["Content-Type: application/octet-stream"], b"  \r\n<x/>", True),
        (["Content-Type: application/octet-stream"], b"\xef\xbb\xbf<x/>", True),
        (["Content-Type: application/octet-stream"], "\ufeff <x/>".encode("utf-16-le"), True),
        (["Content-Type: application/octet-stream"], " <x/>".encode("utf-32-be"), True),
        ([], b"<x/>", True),
        (["Content-Type: application/octet-stream"], PDF, False),
        (["Content-Type: image/png"], b"\x89PNG\r\n", False),
        ([], b"", False),
    ],
)
def test_is_xml(headers: list[str], content: bytes, is_xml: bool) -> None:
    related = split_related(mime((headers, content)), f"multipart/related; boundary={BOUNDARY}")
    assert related.root.is_xml is is_xml
    assert xml_parts(related, include_root=True) == ((related.root,) if is_xml else ())


def test_looks_like_xml() -> None:
    assert looks_like_xml(b"\n\t <?xml version='1.0'?><a/>")
    assert not looks_like_xml(b"GIF89a<")
    assert not looks_like_xml(b"")


@pytest.mark.parametrize(
    ("content_type", "related"),
    [("multipart/related; boundary=x", True), ("Multipart/Related", True), (" multipart/related ;a=b", True),
     ("multipart/mixed; boundary=x", False), ("text/xml", False), ("", False), (None, False),
     ("multipart/related-not", False)],
)
def test_is_multipart_related(content_type: str | None, related: bool) -> None:
    assert is_multipart_related(content_type) is related


# --- broken: unreadable ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (mtom(), "multipart/related; type=text/xml", "without a boundary"),
        (mtom(), 'multipart/related; boundary=""', "without a boundary"),
        (mtom(), "text/xml; boundary=" + BOUNDARY, "not multipart/related"),
        (mtom(), f"multipart/related; boundary={'b' * 71}", "printable ASCII"),
        (mtom(), f"multipart/related; boundary={BOUNDARY}; start", "cannot read"),
        (ENVELOPE, f"multipart/related; boundary={BOUNDARY}", "no delimiter"),
        (f"--{BOUNDARY}--\r\n".encode(), f"multipart/related; boundary={BOUNDARY}", "no parts"),
        (f"--{BOUNDARY}\r\nContent-Type: text/xml\r\n".encode(), f"multipart/related; boundary={BOUNDARY}",
         "no empty line"),
        (f"--{BOUNDARY}\r\nContent-Type text/xml\r\n\r\n<a/>\r\n--{BOUNDARY}--".encode(),
         f"multipart/related; boundary={BOUNDARY}", "malformed header"),
        (f"--{BOUNDARY}".encode(), f"multipart/related; boundary={BOUNDARY}", "ends in a delimiter"),
    ],
)
def test_broken_bodies_are_unreadable(body: bytes, content_type: str, message: str) -> None:
    with pytest.raises(XmlUnreadable, match=message):
        split_related(body, content_type)


def test_no_closing_delimiter_is_unreadable_with_the_parts_read_so_far() -> None:
    body = mtom()
    cut = body[:body.rindex(f"--{BOUNDARY}--".encode())]
    with pytest.raises(MultipartUnreadable, match="no closing delimiter") as info:
        split_related(cut, MTOM_TYPE)
    # the last part runs to the end of the body; a caller can still look in it for threats
    assert [part.content for part in info.value.parts] == [PDF, ENVELOPE + b"\r\n"]


def test_a_start_no_part_carries_is_unreadable_with_the_parts() -> None:
    with pytest.raises(MultipartUnreadable, match="no part has the start") as info:
        split_related(mtom(), MTOM_TYPE.replace(ROOT_ID, "other@x"))
    assert len(info.value.parts) == 2


# --- readable two ways, or too big: threats ---------------------------------------------------------


def threat_kind(body: bytes, content_type: str, **kwargs: int) -> str:
    with pytest.raises(XmlThreat) as info:
        split_related(body, content_type, **kwargs)
    return info.value.kind


def test_parts_over_the_bound_are_a_threat_and_at_the_bound_are_fine() -> None:
    body = mime(*[(["Content-Type: text/plain"], b"%d" % i) for i in range(65)])
    plain = f"multipart/related; boundary={BOUNDARY}"
    assert threat_kind(body, plain) == "too-many-parts"
    assert len(split_related(body, plain, max_parts=65).parts) == 65
    assert threat_kind(body, plain, max_parts=3) == "too-many-parts"


def test_a_flood_of_parts_is_refused_without_reading_the_rest() -> None:
    body = mime(*[([], b"")] * 100_000)  # 5 MB; the bound stops the split at part 65
    assert threat_kind(body, f"multipart/related; boundary={BOUNDARY}") == "too-many-parts"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (mtom(), MTOM_TYPE + '; boundary="other"'),
        (mtom(), MTOM_TYPE + '; START="<statement@x>"'),
        # a line that begins with the delimiter and goes on: a delimiter to some readers
        (mime((["Content-Type: text/xml"], ENVELOPE + f"\r\n--{BOUNDARY}X\r\n<!DOCTYPE x>".encode())),
         f"multipart/related; boundary={BOUNDARY}"),
        # two parts with one Content-ID: which one is the root?
        (mtom((["Content-Type: text/xml", f"Content-ID: <{ROOT_ID}>"], b"<other/>")), MTOM_TYPE),
        (mime((["Content-Type: text/xml", "Content-Type: application/octet-stream"], ENVELOPE)),
         f"multipart/related; boundary={BOUNDARY}"),
        (mime((["Content-ID: <a@x>", "Content-ID: <b@x>"], ENVELOPE)), f"multipart/related; boundary={BOUNDARY}"),
        (mime((["Content-Transfer-Encoding: binary", "Content-Transfer-Encoding: base64"], ENVELOPE)),
         f"multipart/related; boundary={BOUNDARY}"),
        # parts after the closing delimiter, for a reader that splits on every delimiter
        (mime((["Content-Type: text/xml"], ENVELOPE),
              epilogue=f"--{BOUNDARY}\r\nContent-Type: text/xml\r\n\r\n<!DOCTYPE x>\r\n--{BOUNDARY}--".encode()),
         f"multipart/related; boundary={BOUNDARY}"),
    ],
    ids=["boundary-twice", "start-twice", "delimiter-prefix-line", "content-id-twice", "two-content-types",
         "two-content-ids-in-a-part", "two-transfer-encodings", "parts-after-the-close"],
)
def test_ambiguous_bodies_are_a_threat(body: bytes, content_type: str) -> None:
    assert threat_kind(body, content_type) == "ambiguous-multipart"


def test_transfer_encodings_that_cannot_be_undone_are_a_threat() -> None:
    plain = f"multipart/related; boundary={BOUNDARY}"
    unknown = mime((["Content-Transfer-Encoding: x-uuencode"], b"begin 644 x\n"))
    corrupt = mime((["Content-Transfer-Encoding: base64"], b"PHg+*not base64*"))
    assert threat_kind(unknown, plain) == "unsupported-encoding"
    assert threat_kind(corrupt, plain) == "bad-encoding"


def test_max_parts_must_be_positive() -> None:
    with pytest.raises(ValueError):
        split_related(mtom(), MTOM_TYPE, max_parts=0)
