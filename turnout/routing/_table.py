"""The route table: an immutable map from operation key to `Route`, plus the canary settings."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from types import MappingProxyType

from ..soap import OperationName
from ._route import Route

_COMPARED = ("mode", "percent", "translator", "timeout", "on_error", "writes", "shadow_target")


class RouteTable:
    """Which path each operation takes. Immutable: a reload builds a new table.

    A request looks its route up once and keeps the table it started with, so swapping tables
    never changes a request in flight.
    """

    __slots__ = ("_routes", "sticky_header", "salt", "source")

    def __init__(
        self, routes: Iterable[Route] = (), *, sticky_header: str | None = None, salt: str = "",
        source: str | None = None,
    ) -> None:
        table: dict[str, Route] = {}
        for route in routes:
            if route.key in table:
                raise ValueError(f"two routes for {route.key}")
            table[route.key] = route
        init = object.__setattr__
        init(self, "_routes", MappingProxyType(table))
        #: request header naming the caller for canary stickiness; None: the client address
        init(self, "sticky_header", sticky_header)
        #: mixed into the canary hash; changing it re-deals which callers are in the canary
        init(self, "salt", salt)
        #: the file the table was read from, if any
        init(self, "source", source)

    _routes: MappingProxyType[str, Route]
    sticky_header: str | None
    salt: str
    source: str | None

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("RouteTable is immutable; build a new one")

    def route_for(self, operation: str | OperationName) -> Route:
        """The route for an operation key (`/pnc VehicleEnquiry`); unlisted means legacy."""
        key = operation.key if isinstance(operation, OperationName) else operation
        route = self._routes.get(key)
        return route if route is not None else Route(key)

    def get(self, key: str) -> Route | None:
        """The route the file lists for `key`, or None."""
        return self._routes.get(key)

    def __iter__(self) -> Iterator[Route]:
        return iter(self._routes.values())

    def __len__(self) -> int:
        return len(self._routes)

    def __contains__(self, key: object) -> bool:
        return key in self._routes

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RouteTable):
            return NotImplemented
        return (
            dict(self._routes) == dict(other._routes)
            and self.sticky_header == other.sticky_header and self.salt == other.salt
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"RouteTable({len(self)} routes, source={self.source!r})"

    def diff(self, other: RouteTable) -> list[str]:
        """What changes going from this table to `other`, one line per operation, for the log.

        An operation that leaves the table is described as going back to legacy, because that
        is what it now gets.
        """
        lines: list[str] = []
        if self.sticky_header != other.sticky_header:
            lines.append(
                f"canary.sticky_header: {_caller(self.sticky_header)} -> {_caller(other.sticky_header)}"
            )
        if self.salt != other.salt:
            lines.append("canary.salt: changed (callers are re-dealt between canary and legacy)")
        for key in [*self._routes, *(k for k in other._routes if k not in self._routes)]:
            before, after = self._routes.get(key), other._routes.get(key)
            if before == after:
                continue
            if after is not None and before is None:
                lines.append(f"{key}: added: {after.describe()}")
            elif before is not None and after is None:
                lines.append(f"{key}: removed (was {before.describe()}); now legacy")
            elif before is not None and after is not None:
                changes = [
                    f"{name} {_show(getattr(before, name))} -> {_show(getattr(after, name))}"
                    for name in _COMPARED if getattr(before, name) != getattr(after, name)
                ]
                lines.append(f"{key}: {', '.join(changes)}")
        return lines


def _caller(header: str | None) -> str:
    return header if header else "(client address)"


def _show(value: object) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
