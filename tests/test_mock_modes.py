"""A proxy in front of the mocks, in shadow and then translator mode: the readiness gate and the
golden tests read what it records as they read recordings made against the real demo.

Run A (real): a proxy process shadows every demo operation in front of the real demo bus and
services, and records the scenario in clear (the demo's people are fictional). Run B (mock):
`turnout mock legacy A --services-port Q` serves run A's recordings as the bus (port P) and as
the services (port Q) from one process, so a crime reference the virtual bus hands out is known
to the virtual services; a proxy process shadows every operation in front of them and records
the same scenario. Then, in run B, `turnout routes set OP translator` (the readiness gate) moves
each operation the gate lets through, and a proxy on the edited config answers the scenario
with those operations in translator mode, their translators calling the virtual services.

The golden tests never touch a bus: the plugin replays the translators offline over
recordings. What "against a mock" means for them is recordings made through a proxy in front
of the mocks, which is what run B leaves.
"""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.support.mock_process import DEMO_CONFIG, DEMO_WSDL, GOLDEN, MockProcess
from tests.support.proxy_process import ProxyProcess, free_port
from turnout.cli import main
from turnout.config import YamlEditor, load_proxy_config
from turnout.demo.config import write_demo_config
from turnout.demo.data import DemoStore
from turnout.demo.legacy import make_legacy_app
from turnout.demo.modern import make_modern_app
from turnout.demo.scenario import ScenarioCall, run_scenario
from turnout.demo.server import ServerThread
from turnout.demo.translators import DIRECTORY as TRANSLATORS
from turnout.mock import Handed
from turnout.recording import Exchange, RecordingStore
from turnout.routing import load_route_table, set_route
from turnout.setup import readiness_of
from turnout.translators import load_translators

OPERATIONS = sorted(load_translators(TRANSLATORS).operations)
CREATE, GET = "/cris CreateCrimeReport", "/cris GetCrimeReport"
#: the rules the committed golden set is checked with (docs/golden.md)
GOLDEN_RULES = [DEMO_CONFIG.parent / "compare.yaml", GOLDEN / "compare.yaml"]


@dataclass
class World:
    """One run: its config, what it recorded in shadow, what the gate said, what clients saw."""

    config: Path
    shadows: Path
    calls: list[ScenarioCall]
    #: operation -> (ready, samples, equal, translator failures, not compared)
    verdicts: dict[str, tuple[bool, int, int, int, int]]
    #: operation -> its row in `turnout status`
    status: dict[str, str]
    #: operation -> exit code of `turnout routes set OP translator` (run B only: the gate's
    #: verdicts are `verdicts`, compared between the runs; run B's config is then moved)
    gate: dict[str, int]


def _shadow_config(work: Path, bus: str, services: str) -> Path:
    config = write_demo_config(work, bus, services, work / "shadows", authenticate=False)
    for operation in OPERATIONS:
        set_route(config, operation, "shadow")
    editor = YamlEditor(config.read_text(encoding="utf-8"))
    del editor.doc["recordings"]["redaction"]  # in clear: the mock serves what was sent
    config.write_text(editor.text(), encoding="utf-8")
    return config


def _judge(config: Path, calls: list[ScenarioCall], *, gate: bool) -> World:
    """The readiness verdicts, `turnout status` and (with `gate`) the gate itself on what the
    shadow run recorded."""
    readiness = readiness_of(load_proxy_config(config), OPERATIONS)
    verdicts = {op: (r.ready, r.samples, r.equal, r.failed, r.uncompared)
                for op, r in readiness.items()}
    shown = CliRunner().invoke(main, ["status", "-c", str(config)])
    assert shown.exit_code == 0, shown.output
    status = {op: next(line for line in shown.output.splitlines() if op in line).strip()
              for op in OPERATIONS}
    gate = {op: CliRunner().invoke(main, ["routes", "set", op, "translator", "-c", str(config)]
                                   ).exit_code for op in OPERATIONS} if gate else {}
    return World(config, load_proxy_config(config).record_dir or Path(), calls, verdicts, status,
                 gate)


