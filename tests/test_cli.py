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
    exchanges = list(RecordingStore(run_dir / "recordings").iter_exchanges())
    assert len(exchanges) >= 4 * 50  # four passes of the scenario
    routes = {e.route for e in exchanges}
    assert routes == {"legacy", "shadow", "translator"}
    shadowed = [e for e in exchanges if e.route == "shadow"]
    assert shadowed and all(e.translation.get("equal") is True for e in shadowed)  # 100% parity
    assert "not 'teleport'" in result.output and "route change refused" in result.output
    for phase in ("1. every operation", "2. reads in shadow", "3. reads moved", "4. a broken route edit"):
        assert phase in result.output

    recordings = run_dir / "recordings"
    listed = CliRunner().invoke(main, ["recordings", "list", str(recordings), "-o", "/pnc VehicleEnquiry"])
    assert listed.exit_code == 0, listed.output
    assert f"{sum(1 for e in exchanges if e.operation and e.operation.key == '/pnc VehicleEnquiry')} exchanges" in listed.output

    exchange = next(e for e in exchanges if e.route == "translator")
    shown = CliRunner().invoke(main, ["recordings", "show", exchange.id, "--dir", str(recordings)])
    assert shown.exit_code == 0, shown.output
    assert exchange.id in shown.output


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


def test_routes_set_list_and_check_work_on_the_file(tmp_path: Path) -> None:
    from turnout.demo.config import write_demo_config

    config = write_demo_config(tmp_path, "http://127.0.0.1:1", "http://127.0.0.1:2", tmp_path / "rec")
    text_before = config.read_text()
    runner = CliRunner()
    result = runner.invoke(main, ["routes", "set", "/pnc PersonEnquiry", "canary", "--percent", "10", "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert "canary 10%" in result.output
    assert "# Which path each operation takes" in config.read_text()  # comments kept

    listed = runner.invoke(main, ["routes", "list", "-c", str(config), "--admin", "http://127.0.0.1:9"])
    assert listed.exit_code == 0, listed.output
    assert "no running proxy answered" in listed.output and "10%" in listed.output

    before_refusal = config.read_text()
    refused = runner.invoke(main, ["routes", "set", "/geo ResolveLocation", "canary", "-c", str(config)])
    assert refused.exit_code == 2
    assert "routes./geo ResolveLocation" in refused.output and "percent" in refused.output
    assert config.read_text() == before_refusal  # untouched

    checked = runner.invoke(main, ["routes", "check", "-c", str(config)])
    assert checked.exit_code == 0 and "11 translators" in checked.output
    assert text_before != config.read_text()


def test_routes_list_shows_what_the_running_proxy_uses(tmp_path: Path) -> None:
    from turnout.config import load_proxy_config
    from turnout.demo.config import write_demo_config
    from turnout.proxy import ProxyThread
    from turnout.routing import set_route

    config = write_demo_config(tmp_path, "http://127.0.0.1:1", "http://127.0.0.1:2", tmp_path / "rec")
    set_route(config, "/geo ResolveLocation", "shadow")
    with ProxyThread(load_proxy_config(config)) as proxy:
        admin = proxy.state.admin_url
        assert admin is not None and admin.startswith("http://127.0.0.1:")  # loopback
        # an invalid edit: the proxy keeps its table, so only the proxy can still say "shadow"
        config.write_text(config.read_text().replace("{mode: shadow}", "{mode: nope}"))
        result = CliRunner().invoke(main, ["routes", "list", "-c", str(config), "--admin", admin])
    assert result.exit_code == 0, result.output
    assert "routes in force at the running proxy" in result.output
    row = next(line for line in result.output.splitlines() if "/geo ResolveLocation" in line)
    assert "shadow" in row
