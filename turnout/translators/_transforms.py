"""The value transforms of a mapping file: small functions, each compiled once from its YAML.

A transform takes a value and returns a value, or raises `BadValue` saying what is wrong with it
in words a caller can act on. Which side of the translator it runs on decides what a `BadValue`
becomes: on the request side the caller's request is wrong (`RequestRejected`), on the reply
side the modern service answered something unusable (`TranslationError`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from ._jsonpath import json_type

Transform = Callable[[Any], Any]

#: words for the JSON booleans in the XML Schema lexical space
_TRUE = {"true", "1"}
_FALSE = {"false", "0"}


class BadValue(Exception):
    """A value a transform cannot take. `message` reads after the field name, e.g.
    `'1965-09-30' is not a date in the form DD/MM/YYYY`; `kind` is a short token."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


# --- case, trim -----------------------------------------------------------------------------

CASES: dict[str, Callable[[str], str]] = {
    "upper": str.upper,
    "lower": str.lower,
    "title": str.title,
}


def trim(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def case(name: str) -> Transform:
    change = CASES[name]

    def apply(value: Any) -> Any:
        return change(value) if isinstance(value, str) else value

    return apply


# --- dates, times and timestamps ------------------------------------------------------------

_DATE_DIRECTIVES = set("dmYyjbBaAUW")
_TIME_DIRECTIVES = set("HMSIpf")
#: directives of a fixed width, so `1/2/1958` is refused where `%d/%m/%Y` asks for `01/02/1958`
_WIDTHS = {"d": 2, "m": 2, "Y": 4, "y": 2, "H": 2, "M": 2, "S": 2, "j": 3, "f": 6}
_FORM_WORDS = {"d": "DD", "m": "MM", "Y": "YYYY", "y": "YY", "H": "HH", "M": "MM", "S": "SS"}
ISO = "iso"


@dataclass(frozen=True)
class DateFormat:
    """`iso`, or a `strftime` format, with what kind of value it spells."""

    text: str
    kind: type  # date, time or datetime
    pattern: re.Pattern[str] | None  # a strict shape check before strptime, when we can make one

    @property
    def form(self) -> str:
        """How a person would write the format: `DD/MM/YYYY`, `HHMM`, `YYYY-MM-DD`."""
        if self.text == ISO:
            return {date: "YYYY-MM-DD", time: "HH:MM:SS", datetime: "YYYY-MM-DDTHH:MM:SS"}.get(
                self.kind, "ISO 8601"
            )
        return re.sub(r"%(.)", lambda m: _FORM_WORDS.get(m.group(1), m.group(0)), self.text)

    @property
    def noun(self) -> str:
        return {date: "a date", time: "a time", datetime: "a timestamp"}[self.kind]


def date_format(text: str, iso_kind: type = date) -> DateFormat:
    """Compile `text` (`iso` or a strftime format). ValueError when it is not one."""
    if text == ISO:
        return DateFormat(ISO, iso_kind, None)
    directives = re.findall(r"%(.)", text)
    if not directives:
        raise ValueError(f"{text!r} is not a date format: it has no % directives (or say iso)")
    unknown = [d for d in directives if d not in _DATE_DIRECTIVES | _TIME_DIRECTIVES | set("zZ%")]
    if unknown:
        raise ValueError(f"{text!r} uses unknown directive %{unknown[0]}")
    has_date = any(d in _DATE_DIRECTIVES for d in directives)
    has_time = any(d in _TIME_DIRECTIVES for d in directives)
    kind = datetime if has_date and has_time else (time if has_time else date)
    pattern = None
    if all(d in _WIDTHS or d == "%" for d in directives):
        parts = re.split(r"(%.)", text)
        regex = "".join(
            (rf"\d{{{_WIDTHS[p[1]]}}}" if p[1] in _WIDTHS else "%")
            if p.startswith("%") and len(p) == 2
            else re.escape(p)
            for p in parts
        )
        pattern = re.compile(regex)
    return DateFormat(text, kind, pattern)


def _parse_date(value: Any, source: DateFormat) -> date | time | datetime:
    if isinstance(value, (date, time)):  # datetime is a date
        return value
    if not isinstance(value, str):
        raise BadValue("date", f"{value!r} is {json_type(value)}, not {source.noun}")
    text = value
    if source.text == ISO:
        try:
            if "T" in text or " " in text.strip():
                return datetime.fromisoformat(text)
            if ":" in text:
                return time.fromisoformat(text)
            return date.fromisoformat(text)
        except ValueError:
            raise BadValue(
                "date", f"{text!r} is not {source.noun} in the form {source.form}"
            ) from None
    if source.pattern is not None and not source.pattern.fullmatch(text):
        raise BadValue("date", f"{text!r} is not {source.noun} in the form {source.form}")
    try:
        parsed = datetime.strptime(text, source.text)
    except ValueError:
        if source.kind is date and source.pattern is not None:
            raise BadValue("date", f"{text!r} is not a calendar date") from None
        raise BadValue("date", f"{text!r} is not {source.noun} in the form {source.form}") from None
    if source.kind is date:
        return parsed.date()
    if source.kind is time:
        return parsed.time()
    return parsed


#: `precision:` -> isoformat's timespec ("auto": microseconds only when there are any)
PRECISIONS = {"keep": "auto", "seconds": "seconds", "milliseconds": "milliseconds",
              "microseconds": "microseconds"}
#: `offset:` -> how a zero UTC offset is spelt ("" keeps Python's `+00:00`)
OFFSETS = {"keep": "", "Z": "Z", "+00:00": "+00:00"}


@dataclass(frozen=True)
class IsoStyle:
    """How `iso` writes a time: the fraction digits and how a zero offset is spelt."""

    timespec: str = "auto"
    zero_offset: str = ""


PLAIN_ISO = IsoStyle()


def _iso(value: date | time | datetime, style: IsoStyle) -> str:
    if not isinstance(value, (datetime, time)):
        return value.isoformat()
    text = value.isoformat(timespec=style.timespec)
    if style.zero_offset == "Z" and text.endswith("+00:00"):
        return text[:-6] + "Z"
    return text


def _format_date(
    value: date | time | datetime, target: DateFormat, utc: bool, style: IsoStyle = PLAIN_ISO
) -> str:
    if utc and isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(UTC)
    if target.text == ISO:
        return value.isoformat() if style is PLAIN_ISO else _iso(value, style)
    if isinstance(value, time) and target.kind is not time:
        raise BadValue("date", f"a time ({value}) has no date to format as {target.form}")
    if not isinstance(value, (datetime, time)) and target.kind is not date:
        value = datetime(value.year, value.month, value.day)  # a date as a midnight timestamp
    return value.strftime(target.text)


def convert_date(
    source: DateFormat, target: DateFormat, utc: bool, style: IsoStyle = PLAIN_ISO
) -> Transform:
    def apply(value: Any) -> Any:
        return _format_date(_parse_date(value, source), target, utc, style)

    return apply


# --- types ----------------------------------------------------------------------------------


def _to_int(value: Any) -> int:
    if isinstance(value, bool):
        raise BadValue("type", f"{value!r} is a boolean, not a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise BadValue("type", f"{value!r} is not a whole number")


def _to_float(value: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            pass
    raise BadValue("type", f"{value!r} is not a number")


def _to_number(value: Any) -> int | float:
    number = _to_float(value)
    if isinstance(value, int) or (isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d+\s*", value)):
        return _to_int(value)
    return number


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise BadValue("type", f"{value!r} is not true or false")


def _to_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    if isinstance(value, (date, time)):
        return value.isoformat()
    raise BadValue("type", f"{json_type(value)} cannot be written as text")


def _to_length(value: Any) -> int:
    if isinstance(value, (list, dict, str)):
        return len(value)
    raise BadValue("type", f"{json_type(value)} has no length")


TYPES: dict[str, Transform] = {
    "int": _to_int,
    "float": _to_float,
    "number": _to_number,
    "bool": _to_bool,
    "string": _to_string,
    "length": _to_length,
}


# --- value maps -----------------------------------------------------------------------------


def lookup(table: Mapping[Any, Any], keep_unknown: bool, what: str) -> Transform:
    """Look a value up in `table`; an unknown value is kept as is or refused."""
    shown = ", ".join(str(k) for k in list(table)[:12])

    def apply(value: Any) -> Any:
        try:
            return table[value]
        except (KeyError, TypeError):
            pass
        if isinstance(value, (int, float)) and not isinstance(value, bool) and str(value) in table:
            return table[str(value)]
        if keep_unknown:
            return value
        raise BadValue("map", f"{value!r} is not one of the {what}: {shown}")

    return apply


# --- formats --------------------------------------------------------------------------------


def number_format(spec: str) -> Transform:
    def apply(value: Any) -> Any:
        if isinstance(value, str):
            value = _to_number(value)
        try:
            return format(value, spec)
        except (ValueError, TypeError):
            raise BadValue("format", f"{value!r} cannot be formatted as {spec!r}") from None

    return apply


def template(text: str) -> Transform:
    def apply(value: Any) -> Any:
        return text.format(value=value)

    return apply


# --- text and lists -------------------------------------------------------------------------


def join(separator: str) -> Transform:
    """A JSON array of strings as one string: address lines -> the legacy address line."""

    def apply(value: Any) -> Any:
        if isinstance(value, str):
            return value
        if not isinstance(value, list):
            raise BadValue("join", f"is {json_type(value)}, not an array to join")
        return separator.join(_to_string(item) for item in value)

    return apply


def split(separator: str) -> Transform:
    """One string as a JSON array: the legacy address line -> address lines."""

    def apply(value: Any) -> Any:
        if isinstance(value, list):
            return value
        return _to_string(value).split(separator)

    return apply


def replace_all(pairs: tuple[tuple[str, str], ...]) -> Transform:
    """Replace each `old` with `new`, in order: `{" ": ""}` removes spaces, `{"/": "-"}` turns a
    reference into the form a URL path takes."""

    def apply(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        for old, new in pairs:
            value = value.replace(old, new)
        return value

    return apply