def _shadow_run(work: Path, bus: str, services: str) -> tuple[Path, list[ScenarioCall]]:
    config = _shadow_config(work, bus, services)
    with ProxyProcess(config, extra=["--unredacted"]) as proxy:
        calls = run_scenario(proxy.url)
    return config, calls


@dataclass
class Runs:
    real: World
    mock: World
    #: run B after the gate: the scenario through a proxy on the gated config, and its recordings
    translated_calls: list[ScenarioCall]
    translated: Path
    mock_log: str


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    work = tmp_path_factory.mktemp("modes")
    store = DemoStore()  # one store: the services work over the bus's records
    with ServerThread(make_legacy_app(store)) as bus, ServerThread(make_modern_app(store)) as services:
        config, calls = _shadow_run(work / "real", bus.url, services.url)
    real = _judge(config, calls, gate=False)
    services_port = free_port()
    with MockProcess("legacy", real.shadows,
                     ["--wsdl", str(DEMO_WSDL), "--config", str(DEMO_CONFIG),
                      "--services-port", str(services_port)], log_dir=work) as mock:
        config, calls = _shadow_run(work / "mock", mock.url, f"http://127.0.0.1:{services_port}")
        mocked = _judge(config, calls, gate=True)
        translated = work / "translated"
        with ProxyProcess(config, extra=["--unredacted", "--record", str(translated)]) as proxy:
            translated_calls = run_scenario(proxy.url)
        log = mock.log
    return Runs(real, mocked, translated_calls, translated, log)


def _outcomes(calls: list[ScenarioCall]) -> list[tuple[object, ...]]:
    return [(c.operation, c.label, c.ok, c.fault_code, c.error_code) for c in calls]


def _exchanges(directory: Path, key: str) -> list[Exchange]:
    found = [e for e in RecordingStore(directory).iter_exchanges()
             if e.operation is not None and e.operation.key == key]
    return sorted(found, key=lambda e: (e.started_at, e.id))


def _references(directory: Path, key: str, field: bytes) -> list[str]:
    out = []
    for exchange in _exchanges(directory, key):
        body = exchange.response.body if exchange.response is not None else b""
        out += [m.decode() for m in re.findall(rb"<[\w:]*" + field + rb">([^<]+)<", body)]
    return out


def test_the_readiness_gate_and_status_say_the_same_on_shadows_recorded_through_the_mocks(
        runs: Runs) -> None:
    assert all(call.as_expected for call in runs.real.calls)
    assert _outcomes(runs.mock.calls) == _outcomes(runs.real.calls), runs.mock_log
    assert runs.mock.verdicts == runs.real.verdicts, runs.mock_log
    assert runs.mock.status == runs.real.status
    ready = {op for op, (is_ready, *_) in runs.real.verdicts.items() if is_ready}
    assert ready and ready != set(OPERATIONS)  # the gate lets some through and refuses others
    assert {op for op, code in runs.mock.gate.items() if code == 0} == ready
    assert GET in ready and CREATE not in ready
    # the shadows were the mock's: the bus handed out fresh references, and the read-backs of
    # the new crimes asked for those and were answered (and translated) with them
    created = _references(runs.mock.shadows, CREATE, b"crimeReference")
    assert created and not set(created) & set(_references(runs.real.shadows, CREATE, b"crimeReference"))
    read_back = [e for e in _exchanges(runs.mock.shadows, GET)
                 if any(ref.encode() in e.request.body for ref in created)]
    assert len(read_back) == len(created)
    assert all((e.translation or {}).get("equal") is True for e in read_back)


