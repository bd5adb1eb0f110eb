"""The proxy's recording writer: a process of its own, fed without blocking, and accountable.

Each test starts a real writer process (spawned, as the proxy does) on a temporary directory.
SIGSTOP holds the writer process still where a test needs exchanges to stay in flight; every
test ends with `close`, which kills a process that does not finish.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from turnout.recording import (
    Exchange,
    OmittedBody,
    ProcessWriter,
    RecordingStore,
    new_exchange_id,
    open_writer,
    read_exchange,
)
from turnout.recording._handoff import pack, unpack
from turnout.soap import HttpResponse, OperationName

from .test_recording import CONFIG, ENQUIRY, REPLY, make_exchange

SURNAME = "SMITHERINGTON"  # in the request and the reply of `make_exchange`, hidden by CONFIG


def fresh(**changes: object) -> Exchange:
    """`make_exchange` with a new id each time (an id names a file)."""
    return replace(make_exchange(), id=new_exchange_id(), **changes)  # type: ignore[arg-type]


def wait_for(condition: Callable[[], bool], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the writer process"
        time.sleep(0.02)


@pytest.fixture
def writers() -> Iterator[list[ProcessWriter]]:
    """Writers a test opened; each closed (its process stopped) however the test ends."""
    opened: list[ProcessWriter] = []
    yield opened
    for writer in opened:
        pid = writer.pid
        if pid is not None:
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
        writer.close(timeout=10)


def opened(writers: list[ProcessWriter], root: Path, **options: object) -> ProcessWriter:
    options.setdefault("known_services", lambda: {"/pnc"})
    writer = open_writer(root, CONFIG, **options)  # type: ignore[arg-type]
    assert isinstance(writer, ProcessWriter)
    writers.append(writer)
    return writer


def everything_under(root: Path) -> bytes:
    return b"".join(path.read_bytes() for path in root.rglob("*") if path.is_file())


def test_pack_and_unpack_are_each_others_inverse() -> None:
    full = fresh(
        translated=HttpResponse(200, [("Content-Type", "text/xml")], REPLY),
        translation={"call": {"method": "GET", "path": "/people", "query": {"surname": "x"}},
                     "reply": {"status": 200, "body": [1, 2.5, None, True]}},
        omitted_bodies={"response": OmittedBody("not-xml", "ab" * 32, 12)},
    )
    bare = fresh(operation=None, response=None, soap_version=None, action=None, notes=[])
    for exchange in (full, bare):
        assert unpack(pack(exchange)) == exchange


def test_close_writes_everything_submitted(tmp_path: Path, writers: list[ProcessWriter]) -> None:
    writer = opened(writers, tmp_path)
    submitted = [fresh() for _ in range(300)]
    assert all(writer.submit(exchange) for exchange in submitted)
    assert writer.close(timeout=60)  # at once: close waits for the writer process to drain
    assert (writer.written, writer.failed, writer.dropped, writer.pending) == (300, 0, 0, 0)
    assert writer.pending_bytes == 0
    on_disk = {exchange.id for exchange in RecordingStore(tmp_path).iter_exchanges()}
    assert on_disk == {exchange.id for exchange in submitted}
    assert not writer.submit(fresh())  # closed
    assert writer.dropped == 1


def test_personal_data_is_redacted_on_disk_and_nowhere_in_clear(
    tmp_path: Path, writers: list[ProcessWriter]
) -> None:
    writer = opened(writers, tmp_path)
    exchange = fresh()
    assert SURNAME.encode() in exchange.request.body and exchange.response is not None
    assert writer.submit(exchange)
    assert writer.close(timeout=30)
    [path] = tmp_path.rglob("*.yaml")
    assert path.relative_to(tmp_path).parts[:2] == ("pnc", "PersonEnquiry")
    assert oct(path.stat().st_mode & 0o777) == oct(0o600)
    assert oct(path.parent.stat().st_mode & 0o777) == oct(0o700)
    stored = read_exchange(path)
    assert b"REDACTED" in stored.request.body
    assert stored.request.header("X-Officer-Id") == "REDACTED"
    everything = everything_under(tmp_path)
    for clear in (SURNAME, SURNAME.lower(), "1980-02-29", "P-77", "PC 4711", "c2VjcmV0OnNlY3JldA=="):
        assert clear.encode() not in everything, clear


def test_a_path_no_route_names_is_filed_by_digest(tmp_path: Path, writers: list[ProcessWriter]) -> None:
    writer = opened(writers, tmp_path)  # knows /pnc only
    assert writer.submit(fresh(operation=OperationName("/Thistlewood", "PersonEnquiry", "")))
    assert writer.close(timeout=30)
    [path] = tmp_path.rglob("*.yaml")
    assert path.relative_to(tmp_path).parts[0].startswith("_service-")
    assert b"Thistlewood" not in str(path).encode()


def test_a_killed_writer_process_is_counted_replaced_and_leaves_no_torn_file(
    tmp_path: Path, writers: list[ProcessWriter], caplog: pytest.LogCaptureFixture
) -> None:
    failures: list[int] = []
    writer = opened(writers, tmp_path, on_failure=lambda: failures.append(1))
    assert all(writer.submit(fresh()) for _ in range(20))
    wait_for(lambda: writer.written == 20)
    first = writer.pid
    assert first is not None
    os.kill(first, signal.SIGSTOP)  # held still: what is sent now stays in flight
    assert all(writer.submit(fresh()) for _ in range(30))
    wait_for(lambda: writer.in_flight == 30)
    # what a process killed mid-write leaves: a hidden temp file, never a torn .yaml
    cut_off = tmp_path / "pnc" / "PersonEnquiry" / f".{new_exchange_id()}.yaml.x7k2p9.tmp"
    cut_off.write_bytes(b"turnout_exchange: 1\nid: half")
    with caplog.at_level(logging.INFO, logger="turnout.recording"):
        os.kill(first, signal.SIGKILL)
        wait_for(lambda: writer.failed == 30)  # every exchange it held, counted
        wait_for(lambda: writer.ready and writer.pid not in (None, first))  # and another started
        assert all(writer.submit(fresh()) for _ in range(10))
        assert writer.close(timeout=30)
    assert (writer.written, writer.failed, writer.dropped, writer.pending) == (30, 30, 0, 0)
    assert len(failures) == 30
    died = [r for r in caplog.records if "recording writer process" in r.getMessage()]
    assert len(died) == 1, [r.getMessage() for r in died]  # one line, not one per exchange
    assert "30 exchanges sent to it not confirmed written" in died[0].getMessage()
    assert "starting another" in died[0].getMessage()
    assert not cut_off.exists()  # the new process removed it before writing
    assert "removed 1 unfinished recordings" in caplog.text  # and said so, through this process
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]
    assert len(list(RecordingStore(tmp_path).iter_exchanges())) == 30  # each whole, or it raises


def test_the_bound_in_body_bytes_drops_and_counts(tmp_path: Path, writers: list[ProcessWriter]) -> None:
    size = len(ENQUIRY) + len(REPLY)
    writer = opened(writers, tmp_path, max_bytes=10 * size)
    wait_for(lambda: writer.ready)
    pid = writer.pid
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)  # nothing is written: everything taken stays counted
    accepted = [writer.submit(fresh()) for _ in range(15)]  # and submit still never waits
    assert accepted == [True] * 10 + [False] * 5
    assert (writer.dropped, writer.pending, writer.pending_bytes) == (5, 10, 10 * size)
    os.kill(pid, signal.SIGCONT)
    assert writer.close(timeout=30)
    assert (writer.written, writer.dropped, writer.failed, writer.pending_bytes) == (10, 5, 0, 0)


def test_the_bound_in_count_drops_and_counts(tmp_path: Path, writers: list[ProcessWriter]) -> None:
    writer = opened(writers, tmp_path, max_queue=3)
    wait_for(lambda: writer.ready)
    pid = writer.pid
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)
    assert [writer.submit(fresh()) for _ in range(5)] == [True] * 3 + [False] * 2
    os.kill(pid, signal.SIGCONT)
    assert writer.close(timeout=30)
    assert (writer.written, writer.dropped) == (3, 2)


def test_failures_in_the_writer_process_are_counted_and_logged_here_by_kind(
    tmp_path: Path, writers: list[ProcessWriter], caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "pnc").write_text("a file where a directory should be")
    failures: list[int] = []
    writer = opened(writers, tmp_path, on_failure=lambda: failures.append(1))
    with caplog.at_level(logging.ERROR, logger="turnout.recording"):
        for _ in range(12):
            writer.submit(fresh())
        writer.submit(fresh(operation=OperationName("/pnc2", "Search", "")))  # elsewhere: fine
        assert writer.close(timeout=30)
    assert (writer.written, writer.failed) == (1, 12) and len(failures) == 12
    lines = [r.getMessage() for r in caplog.records if "could not record exchange" in r.getMessage()]
    assert len(lines) == 2, lines  # the first of its kind, then the 10th
    assert "RecordingError" in lines[0] and "Not a directory" in lines[0]
    assert "(10 failures of this kind so far)" in lines[1]
    assert "Traceback" not in caplog.text


def test_the_writer_process_log_lines_reach_this_process(
    tmp_path: Path, writers: list[ProcessWriter], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="turnout.recording"):
        writer = open_writer(tmp_path, None, known_services=lambda: {"/pnc"})  # no rules at all
        assert isinstance(writer, ProcessWriter)
        writers.append(writer)
        assert writer.submit(fresh())
        assert writer.close(timeout=30)
    # said here at start, and by the store in the writer process for the new directory
    assert f"recording to {tmp_path} WITHOUT redaction rules" in caplog.text
    assert f"recording WITHOUT redaction rules to {tmp_path / 'pnc' / 'PersonEnquiry'}" in caplog.text


def test_a_bad_redaction_rule_is_refused_before_any_process_starts(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"redaction\.body\[0\]"):
        open_writer(tmp_path, {"body": ["//pnc:surname"]})  # an undeclared prefix


def test_close_gives_up_on_a_writer_process_that_does_not_finish(
    tmp_path: Path, writers: list[ProcessWriter], caplog: pytest.LogCaptureFixture
) -> None:
    writer = opened(writers, tmp_path)
    wait_for(lambda: writer.ready)
    pid = writer.pid
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)  # stuck: it will never report
    assert all(writer.submit(fresh()) for _ in range(5))
    with caplog.at_level(logging.ERROR, logger="turnout.recording"):
        assert not writer.close(timeout=1)
    assert (writer.written, writer.failed, writer.pending) == (0, 5, 0)
    assert "5 exchanges not written" in caplog.text
    wait_for(lambda: not _alive(pid))  # killed, not left behind


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie still answers kill(0); its state says it is gone
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[-1][:1] not in ("Z", "X")
    except FileNotFoundError:
        return False
