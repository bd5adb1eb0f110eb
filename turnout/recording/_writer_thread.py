"""A recording writer in this process: a bounded queue and one daemon thread.

For tools and tests that write recordings directly. The proxy does not use it: redaction,
serialisation and fsync on a thread take the interpreter lock from the event loop that serves
clients (measured: 270-500 µs more per request), so the proxy's writer is a process of its own
(`_writer_process`).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import cast

from ._exchange import Exchange
from ._store import RecordingStore
from ._writer import DEFAULT_MAX_BYTES, RecordingWriter, describe

log = logging.getLogger("turnout.recording")

_STOP = object()


class ThreadWriter(RecordingWriter):
    """Writes submitted exchanges to `store` on one thread, in submission order. `max_queue`
    bounds the exchanges waiting (not the one being written); `max_bytes` all of them."""

    def __init__(
        self,
        store: RecordingStore,
        max_queue: int = 1000,
        on_failure: Callable[[], object] | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        super().__init__(max_queue, max_bytes, on_failure)
        self.store = store
        self._queue: queue.Queue[object] = queue.Queue(maxsize=max_queue)
        self._stop_queued = False
        self._thread = threading.Thread(
            target=self._run, name="turnout-recording-writer", daemon=True
        )
        self._thread.start()

    @property
    def pending(self) -> int:
        """Exchanges queued, not counting the one being written."""
        return self._queue.qsize()

    def _enqueue(self, exchange: Exchange, size: int) -> bool:
        try:
            self._queue.put_nowait((exchange, size))
        except queue.Full:
            return False
        return True

    def close(self, timeout: float) -> bool:
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
            exchange, size = cast(tuple[Exchange, int], item)
            try:
                self.store.write(exchange)
            except Exception as exc:  # noqa: BLE001 - the thread must outlive any one bad exchange
                self._failed_one(getattr(exchange, "id", "?"), size, describe(exc))
            else:
                self._written_one(size)
