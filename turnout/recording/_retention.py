"""Retention: recordings hold pseudonymised personal data and are kept no longer than needed."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

from ._exchange import is_exchange_id
from ._store import SUFFIX

_DURATION = re.compile(r"(\d+)([hdw])")
_UNITS = {"h": "hours", "d": "days", "w": "weeks"}


def parse_age(text: str) -> timedelta:
    """`30d`, `12h`, `6w` -> a timedelta; ValueError otherwise."""
    match = _DURATION.fullmatch(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not an age like 30d, 12h or 6w")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def recorded_at(path: Path) -> datetime | None:
    """When the exchange in `path` started, from its id (the file name): no need to parse it."""
    stem = path.name[: -len(SUFFIX)]
    if not is_exchange_id(stem):
        return None
    return datetime.strptime(stem.split("-", 1)[0], "%Y%m%dT%H%M%S.%fZ").replace(tzinfo=timezone.utc)


def prune(root: Path, older_than: timedelta, now: datetime | None = None, dry_run: bool = False) -> list[Path]:
    """Delete recordings that started more than `older_than` ago; returns them (oldest first).

    Directories left empty are removed too. With `dry_run`, nothing is deleted.
    """
    cutoff = (now or datetime.now(timezone.utc)) - older_than
    old = sorted(
        (path for path in root.rglob(f"*{SUFFIX}")
         if (at := recorded_at(path)) is not None and at < cutoff),
        key=lambda p: p.name,
    )
    if dry_run:
        return old
    for path in old:
        path.unlink(missing_ok=True)
    for directory in sorted((d for d in root.rglob("*") if d.is_dir()), key=lambda d: len(d.parts), reverse=True):
        try:
            directory.rmdir()  # only succeeds when empty
        except OSError:
            pass
    return old
