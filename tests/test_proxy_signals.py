"""The proxy as a process: SIGTERM drains what is in flight; SIGKILL never leaves a torn file."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Iterator

import psutil
import pytest

from turnout.recording import RecordingStore

from .support.bus import Reply, ScriptedBus
from .test_proxy_passthrough import ENVELOPE, SOAP_HEADERS

TURNOUT = [sys.executable, "-c", "from turnout.cli import main; main()"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_proxy(upstream: str, record: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    process = subprocess.Popen(
        [*TURNOUT, "proxy", "--upstream", upstream, "--port", str(port), "--record", str(record),
         "--unredacted"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, port
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(process.stdout.read().decode() if process.stdout else "exited")
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("proxy did not start")


@pytest.fixture
def bus() -> Iterator[ScriptedBus]:
    with ScriptedBus() as scripted:
        yield scripted


def post(port: int) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    conn.request("POST", "/pnc", body=ENVELOPE, headers=SOAP_HEADERS)
    response = conn.getresponse()
    return response.status, response.read()


def test_sigterm_lets_the_request_in_flight_finish_and_records_it(bus: ScriptedBus, tmp_path: Path) -> None:
    bus.reply = Reply(body=b"<slow-but-fine/>", delay=1.5)
    process, port = start_proxy(bus.url, tmp_path / "rec")
    answers: list[tuple[int, bytes]] = []
    client = threading.Thread(target=lambda: answers.append(post(port)))
    client.start()
    time.sleep(0.5)  # the request is now waiting on the bus
    process.send_signal(signal.SIGTERM)
    client.join(10)
    assert process.wait(15) == 0
    assert answers == [(200, b"<slow-but-fine/>")]
    [exchange] = list(RecordingStore(tmp_path / "rec").iter_exchanges())
    assert exchange.response.body == b"<slow-but-fine/>"
    with pytest.raises(OSError):  # and it no longer listens
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()


def test_sigkill_under_load_leaves_only_whole_recordings(bus: ScriptedBus, tmp_path: Path) -> None:
    process, port = start_proxy(bus.url, tmp_path / "rec")
    stop = threading.Event()

    def load() -> None:
        while not stop.is_set():
            try:
                post(port)
            except OSError:
                return

    workers = [threading.Thread(target=load) for _ in range(4)]
    for worker in workers:
        worker.start()
    deadline = time.monotonic() + 20  # the writer process is spawned at start: wait until it writes
    while time.monotonic() < deadline and len(list((tmp_path / "rec").rglob("*.yaml"))) < 20:
        time.sleep(0.1)
    helpers = psutil.Process(process.pid).children(recursive=True)  # the writer process among them
    os.kill(process.pid, signal.SIGKILL)
    process.wait(10)
    stop.set()
    for worker in workers:
        worker.join(10)
    # the writer process outlives the proxy only to finish what it was handed, then exits
    _, alive = psutil.wait_procs(helpers, timeout=15)
    assert not alive, f"left running after the proxy was killed: {[p.cmdline()[-3:] for p in alive]}"
    files = list((tmp_path / "rec").rglob("*.yaml"))
    assert files, "the load should have been recorded before the kill"
    exchanges = list(RecordingStore(tmp_path / "rec").iter_exchanges())  # raises on a torn file
    assert len(exchanges) == len(files)
    # a write cut off by the kill is only ever a hidden temp file, and a restart removes it
    restarted, _ = start_proxy(bus.url, tmp_path / "rec")
    restarted.send_signal(signal.SIGTERM)
    assert restarted.wait(15) == 0
    assert not list((tmp_path / "rec").rglob(".*.tmp"))
