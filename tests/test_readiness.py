"""The readiness gate: an operation moves to its translator only on recorded shadow evidence."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from turnout.cli import main
from turnout.demo.config import write_demo_config
from turnout.recording import RecordingStore
from turnout.routing import load_route_table

from .test_evidence import different, equal

OP = "/pnc VehicleEnquiry"


def shadowed(store: RecordingStore, equals: int, differents: int) -> None:
    """Shadows of the demo's VehicleEnquiry, judged as `turnout compare` judges them: equal,
    or different where the bus answered another colour code than the translator makes."""
    for n in range(equals):
        store.write(equal(n))
    for n in range(differents):
        store.write(different(100 + n))


def config_with(tmp_path: Path, equal: int, different: int) -> Path:
    config = write_demo_config(tmp_path, "http://127.0.0.1:1", "http://127.0.0.1:2", tmp_path / "rec")
    shadowed(RecordingStore(tmp_path / "rec"), equal, different)
    return config  # the demo's bar: 100% over at least 5


def set_translator(config: Path, *extra: str):
    return CliRunner().invoke(main, ["routes", "set", OP, "translator", "-c", str(config), *extra])


def test_refused_with_too_few_samples_and_says_what_is_missing(tmp_path: Path) -> None:
    config = config_with(tmp_path, equal=3, different=0)
    before = config.read_text()
    result = set_translator(config)
    assert result.exit_code == 1
    assert "not ready for translator" in result.output and "2 more shadowed requests" in result.output
    assert config.read_text() == before


def test_refused_below_parity_and_names_the_differing_path(tmp_path: Path) -> None:
    config = config_with(tmp_path, equal=9, different=1)
    result = set_translator(config)
    assert result.exit_code == 1
    assert "parity 90.0% is below 100%" in result.output
    assert "pnc:colourCode" in result.output


def test_allowed_when_ready(tmp_path: Path) -> None:
    config = config_with(tmp_path, equal=6, different=0)
    result = set_translator(config)
    assert result.exit_code == 0, result.output
    route = load_route_table(config).route_for(OP)
    assert route.mode == "translator"
    assert "history" not in config.read_text()  # nothing forced, nothing to explain


def test_force_needs_a_reason_and_keeps_it_in_the_file(tmp_path: Path) -> None:
    config = config_with(tmp_path, equal=1, different=1)
    no_reason = set_translator(config, "--force")
    assert no_reason.exit_code == 2 and "--reason" in no_reason.output
    forced = set_translator(config, "--force", "--reason", "colour codes differ by a known legacy bug")
    assert forced.exit_code == 0, forced.output
    assert load_route_table(config).route_for(OP).mode == "translator"
    text = config.read_text()
    assert "colour codes differ by a known legacy bug" in text and "parity: 50.0%" in text


def test_status_shows_mode_traffic_parity_and_readiness(tmp_path: Path) -> None:
    config = config_with(tmp_path, equal=9, different=1)
    result = CliRunner().invoke(main, ["status", "-c", str(config)])
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if OP in line)
    assert "shadow×10" in row and "90.0% of 10" in row and "below 100%" in row
