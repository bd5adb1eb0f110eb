"""One source of evidence: `turnout status`, the readiness gate and `turnout compare` find the
same recordings the same way, judge each shadow by one function, and agree count for count.

The shadows are built from a golden VehicleEnquiry recording of the demo (its request, JSON
call and reply, translated answer and the bus's answer), varied into each kind of evidence:

- equal: as recorded;
- different: the bus answered another colour code than the translator makes of the reply;
- translator failed: the service timed out, so there is no reply and no translated answer;
- not comparable: the bus's answer came gzip-compressed and broken, so the store could not
  decode it and kept only its length and hash.

The proxy had recorded its own verdict on each (`translation.equal`); the old gate counted
those, compare recomputed them, and the two disagreed on failures and compressed answers.
"""

from __future__ import annotations

import dataclasses
import json
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML

from turnout.cli import main
from turnout.compare import (
    FAILED,
    MATCHED,
    DIFFERED,
    NOT_COMPARED,
    RecordedAnswers,
    TranslatorAnswers,
    judge_exchange,
    load_rules,
    verdict_of,
)
from turnout.config import load_proxy_config
from turnout.demo.config import write_demo_config
from turnout.evidence import CONFIG, GIVEN, RUNNING_PROXY, find_recordings
from turnout.recording import Exchange, RecordingStore, read_exchange
from turnout.setup import readiness_of
from turnout.soap import HttpResponse
from turnout.translators import load_translators

from .support.bus import Reply, ScriptedBus
from .support.proxy_process import ProxyProcess, free_port

OP = "/pnc VehicleEnquiry"
GOLDEN = Path(__file__).resolve().parents[1] / "recordings" / "pnc" / "VehicleEnquiry"
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)


def template() -> Exchange:
    return read_exchange(sorted(GOLDEN.glob("*.yaml"))[0])


def _at(n: int) -> dict[str, Any]:
    return {"id": "", "started_at": T0 + timedelta(seconds=n)}


def _translation(base: Exchange, version: str | None, **changes: Any) -> dict[str, Any]:
    translation = {**base.translation, **changes}
    if version is not None:
        translation["translator_version"] = version
    return {k: v for k, v in translation.items() if v is not None}


def equal(n: int, version: str | None = None) -> Exchange:
    base = template()
    return dataclasses.replace(base, **_at(n), translation=_translation(base, version))


def different(n: int, version: str | None = None) -> Exchange:
    """The bus said BLK; the translator makes BLU of the service's `blue`."""
    base = template()
    assert base.response is not None and b"<pnc:colourCode>BLU<" in base.response.body
    legacy = dataclasses.replace(
        base.response, body=base.response.body.replace(b"<pnc:colourCode>BLU<", b"<pnc:colourCode>BLK<"))
    diff = [{"path": "/soap:Envelope/soap:Body/pnc:VehicleEnquiryResponse/pnc:vehicle/pnc:colourCode",
             "kind": "changed", "legacy": "BLK", "new": "BLU"}]
    return dataclasses.replace(base, **_at(n), response=legacy,
                               translation=_translation(base, version, equal=False, diff=diff))


def failed(n: int, version: str | None = None) -> Exchange:
    """The service did not answer in time: no reply, no translated answer, no verdict."""
    base = template()
    translation = _translation(base, version, kind="service.timeout", reply=None, equal=None,
                               diff=None, error="pnc did not answer within 5 s")
    return dataclasses.replace(base, **_at(n), translated=None, translation=translation,
                               notes=["shadow:service.timeout"])


def compressed(n: int, version: str | None = None) -> Exchange:
    """A gzip answer that does not decode: the store keeps neither it nor a readable text.
    The proxy had diffed the bytes it could not read, and said "not equal"."""
    base = template()
    assert base.response is not None
    broken = HttpResponse(200, [("Content-Type", "text/xml; charset=utf-8"),
                                ("Content-Encoding", "gzip")], b"\x1f\x8b\x08\x00broken", "OK")
    diff = [{"path": "/", "kind": "unreadable", "legacy": None, "new": "not XML"}]
    return dataclasses.replace(base, **_at(n), response=broken,
                               translation=_translation(base, version, equal=False, diff=diff))


def write_all(directory: Path, exchanges: list[Exchange]) -> None:
    store = RecordingStore(directory)
    for exchange in exchanges:
        store.write(exchange)


def demo_config(tmp_path: Path, recordings: Path, **readiness: Any) -> Path:
    config = write_demo_config(tmp_path / "config", "http://127.0.0.1:1", "http://127.0.0.1:2",
                               recordings)
    if readiness:
        yaml = YAML(typ="rt")
        doc = yaml.load(config.read_text())
        doc["readiness"].update(readiness)
        with config.open("w") as handle:
            yaml.dump(doc, handle)
    return config  # the demo's bar: 100% over at least 5


