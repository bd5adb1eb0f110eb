"""When the recording directory cannot be written or the disk fills, traffic keeps flowing.

The loss is counted (the writer's `failed`, the proxy's `recording.failed`), logged as one ERROR
line per kind of failure (then again at the 10th, 100th... with the count, never a traceback),
and nothing half-written is left behind: no temp file, no torn `.yaml`.

Root ignores permission bits, so "unwritable" is made another way: a regular file where a
directory must be (mkdir and open fail with ENOTDIR/EEXIST). "Disk full" is made three ways: the
store's writes fail with ENOSPC half-way through a file (in this process, under the store); the
proxy's writer process gets an RLIMIT_FSIZE while it runs (set from here with prlimit), so the
kernel stops each write part-way (EFBIG), and then loses it again, as a disk that fills and is
freed; and a whole proxy process starts under RLIMIT_FSIZE (its writer process inherits it).
"""

from __future__ import annotations

import errno
import http.client
import logging
import os
import re
import resource
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from turnout.config import ProxyConfig, load_proxy_config
from turnout.proxy import ProxyThread
from turnout.config import _files
from turnout.recording import RecordingStore

from .support.bus import Reply, ScriptedBus
from .test_proxy_passthrough import ENVELOPE, SOAP_HEADERS
from .test_proxy_signals import free_port

BUS_ANSWER = b"<from-the-bus/>"


@pytest.fixture
def bus() -> Iterator[ScriptedBus]:
    with ScriptedBus() as scripted:
        scripted.reply = Reply(body=BUS_ANSWER)
        yield scripted


def post(host: str, port: int) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(host, port, timeout=20)
    conn.request("POST", "/pnc", body=ENVELOPE, headers=SOAP_HEADERS)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, data


def wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the writer"
        time.sleep(0.02)


def leftovers(root: Path) -> list[Path]:
    """Temp files anywhere under `root`: a write that did not finish and was not cleaned up."""
    return [p for p in root.rglob("*") if p.name.endswith(".tmp")]


def lost_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        r for r in caplog.records
        if r.name == "turnout.recording" and r.levelno >= logging.ERROR
        and "could not record exchange" in r.getMessage()
    ]


def assert_logged_once_then_at_ten(lost: list[logging.LogRecord], failures: int) -> None:
    """One line for the first failure of the kind, one at the 10th; none carries a traceback."""
    assert len(lost) == (2 if failures >= 10 else 1), [r.getMessage() for r in lost]
    assert all(r.exc_info is None and r.exc_text is None for r in lost)
    if failures >= 10:
        assert "(10 failures of this kind so far)" in lost[1].getMessage()


def start(bus: ScriptedBus, record_dir: Path) -> ProxyThread:
    """A recording proxy whose routes name `/pnc`, so its recordings are filed under pnc/ (a
    service path no route names would be filed under a digest of it)."""
    config = record_dir.parent / f"{record_dir.name}-turnout.yml"  # not *.yaml: tests look for recordings
    config.write_text(f"upstream: {bus.url}\nlisten: {{port: 0}}\n"
                      "routes:\n  /pnc VehicleEnquiry: {mode: legacy}\n")
    return ProxyThread(load_proxy_config(config).with_overrides(record_dir=record_dir)).start()


# --- unwritable directory --------------------------------------------------------------------

