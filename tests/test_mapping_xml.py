"""What a mapping could not say before: attributes both ways, xs:any content passed through as
XML (parsed by the hardened parser, never escaped), request SOAP headers into the call and
echoed in the reply's Header (WS-Addressing), and MTOM / SwA attachments as base64 fields."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from tests.support.mappings import NS, envelope, merlin, parsed, payload_of
from turnout.config import ConfigError
from turnout.soap import SOAP12_NS, read_envelope, split_related
from turnout.translators import JsonReply, RequestRejected, TranslationError

WSA = "http://www.w3.org/2005/08/addressing"
EF = "urn:police:eforms:v1"

# --- attributes ------------------------------------------------------------------------------

ATTRIBUTES_REQUEST = """
method: POST
path: /records
body:
  risk: {xpath: "@riskLevel", case: lower}
  personId: {xpath: "ms:person/@id"}
"""

ATTRIBUTES_RESPONSE = """
body:
  ms:GetRecordResponse:
    ms:Record:
      "@riskLevel": {json: risk, case: upper}
      "@ms:version": {value: "2"}
      ms:name: {json: name, "@lang": {value: en}}
      ms:note: {json: note, "@source": {json: noteSource, absent: omit}}
"""


def test_attributes_are_read_from_the_request(tmp_path: Path) -> None:
    translator = merlin(tmp_path, ATTRIBUTES_REQUEST, ATTRIBUTES_RESPONSE)
    call = translator.to_call(envelope('<ms:person id="P-7"/>', attributes=' riskLevel="HIGH"'))
    assert call.body == {"risk": "high", "personId": "P-7"}


def test_attributes_are_written_on_complex_elements_and_leaves(tmp_path: Path) -> None:
    translator = merlin(tmp_path, ATTRIBUTES_REQUEST, ATTRIBUTES_RESPONSE)
    reply = translator.to_reply(
        JsonReply(200, {}, {"risk": "medium", "name": "Ann", "note": "seen"}), envelope("")
    )
    record = payload_of(reply.body).find(f"{{{NS}}}Record")
    assert record is not None
    assert record.get("riskLevel") == "MEDIUM" and record.get(f"{{{NS}}}version") == "2"
    name = record.find(f"{{{NS}}}name")
    assert name is not None and name.text == "Ann" and name.get("lang") == "en"
    note = record.find(f"{{{NS}}}note")
    assert note is not None and note.text == "seen" and "source" not in note.attrib


def test_absent_attribute_is_an_error_unless_declared_omittable(tmp_path: Path) -> None:
    translator = merlin(tmp_path, ATTRIBUTES_REQUEST, ATTRIBUTES_RESPONSE)
    with pytest.raises(TranslationError, match="risk is missing from the reply"):
        translator.to_reply(JsonReply(200, {}, {"name": "Ann", "note": "x"}), envelope(""))


def test_attribute_with_undeclared_prefix_fails_at_load(tmp_path: Path) -> None:
    response = ATTRIBUTES_RESPONSE.replace('"@ms:version"', '"@zz:version"')
    with pytest.raises(ConfigError, match=r"op.yaml:\d+: .*undeclared namespace prefix 'zz'"):
        merlin(tmp_path, ATTRIBUTES_REQUEST, response)


# --- xs:any ----------------------------------------------------------------------------------

ANY_REQUEST = """
method: POST
path: /records
body:
  extension: {xpath: "ms:extension", xml: children}
  raw: {xpath: "ms:extension", xml: element, absent: omit}
"""

ANY_RESPONSE = """
body:
  ms:GetRecordResponse:
    ms:extension: {json: extension, xml: true}
