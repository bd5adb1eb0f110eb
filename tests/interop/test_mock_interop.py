"""A third-party client, suds (urllib underneath), against the virtual bus as against the real one.

suds reads the WSDL and calls three operations through a real proxy process (each host) whose
upstream is, in turn, the demo bus and `turnout mock legacy` over the committed golden
recordings. What a caller sees must be the same: the records read, the references a search
finds, and the Fault for an unknown reference. Values the golden set pseudonymised (names,
addresses) are not compared: the mock answers in the recordings' pseudonyms (docs/mock.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from suds import WebFault
from suds.client import Client

from tests.support.mock_process import mock_legacy
from tests.support.proxy_process import ProxyProcess
from turnout.demo.config import write_demo_config

pytestmark = pytest.mark.interop


def _seen_by_suds(base_url: str) -> list[Any]:
    client = Client(f"{base_url}/cris?wsdl", cache=None, timeout=10)
    seen: list[Any] = []
    for reference in ("CR/2026/000101", "CR/2026/000108"):
        report = client.service.GetCrimeReport(crimeReference=reference)
        seen.append((report.crimeReference, report.offenceCode, report.beatCode))
    found = client.service.SearchCrimeReports(offenceCode="BURG")
    seen.append(sorted(str(r.crimeReference) for r in found.crimeReport))
    try:
        client.service.GetCrimeReport(crimeReference="CR/2026/999999")
        seen.append("answered")
    except WebFault as fault:
        seen.append(("fault", fault.fault.faultcode))
    return seen


def _through_proxy(tmp_path: Path, upstream: str) -> list[Any]:
    config = write_demo_config(tmp_path, upstream, "http://127.0.0.1:9", tmp_path / "rec",
                               authenticate=False)
    with ProxyProcess(config) as proxy:
        return _seen_by_suds(proxy.url)


def test_suds_sees_the_virtual_bus_as_the_real_one(legacy_bus, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    real = _through_proxy(tmp_path / "real", legacy_bus.url)
    with mock_legacy(log_dir=tmp_path) as mock:
        mocked = _through_proxy(tmp_path / "mock", mock.url)
    assert real[0][0] == "CR/2026/000101" and real[-1][0] == "fault"
    assert len(real[2]) >= 1
    assert mocked == real
