"""Writing recordings off the event loop: a bounded queue and one daemon thread.

The proxy must never wait for a disk. `submit` only enqueues; when the queue is full the
exchange is dropped and counted, because losing a recording is better than delaying an officer.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Callable

from ._exchange import Exchange
from ._store import RecordingStore

log = logging.getLogger("turnout.recording")

_STOP = object()


class RecordingWriter:
    """Writes submitted exchanges to `store` in the background, in submission order."""

    def __init__(
        self, store: RecordingStore, max_queue: int = 1000, on_failure: Callable[[], None] | None = None
    ) -> None:
        if max_queue < 1:
            raise ValueError("max_queue must be at least 1")
        self.store = store
        #: called (on the writer's thread) for each exchange the store could not write
        self.on_failure = on_failure
        self._queue: queue.Queue[object] = queue.Queue(maxsize=max_queue)
        self._lock = threading.Lock()  # guards the counters and `_closed`
        self._closed = False
        self._stop_queued = False
        self._written = 0
        self._dropped = 0
        self._failed = 0
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

    def submit(self, exchange: Exchange) -> bool:
        """Queue `exchange` for writing. Never blocks; False when it was dropped instead.

        The writer owns `exchange` from here on: the caller must not change it.
        """
        with self._lock:
            if not self._closed:
                try:
                    self._queue.put_nowait(exchange)
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
            self._write(item)  # type: ignore[arg-type]

    def _write(self, exchange: Exchange) -> None:
        try:
            self.store.write(exchange)
        except Exception:  # noqa: BLE001 - the thread must outlive any one bad exchange
            with self._lock:
                self._failed += 1
            log.exception("could not record exchange %s", getattr(exchange, "id", "?"))
            if self.on_failure is not None:
                self.on_failure()
            return
        with self._lock:
            self._written += 1


def _is_power_of_ten(n: int) -> bool:
    while n >= 10 and n % 10 == 0:
        n //= 10
    return n == 1