"""


def test_any_content_reaches_the_json_as_xml_text(tmp_path: Path) -> None:
    translator = merlin(tmp_path, ANY_REQUEST, ANY_RESPONSE)
    call = translator.to_call(envelope(
        '<ms:extension><x:flag xmlns:x="urn:x" level="2">on</x:flag>tail<ms:more/></ms:extension>'
    ))
    assert call.body["extension"] == (
        f'<x:flag xmlns:x="urn:x" level="2">on</x:flag>tail<ms:more xmlns:ms="{NS}"/>'
    )
    assert call.body["raw"].startswith(f'<ms:extension xmlns:ms="{NS}">')
    assert "Envelope" not in call.body["raw"]  # only the declarations the element uses


def test_xml_text_from_json_is_inserted_as_elements(tmp_path: Path) -> None:
    translator = merlin(tmp_path, ANY_REQUEST, ANY_RESPONSE)
    reply = translator.to_reply(JsonReply(200, {}, {
        "extension": 'lead<x:flag xmlns:x="urn:x">on</x:flag><x:b xmlns:x="urn:x"/>'
    }), envelope(""))
    extension = payload_of(reply.body).find(f"{{{NS}}}extension")
    assert extension is not None
    assert extension.text == "lead"
    assert [child.tag for child in extension] == ["{urn:x}flag", "{urn:x}b"]
    assert b"&lt;" not in reply.body


@pytest.mark.parametrize(
    "hostile",
    [
        '<!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>',  # a DTD inside the fragment
        "<x>&xxe;</x>",                                # an entity that was never declared
        "<x><unclosed></x>",                           # not well-formed
    ],
)
def test_xml_text_that_does_not_parse_safely_is_refused(tmp_path: Path, hostile: str) -> None:
    translator = merlin(tmp_path, ANY_REQUEST, ANY_RESPONSE)
    with pytest.raises(TranslationError, match="extension is not XML that can be inserted"):
        translator.to_reply(JsonReply(200, {}, {"extension": hostile}), envelope(""))


# --- request SOAP headers --------------------------------------------------------------------

HEADER_REQUEST = """
method: POST
path: /records
headers:
  X-Message-Id: {soap_header: "wsa:MessageID", absent: omit}
body:
  correlationId: {soap_header: "wsa:MessageID"}
"""

HEADER_RESPONSE = """
header:
  wsa:MessageID: {generate: message_id, template: "urn:uuid:{value}"}
  wsa:RelatesTo: {soap_header: "wsa:MessageID", absent: omit}
body:
  ms:GetRecordResponse:
    ms:ok: {value: true}
faults:
  - status: 404
    fault: client
    reason: {value: not found}
"""

MESSAGE_ID = "urn:uuid:6b29fc40-ca47-1067-b31d-00dd010662da"


def _addressed(version: str = "http://schemas.xmlsoap.org/soap/envelope/") -> object:
    return envelope(
        "", version=version,
        header=f'<wsa:MessageID xmlns:wsa="{WSA}">{MESSAGE_ID}</wsa:MessageID>',
    )


def test_request_header_goes_into_the_call(tmp_path: Path) -> None:
    translator = merlin(tmp_path, HEADER_REQUEST, HEADER_RESPONSE, namespaces=f"wsa: '{WSA}'")
    call = translator.to_call(_addressed())  # type: ignore[arg-type]
    assert ("X-Message-Id", MESSAGE_ID) in call.headers
    assert call.body == {"correlationId": MESSAGE_ID}
    bare = translator.to_call(envelope(""))
    assert bare.headers == () and bare.body == {"correlationId": None}


@pytest.mark.parametrize("version", ["http://schemas.xmlsoap.org/soap/envelope/", SOAP12_NS])
def test_reply_header_relates_to_the_requests_message_id(tmp_path: Path, version: str) -> None:
    translator = merlin(tmp_path, HEADER_REQUEST, HEADER_RESPONSE, namespaces=f"wsa: '{WSA}'")
    for status in (200, 404):
        reply = translator.to_reply(JsonReply(status, {}, {}), _addressed(version))  # type: ignore[arg-type]
        header = parsed(reply.body).find(f"{{{version}}}Header")
        assert header is not None, status
        assert header.findtext(f"{{{WSA}}}RelatesTo") == MESSAGE_ID
        assert header.findtext(f"{{{WSA}}}MessageID") == (
            "urn:uuid:00000000-0000-4000-8000-000000000001"
        )
    plain = translator.to_reply(JsonReply(200, {}, {}), envelope("", version=version))
    header = parsed(plain.body).find(f"{{{version}}}Header")
    assert header is not None and header.find(f"{{{WSA}}}RelatesTo") is None


# --- attachments -----------------------------------------------------------------------------

ATTACHMENT_MAPPING = f"""
operation: /eforms SubmitWitnessStatement
service: eforms
namespaces: {{ef: '{EF}'}}
request:
  method: POST
  path: /statements
  body:
    witness: "ef:witnessName"
    signature:
      image: {{attachment: "ef:signature", absent: omit}}
      contentType: {{attachment: "ef:signature", part: content_type, absent: omit}}
