"""Retention: recordings hold pseudonymised personal data and are kept no longer than needed."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ._exchange import is_exchange_id
from ._store import SUFFIX

#: weeks, days, hours, minutes, largest first, each at most once: `6w`, `1d12h`, `90m`. `m` is
#: minutes: there are no months (a month has no one length; use weeks)
_AGE = re.compile(r"(?:(?P<weeks>\d+)w)?(?:(?P<days>\d+)d)?(?:(?P<hours>\d+)h)?(?:(?P<minutes>\d+)m)?")


def parse_age(text: str) -> timedelta:
    """`90m`, `12h`, `30d`, `6w` (minutes, hours, days, weeks; combined largest first, as in
    `1d12h`) -> a timedelta; ValueError otherwise."""
    match = _AGE.fullmatch(text.strip())
    if not text.strip() or match is None:
        raise ValueError(f"{text!r} is not an age like 90m, 12h, 30d or 6w "
                         "(m minutes, h hours, d days, w weeks)")
    return timedelta(**{unit: int(n) for unit, n in match.groupdict().items() if n is not None})


def recorded_at(path: Path) -> datetime | None:
    """When the exchange in `path` started, from its id (the file name): no need to parse it."""
    stem = path.name[: -len(SUFFIX)]
    if not is_exchange_id(stem):
        return None
    return datetime.strptime(stem.split("-", 1)[0], "%Y%m%dT%H%M%S.%fZ").replace(tzinfo=UTC)


def prune(root: Path, older_than: timedelta, now: datetime | None = None, dry_run: bool = False) -> list[Path]:
    """Delete recordings that started more than `older_than` ago; returns them (oldest first).

    Directories left empty are removed too. With `dry_run`, nothing is deleted.
    """
    cutoff = (now or datetime.now(UTC)) - older_than
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
