"""The writer process: what it runs. Redaction, serialisation and the writes happen here.

It reads batches of exchanges from the serving process (`_wire` frames), and for each batch
decodes, redacts and serialises every exchange, writes the files as one group (each file
fsync'd and renamed, each directory synced once), then reports back, in order, which were
written and why any were not, with the log lines it made meanwhile (the serving process logs
them: this process has no logging set up of its own). It stops when told to, or when the
serving process is gone (end of its pipe) once what it was sent is written.

SIGINT and SIGTERM are ignored: they reach the whole process group (Ctrl-C in a terminal, a
service manager stopping the unit), and the serving process answers them by draining the queue
into this process before it stops it. Were it to stop first, that drain would be lost.
"""

from __future__ import annotations

import logging
import os
import pickle
import signal
from collections.abc import Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from ._decode import DEFAULT_MAX_DECODED
from ._handoff import Packed, unpack
from ._redact_config import redactor_from_config
from ._store import RecordingStore
from ._wire import FrameReader
from ._writer import Failure, describe

#: the most log lines one report carries (a flood of them is summed up instead)
_MAX_LINES = 200


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
        lines, self.lines = self.lines, []
        if self.lost:
            lines.append(("turnout.recording", logging.WARNING,
                          f"writer process: {self.lost} more log lines not shown", 0.0))
            self.lost = 0
        return lines


def run(inbound: Connection, results: Connection, settings: WriterSettings, level: int) -> None:
    """The writer process's main function (started by `ProcessWriter` with "spawn")."""
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
    frames = FrameReader(inbound.fileno())
    while True:
        messages = frames.read()
        if messages is None:
            return  # the serving process is gone, or closed the pipe: all it sent is written
        jobs: list[Job] = []
        stop = False
        for message in messages:
            kind, *rest = message  # type: ignore[misc]
            if kind == "stop":
                stop = True
            else:
                jobs.extend(rest[0])
        if jobs:
            report("done", write_batch(store, jobs))
        if stop:
            return


def write_batch(store: RecordingStore, jobs: list[Job]) -> list[tuple[int, Failure | None]]:
    """Prepare each exchange, write them all as one group; for each its sequence number and
    None (written) or why not."""
    outcome: dict[int, Failure | None] = {}
    prepared: list[tuple[int, tuple[Path, bytes]]] = []
    for seq, known, packed in jobs:
        try:
            prepared.append((seq, store.prepare(unpack(packed), known)))
        except Exception as exc:  # noqa: BLE001 - one bad exchange must not lose the batch
            outcome[seq] = describe(exc)
    try:
        written = store.write_files([files for _, files in prepared])
    except Exception as exc:  # noqa: BLE001 - reported for each exchange of the batch
        for seq, _ in prepared:
            outcome[seq] = describe(exc)
    else:
        for (seq, _), result in zip(prepared, written, strict=True):
            outcome[seq] = None if isinstance(result, Path) else describe(result)
    return [(seq, outcome[seq]) for seq, _, _ in jobs]