response:
  body:
    ef:SubmitWitnessStatementResponse:
      ef:reference: reference
"""

IMAGE = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR signature bytes \x00\xff"


def _statement(signature: str) -> bytes:
    return (
        f'<soap:Envelope xmlns:soap="{SOAP12_NS}"><soap:Body>'
        f'<ef:SubmitWitnessStatement xmlns:ef="{EF}"><ef:witnessName>Ann</ef:witnessName>'
        f"{signature}</ef:SubmitWitnessStatement></soap:Body></soap:Envelope>"
    ).encode()


def _mtom(root: bytes, cid: str = "sig@witness") -> tuple[bytes, str]:
    body = (
        b"--B\r\nContent-Type: application/xop+xml; type=\"application/soap+xml\"\r\n"
        b"Content-ID: <root@witness>\r\n\r\n" + root + b"\r\n"
        b"--B\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: binary\r\n"
        b"Content-ID: <" + cid.encode() + b">\r\n\r\n" + IMAGE + b"\r\n--B--\r\n"
    )
    content_type = (
        'multipart/related; boundary=B; type="application/xop+xml"; start="<root@witness>"; '
        'start-info="application/soap+xml"'
    )
    return body, content_type


def _read(body: bytes, content_type: str):  # type: ignore[no-untyped-def]
    # imported here so the rest of this file runs on a Turnout without attachments
    from turnout.translators import with_attachments

    related = split_related(body, content_type)
    return with_attachments(read_envelope(related.root.content, "/eforms"), related)


def _translator(tmp_path: Path):  # type: ignore[no-untyped-def]
    from tests.support.mappings import load

    return load(tmp_path, ATTACHMENT_MAPPING)


def test_mtom_signature_is_sent_as_base64(tmp_path: Path) -> None:
    include = '<ef:signature><xop:Include xmlns:xop="http://www.w3.org/2004/08/xop/include" ' \
              'href="cid:sig%40witness"/></ef:signature>'
    request = _read(*_mtom(_statement(include)))
    call = _translator(tmp_path).to_call(request)
    assert call.body == {
        "witness": "Ann",
        "signature": {"image": base64.b64encode(IMAGE).decode(), "contentType": "image/png"},
    }


def test_swa_reference_and_inline_base64_give_the_same_value(tmp_path: Path) -> None:
    translator = _translator(tmp_path)
    swa = _read(*_mtom(_statement('<ef:signature href="cid:sig@witness"/>')))
    inline = read_envelope(_statement(
        f"<ef:signature>{base64.b64encode(IMAGE).decode()}</ef:signature>"), "/eforms")
    expected = base64.b64encode(IMAGE).decode()
    assert translator.to_call(swa).body["signature"]["image"] == expected
    assert translator.to_call(inline).body["signature"] == {
        "image": expected, "contentType": "application/octet-stream",
    }
    none = read_envelope(_statement(""), "/eforms")
    assert translator.to_call(none).body["signature"] == {}


def test_reference_to_a_part_that_is_not_there_is_rejected(tmp_path: Path) -> None:
    include = '<ef:signature><xop:Include xmlns:xop="http://www.w3.org/2004/08/xop/include" ' \
              'href="cid:other@witness"/></ef:signature>'
    request = _read(*_mtom(_statement(include)))
    with pytest.raises(RequestRejected) as raised:
        _translator(tmp_path).to_call(request)
    assert raised.value.field == "signature"
    assert "refers to attachment cid:other@witness, which the request does not carry" in str(
        raised.value
    )
