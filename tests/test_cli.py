"""The `turnout` command as a user runs it: the demo, reading recordings, and refusing bad input."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from turnout.cli import main
from turnout.recording import RecordingStore


def test_demo_runs_end_to_end_and_leaves_recordings(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["demo", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    [run_dir] = list(tmp_path.iterdir())
    summary = RecordingStore(run_dir).summary()
    assert summary.total >= 50
    assert len(summary.operations) == 7
    for row in summary.operations:
        assert row.key in result.output
    assert "exchanges recorded" in result.output

    listed = CliRunner().invoke(main, ["recordings", "list", str(run_dir), "-o", "/pnc VehicleEnquiry"])
    assert listed.exit_code == 0, listed.output
    assert "12 exchanges" in listed.output

    exchange = next(iter(RecordingStore(run_dir).iter_exchanges()))
    shown = CliRunner().invoke(main, ["recordings", "show", exchange.id, "--dir", str(run_dir)])
    assert shown.exit_code == 0, shown.output
    assert exchange.id in shown.output and "REDACTED" in shown.output


def test_show_of_unknown_id_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["recordings", "show", "nope", "--dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "nope" in result.output and "Traceback" not in result.output


def test_proxy_refuses_a_bad_config_with_file_line_and_field(tmp_path: Path) -> None:
    config = tmp_path / "turnout.yaml"
    config.write_text("upstream: http://127.0.0.1:1\nlisten:\n  port: banana\n")
    result = CliRunner().invoke(main, ["proxy", "--config", str(config)])
    assert result.exit_code == 2
    assert f"{config}:3: listen.port: must be a whole number" in result.output


def test_proxy_needs_an_upstream() -> None:
    result = CliRunner().invoke(main, ["proxy"])
    assert result.exit_code == 2
    assert "--upstream" in result.output
