"""The audit trail on disk: one JSONL file per UTC day, appended off the event loop.

`submit` only enqueues (a bounded queue; when it is full the line is dropped and counted, never
waited for). One daemon thread takes what is queued in batches, appends each batch to its day's
file with one `write` on a descriptor opened `O_APPEND`, then `fsync`s it: a line on disk is
whole and stays there through a crash; at worst the last batch of a power cut is lost, never
torn into the previous one.

The directory is created (and kept) 0700, each file 0600. Files are named `YYYY-MM-DD.jsonl` by
the UTC day of the request; several proxies on one local filesystem may share a directory
(appends of whole lines do not interleave), not on NFS, where each needs its own.

Failures are counted and logged by kind: once, then at 10, 100, 1000... with the count.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import re
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from ..config import FailureLog, failure_kind, is_power_of_ten, so_far

log = logging.getLogger("turnout.audit")

_STOP = object()
_BATCH = 512
FILE_MODE = 0o600
DIR_MODE = 0o700
SUFFIX = ".jsonl"
_DAY_FILE = re.compile(r"(\d{4})-(\d{2})-(\d{2})\.jsonl")


def day_file(directory: Path, day: str) -> Path:
    return directory / f"{day}{SUFFIX}"


def file_day(path: Path) -> date | None:
    """The UTC day a trail file holds, from its name; None for any other file."""
    match = _DAY_FILE.fullmatch(path.name)
    if match is None:
        return None
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def day_files(directory: Path) -> list[tuple[date, Path]]:
    """The trail's files, oldest day first."""
    if not directory.is_dir():
        return []
    found = [(day, path) for path in directory.iterdir() if (day := file_day(path)) is not None]
    return sorted(found)


def prepare_directory(directory: Path) -> None:
    """Create the trail's directory 0700 (parents as usual), or bring an existing one to 0700."""
    directory.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    os.chmod(directory, DIR_MODE)


def prune(directory: Path, older_than: timedelta, now: datetime | None = None,
          dry_run: bool = False) -> list[Path]:
    """Delete the day files all of whose lines are older than `older_than` (a day's file goes
    once the end of that day is that old); returns them, oldest first."""
    cutoff = (now or datetime.now(UTC)) - older_than
    old = [path for day, path in day_files(directory)
           if datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1) <= cutoff]
    if not dry_run:
        for path in old:
            path.unlink(missing_ok=True)
    return old


def encode(line: dict[str, Any]) -> bytes:
    """One line of JSON (ASCII, so no byte in it can be read as a line break)."""
    return json.dumps(line, separators=(",", ":"), ensure_ascii=True).encode() + b"\n"


