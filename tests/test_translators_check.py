"""`turnout translators check` and `routes check` catch a valid but wrong XPath or namespace
(issue 14: such a mapping loads, passes `routes check`, and passes an offline `compare`, which
never runs the request half), and a reply half that writes what the WSDL's schema refuses.

Each broken mapping is a copy of a demo mapping with one plausible mistake: an element name
misspelt in an XPath, and a prefix bound to a namespace URI one character off. The examples are
the demo's golden recordings (`recordings/`) and requests generated from the demo's WSDLs.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from turnout.cli import main

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "turnout" / "demo"
RECORDINGS = ROOT / "recordings"

#: VehicleEnquiry's registration mark read from an element that does not exist
WRONG_NAME = ('xpath: "pnc:registrationMark"\n      trim: true\n      pattern',
              'xpath: "pnc:registrationMrk"\n      trim: true\n      pattern')
#: PersonEnquiry's forenames read through a prefix bound to `urn:police:pnc:1` (not `:v1`):
#: an optional field, so the translator just sends no forenames
WRONG_NAMESPACE = ('    forenames: {xpath: "pnc:forenames"', '    forenames: {xpath: "q:forenames"')


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _copy_demo(tmp_path: Path) -> Path:
    """The demo's translators and WSDLs side by side under `tmp_path` (a WSDL is found in
    `wsdl/` beside the translators directory)."""
    shutil.copytree(DEMO / "translators", tmp_path / "translators",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(DEMO / "wsdl", tmp_path / "wsdl")
    return tmp_path / "translators"


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{path} no longer holds {old!r}: update the test's edit"
    path.write_text(text.replace(old, new, 1))


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    """A copy of the demo's translators with the two mistakes, and a turnout.yaml shadowing
    both operations."""
    translators = _copy_demo(tmp_path)
    _edit(translators / "pnc" / "vehicle_enquiry.yaml", *WRONG_NAME)
    person = translators / "pnc" / "person_enquiry.yaml"
    _edit(person, "include: _pnc.yaml\n", 'include: _pnc.yaml\nnamespaces: {q: "urn:police:pnc:1"}\n')
    _edit(person, *WRONG_NAMESPACE)
    (tmp_path / "turnout.yaml").write_text(
        "upstream: http://127.0.0.1:1\n"
        "translators: translators\n"
        "services: {pnc: 'http://127.0.0.1:1', cris: 'http://127.0.0.1:1', "
        "geo: 'http://127.0.0.1:1', eforms: 'http://127.0.0.1:1'}\n"
        "routes:\n"
        "  /pnc VehicleEnquiry: {mode: shadow}\n"
        "  /pnc PersonEnquiry: {mode: shadow}\n"
    )
    return tmp_path


def _line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def _names_both_mistakes(output: str, root: Path) -> None:
    vehicle = root / "translators" / "pnc" / "vehicle_enquiry.yaml"
    person = root / "translators" / "pnc" / "person_enquiry.yaml"
    assert (f"{vehicle}:{_line_of(vehicle, 'pnc:registrationMrk')}: request.path_params.vrm.xpath: "
            "XPath 'pnc:registrationMrk' finds nothing in any example request") in output
    assert (f"{person}:{_line_of(person, 'q:forenames')}: request.query.forenames.xpath: "
            "XPath 'q:forenames' finds nothing in any example request") in output


def test_offline_compare_passes_the_broken_mappings(broken: Path) -> None:
    """The gap the check closes: compare replays recorded replies through the reply half only."""
    result = run("compare", str(RECORDINGS / "pnc"), "--translators", str(broken / "translators"),
                 "--rules", str(DEMO / "compare.yaml"))
    assert result.exit_code == 0, result.output
    assert "0 translator failures" in result.output


def test_routes_check_fails_on_a_wrong_xpath_and_a_wrong_namespace(broken: Path) -> None:
    result = run("routes", "check", "-c", str(broken / "turnout.yaml"), "--wait", "0")
    assert result.exit_code == 1, result.output
    _names_both_mistakes(result.output, broken)
    assert "ok:" not in result.output


def test_translators_check_names_the_field_the_xpath_and_the_example(broken: Path) -> None:
    result = run("translators", "check", str(broken / "translators"),
                 "--examples", str(RECORDINGS / "pnc"))
    assert result.exit_code == 1, result.output
    _names_both_mistakes(result.output, broken)
    assert re.search(r"examples: recording \d{8}T", result.output)
    assert re.search(r"failed: .*: 2 problems in \d+ translators", result.output)


def test_translators_check_catches_a_wrong_xpath_on_a_request_generated_from_the_wsdl(
        broken: Path) -> None:
    """No recordings: each operation's example request is generated from the WSDL's schema."""
    result = run("translators", "check", str(broken / "translators"))
    assert result.exit_code == 1, result.output
    _names_both_mistakes(result.output, broken)
    assert "generated from pnc.wsdl" in result.output


def test_routes_check_still_passes_the_demo_translators(tmp_path: Path) -> None:
    _copy_demo(tmp_path)
    config = tmp_path / "turnout.yaml"
    config.write_text(
        "upstream: http://127.0.0.1:1\ntranslators: translators\n"
        "services: {pnc: 'http://127.0.0.1:1'}\n"
        "routes:\n  /pnc VehicleEnquiry: {mode: shadow}\n  /pnc PersonEnquiry: {mode: shadow}\n"
    )
    result = run("routes", "check", "-c", str(config), "--wait", "0")
    assert result.exit_code == 0, result.output
    assert f"ok: {config}: 2 routes" in result.output


def test_the_demo_translators_pass_translators_check() -> None:
    """Every demo translator, on every golden recording and a request generated from its WSDL
    where none is recorded, request and reply halves, against turnout/demo/wsdl."""
    result = run("translators", "check", str(DEMO / "translators"), "--wsdl", str(DEMO / "wsdl"),
                 "--examples", str(RECORDINGS))
    assert result.exit_code == 0, result.output
    found = re.search(r"ok: .*: (\d+) translators, (\d+) example requests, (\d+) example replies",
                      result.output)
    assert found is not None, result.output
    translators, requests, replies = map(int, found.groups())
    assert translators >= 7 and requests >= translators and replies > 0


def test_a_reply_half_writing_an_element_the_schema_does_not_allow_is_caught(tmp_path: Path) -> None:
    """An example reply beside the scaffold-style example request: the envelope the reply half
    writes is validated against the WSDL, so an element the schema has no place for fails."""
    translators = _copy_demo(tmp_path)
    _edit(translators / "pnc" / "vehicle_enquiry.yaml", "        pnc:model: model\n",
          "        pnc:model: model\n        pnc:colour: colour\n")
    reply = {"registration": "AB12 CDE", "make": "FORD", "model": "FOCUS", "colour": "blue",
             "firstRegistered": "2019-03-01", "insured": True, "stolen": False}
    examples = tmp_path / "examples" / "pnc"
    examples.mkdir(parents=True)
    (examples / "vehicle_enquiry.reply.json").write_text(json.dumps({"status": 200, "body": reply}))

    result = run("translators", "check", str(translators))

    assert result.exit_code == 1, result.output
    [line] = [line for line in result.output.splitlines() if "does not validate" in line]
    assert line.startswith("pnc/VehicleEnquiry: the reply envelope does not validate against "
                           "pnc.wsdl: Body/VehicleEnquiryResponse:")
    assert "'{urn:police:pnc:v1}colour': This element is not expected" in line
    assert "vehicle_enquiry.reply.json to generated from pnc.wsdl" in line


def test_a_scaffold_passes_its_own_check_and_a_call_off_its_openapi_contract_fails(
        tmp_path: Path) -> None:
    """A fresh scaffold (its WSDL found through the scaffold's record, its OpenAPI beside the
    translators) passes; a mapping whose JSON call renames a query parameter or moves the path
    is held against the contract and fails, naming the parameter and the path."""
    out = tmp_path / "out"
    scaffolded = run("scaffold", str(DEMO / "wsdl" / "pnc.wsdl"), "--out", str(out),
                     "--openapi", str(out / "openapi.json"))
    assert scaffolded.exit_code == 0, scaffolded.output

    clean = run("translators", "check", str(out / "translators"))
    assert clean.exit_code == 0, clean.output
    assert re.search(r"ok: .*: 2 translators, \d+ example requests, \d+ example replies against "
                     r"1 WSDLs and 1 OpenAPI contracts", clean.output), clean.output

    _edit(out / "translators" / "pnc" / "vehicle_enquiry.yaml",
          "    registrationMark: {xpath:", "    registration: {xpath:")
    _edit(out / "translators" / "pnc" / "person_enquiry.yaml",
          "  path: /person-enquiry", "  path: /people")
    broken = run("translators", "check", str(out / "translators"))

    assert broken.exit_code == 1, broken.output
    assert ("pnc/VehicleEnquiry: the JSON call does not fit openapi.json: query parameter "
            "'registration' is not declared in openapi.json") in broken.output
    assert "required query parameter 'registrationMark' is not sent" in broken.output
    assert ("pnc/PersonEnquiry: the JSON call does not fit openapi.json: GET /people is not an "
            "operation of openapi.json") in broken.output


@pytest.mark.parametrize("wsdl", [DEMO / "wsdl" / "merlin.wsdl",
                                  ROOT / "tests" / "wsdl" / "turnout-features" / "dispatch.wsdl"],
                         ids=["merlin", "dispatch"])
def test_a_fresh_scaffold_writes_the_reply_attributes_its_schema_requires(
        tmp_path: Path, wsdl: Path) -> None:
    """MERLIN's records carry required recordType, riskLevel and score attributes; dispatch's
    `distance` is text with a required `unit` attribute (`d:Measure`). The scaffold writes them
    as `"@name"` keys from fields of the example reply, so the reply half's envelope validates."""
    out = tmp_path / "out"
    scaffolded = run("scaffold", str(wsdl), "--out", str(out))
    assert scaffolded.exit_code == 0, scaffolded.output
    checked = run("translators", "check", str(out / "translators"))
    assert "does not validate" not in checked.output, checked.output
    assert "example replies against 1 WSDLs" in checked.output
    if wsdl.stem == "merlin":
        assert checked.exit_code == 0, checked.output
        text = (out / "translators" / "merlin" / "get_record.yaml").read_text()
        assert '"@riskLevel": {json: riskLevel, unmap: riskLevel}' in text
        assert "TODO: attribute" not in text
    else:
        text = (out / "translators" / "dispatch" / "raise_incident.yaml").read_text()
        assert ('dispatch:distance: {json: distance.value, "@unit": {json: distance.unit, '
                'unmap: unit}}') in text
        reply = json.loads((out / "examples" / "dispatch" / "raise_incident.reply.json").read_text())
        assert reply["body"]["assigned"]["distance"] == {"value": 1.5, "unit": "m"}


