"""One name per operation, whatever its service path: the route's default translator, the
translator a scaffold writes, the scaffold's golden folder and the recording store's folder.

`/merlin/MerlinService` (a service path of two segments) is where they used to part: scaffold
wrote `merlinservice/GetMissingPerson`, the route looked for
`merlin/MerlinService/GetMissingPerson`, golden stubs went to `merlin_MerlinService/...`.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from turnout.cli import main
from turnout.soap._envelope import operation_folder, translator_name

from .support.bus import ScriptedBus
from .support.proxy_process import ProxyProcess

WSDL = Path(__file__).parent / "wsdl" / "two-segment-path" / "merlin.wsdl"
KEY = "/merlin/MerlinService GetMissingPerson"


@pytest.mark.parametrize(("service", "operation", "name"), [
    ("/pnc", "VehicleEnquiry", "pnc/VehicleEnquiry"),
    ("/merlin/MerlinService", "GetMissingPerson", "merlin/MerlinService/GetMissingPerson"),
    ("/", "Ping", "Ping"),
])
def test_one_name_for_translators_and_folders(service: str, operation: str, name: str) -> None:
    assert translator_name(service, operation) == name
    assert "/".join(operation_folder(service, operation)) == name


def scaffold(out: Path) -> None:
    result = CliRunner().invoke(main, ["scaffold", str(WSDL), "--out", str(out)])
    assert result.exit_code == 0, result.output


def test_routes_find_the_scaffolded_translator_without_naming_it(tmp_path: Path) -> None:
    out = tmp_path / "moving"
    scaffold(out)
    config = tmp_path / "turnout.yaml"
    config.write_text(
        "upstream: http://127.0.0.1:1\n"
        "translators: moving/translators\n"
        "services: {merlinservice: 'http://127.0.0.1:2'}\n"
        f"routes:\n  {KEY}: {{mode: shadow}}\n"
    )

    checked = CliRunner().invoke(main, ["routes", "check", "-c", str(config)])

    assert checked.exit_code == 0, checked.output
    assert "1 routes, 1 translators" in checked.output
    listed = CliRunner().invoke(main, ["routes", "list", "-c", str(config)])
    assert "merlin/MerlinService/GetMissingPerson" in listed.output


def test_the_golden_stub_is_where_the_proxy_records_the_operation(tmp_path: Path) -> None:
    out = tmp_path / "moving"
    scaffold(out)
    [stub] = (out / "golden").rglob("README.md")
    recordings = tmp_path / "recordings"
    with ScriptedBus() as bus:
        config = tmp_path / "turnout.yaml"
        # a route naming the service: recordings of a service path nothing names are filed
        # under a digest of it, never under its text
        config.write_text(f"upstream: {bus.url}\n"
                          "routes:\n  /merlin/MerlinService GetMissingPerson: {mode: legacy}\n")
        with ProxyProcess(config, extra=["--record", str(recordings), "--unredacted"]) as proxy:
            sent = CliRunner().invoke(main, ["send", proxy.url, str(out / "examples")])
            assert sent.exit_code == 0, sent.output
            assert [r.path for r in bus.received] == ["/merlin/MerlinService"]
            deadline = time.monotonic() + 15
            while not list(recordings.rglob("*.yaml")) and time.monotonic() < deadline:
                time.sleep(0.1)
    [recording] = recordings.rglob("*.yaml")

    assert recording.parent.relative_to(recordings) == stub.parent.relative_to(out / "golden")
    assert recording.parent.relative_to(recordings) == Path("merlin", "MerlinService",
                                                            "GetMissingPerson")
    assert "cp recordings/merlin/MerlinService/GetMissingPerson/*.yaml" in stub.read_text()
