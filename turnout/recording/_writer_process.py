"""The proxy's recording writer: the work in a process of its own, the hand-off kept cheap.

A writer thread redacting, serialising and fsyncing in the serving process shares its
interpreter lock: the event loop paid 270-500 µs more per request for it, and under sustained
load two thirds of the exchanges were dropped. Here the serving process only queues:

- `submit` checks the bounds (count and body bytes of everything taken and not yet written),
  appends to a queue and, when the sender thread sleeps, wakes it. Nothing else runs on the
  event loop.
- A sender thread lets a few milliseconds of exchanges gather, decides for each whether its
  service path may name a folder (`known_services`, asked once per batch), and writes the batch
  to the writer process as one frame: small values pickled, bodies beside them untouched
  (`_wire`).
- The writer process (`_writer_child`, started with "spawn") decodes, redacts, serialises and
  writes each batch as one group, and reports each exchange written or why not.
- A reader thread takes the reports: counts, `on_failure`, failure lines by kind, and the
  writer process's own log lines, logged here where logging is set up.

If the writer process dies, the reader notices (the end of its pipe), counts every exchange
sent to it and not reported as failed, says so in one line, and starts another, which first
removes the temp files the dead one left (a write cut off is only ever a hidden temp file). A
process that keeps dying soon after it starts is restarted after a growing pause (up to 30 s);
meanwhile exchanges queue up to the bounds, then are dropped and counted.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import pickle
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from ._decode import DEFAULT_MAX_DECODED
from ._exchange import Exchange
from ._handoff import pack
from ._redact_config import redactor_from_config
from ._store import service_key
from ._wire import out_of_band, widen, write_frame
from ._writer import DEFAULT_MAX_BYTES, RecordingWriter
from ._writer_child import Job, WriterSettings, run

log = logging.getLogger("turnout.recording")

#: how long the sender lets exchanges gather before it sends them (they are not waited for:
#: this only makes batches, and so fewer wake-ups and directory syncs)
LINGER = 0.005
#: the most exchanges, and body bytes, in one frame
_BATCH = 256
_BATCH_BYTES = 16 * 1024 * 1024
#: a writer process that dies within this many seconds of starting is restarted after a pause
_QUICK_DEATH = 10.0
_MAX_PAUSE = 30.0


@dataclass
class _Child:
    process: BaseProcess
    inbound: Connection  # we write frames to it
    results: Connection  # we read reports from it
    started: float
    ready: bool = False


class ProcessWriter(RecordingWriter):
    """Records in a spawned writer process; see the module's docstring. `pending` counts every
    exchange taken and not yet reported written or failed."""

    def __init__(
        self,
        settings: WriterSettings,
        *,
        known_services: Callable[[], Iterable[str]] | None = None,
        max_queue: int = 10_000,
        max_bytes: int = DEFAULT_MAX_BYTES,
        on_failure: Callable[[], object] | None = None,
        linger: float = LINGER,
    ) -> None:
        super().__init__(max_queue, max_bytes, on_failure)
        self.settings = settings
        self.known_services = known_services
        self.linger = linger
        self._queue: deque[tuple[int, Exchange, int]] = deque()  # (seq, exchange, size)
        self._inflight: dict[int, tuple[str, int]] = {}  # seq -> (exchange id, size), sent
        self._next_seq = 0
        self._changed = threading.Condition(self._lock)  # queue, in-flight or child changed
        self._sender_idle = True
        self._stopping = False
        self._gave_up = False  # `close` ran out of time and killed the writer process
        self._quick_deaths = 0
        self._known_failed = False
        self._child: _Child | None = self._start()
        self._sender = threading.Thread(target=self._send_loop, name="turnout-recording-sender",
                                        daemon=True)
        self._reader = threading.Thread(target=self._read_loop, name="turnout-recording-reports",
                                        daemon=True)
        self._sender.start()
        self._reader.start()
        # At exit, drain and stop the writer process rather than leave it waiting on a pipe
        # multiprocessing's own exit handler would then wait for (it ignores SIGTERM).
        atexit.register(_close_at_exit, weakref.ref(self))

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._queue) + len(self._inflight)

    @property
    def in_flight(self) -> int:
        """Exchanges sent to the writer process and not yet reported written or failed."""
        with self._lock:
            return len(self._inflight)

    @property
    def pid(self) -> int | None:
        """The writer process's id (None while it is being restarted)."""
        with self._lock:
            child = self._child
        return child.process.pid if child is not None else None

    @property
    def ready(self) -> bool:
        """Whether the writer process has started and cleaned up, and now takes batches."""
        with self._lock:
            child = self._child
        return child is not None and child.ready

    # -- the serving process's side: never blocks ------------------------------------------

    def _enqueue(self, exchange: Exchange, size: int) -> bool:
        if len(self._queue) + len(self._inflight) >= self.max_queue:
            return False
        self._queue.append((self._next_seq, exchange, size))
        self._next_seq += 1
        if self._sender_idle:
            self._sender_idle = False
            self._changed.notify_all()
        return True

    def close(self, timeout: float) -> bool:
        """Take no more exchanges, let the writer process write those taken, then stop it.

        True when every exchange taken was written or failed within `timeout` seconds. Those
        still unwritten then are counted as failed, and the writer process is killed."""
        deadline = time.monotonic() + timeout
        with self._lock:
            self._closed = True
            while (self._queue or self._inflight) and time.monotonic() < deadline:
                self._changed.wait(min(0.1, max(0.0, deadline - time.monotonic())))
            drained = not self._queue and not self._inflight
            self._stopping = True
            self._changed.notify_all()
        self._sender.join(max(0.0, deadline - time.monotonic()))
        # The reader ends once the writer process has exited and been reaped (by the reader
        # alone: two threads waiting for one process can each miss its exit status).
        self._reader.join(max(0.0, deadline - time.monotonic()))
        gave_up = self._reader.is_alive()
        if gave_up:
            with self._lock:
                self._gave_up = True
                unfinished = len(self._queue) + len(self._inflight)
                child = self._child
            log.error("recording writer did not finish within %.1fs: %d exchanges not written",
                      timeout, unfinished)
            if child is not None:
                child.process.kill()
            self._reader.join(10)
        self._sender.join(1)  # unblocked by now, if it was writing to the killed process
        with self._lock:
            lost = [(exchange.id, size) for _, exchange, size in self._queue]
            lost += list(self._inflight.values())
            self._queue.clear()
            self._inflight.clear()
        if lost and not gave_up:  # no writer process to wait for (it was being restarted)
            log.error("recording writer did not finish within %.1fs: %d exchanges not written",
                      timeout, len(lost))
        for exchange_id, size in lost:
            self._failed_one(exchange_id, size, ("Unwritten", None, None), log_it=False)
        return drained and not lost and not gave_up

    # -- the sender thread -------------------------------------------------------------------

    def _send_loop(self) -> None:
        child: _Child | None = None
        try:
            while True:
                with self._lock:
                    while not self._queue and not self._stopping:
                        self._sender_idle = True
                        self._changed.wait()
                    self._sender_idle = False
                if not self._stopping:
                    time.sleep(self.linger)  # let a few more gather into this batch
                with self._lock:
                    if self._child is not child and child is not None:
                        child.inbound.close()  # a dead one's: its reports are over
                    child = self._child
                    if child is None:  # being restarted
                        if self._stopping:
                            return
                        self._changed.wait(0.1)
                        continue
                    batch = self._take_batch()
                    last = self._stopping and not self._queue
                if batch:
                    self._send(child, batch)
                if last:
                    try:
                        write_frame(child.inbound.fileno(), ("stop",))
                    except OSError:
                        pass  # gone already: the reader sees to it
                    return
        finally:
            if child is not None:
                child.inbound.close()

    def _take_batch(self) -> list[tuple[int, Exchange]]:
        """Up to a frame's worth of the queue, moved to in-flight (holding `_lock`)."""
        batch: list[tuple[int, Exchange]] = []
        weight = 0
        while self._queue and len(batch) < _BATCH and weight < _BATCH_BYTES:
            seq, exchange, size = self._queue.popleft()
            self._inflight[seq] = (exchange.id, size)
            batch.append((seq, exchange))
            weight += size
        return batch

    def _send(self, child: _Child, batch: list[tuple[int, Exchange]]) -> None:
        known = self._known()
        jobs: list[Job] = []
        for seq, exchange in batch:
            service = exchange.operation.service if exchange.operation is not None else ""
            jobs.append((seq, known is None or service_key(service) in known,
                         pack(exchange, out_of_band)))
        try:
            write_frame(child.inbound.fileno(), ("batch", jobs))
        except OSError:
            pass  # the writer process is gone: the reader counts this batch as failed

    def _known(self) -> set[str] | None:
        """The service paths that may name folders now; None: every one may."""
        if self.known_services is None:
            return None
        try:
            return {service_key(service) for service in self.known_services()}
        except Exception:  # noqa: BLE001 - a bug in the caller's callable: no names, only digests
            if not self._known_failed:
                self._known_failed = True
                log.exception("known_services failed; unknown service paths are filed by digest")
            return set()

    # -- the reader thread -------------------------------------------------------------------

    def _read_loop(self) -> None:
        while True:
            with self._lock:
                child = self._child
            if child is None:
                return
            try:
                message = pickle.loads(child.results.recv_bytes())
            except (EOFError, OSError):
                if not self._replace(child):
                    return
                continue
            try:
                self._take(child, message)
            except Exception:  # noqa: BLE001 - a bug here must not stop the reports being read
                log.exception("recording writer: could not take a report")

    def _take(self, child: _Child, message: Any) -> None:
        kind, *rest, lines = message
        _log_lines(lines)
        if kind == "ready":
            child.ready = True
        elif kind == "done":
            for seq, failure in rest[0]:
                with self._lock:
                    exchange_id, size = self._inflight.pop(seq, ("?", 0))
                    self._changed.notify_all()
                if failure is None:
                    self._written_one(size)
                else:
                    self._failed_one(exchange_id, size, failure)
        elif kind == "fatal":
            log.error("recording writer process could not start: %s", rest[0])

    def _replace(self, child: _Child) -> bool:
        """`child` is gone: count what it did not report, start another. False when stopping
        (or no other can be started before `close` gives up)."""
        child.results.close()
        child.process.join(5)
        with self._lock:
            lost = list(self._inflight.values())
            self._inflight.clear()
            self._child = None
            stopping = self._stopping
            self._changed.notify_all()
        for exchange_id, size in lost:
            self._failed_one(exchange_id, size, ("WriterDied", None, None), log_it=False)
        if stopping and (not lost or self._gave_up):  # stopped, or killed by `close`, which said so
            return False
        log.error("recording writer process %s stopped (exit code %s): %d exchanges sent to it "
                  "not confirmed written, counted as failed%s", child.process.pid,
                  child.process.exitcode, len(lost), "" if stopping else "; starting another")
        if stopping:
            return False
        quick = time.monotonic() - child.started < _QUICK_DEATH
        self._quick_deaths = self._quick_deaths + 1 if quick else 0
        pause = min(_MAX_PAUSE, 0.5 * 2 ** (self._quick_deaths - 1)) if self._quick_deaths else 0.0
        while True:
            with self._lock:
                until = time.monotonic() + pause  # the whole pause: submits notify meanwhile
                while not self._stopping and (left := until - time.monotonic()) > 0:
                    self._changed.wait(left)
                if self._stopping:
                    return False
            try:
                new = self._start()
            except OSError as exc:
                log.error("could not start a recording writer process: %s", exc)
                pause = _MAX_PAUSE
                continue
            with self._lock:
                self._child = new
                self._changed.notify_all()
            return True

    def _start(self) -> _Child:
        context = multiprocessing.get_context("spawn")
        inbound_read, inbound_write = context.Pipe(duplex=False)
        results_read, results_write = context.Pipe(duplex=False)
        widen(inbound_write.fileno())
        level = logging.getLogger("turnout.recording").getEffectiveLevel()
        process = context.Process(
            target=run, args=(inbound_read, results_write, self.settings, level),
            name="turnout-recording-writer", daemon=True,
        )
        try:
            process.start()
        finally:
            inbound_read.close()  # the writer process's ends: ours closed, so its death is seen
            results_write.close()
        return _Child(process, inbound_write, results_read, time.monotonic())