def test_what_the_gate_let_through_is_answered_in_translator_mode_by_the_mock_services(
        runs: Runs) -> None:
    routes = load_route_table(runs.mock.config)
    moved = {op for op in OPERATIONS if routes.route_for(op).mode == "translator"}
    assert moved == {op for op, code in runs.mock.gate.items() if code == 0}
    assert _outcomes(runs.translated_calls) == _outcomes(runs.real.calls), runs.mock_log
    by_route: dict[str, set[str]] = {}
    for exchange in RecordingStore(runs.translated).iter_exchanges():
        assert exchange.operation is not None
        by_route.setdefault(exchange.route, set()).add(exchange.operation.key)
        if exchange.route == "translator":  # answered by the translator, from the services
            assert exchange.translated is not None, exchange.id
    assert by_route["translator"] == moved
    # a crime the virtual bus created (a write stays in shadow) is read back through the
    # translator from the virtual services, by the reference the bus handed out
    created = _references(runs.translated, CREATE, b"crimeReference")
    read_back = [e for e in _exchanges(runs.translated, GET)
                 if any(ref.encode() in e.request.body for ref in created)]
    assert created and len(read_back) == len(created)
    for exchange in read_back:
        assert exchange.route == "translator" and exchange.translated is not None
        sent = re.search(rb"crimeReference>([^<]+)<", exchange.request.body)
        assert sent is not None and sent.group(1) in exchange.translated.body


def _golden_results(directories: dict[str, Path], work: Path) -> dict[str, dict[str, int]]:
    """One `pytest` run with the Turnout plugin over the directories, as docs/golden.md runs
    the committed set: per directory, outcome -> count."""
    (work / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")  # not the repository's ini
    report = work / "junit.xml"
    rules = [arg for path in GOLDEN_RULES for arg in ("--turnout-compare-rules", str(path))]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-c", str(work / "pytest.ini"),
         "--rootdir", str(work), "--turnout-config", str(DEMO_CONFIG), *rules,
         "--junitxml", str(report), *(str(d) for d in directories.values())],
        capture_output=True, text=True, timeout=120, cwd=work)
    assert done.returncode in (0, 1), done.stdout + done.stderr
    where = {e.id: name for name, directory in directories.items()
             for e in RecordingStore(directory).iter_exchanges()}
    counts = {name: {"passed": 0, "failed": 0, "skipped": 0} for name in directories}
    for case in ElementTree.parse(report).getroot().iter("testcase"):
        outcome = next((child.tag for child in case if child.tag in ("failure", "error", "skipped")),
                       "passed")
        name = where[case.get("name", "").rsplit(" ", 1)[-1]]
        counts[name][{"failure": "failed", "error": "failed"}.get(outcome, outcome)] += 1
    return counts


def test_the_golden_tests_pass_over_recordings_made_through_the_mocks_as_over_the_real_ones(
        runs: Runs, tmp_path: Path) -> None:
    results = _golden_results({"real": runs.real.shadows, "mock": runs.mock.shadows}, tmp_path)
    assert results["real"]["failed"] == 0 and results["real"]["passed"] >= 40, results
    assert results["mock"] == results["real"]


def test_a_handed_out_value_is_known_in_other_punctuation_whole_and_in_a_path() -> None:
    handed = Handed()
    handed.remember("CR/2026/482913", "CR/2026/000104")
    stood_for: dict[str, str] = {}
    assert handed.put_back("CR-2026-482913", stood_for) == "CR-2026-000104"
    assert stood_for == {"CR-2026-000104": "CR-2026-482913", "CR/2026/000104": "CR/2026/482913"}
    assert handed.put_back_in_path("/crimes/CR-2026-482913", {}) == "/crimes/CR-2026-000104"
    assert handed.put_back_in_path("/crimes/CR/2026/482913/notes", {}) == "/crimes/CR/2026/000104/notes"
    # only whole values: a part of one, or other letters and digits, is left alone
    assert handed.put_back("see CR-2026-482913", {}) == "see CR-2026-482913"
    assert handed.put_back("CR-2026-482914", {}) == "CR-2026-482914"
    assert handed.put_back_in_path("/crimes/CR-2026-4829130", {}) == "/crimes/CR-2026-4829130"