def status(config: Path, *extra: str) -> str:
    result = CliRunner().invoke(main, ["status", "-c", str(config), *extra])
    assert result.exit_code == 0, result.output
    return result.output


def set_translator(config: Path) -> Any:
    return CliRunner().invoke(main, ["routes", "set", OP, "translator", "-c", str(config)])


def compare_report(directory: Path, config: Path, tmp_path: Path, *extra: str) -> dict[str, Any]:
    reports = tmp_path / "reports"
    args = ["compare", *([str(directory)] if directory else []), "-c", str(config),
            "--report-dir", str(reports), *extra]
    result = CliRunner().invoke(main, args)
    assert result.exit_code in (0, 1), result.output
    data = json.loads((reports / "parity.json").read_text())
    [operation] = [op for op in data["operations"] if op["operation"] == OP]
    operation["_output"] = result.output
    operation["_samples"] = [s for s in data["samples"] if s["operation"] == OP]
    return operation


# -- the same counts everywhere --------------------------------------------------------------


def test_each_kind_of_shadow_is_judged_once_the_same_way(tmp_path: Path) -> None:
    """As stored: the store keeps the broken gzip answer's length and hash, not its bytes.
    Judged offline (the translator's response half again) or on the translated answers as
    recorded, each kind comes out the same."""
    demo = load_proxy_config(Path(__file__).resolve().parents[1] / "turnout" / "demo" / "turnout.yaml")
    assert demo.translators_dir is not None and demo.compare_rules is not None
    rules = load_rules(demo.compare_rules)
    write_all(tmp_path, [make(n) for n, make in enumerate((equal, different, failed, compressed))])
    stored = list(RecordingStore(tmp_path).iter_exchanges())
    assert "response" in stored[3].omitted_bodies
    offline = TranslatorAnswers(load_translators(demo.translators_dir))
    for source in (offline, RecordedAnswers()):
        verdicts = [verdict_of(judge_exchange(exchange, source, rules)) for exchange in stored]
        assert verdicts == [MATCHED, DIFFERED, FAILED, NOT_COMPARED], source


def test_status_gate_and_compare_agree_on_every_count(tmp_path: Path) -> None:
    """3 equal, 1 different, 1 translator failure, 2 answers that could not be compared: five
    samples (a failure is a sample that is not equal), 60%, two not compared, in all three.

    Before: the gate and status counted the proxy's verdicts (3 of 6: 50%: the broken gzip
    answers counted as differences, the failure not at all); compare said 75% of 4."""
    recordings = tmp_path / "rec"
    write_all(recordings, [equal(1), equal(2), different(3), failed(4), compressed(5),
                           equal(6), compressed(7)])
    config = demo_config(tmp_path, recordings)

    gate = readiness_of(load_proxy_config(config), [OP])[OP]
    assert (gate.samples, gate.equal, gate.different, gate.failed, gate.uncompared) == (5, 3, 2, 1, 2)
    assert gate.parity == 60.0 and not gate.ready
    refused = set_translator(config)
    assert refused.exit_code == 1
    assert "shadow parity 60.0% over 5" in refused.output
    assert "3 equal, 2 different (1 translator failure), 2 not compared" in refused.output

    shown = status(config)
    row = next(line for line in shown.splitlines() if line.startswith("│ " + OP))
    assert "60.0% of 5" in row
    assert f"{OP}: 3 equal, 2 different (1 translator failure), 2 not compared" in shown

    compared = compare_report(recordings, config, tmp_path)
    assert (compared["samples"], compared["identical"] + compared["equal_under_rules"],
            compared["different"], compared["not_compared"], compared["parity"]) == (5, 3, 2, 2, 60.0)
    assert sum(1 for s in compared["_samples"] if s.get("error")) == 1


def test_the_gate_counts_only_shadows_of_the_current_translator_version(tmp_path: Path) -> None:
    """Six shadows of a translator that got a colour wrong, then five of its fixed version.
    The gate and status count the five; before, the six old ones kept it at 45% for ever."""
    recordings = tmp_path / "rec"
    write_all(recordings, [different(n, "v1-aaaaaaaa") for n in range(6)]
              + [equal(10 + n, "v2-bbbbbbbb") for n in range(5)])
    config = demo_config(tmp_path, recordings)

    gate = readiness_of(load_proxy_config(config), [OP])[OP]
    assert (gate.samples, gate.equal, gate.parity, gate.ready) == (5, 5, 100.0, True)
    assert gate.window is not None and (gate.window.shadows, gate.window.selected) == (11, 5)
    assert "translator version v2-bbbbbbbb: 5 of 11 shadows (6 of an older translator not counted)" \
        in status(config)
    allowed = set_translator(config)
    assert allowed.exit_code == 0, allowed.output