def _log_lines(lines: list[tuple[str, int, str, float]]) -> None:
    """Log here what the writer process logged there."""
    for name, level, text, created in lines:
        logger = logging.getLogger(name)
        if logger.isEnabledFor(level):
            record = logger.makeRecord(name, level, "(writer process)", 0, text, (), None)
            if created:
                record.created = created
            record.processName = "turnout-recording-writer"
            logger.handle(record)


def _close_at_exit(ref: weakref.ref[ProcessWriter]) -> None:
    writer = ref()
    if writer is not None:
        writer.close(timeout=10.0)


def open_writer(
    root: Path,
    redaction_settings: Mapping[str, Any] | None,
    *,
    known_services: Callable[[], Iterable[str]] | None = None,
    max_queue: int = 10_000,
    max_bytes: int = DEFAULT_MAX_BYTES,
    on_failure: Callable[[], object] | None = None,
    max_decoded_bytes: int = DEFAULT_MAX_DECODED,
) -> RecordingWriter:
    """The proxy's recording writer: a `ProcessWriter` recording to `root` with the rules of
    `redaction_settings` (a `redaction:` section).

    The rules are built here first, so a bad rule or a missing key is a ValueError now, before
    anything listens; the writer process builds its own from the same section. `known_services`
    names the service paths that may be folder names (asked once per batch; any other path is
    filed under a digest of it). Without redaction rules it says so, loudly, at start (and the
    store again for every new directory)."""
    redactor = redactor_from_config(redaction_settings)
    if not redactor.has_rules:
        log.warning(
            "recording to %s WITHOUT redaction rules: personal data is written in clear, only "
            "credentials are hidden (add recordings.redaction to the configuration)", root,
        )
    settings = WriterSettings(Path(root), redaction_settings, max_decoded_bytes)
    return ProcessWriter(settings, known_services=known_services, max_queue=max_queue,
                         max_bytes=max_bytes, on_failure=on_failure)
