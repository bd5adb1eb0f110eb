"""`turnout mock services`: a translator's shadow parity against the virtual services equals its
parity against the real demo services, on the same recordings.

Run A: a real proxy process shadows every demo operation, calling the real demo services, and
records the scenario in clear (the demo's people are fictional). Run B: the same, against a
fresh demo bus, with the services replaced by `turnout mock services` serving run A's
recordings. Parity per operation is what the proxy measured in each run (`translation.equal`).

Both runs' demo stores read one clock, stopped when the test starts: a record the bus creates
during a run is stamped with the store's clock (MERLIN's `reportedAt`), and run B's bus must
stamp what run A's services answered for it, or the mock would be blamed for the seconds
between the two runs (it replays run A's answers; it cannot know what time run B's bus wrote).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from tests.support.mock_process import MockProcess
from tests.support.proxy_process import ProxyProcess
from turnout.config import YamlEditor
from turnout.demo.config import write_demo_config
from turnout.demo.data import DemoStore
from turnout.demo.legacy import make_legacy_app
from turnout.demo.modern import make_modern_app
from turnout.demo.scenario import run_scenario
from turnout.demo.server import ServerThread
from turnout.demo.translators import DIRECTORY as TRANSLATORS
from turnout.recording import RecordingStore
from turnout.routing import set_route
from turnout.translators import load_translators


def _shadow_config(work: Path, bus_url: str, services_url: str, record_dir: Path) -> Path:
    config = write_demo_config(work, bus_url, services_url, record_dir, authenticate=False)
    for operation in sorted(load_translators(TRANSLATORS).operations):
        set_route(config, operation, "shadow")
    editor = YamlEditor(config.read_text(encoding="utf-8"))
    del editor.doc["recordings"]["redaction"]  # in clear: the mock serves what was sent
    config.write_text(editor.text(), encoding="utf-8")
    return config


def _parity(record_dir: Path) -> dict[str, tuple[int, int]]:
    """Per operation: (shadowed answers equal under the rules, shadowed answers)."""
    equal: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for exchange in RecordingStore(record_dir).iter_exchanges():
        translation = exchange.translation or {}
        if exchange.operation is None or "equal" not in translation:
            continue
        total[exchange.operation.key] += 1
        equal[exchange.operation.key] += bool(translation["equal"])
    return {key: (equal[key], total[key]) for key in sorted(total)}


def _shadow_run(work: Path, services_url: str | None, store: DemoStore, record_dir: Path) -> int:
    with ServerThread(make_legacy_app(store)) as bus, \
            ServerThread(make_modern_app(store)) as services:
        config = _shadow_config(work, bus.url, services_url or services.url, record_dir)
        with ProxyProcess(config, extra=["--unredacted"]) as proxy:
            calls = run_scenario(proxy.url)
    return len(calls)


def test_shadow_parity_against_the_mock_services_equals_parity_against_the_real_ones(
        tmp_path: Path) -> None:
    real_dir, mocked_dir = tmp_path / "real", tmp_path / "mocked"
    stopped = datetime.now(UTC).replace(microsecond=0)
    calls = _shadow_run(tmp_path / "a", None, DemoStore(clock=lambda: stopped), real_dir)
    real = _parity(real_dir)
    assert sum(total for _, total in real.values()) == calls
    with MockProcess("services", real_dir, log_dir=tmp_path) as services:
        _shadow_run(tmp_path / "b", services.url, DemoStore(clock=lambda: stopped), mocked_dir)
        log = services.log
    mocked = _parity(mocked_dir)
    assert mocked == real, log
    assert any(equal < total for equal, total in real.values())  # not trivially all equal


def test_an_unrecorded_call_gets_a_problem_naming_the_nearest(tmp_path: Path) -> None:
    store = DemoStore()
    _shadow_run(tmp_path / "a", None, store, tmp_path / "rec")
    with MockProcess("services", tmp_path / "rec", log_dir=tmp_path) as services:
        request = urllib.request.Request(f"{services.url}/crimes/CR-2026-424242")
        try:
            urllib.request.urlopen(request, timeout=10)
            raise AssertionError("an unrecorded read was answered")
        except urllib.error.HTTPError as error:
            assert error.code == 500
            problem = json.loads(error.read())
    assert problem["type"] == "urn:turnout:mock:no-match"
    assert "GET /crimes/CR-2026-424242" in problem["title"]
