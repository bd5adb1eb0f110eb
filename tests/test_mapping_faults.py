"""Fault rules as spyne-style services write them: a QName fault code, SOAP 1.2 subcodes, the
detail element chosen per rule (or none), and Faults without the SOAP Header that responses
carry. Offline: the translator's reply half on a real request envelope, its bytes parsed back."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from tests.support.mappings import NS, envelope, merlin, parsed, payload_of
from turnout.config import ConfigError
from turnout.soap import SOAP11_NS, SOAP12_NS
from turnout.translators import JsonReply

REQUEST = """
path: /records/{id}
path_params: {id: "ms:recordId"}
"""

RESPONSE = """
fault_header: false
header:
  ms:MessageHeader:
    ms:messageId: {generate: message_id}
body:
  ms:GetRecordResponse:
    ms:name: name
faults:
  - status: 404
    fault: soap11env:Client.RecordNotFound
    subcodes: [ms:NOTFOUND, ms:ARCHIVED]
    reason: {json: detail}
    detail:
      ms:MerlinFault:
        ms:code: {value: NOTFOUND}
  - status: 409
    fault: client
    header: true
    reason: {json: detail}
    detail:
      ms:ConflictFault:
        ms:with: {json: other}
  - status: 5xx
    fault: server
    reason: {value: MERLIN is unavailable}
    detail: false
"""

SOAP11ENV = "soap11env: 'http://schemas.xmlsoap.org/soap/envelope/'"
REQUEST_XML = "<ms:recordId>MP-1</ms:recordId>"


def _translator(tmp_path: Path):  # type: ignore[no-untyped-def]
    return merlin(tmp_path, REQUEST, RESPONSE, namespaces=SOAP11ENV)


def _qname(element: etree._Element) -> tuple[str | None, str]:
    """The QName an element's text names, resolved against its in-scope prefixes."""
    prefix, _, local = (element.text or "").strip().partition(":")
    return element.nsmap[prefix], local


def test_fault_code_is_the_qname_the_mapping_names_in_soap11(tmp_path: Path) -> None:
    translator = _translator(tmp_path)
    reply = translator.to_reply(JsonReply(404, {}, {"detail": "no record MP-1"}), envelope(REQUEST_XML))
    assert reply.status == 500
    fault = payload_of(reply.body)
    code = fault.find("faultcode")
    assert code is not None
    # subcodes follow the 1.1 code after dots
    assert _qname(code) == (SOAP11_NS, "Client.RecordNotFound.NOTFOUND.ARCHIVED")
    assert fault.findtext("faultstring") == "no record MP-1"


def test_soap12_fault_has_nested_subcodes_in_the_services_namespace(tmp_path: Path) -> None:
    translator = merlin(tmp_path, REQUEST, RESPONSE.replace(
        "fault: soap11env:Client.RecordNotFound", "fault: client"), namespaces=SOAP11ENV)
    reply = translator.to_reply(
        JsonReply(404, {}, {"detail": "gone"}), envelope(REQUEST_XML, version=SOAP12_NS)
    )
    fault = payload_of(reply.body)
    code = fault.find(f"{{{SOAP12_NS}}}Code")
    assert code is not None
    assert _qname(code.find(f"{{{SOAP12_NS}}}Value")) == (SOAP12_NS, "Sender")
    first = code.find(f"{{{SOAP12_NS}}}Subcode")
    assert _qname(first.find(f"{{{SOAP12_NS}}}Value")) == (NS, "NOTFOUND")
    second = first.find(f"{{{SOAP12_NS}}}Subcode")
    assert _qname(second.find(f"{{{SOAP12_NS}}}Value")) == (NS, "ARCHIVED")


def test_undeclared_soap_prefix_names_the_replys_own_envelope(tmp_path: Path) -> None:
    translator = merlin(tmp_path, REQUEST, RESPONSE.replace(
        "fault: soap11env:Client.RecordNotFound", "fault: soap:Sender").replace(
        "subcodes: [ms:NOTFOUND, ms:ARCHIVED]", ""))
    reply = translator.to_reply(
        JsonReply(404, {}, {"detail": "gone"}), envelope(REQUEST_XML, version=SOAP12_NS)
    )
    value = payload_of(reply.body).find(f"{{{SOAP12_NS}}}Code/{{{SOAP12_NS}}}Value")
    assert _qname(value) == (SOAP12_NS, "Sender")


def test_faults_carry_no_header_when_fault_header_is_false(tmp_path: Path) -> None:
    translator = _translator(tmp_path)
    ok = translator.to_reply(JsonReply(200, {}, {"name": "Ann"}), envelope(REQUEST_XML))
    assert parsed(ok.body).find(f"{{{SOAP11_NS}}}Header") is not None  # responses keep it
    for status in (404, 503):
        fault = translator.to_reply(JsonReply(status, {}, {"detail": "x"}), envelope(REQUEST_XML))
        assert parsed(fault.body).find(f"{{{SOAP11_NS}}}Header") is None, status


def test_a_rule_may_ask_for_the_header_back(tmp_path: Path) -> None:
    translator = _translator(tmp_path)
    fault = translator.to_reply(
        JsonReply(409, {}, {"detail": "taken", "other": "MP-2"}), envelope(REQUEST_XML)
    )
    header = parsed(fault.body).find(f"{{{SOAP11_NS}}}Header")
    assert header is not None
    assert header.findtext(f"{{{NS}}}MessageHeader/{{{NS}}}messageId") is not None


def test_detail_element_is_chosen_per_rule_or_left_out(tmp_path: Path) -> None:
    translator = _translator(tmp_path)
    not_found = payload_of(translator.to_reply(JsonReply(404, {}, {"detail": "x"}),
                                               envelope(REQUEST_XML)).body)
    assert [child.tag for child in not_found.find("detail")] == [f"{{{NS}}}MerlinFault"]
    conflict = payload_of(translator.to_reply(JsonReply(409, {}, {"detail": "x", "other": "MP-2"}),
                                              envelope(REQUEST_XML)).body)
    assert [child.tag for child in conflict.find("detail")] == [f"{{{NS}}}ConflictFault"]
    assert conflict.findtext(f"detail/{{{NS}}}ConflictFault/{{{NS}}}with") == "MP-2"
    unavailable = payload_of(translator.to_reply(JsonReply(503, {}, None),
                                                 envelope(REQUEST_XML)).body)
    assert unavailable.find("detail") is None
    assert unavailable.findtext("faultstring") == "MERLIN is unavailable"


def test_fault_client_and_server_keep_working(tmp_path: Path) -> None:
    translator = _translator(tmp_path)
    fault = payload_of(translator.to_reply(JsonReply(503, {}, None), envelope(REQUEST_XML)).body)
    assert _qname(fault.find("faultcode")) == (SOAP11_NS, "Server")


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("fault: xx:Client.Gone", "undeclared namespace prefix 'xx'"),
        ("fault: sideways", "must be client, server or a QName"),
        ("subcodes: [NOTFOUND]", "must be a QName like ms:NOTFOUND"),
    ],
)
def test_bad_fault_codes_fail_at_load_naming_the_line(
    tmp_path: Path, fault: str, message: str
) -> None:
    line = "subcodes: [ms:NOTFOUND, ms:ARCHIVED]" if fault.startswith("subcodes") else (
        "fault: soap11env:Client.RecordNotFound")
    text = RESPONSE.replace(line, fault)
    with pytest.raises(ConfigError) as raised:
        merlin(tmp_path, REQUEST, text, namespaces=SOAP11ENV)
    assert message in str(raised.value)
    assert "op.yaml:" in str(raised.value) and "response.faults[0]" in str(raised.value)