def _file_at(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("not a directory\n")


@pytest.mark.parametrize(
    "blocked",
    ["rec/pnc/VehicleEnquiry", "rec/pnc", "rec"],
    ids=["operation-dir-is-a-file", "service-dir-is-a-file", "record-dir-is-a-file"],
)
def test_unwritable_recording_directory_keeps_traffic_flowing(
    bus: ScriptedBus, tmp_path: Path, caplog: pytest.LogCaptureFixture, blocked: str
) -> None:
    _file_at(tmp_path / blocked)
    proxy = start(bus, tmp_path / "rec")
    try:
        answers = [post(proxy.host, proxy.port) for _ in range(10)]
    finally:
        proxy.stop()  # closes the writer: everything queued was tried
    writer = proxy.state.writer
    assert writer is not None
    assert answers == [(200, BUS_ANSWER)] * 10
    assert len(bus.received) == 10
    assert (writer.written, writer.failed, writer.dropped) == (0, 10, 0)
    assert proxy.state.stats.snapshot()["recording.failed"] == 10
    assert_logged_once_then_at_ten(lost_records(caplog), 10)
    assert not leftovers(tmp_path) and not list(tmp_path.rglob("*.yaml"))
    assert (tmp_path / blocked).read_text() == "not a directory\n"  # nothing written over it


def test_directory_made_unwritable_while_running_then_restored(
    bus: ScriptedBus, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    record = tmp_path / "rec"
    operation_dir = record / "pnc" / "VehicleEnquiry"
    aside = tmp_path / "aside"
    proxy = start(bus, record)
    writer = proxy.state.writer
    assert writer is not None
    answers = []
    try:
        answers += [post(proxy.host, proxy.port) for _ in range(5)]
        wait_for(lambda: writer.written == 5)
        operation_dir.rename(aside)  # the directory goes away and a file takes its place
        _file_at(operation_dir)
        answers += [post(proxy.host, proxy.port) for _ in range(5)]
        wait_for(lambda: writer.failed == 5)
        operation_dir.unlink()
        aside.rename(operation_dir)
        answers += [post(proxy.host, proxy.port) for _ in range(5)]
    finally:
        proxy.stop()
    assert answers == [(200, BUS_ANSWER)] * 15
    assert (writer.written, writer.failed) == (10, 5)
    assert proxy.state.stats.snapshot()["recording.failed"] == 5
    assert_logged_once_then_at_ten(lost_records(caplog), 5)
    assert not leftovers(tmp_path)
    assert len(list(RecordingStore(record).iter_exchanges())) == 10  # every file whole


# --- disk full, in process: ENOSPC half-way through a write ---------------------------------

class _FullDisk:
    """Stands in for `os` in the atomic writer (`turnout.config._files`): while `full` is set,
    a temp file takes half its bytes, then the write fails with ENOSPC, as on a disk that just
    filled."""

    def __init__(self) -> None:
        self.full = threading.Event()
        self.partial_sizes: list[int] = []  # bytes on disk in the temp file when the write failed

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)

    def fdopen(self, fd: int, *args: Any, **kwargs: Any) -> Any:
        handle = os.fdopen(fd, *args, **kwargs)
        return _HalfThenFull(handle, self) if self.full.is_set() else handle


class _HalfThenFull:
    def __init__(self, handle: Any, disk: _FullDisk) -> None:
        self.handle = handle
        self.disk = disk

    def __enter__(self) -> "_HalfThenFull":
        return self

    def __exit__(self, *exc: object) -> None:
        self.handle.close()

    def write(self, data: bytes) -> int:
        self.handle.write(data[: len(data) // 2])
        self.handle.flush()
        self.disk.partial_sizes.append(os.fstat(self.handle.fileno()).st_size)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.handle, name)


def test_disk_full_in_the_writer_process_keeps_traffic_flowing_and_leaves_nothing_half_written(
    bus: ScriptedBus, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The proxy's writer process, running, gets a file size limit smaller than any recording:
    each write stops part-way (EFBIG, as ENOSPC on a disk that filled); then the limit goes."""
    record = tmp_path / "rec"
    proxy = start(bus, record)
    writer = proxy.state.writer
    assert writer is not None
    answers = []
    try:
        answers += [post(proxy.host, proxy.port) for _ in range(5)]
        wait_for(lambda: writer.written == 5, seconds=30)
        pid = getattr(writer, "pid", None)
        assert pid is not None, "the proxy records through a writer process"
        soft, hard = resource.prlimit(pid, resource.RLIMIT_FSIZE)
        resource.prlimit(pid, resource.RLIMIT_FSIZE, (256, hard))
        answers += [post(proxy.host, proxy.port) for _ in range(10)]
        wait_for(lambda: writer.failed == 10)
        resource.prlimit(pid, resource.RLIMIT_FSIZE, (soft, hard))  # space freed: it resumes
        answers += [post(proxy.host, proxy.port) for _ in range(5)]
    finally:
        proxy.stop()
    assert answers == [(200, BUS_ANSWER)] * 20
    assert (writer.written, writer.failed, writer.dropped) == (10, 10, 0)
    assert proxy.state.stats.snapshot()["recording.failed"] == 10
    lost = lost_records(caplog)
    assert_logged_once_then_at_ten(lost, 10)
    assert all("File too large" in r.getMessage() for r in lost)
    assert not leftovers(tmp_path)  # each temp file cut off was removed
    assert len(list(RecordingStore(record).iter_exchanges())) == 10  # and no torn .yaml


# --- disk full, in a real process: the kernel refuses the write part-way --------------------

def test_file_size_limit_in_a_real_proxy_process_loses_recordings_not_traffic(
    bus: ScriptedBus, tmp_path: Path
) -> None:
    """RLIMIT_FSIZE makes the kernel stop every recording part-way (EFBIG), as a full disk
    would (ENOSPC); SIGXFSZ is ignored so the write fails instead of killing the process."""
    record = tmp_path / "rec"
    limit = 256  # bytes: less than any recording, so each one is cut off part-way
    code = (
        "import resource, signal; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
        f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit})); "
        "from turnout.cli import main; main()"
    )
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", code, "proxy", "--upstream", bus.url, "--port", str(port),
         "--record", str(record), "--unredacted"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                answers = [post("127.0.0.1", port)]
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, "proxy did not start"
                time.sleep(0.1)
        answers += [post("127.0.0.1", port) for _ in range(9)]
        process.send_signal(signal.SIGTERM)
        assert process.wait(15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    output = process.stdout.read().decode() if process.stdout else ""
    assert answers == [(200, BUS_ANSWER)] * 10
    # the first failure and the tenth, each one line with the reason, no traceback
    assert output.count("ERROR turnout.recording: could not record exchange") == 2, output
    assert "(10 failures of this kind so far)" in output
    assert "Traceback" not in output
    assert "File too large" in output
    assert re.search(r"recording\.failed\W+10\b", output), output  # the counters printed at exit
    assert not leftovers(tmp_path) and not list(tmp_path.rglob("*.yaml"))


def test_the_store_itself_removes_a_temp_file_cut_off_by_enospc(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The unit under the proxy tests: one write, one ENOSPC, nothing left, a RecordingError."""
    from turnout.recording import RecordingError

    from .test_recording import make_exchange

    disk = _FullDisk()
    disk.full.set()
    monkeypatch.setattr(_files, "os", disk)  # the one atomic writer the store writes through
    store = RecordingStore(tmp_path)
    with pytest.raises(RecordingError, match="No space left on device"):
        store.write(make_exchange())
    assert disk.partial_sizes and disk.partial_sizes[0] > 0
    assert not leftovers(tmp_path) and not list(tmp_path.rglob("*.yaml"))
