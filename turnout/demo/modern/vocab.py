"""The modern services' words for the legacy bus's codes, and how values are spelled in JSON.

Each map goes from the store's (= the legacy bus's) code to the JSON word; `*_BY_WORD` are the
inverses. Translators may import these rather than copy the tables in docs/modern-services.md.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

from ..data import COLOUR_CODES

SEX: dict[str, str] = {"M": "male", "F": "female", "U": "unknown"}

WARNING_MARKERS: dict[str, str] = {
    "FI": "firearms",
    "VI": "violent",
    "SH": "self-harm",
    "SU": "suicidal",
    "DR": "drugs",
    "WE": "weapons",
    "ES": "escaper",
    "MH": "mental-health",
    "CO": "contagious",
}

COLOURS: dict[str, str] = dict(COLOUR_CODES)  # colour words are the store's own

OFFENCES: dict[str, str] = {
    "BURG": "burglary-dwelling",
    "THFV": "theft-from-vehicle",
    "TOMV": "theft-of-vehicle",
    "ASLT": "assault-abh",
    "CRDM": "criminal-damage",
    "ROBB": "robbery",
    "SHOP": "shoplifting",
    "DRUG": "drug-possession",
}

CRIME_STATUSES: dict[str, str] = {
    "REC": "recorded",
    "INV": "under-investigation",
    "CLD": "closed",
    "NFA": "no-further-action",
}


def _inverse(mapping: dict[str, str]) -> dict[str, str]:
    return {word: code for code, word in mapping.items()}


SEX_BY_WORD = _inverse(SEX)
WARNING_MARKERS_BY_WORD = _inverse(WARNING_MARKERS)
COLOURS_BY_WORD = _inverse(COLOURS)
OFFENCES_BY_WORD = _inverse(OFFENCES)
CRIME_STATUSES_BY_WORD = _inverse(CRIME_STATUSES)

#: what joins address lines into the store's one address line, and splits it again
ADDRESS_SEPARATOR = ", "

_CRIME_ID = re.compile(r"CR-(\d{4})-(\d{6})", re.IGNORECASE)
_STATEMENT_ID = re.compile(r"WS-(\d{4})-(\d{6})", re.IGNORECASE)
_PNC_ID = re.compile(r"(\d{2})-(\d{6}[A-Z])", re.IGNORECASE)


def url_id(reference: str) -> str:
    """`CR/2026/000111` -> `CR-2026-000111`: a reference as it goes in a URL path."""
    return reference.replace("/", "-")


def _from_url_id(pattern: re.Pattern[str], text: str, prefix: str) -> str | None:
    match = pattern.fullmatch(text.strip())
    if match is None:
        return None
    return "/".join((prefix, *match.groups())) if prefix else "/".join(match.groups()).upper()


def crime_reference_from_id(crime_id: str) -> str | None:
    """`cr-2026-000111` -> `CR/2026/000111`; None when it is not a crime id."""
    return _from_url_id(_CRIME_ID, crime_id, "CR")


def statement_id_from_id(statement_id: str) -> str | None:
    """`WS-2026-000001` -> `WS/2026/000001`; None when it is not a statement id."""
    return _from_url_id(_STATEMENT_ID, statement_id, "WS")


def pnc_id_from_id(pnc_id: str) -> str | None:
    """`98-118402b` -> `98/118402B`; None when it is not a PNC id."""
    return _from_url_id(_PNC_ID, pnc_id, "")


def iso_date(value: date) -> str:
    return value.isoformat()


def iso_time(value: time) -> str:
    """`HH:MM`: the crime system records times to the minute."""
    return value.strftime("%H:%M")


def iso_timestamp(value: datetime) -> str:
    """`2026-03-10T09:15:02Z`: UTC, whole seconds (the legacy receipt has no fraction)."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def address_lines(address_line: str) -> list[str]:
    """The store's one address line as lines; `ADDRESS_SEPARATOR.join` gives it back exactly."""
    return address_line.split(ADDRESS_SEPARATOR)
