"""What is in force, shared between the reload thread and the proxy's request handlers.

The route table and the translators it names are one immutable pair, `Served`, swapped in one
assignment: a request that took the pair keeps both halves of it, however many reloads land
before it finishes, so it can never meet a route of one table and a translator of another.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from ._table import RouteTable


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Served:
    """One route table and the translators it was validated with.

    `version` counts accepted swaps (1 for what the proxy started with); `loaded_at` is when
    this pair was put in force; `source_sha256` is the hash of the route file's content it
    came from (None when it came from no file).
    """

    table: RouteTable = field(default_factory=RouteTable)
    translators: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    version: int = 1
    loaded_at: datetime = field(default_factory=_now)
    source_sha256: str | None = None

    @property
    def translator_versions(self) -> dict[str, str | None]:
        """Each translator's `version` (a hash of its files), by name."""
        return {name: getattr(t, "version", None) for name, t in self.translators.items()}

    def succeeded_by(self, table: RouteTable, translators: Mapping[str, Any],
                     source_sha256: str | None = None) -> Served:
        """The pair that replaces this one: the next version, loaded now."""
        return Served(table, MappingProxyType(dict(translators)), self.version + 1, _now(),
                      source_sha256 if source_sha256 is not None else self.source_sha256)


class RouteHolder:
    """Holds the `Served` pair in force; `install` replaces it in one assignment.

    `get()` returns the table itself, not a view: a request that looked up its route keeps the
    table it started with even if a reload lands before it finishes. `served()` returns the
    whole pair, for a request that will also need the translator.
    """

    def __init__(self, table: RouteTable | None = None) -> None:
        self._lock = threading.Lock()
        self._served = Served(table if table is not None else RouteTable())

    def get(self) -> RouteTable:
        return self._served.table

    def served(self) -> Served:
        return self._served

    @property
    def translators(self) -> Mapping[str, Any]:
        return self._served.translators

    def install(self, served: Served) -> Served:
        """Put `served` in force; returns the pair it replaced (to log the difference)."""
        with self._lock:
            old, self._served = self._served, served
            return old

    def swap(self, new: RouteTable) -> RouteTable:
        """Install `new` with the translators in force; returns the table it replaced."""
        with self._lock:
            old = self._served
            self._served = old.succeeded_by(new, old.translators)
            return old.table

    def replace_translators(self, translators: Mapping[str, Any]) -> None:
        """Install `translators` with the table in force (tests and embedders)."""
        with self._lock:
            self._served = self._served.succeeded_by(self._served.table, translators)
