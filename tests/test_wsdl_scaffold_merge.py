"""Scaffolds that fit real services (issue 14): several WSDLs in one --out, SOAP 1.1 and 1.2
ports of one service folded into one mapping, rpc scaffolds that load and translate, example
JSON replies beside example requests, and array wrappers unwrapped from the JSON contract.

Each test here failed on the commit issue 14 was filed against (76aa698); the WSDLs are under
tests/wsdl/ (spyne-arrays/ is published by a real spyne service, see its generate.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from turnout.cli import main
from turnout.compare import load_rules, rules_for
from turnout.scaffold import openapi_document, plans_for, scaffold
from turnout.soap import read_envelope
from turnout.translators import JsonReply, load_translators
from turnout.wsdl import (
    check_envelope,
    compile_schemas,
    fetch_documents,
    read_documents,
    read_wsdl,
)

WSDLS = Path(__file__).parent / "wsdl"
DEMO = Path(__file__).parent.parent / "turnout" / "demo" / "wsdl"
DUAL = WSDLS / "dual-soap" / "records.wsdl"
SPYNE = WSDLS / "spyne-arrays" / "linked_records.wsdl"
RPC = WSDLS / "jaxws-hello" / "hello.wsdl"


# --- several WSDLs in one --out ------------------------------------------------------------


def test_a_second_wsdl_never_reports_the_first_ones_operations_as_removed(tmp_path: Path) -> None:
    scaffold(str(DEMO / "pnc.wsdl"), tmp_path)
    second = scaffold(str(DEMO / "cris.wsdl"), tmp_path)
    assert second.removed == []
    again = scaffold(str(DEMO / "pnc.wsdl"), tmp_path)
    assert again.removed == []
    assert all(not op.changes and not op.written for op in again.operations)


def test_each_wsdl_keeps_its_own_baseline(tmp_path: Path) -> None:
    pnc = tmp_path / "pnc.wsdl"
    pnc.write_text((DEMO / "pnc.wsdl").read_text())
    (tmp_path / "pnc.xsd").write_text((DEMO / "pnc.xsd").read_text())
    out = tmp_path / "out"
    scaffold(str(pnc), out)
    scaffold(str(DEMO / "cris.wsdl"), out)
    # the first WSDL loses an operation: only it reports it, and only that one
    text = pnc.read_text()
    start = text.index('<wsdl:operation name="PersonEnquiry">')
    end = text.index("</wsdl:operation>", start) + len("</wsdl:operation>")
    pnc.write_text(text[:start] + text[end:])
    report = scaffold(str(pnc), out)
    assert report.removed == ["/pnc PersonEnquiry"]
    assert scaffold(str(DEMO / "cris.wsdl"), out).removed == []
    state = json.loads((out / ".turnout-scaffold.json").read_text())
    assert set(state["wsdls"]) == {"pnc.wsdl", "cris.wsdl"}
    assert state["wsdls"]["pnc.wsdl"]["mappings"]["/pnc VehicleEnquiry"] == (
        "translators/pnc/vehicle_enquiry.yaml")


def test_compare_rules_cover_every_wsdl_scaffolded_into_the_directory(tmp_path: Path) -> None:
    scaffold(str(DEMO / "pnc.wsdl"), tmp_path)
    rules_file = tmp_path / "compare.yaml"
    edited = rules_file.read_text() + "# a person's note, kept\n"
    rules_file.write_text(edited)
    report = scaffold(str(DUAL), tmp_path)
    assert rules_file in report.extended
    assert rules_file.read_text().startswith(edited)
    table = load_rules(rules_file)
    assert [r.path for r in rules_for(table, "/pnc VehicleEnquiry").ignore] == [
        "//pnc:MessageHeader/pnc:messageId", "//pnc:MessageHeader/pnc:timestamp"]
    assert [r.path for r in rules_for(table, "/merlin/records GetRecord").ignore] == [
        "//records:ResponseHeader/records:messageId"]
    before = rules_file.read_text()
    assert scaffold(str(DUAL), tmp_path).extended == []  # nothing new: not touched
    assert rules_file.read_text() == before


def test_a_second_wsdl_with_the_same_service_name_gets_its_own_files(tmp_path: Path) -> None:
    scaffold(str(DEMO / "pnc.wsdl"), tmp_path)
    other = tmp_path / "elsewhere.wsdl"
    other.write_text((DEMO / "pnc.wsdl").read_text().replace(
        "localhost:8080/pnc", "localhost:8080/national/pnc"))
    (tmp_path / "pnc.xsd").write_text((DEMO / "pnc.xsd").read_text())
    report = scaffold(str(other), tmp_path)
    assert [op.key for op in report.operations] == ["/national/pnc PersonEnquiry",
                                                    "/national/pnc VehicleEnquiry"]
    assert all(op.written and not op.kept for op in report.operations)
    assert len(load_translators(tmp_path / "translators")) == 4


def test_cli_scaffolds_two_wsdls_into_one_directory(tmp_path: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(main, ["scaffold", str(DEMO / "pnc.wsdl"), "--out", str(tmp_path)])
    assert first.exit_code == 0, first.output
    second = runner.invoke(main, ["scaffold", str(DEMO / "cris.wsdl"), "--out", str(tmp_path)])
    assert second.exit_code == 0, second.output
    assert "no longer in the WSDL" not in second.output


# --- SOAP 1.1 and 1.2 ports of one service: one mapping -------------------------------------


def test_soap11_and_soap12_ports_at_different_paths_get_one_mapping(tmp_path: Path) -> None:
    report = scaffold(str(DUAL), tmp_path)
    assert [op.key for op in report.operations] == ["/merlin/records GetRecord",
                                                    "/merlin/records CreateRecord"]
    assert sorted(p.name for p in (tmp_path / "translators").rglob("*.yaml")) == [
        "create_record.yaml", "get_record.yaml"]
    translators = load_translators(tmp_path / "translators")
    assert len(translators) == 2
    one = translators.for_operation("/merlin/records GetRecord")
    assert one is not None
    assert translators.for_operation("/merlin/records/soap12 GetRecord") is one
    # each key gets its golden folder and compare section, both pointing at the one mapping
    assert (tmp_path / "golden/merlin/records/soap12/GetRecord/README.md").is_file()
    table = load_rules(tmp_path / "compare.yaml")
    assert rules_for(table, "/merlin/records/soap12 GetRecord").ignore


def test_the_folded_mapping_translates_both_soap_versions(tmp_path: Path) -> None:
    scaffold(str(DUAL), tmp_path)
    translator = load_translators(tmp_path / "translators")["merlin/records/GetRecord"]
    examples = tmp_path / "examples" / "records"
    v11 = read_envelope((examples / "get_record.request.xml").read_bytes(), "/merlin/records")
    v12 = read_envelope((examples / "get_record.soap12.request.xml").read_bytes(),
                        "/merlin/records/soap12")
    assert (v11.operation.key, v12.operation.key) == (
        "/merlin/records GetRecord", "/merlin/records/soap12 GetRecord")
    assert v12.version.namespace == "http://www.w3.org/2003/05/soap-envelope"
    call11, call12 = translator.to_call(v11), translator.to_call(v12)
    assert call11 == call12
    assert dict(call11.query) == {"recordId": "example"}
    reply = JsonReply(200, body={"recordId": "R1", "riskLevel": "HIGH", "reported": "2026-03-10"})
    for request in (v11, v12):
        answer = read_envelope(translator.to_reply(reply, request).body, "/")
        assert answer.version == request.version
        assert answer.payload.findtext("{urn:police:merlin:records:v1}riskLevel") == "HIGH"


# --- rpc scaffolds load and translate --------------------------------------------------------


def test_an_rpc_scaffold_loads_and_answers_valid_against_the_schema(tmp_path: Path) -> None:
    scaffold(str(RPC), tmp_path)
    translator = load_translators(tmp_path / "translators")["ws/hello/getHelloAsString"]
    request = read_envelope(
        (tmp_path / "examples/hello/get_hello_as_string.request.xml").read_bytes(), "/ws/hello")
    call = translator.to_call(request)
    assert call.query == (("arg0", "example"),)
    answer = translator.to_reply(JsonReply(200, body={"return": "hello"}), request).body
    wsdl = read_wsdl(str(RPC), check_with_zeep=False)
    operation = wsdl.bindings[0].operations[0]
    assert operation.style == "rpc"
    assert check_envelope(compile_schemas(fetch_documents(str(RPC))), operation, "output",
                          answer) == []
    returned = read_envelope(answer, "/ws/hello").payload.find("return")
    assert returned is not None and returned.text == "hello"


def test_docs_say_rpc_scaffolds_load() -> None:
    text = (Path(__file__).parent.parent / "docs" / "wsdl.md").read_text()
    assert "do not load" not in text
    assert "**rpc operations** load and translate as scaffolded" in text


# --- array wrappers unwrapped ----------------------------------------------------------------

LINKED = "urn:police:merlin:linked:v1"


def test_array_wrappers_do_not_leak_into_the_mapping_or_the_json_contract(tmp_path: Path) -> None:
    scaffold(str(SPYNE), tmp_path)
    text = (tmp_path / "translators/linked/get_linked_record.yaml").read_text()
    assert "linked:linkedRefs: {json: linkedRefs, items: \"linked:string\", absent: omit}" in text
    assert "each: string" not in text and "from: linkedRefs" not in text
    wsdl = read_wsdl(str(SPYNE), check_with_zeep=False)
    plans, _ = plans_for(wsdl)
    schemas = openapi_document(wsdl, plans)["components"]["schemas"]
    record = schemas["GetLinkedRecordResponse"]["properties"]["getLinkedRecordResult"]
    assert record["properties"]["linkedRefs"]["type"] == "array"
    assert record["properties"]["linkedRefs"]["items"] == {"type": "string"}
    aliases = record["properties"]["aliases"]
    assert aliases["type"] == "array" and set(aliases["items"]["properties"]) == {
        "surname", "forenames"}
    assert schemas["LinkRecordsRequest"]["properties"]["linkedRefs"]["items"] == {
        "type": "string"}


def test_scaffolded_wrappers_read_and_write_plain_arrays(tmp_path: Path) -> None:
    scaffold(str(SPYNE), tmp_path)
    translators = load_translators(tmp_path / "translators")
    link = translators["merlin/linked/LinkRecords"]
    request = read_envelope(
        (tmp_path / "examples/linked/link_records.request.xml").read_bytes(), "/merlin/linked")
    body = link.to_call(request).body
    assert body["linkedRefs"] == ["example"]
    assert body["aliases"] == [{"surname": "example", "forenames": "example"}]
    get = translators["merlin/linked/GetLinkedRecord"]
    request = read_envelope(
        (tmp_path / "examples/linked/get_linked_record.request.xml").read_bytes(),
        "/merlin/linked")
    reply = {"getLinkedRecordResult": {"recordId": "MP-1", "linkedRefs": ["CR-1", "CR-2"],
                                       "aliases": [{"surname": "Doe"}]}}
    answer = get.to_reply(JsonReply(200, body=reply), request).body
    operation = next(op for op in read_wsdl(str(SPYNE), check_with_zeep=False).bindings[0]
                     .operations if op.name == "GetLinkedRecord")
    assert check_envelope(compile_schemas(fetch_documents(str(SPYNE))), operation, "output",
                          answer) == []
    result = read_envelope(answer, "/merlin/linked").payload[0]
    refs = result.find(f"{{{LINKED}}}linkedRefs")
    assert refs is not None
    assert [e.text for e in refs.iter(f"{{{LINKED}}}string")] == ["CR-1", "CR-2"]
    # no array in the reply: no wrapper (it is optional), rather than an error
    bare = get.to_reply(JsonReply(200, body={"getLinkedRecordResult": {"recordId": "MP-2"}}),
                        request).body
    assert b"linkedRefs" not in bare


# --- example replies beside example requests -------------------------------------------------

REPLY_WSDLS = [DEMO / "pnc.wsdl", DEMO / "cris.wsdl", DEMO / "geo.wsdl", DEMO / "eforms.wsdl",
               SPYNE, DUAL, RPC, WSDLS / "blz-service" / "BLZService.wsdl"]


@pytest.mark.parametrize("path", REPLY_WSDLS, ids=lambda p: p.name)
def test_example_replies_give_answers_valid_against_the_schema(path: Path,
                                                               tmp_path: Path) -> None:
    report = scaffold(str(path), tmp_path)
    translators = load_translators(tmp_path / "translators")
    documents = fetch_documents(str(path))
    wsdl, schema = read_documents(documents), compile_schemas(documents)
    checked = 0
    for op in report.operations:
        stem = tmp_path / "examples" / op.mapping.relative_to(tmp_path / "translators")
        example = json.loads(stem.with_suffix(".reply.json").read_text())
        assert example["status"] == 200
        request = read_envelope(stem.with_suffix(".request.xml").read_bytes(),
                                op.key.split(" ", 1)[0])
        answer = translators[op.name].to_reply(JsonReply(200, body=example["body"]), request)
        operation = next(o for b in wsdl.bindings for o in b.operations
                         if o.request_element is not None
                         and o.request_element.name == request.operation.name
                         and o.soap_version == request.version.name)
        assert check_envelope(schema, operation, "output", answer.body) == [], op.key
        checked += 1
    assert checked == len(report.operations)
