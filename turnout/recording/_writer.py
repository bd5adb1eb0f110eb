"""Writing recordings off the event loop: a bounded queue and one daemon thread.

The proxy must never wait for a disk. `submit` only enqueues; when the queue is full the
exchange is dropped and counted, because losing a recording is better than delaying an officer.
The queue is bounded twice: by count, and by the bytes of the bodies it holds (a slow disk
behind a queue of 10,000 large answers would otherwise hold gigabytes).

A store that fails once usually fails for every exchange (a full disk, a directory gone), so
failures are logged by kind: one ERROR line the first time an exception of a kind (its type and
errno) is seen, then again at the 10th, 100th, 1000th... with the count; never a traceback per
exchange.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Callable

from ._errors import RecordingError
from ._exchange import Exchange
from ._store import RecordingStore

log = logging.getLogger("turnout.recording")

_STOP = object()

#: default bound on the body bytes of queued exchanges
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
#: the longest exception message a failure line quotes
_MAX_MESSAGE = 300


class RecordingWriter:
    """Writes submitted exchanges to `store` in the background, in submission order."""

    def __init__(
        self,
        store: RecordingStore,
        max_queue: int = 1000,
        on_failure: Callable[[], None] | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        if max_queue < 1:
            raise ValueError("max_queue must be at least 1")
        if max_bytes < 1:
            raise ValueError("max_bytes must be at least 1")
        self.store = store
        #: called (on the writer's thread) for each exchange the store could not write
        self.on_failure = on_failure
        #: the most body bytes (request + response + translated) queued or being written
        self.max_bytes = max_bytes
        self._queue: queue.Queue[object] = queue.Queue(maxsize=max_queue)
        self._lock = threading.Lock()  # guards the counters, `_pending_bytes` and `_closed`
        self._closed = False
        self._stop_queued = False
        self._written = 0
        self._dropped = 0
        self._failed = 0
        self._pending_bytes = 0
        self._failure_kinds: dict[tuple[str, int | None], int] = {}  # writer thread only
        self._thread = threading.Thread(
            target=self._run, name="turnout-recording-writer", daemon=True
        )
        self._thread.start()

    @property
    def written(self) -> int:
        with self._lock:
            return self._written

    @property
    def dropped(self) -> int:
        """Exchanges refused because the queue was full or the writer closed."""
        with self._lock:
            return self._dropped

    @property
    def failed(self) -> int:
        """Exchanges the store could not write (logged as errors)."""
        with self._lock:
            return self._failed

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    @property
    def pending_bytes(self) -> int:
        """Body bytes of the exchanges queued or being written."""
        with self._lock:
            return self._pending_bytes

    def submit(self, exchange: Exchange) -> bool:
        """Queue `exchange` for writing. Never blocks; False when it was dropped instead
        (the queue holds `max_queue` exchanges or would pass `max_bytes`, or it is closed).

        The writer owns `exchange` from here on: the caller must not change it.
        """
        size = body_bytes(exchange)
        with self._lock:
            if not self._closed and self._pending_bytes + size <= self.max_bytes:
                try:
                    self._queue.put_nowait((exchange, size))
                    self._pending_bytes += size
                    return True
                except queue.Full:
                    pass
            self._dropped += 1
            dropped = self._dropped
        if _is_power_of_ten(dropped):  # loud, but not one line per request under overload
            log.warning("recording queue full or closed: %d exchanges dropped so far", dropped)
        return False

    def close(self, timeout: float) -> bool:
        """Stop taking exchanges, write those already queued, then stop the thread.

        Returns True when everything queued was written (or failed) within `timeout` seconds.
        """
        deadline = time.monotonic() + timeout
        with self._lock:
            self._closed = True
        if not self._stop_queued:
            # Behind everything accepted: `submit` enqueues under the lock, and refuses now.
            try:
                self._queue.put(_STOP, timeout=max(0.0, deadline - time.monotonic()))
                self._stop_queued = True
            except queue.Full:
                pass
        self._thread.join(max(0.0, deadline - time.monotonic()))
        if self._thread.is_alive():
            log.error(
                "recording writer did not finish within %.1fs: %d exchanges not written",
                timeout,
                self._queue.qsize(),
            )
            return False
        return True

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            exchange, size = item  # type: ignore[misc]
            self._write(exchange, size)

    def _write(self, exchange: Exchange, size: int) -> None:
        try:
            self.store.write(exchange)
        except Exception as exc:  # noqa: BLE001 - the thread must outlive any one bad exchange
            with self._lock:
                self._failed += 1
            self._log_failure(exchange, exc)
            if self.on_failure is not None:
                self.on_failure()
            return
        finally:
            with self._lock:
                self._pending_bytes -= size
        with self._lock:
            self._written += 1

    def _log_failure(self, exchange: Exchange, exc: Exception) -> None:
        """One line the first time a kind of failure is seen, then at 10, 100, 1000..."""
        kind = (type(exc).__name__, _errno(exc))
        count = self._failure_kinds.get(kind, 0) + 1
        self._failure_kinds[kind] = count
        if not _is_power_of_ten(count):
            return
        # The store's own errors say what failed and where (paths hold no request values: see
        # `_store`); any other exception comes from inside redaction or serialisation, and its
        # message may quote the exchange (`KeyError: 'Thistlewood'`): only its type is logged.
        if isinstance(exc, (RecordingError, OSError)):
            message = str(exc)
        else:
            message = "(its message is not logged: it may quote the exchange)"
        if len(message) > _MAX_MESSAGE:
            message = message[:_MAX_MESSAGE] + "..."
        so_far = "" if count == 1 else f" ({count} failures of this kind so far)"
        log.error(
            "could not record exchange %s: %s: %s%s",
            getattr(exchange, "id", "?"), kind[0], message, so_far,
        )


def body_bytes(exchange: Exchange) -> int:
    """What an exchange's bodies weigh: request, response and translated."""
    size = len(exchange.request.body)
    for message in (exchange.response, exchange.translated):
        if message is not None:
            size += len(message.body)
    return size


def _errno(exc: BaseException) -> int | None:
    """The errno of `exc` or of the error it was raised from (a RecordingError wraps OSError)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        number = getattr(current, "errno", None)
        if isinstance(number, int):
            return number
        current = current.__cause__ or current.__context__
    return None


def _is_power_of_ten(n: int) -> bool:
    while n >= 10 and n % 10 == 0:
        n //= 10
    return n == 1