def test_recordings_without_a_version_are_one_old_version(tmp_path: Path) -> None:
    recordings = tmp_path / "rec"
    write_all(recordings, [different(n) for n in range(3)] + [equal(10 + n, "v1") for n in range(5)])
    gate = readiness_of(load_proxy_config(demo_config(tmp_path, recordings)), [OP])[OP]
    assert (gate.samples, gate.parity) == (5, 100.0)
    # and a proxy that has not written versions yet: every shadow is of that one version
    older = tmp_path / "older"
    write_all(older, [different(n) for n in range(3)] + [equal(10 + n) for n in range(5)])
    gate = readiness_of(load_proxy_config(demo_config(tmp_path / "o", older)), [OP])[OP]
    assert (gate.samples, gate.equal) == (8, 5)


def test_a_window_of_the_last_n_shadows(tmp_path: Path) -> None:
    recordings = tmp_path / "rec"
    write_all(recordings, [different(n, "v1") for n in range(6)] + [equal(10 + n, "v2") for n in range(5)])
    config = demo_config(tmp_path, recordings, window=8)
    gate = readiness_of(load_proxy_config(config), [OP])[OP]
    assert (gate.samples, gate.equal) == (8, 5)
    assert "the last 8 shadows (8 of 11)" in status(config)


def test_a_bad_window_is_refused_with_file_line_and_field(tmp_path: Path) -> None:
    config = demo_config(tmp_path, tmp_path / "rec", window="lately")
    from turnout.config import ConfigError

    with pytest.raises(ConfigError, match=r"readiness\.window: must be version or a number"):
        load_proxy_config(config)
    assert load_proxy_config(demo_config(tmp_path / "v", tmp_path / "rec", window="version")
                             ).readiness_window is None


# -- where the recordings are ----------------------------------------------------------------


def test_an_explicit_dir_comes_first_then_the_config(tmp_path: Path) -> None:
    configured, given = tmp_path / "configured", tmp_path / "given"
    write_all(configured, [equal(n) for n in range(2)])
    write_all(given, [equal(n) for n in range(5)])
    config = demo_config(tmp_path, configured)
    loaded = load_proxy_config(config)
    assert find_recordings(loaded).origin == CONFIG
    assert find_recordings(loaded, given).origin == GIVEN
    assert readiness_of(loaded, [OP], given)[OP].samples == 5
    assert "100.0% of 5" in status(config, "--dir", str(given))
    assert "100.0% of 2" in status(config)


@pytest.fixture
def recording_proxy(tmp_path: Path) -> Iterator[tuple[ProxyProcess, Path, Path]]:
    """`turnout proxy --config turnout.yaml --record DIR`, as the README says to start it:
    the config names no recording directory, and has an admin port."""
    recordings = tmp_path / "recorded-here"
    with ScriptedBus() as bus:
        bus.reply = Reply(body=template().response.body)  # type: ignore[union-attr]
        config = tmp_path / "turnout.yaml"
        config.write_text(
            f"upstream: {bus.url}\n"
            f"admin: {{port: {free_port()}}}\n"
            f"routes:\n  {OP}: {{mode: legacy}}\n"
        )
        with ProxyProcess(config, extra=["--record", str(recordings), "--unredacted"]) as proxy:
            yield proxy, config, recordings


def test_status_and_compare_find_the_recordings_of_a_proxy_started_with_record(
    recording_proxy: tuple[ProxyProcess, Path, Path], tmp_path: Path,
) -> None:
    proxy, config, recordings = recording_proxy
    request = template().request
    status_code, _, _ = proxy.request("POST", "/pnc", request.body,
                                      {"Content-Type": "text/xml; charset=utf-8",
                                       "SOAPAction": '"urn:police:pnc:v1#VehicleEnquiry"'})
    assert status_code == 200
    deadline = time.monotonic() + 10
    while not list(recordings.rglob("*.yaml")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(recordings.rglob("*.yaml")), proxy.log

    loaded = load_proxy_config(config)
    found = find_recordings(loaded)
    assert found.origin == RUNNING_PROXY and found.path == recordings.resolve()

    shown = status(config)
    assert f"recordings: {recordings.resolve()} (where the running proxy at" in shown
    row = next(line for line in shown.splitlines() if line.startswith("│ " + OP))
    assert "legacy×1" in row

    result = CliRunner().invoke(main, ["compare", "-c", str(config), "--translators",
                                       str(tmp_path)])
    assert f"recordings: {recordings.resolve()} (where the running proxy at" in result.output
    assert "no such directory" not in result.output