def test_a_fan_out_translator_s_replies_are_validated_against_the_wsdl(tmp_path: Path) -> None:
    """MetSearch's reply half (`to_replies`) runs on each golden recording's three replies by
    name: a template writing an element its schema has no place for fails on those recordings.
    A reply file of several replies by name (one call timed out) runs too, and a reply the
    merge cannot read is named with what each call answered."""
    translators = _copy_demo(tmp_path)
    _edit(translators / "metsearch" / "_metsearch.yaml", "    ms:hitCount: {json: hitCount}\n",
          "    ms:hitTotal: {json: hitCount}\n")
    examples = tmp_path / "examples" / "metsearch"
    examples.mkdir(parents=True)
    (examples / "search.reply.json").write_text(json.dumps({"replies": {
        "pnc": {"status": 200, "body": {"total": 0}},
        "cris": {"unanswered": "service.timeout", "error": "no answer in 2.0 s"},
        "merlin": {"status": 200, "body": {"total": 0, "hits": []}},
    }}))

    result = run("translators", "check", str(translators), "--examples",
                 str(RECORDINGS / "metsearch"))

    assert result.exit_code == 1, result.output
    [invalid] = [line for line in result.output.splitlines() if "does not validate" in line]
    assert invalid.startswith("metsearch/Search: the reply envelope does not validate against "
                              "metsearch.wsdl: Body/SearchResponse:")
    assert "hitTotal" in invalid
    assert re.search(r"examples: recording \d{8}T.* and \d+ more\)", invalid), invalid
    assert ("metsearch/Search: the reply half failed on the replies pnc HTTP 200, cris "
            "service.timeout, merlin HTTP 200: pnc answered without 'items'") in result.output
    assert "search.reply.json to recording" in result.output
    assert "request half failed" not in result.output


