"""Logging a failure that repeats: the first of its kind, then the 10th, 100th, 1000th...

Turnout's background writers (recordings, the audit trail) fail the same way for every item
once a disk fills or a directory goes: one line per item would fill the log the disk no longer
has room for, and none at all would hide the loss. So failures are counted by kind (the
exception's type and errno, or any key the caller chooses), and a line is due at the first of
a kind and at each power of ten after it, saying how many there have been. It lives beside the
atomic writer because both writers that use it write files through it.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable


def is_power_of_ten(n: int) -> bool:
    """1, 10, 100, 1000...: the counts at which a repeated event is worth a line."""
    while n >= 10 and n % 10 == 0:
        n //= 10
    return n == 1


def errno_of(exc: BaseException) -> int | None:
    """The errno of `exc`, or of the error it was raised from (a wrapper around an OSError)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        number = getattr(current, "errno", None)
        if isinstance(number, int):
            return number
        current = current.__cause__ or current.__context__
    return None


def failure_kind(exc: BaseException) -> tuple[str, int | None]:
    """What makes two failures "the same": the exception's type name and its errno."""
    return type(exc).__name__, errno_of(exc)


def so_far(count: int) -> str:
    """The tail of a failure line: nothing for the first, the count after that."""
    return "" if count == 1 else f" ({count} failures of this kind so far)"


class FailureLog:
    """Counts failures by kind; `due` says when one is worth a line. Safe across threads."""

    def __init__(self) -> None:
        self._counts: dict[Hashable, int] = {}
        self._lock = threading.Lock()

    def due(self, kind: Hashable) -> int | None:
        """Count one failure of `kind`: its count when a line is due (1, 10, 100...), else None."""
        with self._lock:
            count = self._counts[kind] = self._counts.get(kind, 0) + 1
        return count if is_power_of_ten(count) else None
