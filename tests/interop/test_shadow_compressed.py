"""Shadow parity in front of a compressing bus.

The spyne service sits behind a gzip middleware (as behind mod_deflate), so every answer to a
client that accepts gzip (zeep does, through requests) is gzipped. `/records GetRecord` is in
`mode: shadow`: the client is answered by the bus, and the mapping translator
(translators/records/get_record.yaml) runs beside it against the modern JSON service. The
translator is right for every record and for an unknown id (spyne's `Client.RecordNotFound`
Fault), so once the run is over the recordings on disk must show every shadowed exchange
compared and 100% equal, as `turnout status` and `turnout compare` read them.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest

from turnout.compare import shadow_readiness
from turnout.recording import RecordingStore

from .clients import zeep_call, zeep_client
from .conftest import OPERATION, TRANSLATORS, Proxy, Server, start_proxy, turnout_command
from .records import RECORDS

pytestmark = pytest.mark.interop

CALLS = 20
#: an id neither side knows: spyne answers a Client.RecordNotFound Fault, the service a 404
UNKNOWN = "R-0404"


@dataclass
class ShadowRun:
    proxy: Proxy
    #: per call: zeep's answer, plus the Content-Encoding the client received it with
    answers: list[dict[str, Any]]
    ids: list[str]
    exit_code: int


@pytest.fixture(scope="module")
def shadow_run(
    spyne_gzip_server: Server, modern_service: Server, tmp_path_factory: pytest.TempPathFactory,
    proxy_engine: str,
) -> Iterator[ShadowRun]:
    proxy = start_proxy(
        tmp_path_factory.mktemp("shadow-gzip"),
        spyne_gzip_server.base,
        translators=str(TRANSLATORS),
        services={"records": modern_service.base},
        routes={OPERATION: {"mode": "shadow", "timeout": 5}},
        readiness={"min_parity": 100, "min_samples": CALLS},
    )
    known = list(RECORDS)
    ids = [UNKNOWN if i % 5 == 4 else known[i % len(known)] for i in range(CALLS)]
    answers = []
    try:
        service, transport = zeep_client(proxy.wsdl, proxy.endpoint, accept_encoding="gzip")
        for record_id in ids:
            answer = zeep_call(service, transport, record_id)
            last = transport.last  # a requests.Response is falsy for a 500: compare with None
            answer["content-encoding"] = last.headers.get("Content-Encoding") if last is not None else None
            answers.append(answer)
    finally:
        # SIGTERM: the proxy finishes its shadow runs and writes every recording before it exits
        exit_code = proxy.stop(timeout=30)
    yield ShadowRun(proxy, answers, ids, exit_code)


def test_clients_get_the_buses_gzipped_answers_through_a_shadowed_route(shadow_run: ShadowRun) -> None:
    assert UNKNOWN in shadow_run.ids
    for record_id, answer in zip(shadow_run.ids, shadow_run.answers):
        if record_id == UNKNOWN:
            assert answer["value"] == {"faultcode": "Client.RecordNotFound",
                                       "faultstring": f"no record with id {UNKNOWN}"}, answer
        else:
            record = RECORDS[record_id]
            assert answer["value"] == {"id": record_id, "title": record["title"],
                                       "created": record["created"], "tags": record["tags"]}, answer
        assert answer["content-encoding"] == "gzip", "the bus's answer should reach zeep compressed"
    assert shadow_run.exit_code == 0, shadow_run.proxy.output()


def test_every_shadowed_exchange_was_compared_and_all_are_equal(shadow_run: ShadowRun) -> None:
    exchanges = [
        exchange for exchange in RecordingStore(shadow_run.proxy.record_dir).iter_exchanges()
        if exchange.operation is not None and exchange.operation.key == OPERATION
    ]
    assert len(exchanges) == CALLS, f"{len(exchanges)} recordings of {OPERATION} for {CALLS} calls"
    assert {exchange.route for exchange in exchanges} == {"shadow"}
    readiness = shadow_readiness(exchanges, OPERATION, 100, CALLS)
    # diagnostics only: what the first unequal or uncompared exchange says about itself
    odd = [e for e in exchanges if e.translation.get("equal") is not True]
    detail = "" if not odd else (
        f"; e.g. {odd[0].id}: notes {odd[0].notes}, diff {odd[0].translation.get('diff')}, "
        f"error {odd[0].translation.get('error')}"
    )
    assert readiness.samples == CALLS, f"only {readiness.samples} of {CALLS} shadowed exchanges were compared{detail}"
    assert readiness.equal == CALLS, (
        f"shadow parity {readiness.parity}% over {readiness.samples}; differing most at "
        f"{readiness.top_paths}{detail}"
    )


def _turnout(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "250", "NO_COLOR": "1", "TERM": "dumb"}
    return subprocess.run([*turnout_command(), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


def test_turnout_status_shows_full_parity_and_the_operation_ready(shadow_run: ShadowRun) -> None:
    done = _turnout("status", "-c", str(shadow_run.proxy.config), cwd=shadow_run.proxy.directory)
    assert done.returncode == 0, done.stdout + done.stderr
    [row] = [line for line in done.stdout.splitlines() if OPERATION in line]
    assert f"100.0% of {CALLS}" in row, done.stdout
    assert "yes" in row.split(f"100.0% of {CALLS}", 1)[1], done.stdout


def test_turnout_compare_replays_the_recordings_to_full_parity(shadow_run: ShadowRun, tmp_path: Path) -> None:
    """Offline: each recorded JSON reply through the translator again, against the recorded
    (gzipped on the wire) legacy answer."""
    proxy = shadow_run.proxy
    done = _turnout("compare", str(proxy.record_dir), "-c", str(proxy.config), "--min-parity", "100",
                    "--report-dir", str(tmp_path), cwd=proxy.directory)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((tmp_path / "parity.json").read_text())
    [operation] = [row for row in report["operations"] if row["operation"] == OPERATION]
    assert (operation["samples"], operation["not_compared"], operation["parity"]) == (CALLS, 0, 100.0), operation


def test_routes_check_accepts_the_config_and_its_mapping_translator(shadow_run: ShadowRun) -> None:
    done = _turnout("routes", "check", "-c", str(shadow_run.proxy.config), cwd=shadow_run.proxy.directory)
    assert done.returncode == 0, done.stdout + done.stderr
