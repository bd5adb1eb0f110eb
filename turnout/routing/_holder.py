"""The table in force, shared between the watcher thread and the proxy's request handlers."""

from __future__ import annotations

import threading

from ._table import RouteTable


class RouteHolder:
    """Holds the current `RouteTable`; `swap` replaces it atomically.

    `get()` returns the table itself, not a view: a request that looked up its route keeps the
    table it started with even if a reload lands before it finishes.
    """

    def __init__(self, table: RouteTable | None = None) -> None:
        self._lock = threading.Lock()
        self._table = table if table is not None else RouteTable()

    def get(self) -> RouteTable:
        with self._lock:
            return self._table

    def swap(self, new: RouteTable) -> RouteTable:
        """Install `new`; returns the table it replaced (to log the diff)."""
        with self._lock:
            old, self._table = self._table, new
            return old
