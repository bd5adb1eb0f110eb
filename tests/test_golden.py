"""Golden tests: the pytest plugin turns shadow recordings into test cases of their translators.

One golden set is recorded for the module from the real demo stack (every operation in shadow),
without redaction so the checks do not depend on how personal data is disguised. Each test
runs the plugin in a pytester sub-session over its own copy of that set.
"""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest
from lxml import etree

from turnout.compare import (
    ABSENT,
    CallDifference,
    Rules,
    call_differences,
    check_golden,
    load_rules,
    merge_rule_tables,
    rules_for,
)
from turnout.config import load_proxy_config
from turnout.demo.config import DEMO_CONFIG
from turnout.demo.golden import RULES_FILE, GoldenSetError, existing_recordings, record_golden
from turnout.recording import RecordingStore, dumps, loads, read_exchange
from turnout.translators import load_translators

pytest_plugins = ["pytester"]

DEMO = load_proxy_config(DEMO_CONFIG)
assert DEMO.translators_dir is not None and DEMO.compare_rules is not None
PNC = "{urn:police:pnc:v1}"


@pytest.fixture(autouse=True)
def _only_our_plugin(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sub-sessions load no installed plugins (half a second each), only ours, by name."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


PLUGIN = ("-p", "turnout.pytest_plugin", "-p", "no:cacheprovider")


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return record_golden(tmp_path_factory.mktemp("golden") / "recordings", redact=False)


@pytest.fixture
def golden(recorded: Path, pytester: pytest.Pytester) -> Path:
    """This test's own copy of the module's golden set, in the sub-session's directory."""
    return Path(shutil.copytree(recorded, pytester.path / "recordings"))


@pytest.fixture
def translators(tmp_path: Path) -> Path:
    """A copy of the demo's translators, for a test to break."""
    assert DEMO.translators_dir is not None
    return Path(shutil.copytree(DEMO.translators_dir, tmp_path / "translators"))


def _run(pytester: pytest.Pytester, golden: Path, translators: Path | None = None,
         *extra: str) -> pytest.RunResult:
    # an ini of its own, so the sub-session does not pick up this repository's pytest settings
    ini = pytester.makeini("[pytest]\n")
    args = [*PLUGIN, "-rs", "-c", str(ini)]
    args += ["--turnout-config", str(DEMO_CONFIG)]
    if translators is not None:
        args += ["--turnout-translators", str(translators)]
    args += ["--turnout-compare-rules", str(DEMO.compare_rules)]
    args += ["--turnout-compare-rules", str(golden / RULES_FILE)]
    return pytester.runpytest(*args, *extra, str(golden))


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} not once in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def _files(golden: Path, operation: str) -> list[Path]:
    service, name = operation.split()
    return sorted((golden / service.strip("/") / name).glob("*.yaml"))


# --- the set and its collection ------------------------------------------------------------


def test_record_golden_shadows_every_operation_and_carries_its_rules(recorded: Path) -> None:
    exchanges = list(RecordingStore(recorded).iter_exchanges())
    operations = {e.operation.key for e in exchanges if e.operation is not None}
    assert operations == set(load_translators(DEMO.translators_dir).operations)
    assert all(e.route == "shadow" and e.translation for e in exchanges)
    writes = [e for e in exchanges if e.translation.get("dry_run")]
    assert {e.operation.key for e in writes if e.operation} == {
        "/cris CreateCrimeReport", "/eforms SubmitWitnessStatement", "/merlin CreateRecord",
    }
    assert all(e.translation["call"]["path"].endswith("/validate") for e in writes
               if "call" in e.translation)
    assert (recorded / RULES_FILE).is_file()
    with pytest.raises(GoldenSetError, match="already holds"):
        record_golden(recorded, redact=False)


def test_plugin_collects_one_item_per_recording_and_a_fresh_set_passes(
    pytester: pytest.Pytester, golden: Path
) -> None:
    count = len(existing_recordings(golden))
    result = _run(pytester, golden, None, "--collect-only", "-q")
    items = [line for line in result.outlines if "::" in line]
    assert len(items) == count
    assert any("::/pnc PersonEnquiry 2" in line for line in items)

    _run(pytester, golden).assert_outcomes(passed=count)


