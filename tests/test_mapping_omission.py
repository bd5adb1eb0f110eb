"""Two limits found translating a spyne service: a reply header whose values all echo a request
header the request did not carry (spyne then writes no Header; `absent: omit` on the element
leaves it out, and the Header with it), and attributes in a named template (`templates:` with
`"@name"` keys, given to the element that uses it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.mappings import NS, envelope, merlin, parsed, payload_of
from turnout.config import ConfigError
from turnout.soap import SOAP11_NS, SOAP12_NS
from turnout.translators import JsonReply

REQUEST = """
method: GET
path: /records/1
"""

ECHOED = """
header:
  ms:ResponseHeader:
    absent: omit
    ms:correlationId: {soap_header: "ms:RequestHeader/ms:correlationId", absent: omit}
body:
  ms:GetRecordResponse:
    ms:recordId: id
faults:
  - status: 404
    fault: client
    reason: {value: no such record}
"""

REQUEST_HEADER = ("<ms:RequestHeader xmlns:ms='urn:police:merlin:v1'>"
                  "<ms:correlationId>c-1</ms:correlationId></ms:RequestHeader>")


def _header(body: bytes, version: str = SOAP11_NS) -> object:
    return parsed(body).find(f"{{{version}}}Header")


@pytest.mark.parametrize("version", [SOAP11_NS, SOAP12_NS], ids=["1.1", "1.2"])
def test_a_header_element_whose_content_is_all_absent_is_left_out_and_the_header_too(
        tmp_path: Path, version: str) -> None:
    translator = merlin(tmp_path, REQUEST, ECHOED)
    reply = translator.to_reply(JsonReply(200, {}, {"id": "R1"}), envelope(version=version))
    assert _header(reply.body, version) is None
    assert payload_of(reply.body).findtext(f"{{{NS}}}recordId") == "R1"
    fault = translator.to_reply(JsonReply(404, {}, {}), envelope(version=version))
    assert fault.status == 500 and _header(fault.body, version) is None


def test_the_header_element_is_written_when_the_request_carries_what_it_echoes(tmp_path: Path) -> None:
    translator = merlin(tmp_path, REQUEST, ECHOED)
    reply = translator.to_reply(JsonReply(200, {}, {"id": "R1"}), envelope(header=REQUEST_HEADER))
    header = _header(reply.body)
    assert header is not None
    assert [child.tag for child in header] == [f"{{{NS}}}ResponseHeader"]  # type: ignore[attr-defined]
    assert header.findtext(f"{{{NS}}}ResponseHeader/{{{NS}}}correlationId") == "c-1"  # type: ignore[attr-defined]


def test_without_absent_omit_the_empty_element_is_still_written(tmp_path: Path) -> None:
    translator = merlin(tmp_path, REQUEST, ECHOED.replace("    absent: omit\n    ms:corr", "    ms:corr"))
    reply = translator.to_reply(JsonReply(200, {}, {"id": "R1"}), envelope())
    header = _header(reply.body)
    assert header is not None and [child.tag for child in header] == [  # type: ignore[attr-defined]
        f"{{{NS}}}ResponseHeader"]


def test_absent_omit_leaves_out_a_body_element_with_nothing_inside_but_keeps_one_with_an_attribute(
        tmp_path: Path) -> None:
    response = """
    body:
      ms:GetRecordResponse:
        ms:recordId: id
        ms:alias:
          absent: omit
          ms:name: {json: alias, absent: omit}
        ms:flag:
          absent: omit
          "@kind": {json: flag, absent: omit}
    """
    translator = merlin(tmp_path, REQUEST, response)
    bare = payload_of(translator.to_reply(JsonReply(200, {}, {"id": "R1"}), envelope()).body)
    assert [child.tag for child in bare] == [f"{{{NS}}}recordId"]
    full = payload_of(translator.to_reply(
        JsonReply(200, {}, {"id": "R1", "alias": "Jo", "flag": "amber"}), envelope()).body)
    assert full.findtext(f"{{{NS}}}alias/{{{NS}}}name") == "Jo"
    flag = full.find(f"{{{NS}}}flag")
    assert flag is not None and flag.get("kind") == "amber"


def test_optional_without_from_is_still_refused_and_points_at_absent_omit(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"op.yaml:\d+: .*optional: true needs from:.*absent: omit"):
        merlin(tmp_path, REQUEST, ECHOED.replace("    absent: omit\n    ms:corr", "    optional: true\n    ms:corr"))


# --- attributes in named templates ------------------------------------------------------------

TEMPLATES = """
value_maps:
  risk_levels: {LOW: low, HIGH: high}
templates:
  named:
    "@ms:version": {value: "2"}
    ms:surname: surname
  record:
    "@riskLevel": {json: risk, unmap: risk_levels}
    ms:recordId: id
    use: named
"""

USED = """
body:
  ms:GetRecordResponse:
    ms:Record:
      from: record
      "@source": {value: merlin}
      use: record
"""


def test_a_named_template_gives_its_attributes_to_the_element_that_uses_it(tmp_path: Path) -> None:
    translator = merlin(tmp_path, REQUEST, USED, top=TEMPLATES)
    reply = translator.to_reply(
        JsonReply(200, {}, {"record": {"risk": "high", "id": "R1", "surname": "Ash"}}), envelope())
    record = payload_of(reply.body).find(f"{{{NS}}}Record")
    assert record is not None
    assert dict(record.attrib) == {"source": "merlin", "riskLevel": "HIGH", f"{{{NS}}}version": "2"}
    assert [child.text for child in record] == ["R1", "Ash"]


def test_a_bad_attribute_in_a_template_fails_at_load_naming_the_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"op.yaml:\d+: .*undeclared namespace prefix 'zz'"):
        merlin(tmp_path, REQUEST, USED, top=TEMPLATES.replace('"@ms:version"', '"@zz:version"'))
