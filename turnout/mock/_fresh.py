"""Fresh values in the shape of recorded ones: what a mock puts where the bus was volatile.

The rule, applied to one recorded value (`fresh_value`):

1. a UUID (`6f3532cf-ff3a-4e8f-a950-3e60aa881b56`) becomes a new random UUID, in the same case;
2. a moment in one of the shapes in `MOMENT_FORMATS` (`30/11/2026 21:33:09`,
   `2026-11-30T21:33:09Z`, `20261130`...) becomes now (UTC) in the same shape;
3. anything else keeps everything up to its last alphanumeric run, and that run is redrawn
   character by character: a digit for a digit, a letter of the same case for a letter
   (`CR/2026/000111` -> `CR/2026/482913`, `ST-00042` -> `ST-71305`). A first digit that was
   not 0 stays non-zero, so a number keeps its width. Values with no letters or digits are
   kept as they are.

`Freshener` draws values no earlier call drew (a reference handed out twice would be two
records with one name), up to a bounded memory.
"""

from __future__ import annotations

import re
import secrets
import string
import uuid
from collections import OrderedDict
from datetime import UTC, datetime

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")

#: (regex the value must match in full, strftime format to write now in)
MOMENT_FORMATS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), fmt) for pattern, fmt in (
        (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z", "%Y-%m-%dT%H:%M:%S.%fZ"),
        (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z", "%Y-%m-%dT%H:%M:%S.{ms}Z"),
        (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", "%Y-%m-%dT%H:%M:%SZ"),
        (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00", "%Y-%m-%dT%H:%M:%S+00:00"),
        (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}", "%Y-%m-%dT%H:%M:%S"),
        (r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", "%Y-%m-%d %H:%M:%S"),
        (r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2}", "%d/%m/%Y %H:%M:%S"),
        (r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}", "%d/%m/%Y %H:%M"),
        (r"\d{4}-\d{2}-\d{2}", "%Y-%m-%d"),
        (r"\d{2}/\d{2}/\d{4}", "%d/%m/%Y"),
        (r"(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])", "%Y%m%d"),
        (r"\d{2}:\d{2}:\d{2}", "%H:%M:%S"),
    )
)

_LAST_RUN = re.compile(r"[0-9A-Za-z]+(?=[^0-9A-Za-z]*$)")
_REMEMBERED = 100_000


def _moment(value: str, now: datetime) -> str | None:
    for pattern, fmt in MOMENT_FORMATS:
        if pattern.fullmatch(value):
            return now.strftime(fmt.replace("{ms}", f"{now.microsecond // 1000:03d}"))
    return None


def _redraw(run: str) -> str:
    out = []
    for index, char in enumerate(run):
        if char.isdigit():
            pool = string.digits[1:] if index == 0 and char != "0" and len(run) > 1 else string.digits
        elif char.isupper():
            pool = string.ascii_uppercase
        elif char.islower():
            pool = string.ascii_lowercase
        else:
            pool = char
        out.append(secrets.choice(pool))
    return "".join(out)


def fresh_value(recorded: str, now: datetime | None = None) -> str:
    """A new value in the shape of `recorded` (see the module's rule)."""
    if _UUID.fullmatch(recorded):
        made = str(uuid.uuid4())
        return made.upper() if recorded.isupper() else made
    moment = _moment(recorded, now or datetime.now(UTC))
    if moment is not None:
        return moment
    match = _LAST_RUN.search(recorded)
    if match is None:
        return recorded
    return recorded[: match.start()] + _redraw(match.group()) + recorded[match.end():]


class Freshener:
    """Draws fresh values, never one it drew before (within its bounded memory).

    A moment is exempt: two answers in one second rightly carry the same timestamp.
    """

    def __init__(self, remembered: int = _REMEMBERED) -> None:
        self._drawn: OrderedDict[str, None] = OrderedDict()
        self._remembered = remembered

    def draw(self, recorded: str) -> str:
        now = datetime.now(UTC)
        if _moment(recorded, now) is not None:
            return fresh_value(recorded, now)
        value = fresh_value(recorded, now)
        for _ in range(20):  # a short run (two digits) may be spent: then a repeat is allowed
            if value not in self._drawn and value != recorded:
                break
            value = fresh_value(recorded, now)
        self._drawn[value] = None
        if len(self._drawn) > self._remembered:
            self._drawn.popitem(last=False)
        return value