def test_each_call_of_a_fan_out_translator_is_held_against_its_service_s_contract(
        tmp_path: Path) -> None:
    """A contract covering only CRIS (tagged `cris`) judges MetSearch's `cris` call, and not its
    `pnc` and `merlin` calls (which send `forenames` too): a query parameter the contract does
    not declare is named with the call's name. (The CRIS mapping translators' calls are off
    this small contract as well; only MetSearch's lines are looked at.)"""
    translators = _copy_demo(tmp_path)
    contract = {"openapi": "3.0.3", "info": {"title": "CRIS", "version": "1"}, "paths": {
        "/crimes": {"get": {"tags": ["cris"], "parameters": [
            {"name": "victimSurname", "in": "query", "required": True, "schema": {"type": "string"}},
            {"name": "victimDob", "in": "query", "schema": {"type": "string"}},
        ], "responses": {"200": {"description": "crimes"}}}}}}
    (tmp_path / "cris.openapi.json").write_text(json.dumps(contract))

    result = run("translators", "check", str(translators), "--examples",
                 str(RECORDINGS / "metsearch"))

    assert result.exit_code == 1, result.output
    problems = [line for line in result.output.splitlines()
                if line.startswith("metsearch/Search:") and "does not fit" in line]
    [problem] = problems  # only the `cris` call is covered, and only one example sends forenames
    assert problem.startswith(
        "metsearch/Search: the JSON call 'cris' does not fit cris.openapi.json: query parameter "
        "'victimForenames' is not declared in cris.openapi.json"), problem
    assert "recording 20261201T023204.792Z-4e71f018" in problem
    assert "1 OpenAPI contracts" in result.output