class AuditTrail:
    """Appends submitted lines (dicts with a `time` of `YYYY-MM-DD...`) to `directory`."""

    def __init__(
        self,
        directory: Path,
        *,
        max_queue: int = 10_000,
        retention: timedelta | None = None,
        count: Callable[[str, int], object] | None = None,
    ) -> None:
        if max_queue < 1:
            raise ValueError("max_queue must be at least 1")
        self.directory = directory
        self.retention = retention
        self._count = count
        prepare_directory(directory)
        if retention is not None:
            self._prune()
        self._queue: queue.Queue[object] = queue.Queue(maxsize=max_queue)
        self._lock = threading.Lock()
        self._closed = False
        self._written = self._dropped = self._failed = 0
        self._failures = FailureLog()
        self._files: dict[str, int] = {}  # day -> descriptor; writer thread only
        self._thread = threading.Thread(target=self._run, name="turnout-audit-writer", daemon=True)
        self._thread.start()

    # -- any thread ----------------------------------------------------------------------------
    @property
    def written(self) -> int:
        with self._lock:
            return self._written

    @property
    def dropped(self) -> int:
        with self._lock:
            return self._dropped

    @property
    def failed(self) -> int:
        with self._lock:
            return self._failed

    def submit(self, line: dict[str, Any]) -> bool:
        """Queue `line`. Never blocks: False (counted as `audit.dropped`) when the queue is full
        or the trail closed. The trail owns `line` from here on."""
        with self._lock:
            if not self._closed:
                try:
                    self._queue.put_nowait(line)
                    return True
                except queue.Full:
                    pass
            self._dropped += 1
            dropped = self._dropped
        self._counted("audit.dropped", 1)
        if is_power_of_ten(dropped):
            log.error("audit queue full or closed: %d audit lines dropped so far", dropped)
        return False

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every line queued so far is on disk (or failed). For tests and shutdown."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._queue.unfinished_tasks == 0:
                return True
            time.sleep(0.01)
        return False

    def close(self, timeout: float = 10.0) -> bool:
        """Take no more lines, write those queued, stop the thread. True when all got written
        (or failed) within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._lock:
            already = self._closed
            self._closed = True
        if not already:
            try:
                self._queue.put(_STOP, timeout=max(0.0, deadline - time.monotonic()))
            except queue.Full:
                pass
        self._thread.join(max(0.0, deadline - time.monotonic()))
        if self._thread.is_alive():
            log.error("audit writer did not finish within %.1fs: %d lines not written",
                      timeout, self._queue.qsize())
            return False
        return True

    def _counted(self, name: str, n: int) -> None:
        if self._count is not None and n:
            self._count(name, n)

    # -- the writer thread ---------------------------------------------------------------------
    def _run(self) -> None:
        try:
            while True:
                batch = [self._queue.get()]
                while len(batch) < _BATCH:
                    try:
                        batch.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
                lines = [item for item in batch if item is not _STOP]
                try:
                    if lines:
                        self._append(lines)  # type: ignore[arg-type]
                finally:
                    for _ in batch:
                        self._queue.task_done()
                if len(lines) < len(batch):
                    return
        finally:
            for fd in self._files.values():
                os.close(fd)
            self._files.clear()

    def _append(self, lines: list[dict[str, Any]]) -> None:
        by_day: dict[str, list[bytes]] = {}
        for line in lines:
            try:
                data = encode(line)
                day = str(line["time"])[:10]
                date.fromisoformat(day)
            except (TypeError, ValueError, KeyError) as exc:  # a bug upstream: lose one line, not all
                self._failure(1, exc)
                continue
            by_day.setdefault(day, []).append(data)
        for day, chunks in by_day.items():
            try:
                fd = self._open(day)
                _write_all(fd, b"".join(chunks))
                os.fsync(fd)
            except OSError as exc:
                self._forget(day)
                self._failure(len(chunks), exc)
                continue
            with self._lock:
                self._written += len(chunks)
            self._counted("audit.written", len(chunks))

    def _open(self, day: str) -> int:
        fd = self._files.get(day)
        if fd is not None:
            return fd
        if self._files and day > max(self._files):  # a new UTC day: the old ones are done
            for old in [d for d in self._files if d < day]:
                self._forget(old)
            if self.retention is not None:
                self._prune()
        prepare_directory(self.directory)  # removed or loosened meanwhile: made right again
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(day_file(self.directory, day), flags, FILE_MODE)
        try:
            os.fchmod(fd, FILE_MODE)  # the umask only narrows; an older file may be wider
        except OSError:
            os.close(fd)
            raise
        self._files[day] = fd
        return fd

    def _forget(self, day: str) -> None:
        fd = self._files.pop(day, None)
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass

    def _prune(self) -> None:
        assert self.retention is not None
        try:
            removed = prune(self.directory, self.retention)
        except OSError as exc:
            log.error("audit retention: could not prune %s: %s", self.directory, exc)
            return
        if removed:
            log.warning("audit retention: deleted %d day files older than %s (%s .. %s)",
                        len(removed), _age(self.retention), removed[0].name, removed[-1].name)

    def _failure(self, n: int, exc: BaseException) -> None:
        with self._lock:
            self._failed += n
        self._counted("audit.failed", n)
        kind = failure_kind(exc)
        seen = self._failures.due(kind)
        if seen is not None:
            log.error("audit trail: could not write %d lines to %s: %s: %s%s", n, self.directory,
                      kind[0], str(exc)[:300], so_far(seen))


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _age(delta: timedelta) -> str:
    return f"{delta.days}d" if not delta.seconds else str(delta)
