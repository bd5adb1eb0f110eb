"""Normalisers: one small function per way two texts may spell the same value.

A normaliser maps a text to a canonical spelling; two texts are equal under it when their
spellings are. A text it cannot read is returned unchanged, so it still compares as written
(`abc` never equals `ABC` under `number`). Add one by adding a function to `NORMALISERS`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

Normaliser = Callable[[str], str]

#: Date and date-time spellings `date` reads besides ISO 8601. Day before month: the bus is
#: British, and `03/04/2026` is the 3rd of April.
_DATE_FORMATS = (
    "%d/%m/%Y",
    "%d-%m-%Y",
    "%d.%m.%Y",
)
_DATETIME_FORMATS = (
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%Y%m%d%H%M%S",
    "%Y%m%dT%H%M%S",
    "%d-%m-%Y %H:%M:%S",
)


def number(text: str) -> str:
    """`1.0`, `1`, `01`, `1e0` and ` 1 ` are all `1`; `-0` is `0`."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return text
    if not value.is_finite():
        return text
    if value.is_zero():
        return "0"
    return format(value.normalize(), "f")


def date_(text: str) -> str:
    """Dates to `YYYY-MM-DD`; date-times to UTC `YYYY-MM-DDTHH:MM:SS[.ffffff]Z`.

    A date-time without a zone is taken as UTC (the legacy bus writes UTC and never says so).
    """
    stripped = text.strip()
    parsed = _parse_date(stripped)
    if parsed is None:
        return text
    if isinstance(parsed, datetime):
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(UTC).replace(tzinfo=None)
        return parsed.isoformat() + "Z"
    return parsed.isoformat()


def _parse_date(text: str) -> date | datetime | None:
    try:
        return date.fromisoformat(text)  # 2026-01-04 and 20260104
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            pass
    for fmt in _DATETIME_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            pass
    return None


def case(text: str) -> str:
    """Case-insensitive: `Smith`, `SMITH` and `smith` are one name."""
    return text.casefold()


def trim(text: str) -> str:
    """Leading and trailing whitespace do not count."""
    return text.strip()


NORMALISERS: dict[str, Normaliser] = {
    "number": number,
    "date": date_,
    "case": case,
    "trim": trim,
}
