"""Writing recordings off the serving path: what every background writer promises.

The proxy must never wait for a disk. `submit` only queues; when the queue is full the exchange
is dropped and counted, because losing a recording is better than delaying an officer. The
queue is bounded twice: by count, and by the bytes of the bodies it holds (a slow disk behind a
queue of 10,000 large answers would otherwise hold gigabytes).

A store that fails once usually fails for every exchange (a full disk, a directory gone), so
failures are logged by kind (`turnout.config.FailureLog`): one ERROR line the first time an
exception of a kind (its type and errno) is seen, then again at the 10th, 100th, 1000th...
with the count; never a traceback per exchange.

Two writers keep these promises: `ProcessWriter` (`_writer_process`), which the proxy uses, does
the work in a process of its own; `ThreadWriter` (`_writer_thread`), in this process, for tools
and tests that write recordings directly.
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable

from turnout.config import FailureLog, failure_kind, is_power_of_ten, so_far

from ._errors import RecordingError
from ._exchange import Exchange

log = logging.getLogger("turnout.recording")

#: default bound on the body bytes of queued exchanges
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
#: the longest exception message a failure line quotes
_MAX_MESSAGE = 300
#: what a failure line says instead of a message that may quote the exchange
UNLOGGED = "(its message is not logged: it may quote the exchange)"

#: how one failure is reported: the exception's type name, its errno, and a message fit for
#: the log (None when it may quote the exchange)
Failure = tuple[str, int | None, str | None]


def describe(exc: BaseException) -> Failure:
    """The report of `exc`. The store's own errors say what failed and where (paths hold no
    request values: see `_store`); any other exception comes from inside redaction or
    serialisation, and its message may quote the exchange (`KeyError: 'Thistlewood'`)."""
    name, number = failure_kind(exc)
    message = str(exc) if isinstance(exc, (RecordingError, OSError)) else None
    return name, number, message


class RecordingWriter(ABC):
    """Takes exchanges without blocking and writes them in the background, in order.

    `written`, `dropped`, `failed` count exchanges; `pending` and `pending_bytes` say what is
    held and not yet written. `on_failure` is called once for each exchange that could not be
    written (from a thread of the writer's)."""

    def __init__(
        self,
        max_queue: int,
        max_bytes: int = DEFAULT_MAX_BYTES,
        on_failure: Callable[[], object] | None = None,
    ) -> None:
        if max_queue < 1:
            raise ValueError("max_queue must be at least 1")
        if max_bytes < 1:
            raise ValueError("max_bytes must be at least 1")
        self.max_queue = max_queue
        #: the most body bytes (request + response + translated) queued or being written
        self.max_bytes = max_bytes
        self.on_failure = on_failure
        self._lock = threading.Lock()  # guards the counters, `_pending_bytes` and `_closed`
        self._closed = False
        self._written = 0
        self._dropped = 0
        self._failed = 0
        self._pending_bytes = 0
        self._failures = FailureLog()

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
        """Exchanges that could not be written (logged as errors)."""
        with self._lock:
            return self._failed

    @property
    def pending_bytes(self) -> int:
        """Body bytes of the exchanges queued or being written."""
        with self._lock:
            return self._pending_bytes

    @property
    @abstractmethod
    def pending(self) -> int:
        """Exchanges taken and not yet written."""

    def submit(self, exchange: Exchange) -> bool:
        """Queue `exchange` for writing. Never blocks; False when it was dropped instead
        (the queue holds `max_queue` exchanges or would pass `max_bytes`, or it is closed).

        The writer owns `exchange` from here on: the caller must not change it.
        """
        size = body_bytes(exchange)
        with self._lock:
            if (not self._closed and self._pending_bytes + size <= self.max_bytes
                    and self._enqueue(exchange, size)):
                self._pending_bytes += size
                return True
            self._dropped += 1
            dropped = self._dropped
        if is_power_of_ten(dropped):  # loud, but not one line per request under overload
            log.warning("recording queue full or closed: %d exchanges dropped so far", dropped)
        return False

    @abstractmethod
    def _enqueue(self, exchange: Exchange, size: int) -> bool:
        """Queue `exchange` (called holding `_lock`; must not block); False when full."""

    @abstractmethod
    def close(self, timeout: float) -> bool:
        """Take no more exchanges, write those already taken, then stop. True when everything
        taken was written (or failed) within `timeout` seconds."""

    def _written_one(self, size: int) -> None:
        with self._lock:
            self._written += 1
            self._pending_bytes -= size

    def _failed_one(self, exchange_id: str, size: int, failure: Failure, log_it: bool = True) -> None:
        """Count one exchange that could not be written, tell `on_failure`, and log it by kind
        (`log_it=False`: the caller has said it already, in a line of its own)."""
        with self._lock:
            self._failed += 1
            self._pending_bytes -= size
        if log_it:
            self._log_failure(exchange_id, failure)
        if self.on_failure is not None:
            self.on_failure()

    def _log_failure(self, exchange_id: str, failure: Failure) -> None:
        """One line the first time a kind of failure is seen, then at 10, 100, 1000..."""
        name, number, message = failure
        count = self._failures.due((name, number))
        if count is None:
            return
        text = UNLOGGED if message is None else message
        if len(text) > _MAX_MESSAGE:
            text = text[:_MAX_MESSAGE] + "..."
        log.error("could not record exchange %s: %s: %s%s", exchange_id, name, text, so_far(count))


def body_bytes(exchange: Exchange) -> int:
    """What an exchange's bodies weigh: request, response and translated."""
    size = len(exchange.request.body)
    for message in (exchange.response, exchange.translated):
        if message is not None:
            size += len(message.body)
    return size
