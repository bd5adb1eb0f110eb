"""Scaffolding from WSDLs: mapping files, examples, golden stubs, re-runs, OpenAPI, the CLI; and
a scaffold whose TODOs are filled as the demo's translator fills them, run against the demo."""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner
from openapi_spec_validator import validate
from ruamel.yaml import YAML

from turnout.compare import diff, load_rules, rules_for
from turnout.demo import DemoStore, ServerThread, make_legacy_app
from turnout.demo.modern import make_modern_app
from turnout.demo.translators import DIRECTORY as DEMO_TRANSLATORS
from turnout.scaffold import openapi_document, plans_for, scaffold
from turnout.soap import read_envelope
from turnout.translators import JsonReply, TranslationError, load_translators
from turnout.wsdl import read_wsdl

from .test_wsdl_read import DEMO, PUBLIC

DEMO_WSDLS = sorted(DEMO.glob("*.wsdl"))
ALL = DEMO_WSDLS + PUBLIC
def ids(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


# --- every WSDL: scaffold runs, files load, examples validate, OpenAPI validates -----------


@pytest.mark.parametrize("path", ALL, ids=ids)
def test_scaffold_runs_cleanly(path: Path, tmp_path: Path) -> None:
    report = scaffold(str(path), tmp_path)
    assert report.operations
    for op in report.operations:
        assert op.mapping.is_file()
        example = tmp_path / "examples" / op.mapping.relative_to(tmp_path / "translators")
        assert example.with_suffix(".request.xml").is_file()
        assert op.invalid in ([], None)  # None: the WSDL's own schemas do not compile
    assert (tmp_path / "pytest.ini").is_file()
    load_rules(tmp_path / "compare.yaml")


@pytest.mark.parametrize("path", ALL, ids=ids)
def test_scaffolded_mappings_load(path: Path, tmp_path: Path) -> None:
    scaffold(str(path), tmp_path)
    translators = load_translators(tmp_path / "translators")
    assert len(translators) >= 1


@pytest.mark.parametrize("path", DEMO_WSDLS + [PUBLIC[0], PUBLIC[3], PUBLIC[4], PUBLIC[9]],
                         ids=ids)
def test_examples_are_valid_against_the_schema(path: Path, tmp_path: Path) -> None:
    report = scaffold(str(path), tmp_path)
    assert all(op.invalid == [] for op in report.operations)


@pytest.mark.parametrize("path", ALL, ids=ids)
def test_openapi_document_validates(path: Path) -> None:
    wsdl = read_wsdl(str(path), check_with_zeep=False)
    plans, _ = plans_for(wsdl)
    document = openapi_document(wsdl, plans)
    validate(document)  # type: ignore[arg-type]
    assert len(document["paths"]) == len({(p.path, p.method) for p in plans}) or plans


def test_openapi_schemas_carry_enums_required_dates_and_arrays() -> None:
    wsdl = read_wsdl(str(DEMO / "pnc.wsdl"), check_with_zeep=False)
    plans, _ = plans_for(wsdl)
    document = openapi_document(wsdl, plans)
    schemas = document["components"]["schemas"]
    person = schemas["PersonEnquiryResponse"]
    assert person["required"] == ["matchCount"]
    items = person["properties"]["person"]
    assert items["type"] == "array"
    record = items["items"]
    assert record["properties"]["sex"]["enum"] == ["M", "F", "U"]
    assert record["properties"]["dateOfBirth"]["format"] == "date"
    assert person["properties"]["matchCount"] == {
        "type": "integer", "minimum": 0, "description": person["properties"]["matchCount"][
            "description"]}
    parameters = document["paths"]["/person-enquiry"]["get"]["parameters"]
    assert [(p["name"], p["required"]) for p in parameters] == [
        ("surname", True), ("forenames", False), ("dateOfBirth", False)]
    assert parameters[0]["schema"]["maxLength"] == 35


# --- what a scaffolded mapping says ---------------------------------------------------------


def test_mapping_lists_every_field_with_xpath_type_and_todos(tmp_path: Path) -> None:
    scaffold(str(DEMO / "pnc.wsdl"), tmp_path, operations=("VehicleEnquiry",))
    text = (tmp_path / "translators" / "pnc" / "vehicle_enquiry.yaml").read_text()
    assert not (tmp_path / "translators" / "pnc" / "person_enquiry.yaml").exists()
    assert 'registrationMark: {xpath: "pnc:registrationMark", trim: true, required: true}' in text
    assert "pnc:keeper:  # tns:PersonRecord 0..1" in text
    assert "pnc:firstRegistered: {json: firstRegistered, date: {from: iso, to: \"%d/%m/%Y\"}}" in text
    # the wrapper unwrapped: the JSON is `warningMarkers: [...]`, as the demo's modern service says
    assert ('pnc:warningMarkers: {json: warningMarkers, items: "pnc:marker", '
            'unmap: warningMarker}') in text
    assert "pnc:messageId: {generate: message_id}" in text
    assert text.count("TODO") >= 8


def test_write_operations_get_writes_and_a_dry_run(tmp_path: Path) -> None:
    scaffold(str(DEMO / "cris.wsdl"), tmp_path)
    text = (tmp_path / "translators" / "cris" / "create_crime_report.yaml").read_text()
    assert "writes: true" in text and "path: /create-crime-report/validate" in text
    translators = load_translators(tmp_path / "translators")
    assert translators["cris/CreateCrimeReport"].writes


# --- re-running: a person's edits are never overwritten --------------------------------------


def test_rerun_keeps_edits_and_reports_what_changed_in_the_wsdl(tmp_path: Path) -> None:
    work = tmp_path / "wsdl"
    shutil.copytree(DEMO, work)
    out = tmp_path / "out"
    scaffold(str(work / "pnc.wsdl"), out)
    mapping = out / "translators" / "pnc" / "vehicle_enquiry.yaml"
    edited = mapping.read_text().replace("path: /vehicle-enquiry", "path: /vehicles")
    mapping.write_text(edited)

    xsd = (work / "pnc.xsd").read_text()
    xsd = xsd.replace('<xs:element name="model" type="xs:string"/>', "")  # removed
    xsd = xsd.replace('<xs:element name="make" type="xs:string"/>',
                      '<xs:element name="make" type="tns:Text35"/>'
                      '<xs:element name="fuel" type="xs:string" minOccurs="0"/>')  # retyped, added
    (work / "pnc.xsd").write_text(xsd)

    report = scaffold(str(work / "pnc.wsdl"), out)
    assert mapping.read_text() == edited
    vehicle = next(op for op in report.operations if op.key == "/pnc VehicleEnquiry")
    assert vehicle.written == []
    changes = {str(change) for change in vehicle.changes}
    base = "response pnc:VehicleEnquiryResponse/pnc:vehicle"
    assert f"added {base}/pnc:fuel (xs:string 0..1)" in changes
    assert f"removed {base}/pnc:model (xs:string 1..1)" in changes
    assert f"retyped {base}/pnc:make: xs:string 1..1 -> tns:Text35 1..1" in changes
    assert any(c.startswith(f"retyped {base}/pnc:keeper/") is False for c in changes)

    again = scaffold(str(work / "pnc.wsdl"), out)  # still reported until accepted
    assert next(op for op in again.operations if op.key == vehicle.key).changes
    scaffold(str(work / "pnc.wsdl"), out, accept=True)
    accepted = scaffold(str(work / "pnc.wsdl"), out)
    assert next(op for op in accepted.operations if op.key == vehicle.key).changes == []


# --- the CLI --------------------------------------------------------------------------------


def test_cli_inspect_prints_a_tree_and_json() -> None:
    from turnout.cli._wsdl import wsdl

    runner = CliRunner()
    result = runner.invoke(wsdl, ["inspect", str(DEMO / "pnc.wsdl")])
    assert result.exit_code == 0, result.output
    assert "operation VehicleEnquiry" in result.output and "key /pnc VehicleEnquiry" in result.output
    result = runner.invoke(wsdl, ["inspect", "--json", str(PUBLIC[3])])
    data = json.loads(result.output)
    assert [b["kind"] for b in data["bindings"]] == ["soap11", "soap12", "http"]


def test_cli_inspect_of_an_unreadable_file_is_one_line(tmp_path: Path) -> None:
    from turnout.cli._wsdl import wsdl

    (tmp_path / "x.wsdl").write_text("<oops")
    result = CliRunner().invoke(wsdl, ["inspect", str(tmp_path / "x.wsdl")])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert f"{tmp_path / 'x.wsdl'}: not well-formed XML" in result.output


def test_cli_scaffold_writes_files_and_a_valid_openapi(tmp_path: Path) -> None:
    from turnout.cli._wsdl import scaffold as command

    api = tmp_path / "api.json"
    result = CliRunner().invoke(command, [str(PUBLIC[9]), "--out", str(tmp_path / "out"),
                                          "--openapi", str(api)])
    assert result.exit_code == 0, result.output
    assert "valid OpenAPI 3.1" in result.output
    assert "examples valid against the schema" in result.output
    validate(json.loads(api.read_text()))
    result = CliRunner().invoke(command, [str(PUBLIC[9])])
    assert result.exit_code == 2


# --- a scaffold, its TODOs filled the demo's way, against the demo bus and services ----------


def fill_like_the_demo(text: str) -> str:
    """Make the decisions turnout/demo/translators/pnc/vehicle_enquiry.yaml makes, on the
    scaffold's own structure: the call, the service's names and words, the 404 fault."""
    yaml = YAML(typ="rt")
    data = yaml.load(text)
    data.insert(3, "include", "_pnc.yaml")  # the demo's shared words and faults
    request = data["request"]
    del request["query"]
    request["path"] = "/vehicles/{vrm}"
    request.insert(2, "path_params", {"vrm": {
        "xpath": "pnc:registrationMark", "trim": True,
        "pattern": {"regex": "[A-Za-z0-9 ]{2,10}", "example": "AB12 CDE"},
        "replace": {" ": ""}, "case": "upper",
    }})
    vehicle = data["response"]["body"]["pnc:VehicleEnquiryResponse"]["pnc:vehicle"]
    del vehicle["from"]  # the service answers the vehicle itself, not {"vehicle": ...}
    vehicle["pnc:registrationMark"] = "registration"
    vehicle["pnc:colourCode"] = {"json": "colour", "unmap": "colours"}
    vehicle["pnc:insured"]["unmap"] = "yes_no"
    vehicle["pnc:stolen"]["unmap"] = "yes_no"
    keeper = vehicle["pnc:keeper"]
    for key in [k for k in keeper if k.startswith("pnc:")]:
        del keeper[key]
    keeper["use"] = "person"
    no_vehicle = {"xpath": "pnc:registrationMark", "trim": True, "case": "upper",
                  "template": "no vehicle with registration mark {value}"}
    data["response"]["faults"] = [{
        "status": 404, "fault": "client", "reason": no_vehicle,
        "detail": {"pnc:ServiceFault": {"pnc:errorCode": {"value": "NOREC"},
                                        "pnc:errorText": no_vehicle,
                                        "pnc:field": {"value": "registrationMark"}}},
    }]
    stream = io.StringIO()
    yaml.dump(data, stream)
    return stream.getvalue()


@pytest.fixture(scope="module")
def demo_sides() -> Iterator[tuple[str, str]]:
    store = DemoStore()
    with ServerThread(make_legacy_app(store)) as legacy, ServerThread(
        make_modern_app(store)
    ) as modern:
        yield legacy.url, modern.url


def _request(mark: str | None) -> bytes:
    inner = "" if mark is None else f"<p:registrationMark>{mark}</p:registrationMark>"
    return (
        '<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body>'
        f'<p:VehicleEnquiry xmlns:p="urn:police:pnc:v1">{inner}</p:VehicleEnquiry>'
        "</e:Body></e:Envelope>"
    ).encode()


@pytest.mark.parametrize("mark", ["TB19 XKF", "tb21qpa", " TB66 JKF ", "TB17 ZRC", "ZZ99 ZZZ",
                                  "TB19-XKF", None])
def test_filled_scaffold_answers_as_the_legacy_bus(
    tmp_path: Path, demo_sides: tuple[str, str], mark: str | None
) -> None:
    legacy_url, modern_url = demo_sides
    scaffold(str(DEMO / "pnc.wsdl"), tmp_path, operations=("VehicleEnquiry",))
    directory = tmp_path / "translators" / "pnc"
    mapping = directory / "vehicle_enquiry.yaml"
    mapping.write_text(fill_like_the_demo(mapping.read_text()))
    shutil.copy(DEMO_TRANSLATORS / "pnc" / "_pnc.yaml", directory / "_pnc.yaml")
    translator = load_translators(tmp_path / "translators").for_operation("/pnc VehicleEnquiry")
    assert translator is not None

    body = _request(mark)
    with requests.Session() as session:
        legacy = session.post(f"{legacy_url}/pnc", data=body,
                              headers={"Content-Type": "text/xml; charset=utf-8"}, timeout=10)
        request = read_envelope(body, "/pnc")
        try:
            call = translator.to_call(request)
        except TranslationError as error:
            assert error.reply is not None
            translated: Any = error.reply
        else:
            reply = session.request(call.method, modern_url + call.path, params=list(call.query),
                                    timeout=10)
            translated = translator.to_reply(
                JsonReply(reply.status_code, tuple(reply.headers.items()), reply.json()), request)
    rules = rules_for(load_rules(DEMO.parent / "compare.yaml"), "/pnc VehicleEnquiry")
    assert translated.status == legacy.status_code
    result = diff(legacy.content, translated.body, rules)
    assert result.equal, result
