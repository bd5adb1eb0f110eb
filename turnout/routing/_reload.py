"""What a reload may change, and what it may change even when the rest of the file is refused.

A live proxy must never take a damaged route file for an instruction. So, on a reload (not at
start, where a file may well have no routes yet):

- an empty file is refused: it is what an editor leaves when a save hits a full disk;
- a file with no `routes:` section is refused while routes are in force;
- a file that drops an operation the table in force has is refused, unless that operation is
  already `mode: legacy` and not a write (dropping it then changes nothing): a file cut short
  drops its last routes, and "not listed" would silently mean "legacy". To move an operation
  back to the bus, give it `mode: legacy`.

And one kind of change is always safe: moving a read back to the bus. When a new file is
refused as a whole (another route names a missing translator, has a typo, ...), each route that
is valid on its own and moves an operation from another mode to `legacy` is still applied
(`safe_rollbacks`), so an operator's rollback works whatever else is broken. A write on its
translator (or in canary) is not moved back this way: the modern service has become its system
of record, and that move needs a person's explicit decision.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..config import ConfigError, parse_yaml
from ._load import route_table_from_node, routes_one_by_one
from ._route import Route
from ._table import RouteTable


@dataclass(frozen=True)
class Refusal:
    """A reload refused: why (file, line, field), when, and what was applied anyway."""

    error: ConfigError
    at: datetime = field(default_factory=lambda: datetime.now(UTC))
    #: the changes applied although the rest was refused (reads moved back to legacy)
    applied: tuple[str, ...] = ()
    #: the hash of the route file content that was refused (None: not the file's fault)
    source_sha256: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON (the admin endpoint)."""
        return {
            "message": self.error.message, "file": self.error.file, "line": self.error.line,
            "field": self.error.field, "at": self.at.isoformat(), "applied": list(self.applied),
        }

    def __str__(self) -> str:
        return str(self.error)


def is_write_leaving_its_translator(old: Route | None, mode: str) -> bool:
    """True when a write whose requests (some or all) go to the modern service would go back to
    the bus: the modern service has become its system of record, so this needs a person."""
    return (old is not None and old.writes and old.mode in ("translator", "canary")
            and mode == "legacy")


def check_reload(current: RouteTable, text: str, path: Path | str) -> RouteTable:
    """The table `text` gives, if a running proxy may replace `current` with it (see above).
    Raises `ConfigError` naming the file, the line and what is missing."""
    if not text.strip():
        raise ConfigError(
            "the file is empty (a save cut short, a full disk?); refusing it: the routes in force "
            "stay in force", file=path,
        )
    root = parse_yaml(text, path)
    table = route_table_from_node(root)
    section = root.get("routes")
    if section is None and len(current):
        raise ConfigError(
            f"the file has no routes: section (a save cut short?); refusing it: the "
            f"{len(current)} routes in force stay in force. To send every operation to the bus, "
            "list each with mode: legacy", file=path, field="routes",
        )
    dropped = [r for r in current if r.key not in table and (r.mode != "legacy" or r.writes)]
    if dropped:
        names = ", ".join(f"{r.key} ({r.describe()})" for r in dropped)
        raise ConfigError(
            f"drops {names}, which the routes in force have (a save cut short?); refusing it: "
            "the routes in force stay in force. To move an operation back to the bus, keep it "
            "and give it mode: legacy",
            file=path, line=section.line if section is not None else None, field="routes",
        )
    return table


def safe_rollbacks(current: RouteTable, text: str, path: Path | str) -> tuple[RouteTable, list[str]]:
    """`current` with every read that `text` moves back to legacy moved, and a line for each.

    Each route is read on its own, so breakage elsewhere in the file does not matter. Returns
    `current` itself and no lines when there is nothing to apply (or nothing readable).
    """
    try:
        routes, _ = routes_one_by_one(text, path)
    except ConfigError:
        return current, []
    moved: dict[str, Route] = {}
    lines: list[str] = []
    for key, new in routes.items():
        old = current.get(key)
        if new.mode != "legacy" or old is None or old.mode == "legacy":
            continue
        if is_write_leaving_its_translator(old, new.mode):
            continue
        moved[key] = new
        lines.append(f"{key}: mode {old.mode} -> legacy")
    if not moved:
        return current, []
    table = RouteTable(
        [moved.get(route.key, route) for route in current], sticky_header=current.sticky_header,
        salt=current.salt, source=current.source,
    )
    return table, lines
