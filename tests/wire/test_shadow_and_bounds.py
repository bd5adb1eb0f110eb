"""Shadow work and big answers cost the proxy bounded memory and never stall other clients;
connections are bounded; a bad upstream URL is refused at load. Real proxy process throughout."""

from __future__ import annotations

import gzip
import json
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from tests.support.bus import Reply, ScriptedBus
from tests.support.proxy_process import TURNOUT, ProxyProcess, free_port, raw_exchange
from tests.support.translators_for_tests import ENVELOPE as TRANSLATED
from turnout.recording import RecordingStore

from .servers import WireBus

SUPPORT = Path(__file__).parent.parent / "support" / "translators_for_tests.py"
REQUEST = (
    b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
    b'<p:VehicleEnquiry xmlns:p="urn:police:pnc:v1"><p:vrm>AB12CDE</p:vrm></p:VehicleEnquiry>'
    b"</soap:Body></soap:Envelope>"
)
HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"urn:police:pnc:v1#VehicleEnquiry"',
           "Accept-Encoding": "gzip"}


def shadow_config(root: Path, bus_url: str, service_url: str, extra: str = "") -> Path:
    translators = root / "translators"
    translators.mkdir(exist_ok=True)
    shutil.copy(SUPPORT, translators / "test_translators.py")
    config = root / "turnout.yaml"
    config.write_text(
        f"upstream: {bus_url}\n"
        "translators: translators\n"
        f"services: {{pnc: {service_url}}}\n"
        "recordings: {dir: rec, redaction: {body: [\"//*[local-name()='vrm']\"]}}\n"
        f"admin: {{port: {free_port()}}}\n"
        f"{extra}"
        "routes:\n"
        "  /pnc VehicleEnquiry: {mode: shadow}\n"
    )
    return config


def stats(config: Path) -> dict[str, int]:
    port = int(config.read_text().split("admin: {port: ")[1].split("}")[0])
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=10) as answer:
        return json.loads(answer.read())