def test_ini_options_name_the_golden_set(pytester: pytest.Pytester, golden: Path) -> None:
    pytester.makeini(  # paths relative to the ini file
        "[pytest]\n"
        f"turnout_config = {DEMO_CONFIG}\n"
        f"turnout_compare_rules = {DEMO.compare_rules} recordings/{RULES_FILE}\n"
        "turnout_golden = recordings/pnc\n"
    )
    pnc = len(existing_recordings(golden / "pnc"))
    # the whole set is visited, only the golden directory's recordings are collected
    pytester.runpytest(*PLUGIN, str(golden)).assert_outcomes(passed=pnc)


def test_without_configuration_the_plugin_collects_nothing(
    pytester: pytest.Pytester, golden: Path
) -> None:
    result = pytester.runpytest(*PLUGIN, str(golden))
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_a_plain_legacy_recording_is_skipped_with_its_reason(
    pytester: pytest.Pytester, golden: Path
) -> None:
    path = _files(golden, "/geo ResolveLocation")[0]
    exchange = read_exchange(path)
    exchange.route, exchange.translation, exchange.translated = "legacy", {}, None
    path.write_text(dumps(exchange), encoding="utf-8")

    result = _run(pytester, golden)
    result.assert_outcomes(passed=len(existing_recordings(golden)) - 1, skipped=1)
    result.stdout.fnmatch_lines(["*not a golden case: no translation recorded (legacy route)*"])


def test_an_unreadable_recording_is_a_collection_error_naming_file_and_line(
    pytester: pytest.Pytester, golden: Path
) -> None:
    path = _files(golden, "/geo ResolveLocation")[0]
    path.write_text(path.read_text(encoding="utf-8").replace("route: shadow", "route: [shadow]"),
                    encoding="utf-8")
    result = _run(pytester, golden)
    assert result.parseoutcomes()["errors"] == 1
    result.stdout.fnmatch_lines([f"*not a readable recording: {path}:*: route: expected a string*"])


# --- a deliberate change: failing, readable, then accepted ---------------------------------


def test_a_broken_date_format_fails_its_items_with_path_and_both_values(
    pytester: pytest.Pytester, golden: Path, translators: Path
) -> None:
    _edit(translators / "pnc" / "vehicle_enquiry.yaml",
          'pnc:firstRegistered: {json: firstRegistered, date: {from: iso, to: "%d/%m/%Y"}}',
          'pnc:firstRegistered: {json: firstRegistered, date: {from: iso, to: "%Y-%m-%d"}}')
    affected = {}
    for path in _files(golden, "/pnc VehicleEnquiry"):
        root = etree.fromstring(read_exchange(path).response.body)  # type: ignore[union-attr]
        found = root.find(f".//{PNC}firstRegistered")
        if found is not None:
            affected[path] = found.text
    assert affected

    result = _run(pytester, golden, translators)

    result.assert_outcomes(failed=len(affected),
                           passed=len(existing_recordings(golden)) - len(affected))
    output = result.stdout.str()
    for legacy in affected.values():
        new = datetime.strptime(legacy, "%d/%m/%Y").strftime("%Y-%m-%d")
        assert f'legacy:   "{legacy}"' in output and f'new:      "{new}"' in output
    assert "/soap:Envelope/soap:Body/pnc:VehicleEnquiryResponse/pnc:vehicle/pnc:firstRegistered" in output
    assert "<Element" not in output and "Traceback" not in output


