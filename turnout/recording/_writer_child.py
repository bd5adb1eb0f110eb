"""The writer process: what it runs. Redaction, serialisation and the writes happen here.

It reads batches of exchanges from the serving process (`_wire` frames), and for each batch
decodes, redacts and serialises every exchange, writes the files as one group (each file
fsync'd and renamed, each directory synced once), then reports back, in order, which were
written and why any were not, with the log lines it made meanwhile (the serving process logs
them: this process has no logging set up of its own). It stops when told to, or when the
serving process is gone (end of its pipe) once what it was sent is written.

Preparing is CPU; writing is mostly waiting for the disk (an fsync took 0.5-2 ms of wall time
on the development machine). So one thread prepares the next batch while another writes the
last, and the writes sync several files at a time (`write_many(workers=...)`).

SIGINT and SIGTERM are ignored: they reach the whole process group (Ctrl-C in a terminal, a
service manager stopping the unit), and the serving process answers them by draining the queue
into this process before it stops it. Were it to stop first, that drain would be lost.
"""

from __future__ import annotations

import logging
import os
import pickle
import queue
import signal
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, cast

from ..config import exit_with_parent
from ._decode import DEFAULT_MAX_DECODED
from ._handoff import Packed, unpack
from ._redact_config import redactor_from_config
from ._store import RecordingStore
from ._wire import FrameReader
from ._writer import Failure, describe

#: the most log lines one report carries (a flood of them is summed up instead)
_MAX_LINES = 200
#: files written and synced at a time
_SYNC_WORKERS = 4


@dataclass(frozen=True)
class WriterSettings:
    """What the writer process is started with: where, and the `redaction:` section (it builds
    its own redactor from it: compiled XPaths do not cross processes)."""

    root: Path
    redaction: Mapping[str, Any] | None
    max_decoded_bytes: int = DEFAULT_MAX_DECODED

    def store(self) -> RecordingStore:
        return RecordingStore(self.root, redactor_from_config(self.redaction),
                              max_decoded_bytes=self.max_decoded_bytes)


#: one exchange as sent: (sequence number, whether its service path may name a folder, packed)
Job = tuple[int, bool, Packed]


class _Outbox(logging.Handler):
    """Keeps this process's log records to send to the serving process with the next report."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[tuple[str, int, str, float]] = []
        self.lost = 0

    def emit(self, record: logging.LogRecord) -> None:
        if len(self.lines) < _MAX_LINES:
            self.lines.append((record.name, record.levelno, record.getMessage(), record.created))
        else:
            self.lost += 1

    def take(self) -> list[tuple[str, int, str, float]]:
        assert self.lock is not None  # made by Handler.__init__
        with self.lock:  # `emit` runs under it too, on either thread
            lines, self.lines = self.lines, []
            if self.lost:
                lines.append(("turnout.recording", logging.WARNING,
                              f"writer process: {self.lost} more log lines not shown", 0.0))
                self.lost = 0
        return lines


def run(inbound: Connection, results: Connection, settings: WriterSettings, level: int) -> None:
    """The writer process's main function (started by `ProcessWriter` with "spawn")."""
    exit_with_parent(grace=10.0)  # finish the batch in hand, then go: never an orphan
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    outbox = _Outbox()
    logger = logging.getLogger("turnout")
    logger.setLevel(level)
    logger.addHandler(outbox)
    logger.propagate = False

    def report(*message: object) -> None:
        results.send_bytes(pickle.dumps((*message, outbox.take()), protocol=5))

    try:
        store = settings.store()
    except Exception as exc:  # noqa: BLE001 - told to the serving process, which stops this one
        report("fatal", f"{type(exc).__name__}: {exc}")
        return
    store.remove_stale_temp_files()
    report("ready", os.getpid())
    prepared: queue.Queue[Prepared | None] = queue.Queue(maxsize=1)
    writing = threading.Thread(target=_write_loop, args=(store, prepared, report),
                               name="turnout-recording-io")
    writing.start()
    try:
        _prepare_loop(store, FrameReader(inbound.fileno()), prepared)
    finally:
        prepared.put(None)
        writing.join()


#: a batch prepared: the files to write, each with its sequence number, and the outcome of
#: each job in order (None for those still to be written)
Prepared = tuple[list[tuple[int, tuple[Path, bytes]]], list[tuple[int, Failure | None]]]


def _prepare_loop(store: RecordingStore, frames: FrameReader, prepared: queue.Queue[Prepared | None]) -> None:
    while True:
        messages = frames.read()
        if messages is None:
            return  # the serving process is gone, or closed the pipe: all it sent is prepared
        jobs: list[Job] = []
        stop = False
        for message in messages:
            kind, *rest = cast(tuple[Any, ...], message)
            if kind == "stop":
                stop = True
            else:
                jobs.extend(rest[0])
        if jobs:
            prepared.put(prepare_batch(store, jobs))  # waits while the last batch is written
        if stop:
            return


def _write_loop(store: RecordingStore, prepared: queue.Queue[Prepared | None],
                report: Callable[..., None]) -> None:
    while (batch := prepared.get()) is not None:
        report("done", write_prepared(store, batch))


def prepare_batch(store: RecordingStore, jobs: list[Job]) -> Prepared:
    """Decode, redact and serialise each exchange; one that fails is reported, not written."""
    files: list[tuple[int, tuple[Path, bytes]]] = []
    outcomes: list[tuple[int, Failure | None]] = []
    for seq, known, packed in jobs:
        try:
            files.append((seq, store.prepare(unpack(packed), known)))
        except Exception as exc:  # noqa: BLE001 - one bad exchange must not lose the batch
            outcomes.append((seq, describe(exc)))
        else:
            outcomes.append((seq, None))
    return files, outcomes


def write_prepared(store: RecordingStore, batch: Prepared) -> list[tuple[int, Failure | None]]:
    """Write a prepared batch as one group; for each job its sequence number and None
    (written) or why not, in the order of the jobs."""
    files, outcomes = batch
    written: dict[int, Failure | None] = {}
    try:
        results = store.write_files([file for _, file in files], workers=_SYNC_WORKERS)
    except Exception as exc:  # noqa: BLE001 - reported for each exchange of the batch
        written = {seq: describe(exc) for seq, _ in files}
    else:
        for (seq, _), result in zip(files, results, strict=True):
            written[seq] = None if isinstance(result, Path) else describe(result)
    return [(seq, written.get(seq) if failure is None else failure) for seq, failure in outcomes]


def write_batch(store: RecordingStore, jobs: list[Job]) -> list[tuple[int, Failure | None]]:
    """Prepare and write `jobs` in this thread (`prepare_batch`, then `write_prepared`)."""
    return write_prepared(store, prepare_batch(store, jobs))