def wait_for(condition, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_a_compressing_bus_in_shadow_is_recorded_readable_and_reaches_parity(tmp_path: Path) -> None:
    answer = TRANSLATED.format(colour="blue").encode()
    with WireBus(body=answer, chunked=False, compress=True) as bus, ScriptedBus() as service:
        service.reply = Reply(headers=[("Content-Type", "application/json")], body=b'{"colour": "blue"}')
        config = shadow_config(tmp_path, bus.url, service.url)
        with ProxyProcess(config) as proxy:
            for _ in range(5):
                status, headers, body = proxy.request("POST", "/pnc", REQUEST, HEADERS)
                assert status == 200 and gzip.decompress(body) == answer
                assert dict((k.lower(), v) for k, v in headers)["content-encoding"] == "gzip"
            assert wait_for(lambda: stats(config).get("shadow.equal", 0) == 5), stats(config)
    exchanges = list(RecordingStore(tmp_path / "rec").iter_exchanges())
    assert len(exchanges) == 5
    for exchange in exchanges:
        assert exchange.response is not None and exchange.response.body == answer  # decoded, readable
        assert exchange.translation["equal"] is True


def test_a_slow_shadow_diff_never_holds_other_clients(tmp_path: Path) -> None:
    """5,000 differing values take the diff over a second. The bus's answer, another client's
    request and the admin endpoint are all served while it runs: the diff is off the loop."""
    items = "".join(f"<p:colourCode>x{i:05d}</p:colourCode>" for i in range(5000))
    legacy = TRANSLATED.replace("<p:colourCode>{colour}</p:colourCode>", items).encode()
    # the test translator writes the JSON colour into its envelope as it is: 5,000 values that differ
    colour = "</p:colourCode><p:colourCode>".join(f"y{i:05d}" for i in range(5000))
    with WireBus(body=legacy, chunked=False) as bus, ScriptedBus() as service:
        service.reply = Reply(headers=[("Content-Type", "application/json")],
                              body=json.dumps({"colour": colour}).encode())
        config = shadow_config(tmp_path, bus.url, service.url)
        with ProxyProcess(config) as proxy:
            status, _, body = proxy.request("POST", "/pnc", REQUEST, HEADERS)
            assert (status, body) == (200, legacy)
            assert wait_for(lambda: len(service.received) == 1)  # the shadow's call: the diff is next
            status, _, _ = proxy.request("POST", "/isb/pnc", REQUEST, HEADERS)  # another client
            during = stats(config)
            assert status == 200
            assert during.get("shadow.different", 0) == 0, "the loop waited for the diff"
            assert wait_for(lambda: stats(config).get("shadow.different", 0) == 1)


def test_an_answer_over_the_response_limit_is_passed_on_whole_but_never_held(tmp_path: Path) -> None:
    big = b"<big>" + b"x" * (48 * 1024 * 1024) + b"</big>"
    with WireBus(body=big, chunked=False) as bus:
        config = tmp_path / "turnout.yaml"
        config.write_text(f"upstream: {bus.url}\nrecordings: {{dir: rec}}\n"
                          "limits: {max_response_bytes: 1048576}\n")
        extra = ["--unredacted"]  # a document of x's
        with ProxyProcess(config, extra=extra) as proxy:
            assert proxy.process is not None
            rss = psutil.Process(proxy.process.pid)
            before = rss.memory_info().rss
            peak = [before]
            conn = socket.create_connection(("127.0.0.1", proxy.port), timeout=20)
            conn.sendall(b"POST /pnc HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n"
                         b"Content-Length: %d\r\n\r\n%s" % (len(REQUEST), REQUEST))
            received = b""
            while chunk := conn.recv(1 << 20):
                received += chunk
                peak.append(rss.memory_info().rss)
            conn.close()
            assert proxy.stop() == 0
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and b"Content-Length: %d" % len(big) in head
    assert body == big
    assert max(peak) - before < 24 * 1024 * 1024, "the proxy held the answer"
    [exchange] = list(RecordingStore(tmp_path / "rec").iter_exchanges())
    assert any("response-not-held" in note for note in exchange.notes)
    assert exchange.response is not None and exchange.response.body == b""


def test_connections_over_the_per_client_cap_are_closed_and_idle_ones_time_out(tmp_path: Path) -> None:
    with WireBus(body=b"<ok/>", chunked=False) as bus:
        config = tmp_path / "turnout.yaml"
        config.write_text(f"upstream: {bus.url}\nlimits: {{max_connections_per_client: 4}}\n"
                          "timeouts: {client_header: 1}\n")
        with ProxyProcess(config) as proxy:
            held = [socket.create_connection(("127.0.0.1", proxy.port), timeout=5) for _ in range(4)]
            time.sleep(0.3)
            extra = socket.create_connection(("127.0.0.1", proxy.port), timeout=5)
            assert extra.recv(1) == b"", "a fifth connection from one address was kept"
            extra.close()
            # the idle four are closed by the header timeout; the address may connect again after
            for sock in held:
                sock.settimeout(10)
                assert sock.recv(1) == b""
                sock.close()
            answer = raw_exchange(proxy.port, b"POST /pnc HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n<ok/>")
            assert answer.startswith(b"HTTP/1.1 200")
    assert "Traceback" not in proxy.log


@pytest.mark.parametrize(
    ("upstream", "says"),
    [("http://127.0.0.1:8000/soap/", "without a path"), ("http://127.0.0.1:99999", "port"),
     ("http://127.0.0.1:http", "port")],
    ids=["path", "port-out-of-range", "port-not-a-number"],
)
def test_a_bad_upstream_url_is_refused_at_load_with_file_line_and_field(
    tmp_path: Path, upstream: str, says: str
) -> None:
    config = tmp_path / "turnout.yaml"
    config.write_text(f"# the bus\nupstream: {upstream}\n")
    for command in (["routes", "check", "-c", str(config)], ["proxy", "--config", str(config), "--port", "0"]):
        done = subprocess.run([*TURNOUT, *command], capture_output=True, text=True, timeout=60)
        output = done.stdout + done.stderr
        assert done.returncode != 0, output
        assert "turnout.yaml:2" in output and "upstream" in output and says in output, output
        assert "Traceback" not in output


def test_the_shadow_queue_is_bounded_in_bytes_as_well_as_jobs() -> None:
    """Fifty pending shadows of wide 1 MiB envelopes held 1.86 GB: jobs now hold bytes, and the
    queue refuses (and counts) a job that would take it over `shadow.queue_bytes`."""
    import asyncio

    from tests.test_recording import make_exchange
    from turnout.config import ProxyConfig
    from turnout.gateway import ProxyState, ShadowRunner
    from turnout.routing import Route

    async def never(legacy: bytes, new: bytes, key: str) -> tuple[bool, list]:
        return True, []

    async def fill() -> tuple[list[bool], int]:
        state = ProxyState(ProxyConfig(upstream="http://127.0.0.1:9"))
        runner = ShadowRunner(state, never, concurrency=1, queue=1000, queue_bytes=5 * 1024 * 1024)
        route = Route("/pnc VehicleEnquiry", mode="shadow")
        body = b" " * (1024 * 1024)
        accepted = [runner.submit(make_exchange(), body, "/pnc", route) for _ in range(8)]
        return accepted, state.stats.snapshot().get("shadow.dropped", 0)

    accepted, dropped = asyncio.run(fill())
    assert sum(accepted) <= 5 and accepted[:4] == [True] * 4
    assert dropped == 8 - sum(accepted)