def test_update_accepts_the_new_envelope_and_changes_only_the_expected_side(
    pytester: pytest.Pytester, golden: Path, translators: Path
) -> None:
    _edit(translators / "pnc" / "_pnc.yaml", 'sex: {"M": male, "F": female, "U": unknown}',
          'sex: {"MALE": male, "F": female, "U": unknown}')
    before = {path: path.read_text(encoding="utf-8") for path in existing_recordings(golden)}
    failing = _run(pytester, golden, translators).parseoutcomes()["failed"]
    assert failing > 0
    assert {p: p.read_text(encoding="utf-8") for p in before} == before  # no update, no write

    updating = _run(pytester, golden, translators, "--turnout-update")
    updating.assert_outcomes(passed=len(before))
    updating.stdout.fnmatch_lines([f"*turnout: {failing} golden recordings updated*"])
    _run(pytester, golden, translators).assert_outcomes(passed=len(before))

    changed = [p for p in before if p.read_text(encoding="utf-8") != before[p]]
    assert len(changed) == failing
    for path in changed:
        old = loads(before[path], source=str(path))
        new = read_exchange(path)
        assert new.translation.pop("golden") == "translated"
        assert new.translation == old.translation  # the call did not change, nor the reply
        assert b">MALE<" in new.translated.body and b">MALE<" not in old.translated.body  # type: ignore[union-attr]
        old.translated = new.translated
        assert dumps(new).replace("  golden: translated\n", "") == dumps(old)


def test_update_rewrites_a_changed_call_field_by_field(
    pytester: pytest.Pytester, golden: Path, translators: Path
) -> None:
    _edit(translators / "cris" / "create_crime_report.yaml",
          'date: {from: "%H%M", to: "%H:%M"}', 'date: {from: "%H%M", to: "%H.%M"}')
    result = _run(pytester, golden, translators)
    output = result.stdout.str()
    assert "request half: the JSON call differs from the recorded one" in output
    assert "body.committed.time" in output
    assert 'recorded: "22:15"' in output and 'now:      "22.15"' in output

    before = {p: read_exchange(p) for p in _files(golden, "/cris CreateCrimeReport")}
    _run(pytester, golden, translators, "--turnout-update").assert_outcomes(
        passed=len(existing_recordings(golden)))
    for path, old in before.items():
        new = read_exchange(path)
        assert "golden" not in new.translation  # the response half still answers as the bus
        if "call" not in old.translation or "time" not in old.translation["call"]["body"]["committed"]:
            assert dumps(new) == dumps(old)
            continue
        time = old.translation["call"]["body"]["committed"]["time"]
        old.translation["call"]["body"]["committed"]["time"] = time.replace(":", ".")
        assert dumps(new) == dumps(old)


# --- the pure parts ------------------------------------------------------------------------


def test_json_call_values_compare_exactly_by_type() -> None:
    recorded = {"method": "GET", "query": {"page": "1"}, "body": {"n": 1, "flag": True, "xs": [1]}}
    produced = {"method": "GET", "query": {"page": 1}, "body": {"n": 1.0, "flag": 1, "xs": [1, 2]}}
    assert call_differences(recorded, produced) == [
        CallDifference("query.page", "1", 1),
        CallDifference("body.n", 1, 1.0),
        CallDifference("body.flag", True, 1),
        CallDifference("body.xs[1]", ABSENT, 2),
    ]


def test_rule_tables_merge_per_operation_in_order(recorded: Path) -> None:
    assert DEMO.compare_rules is not None
    demo, extra = load_rules(DEMO.compare_rules), load_rules(recorded / RULES_FILE)
    merged = merge_rule_tables(demo, extra)
    create = rules_for(merged, "/cris CreateCrimeReport")
    assert len(create.ignore) == len(demo["default"].ignore) + 1
    assert rules_for(merged, "/pnc PersonEnquiry") == rules_for(demo, "/pnc PersonEnquiry")
    assert merge_rule_tables()["default"] == Rules()


def test_checks_are_deterministic_and_name_the_operation(recorded: Path) -> None:
    assert DEMO.translators_dir is not None and DEMO.compare_rules is not None
    translators = load_translators(DEMO.translators_dir)
    rules = merge_rule_tables(load_rules(DEMO.compare_rules), load_rules(recorded / RULES_FILE))
    exchange = next(RecordingStore(recorded).iter_exchanges())
    first, second = (check_golden(exchange, translators, rules) for _ in range(2))
    assert first.passed and first.produced_reply == second.produced_reply
    assert first.operation == exchange.operation.key  # type: ignore[union-attr]
