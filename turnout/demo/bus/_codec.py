"""How the legacy bus spells values on the wire, and how it reads request fields.

The bus speaks the formats of its age: dates of birth `DD/MM/YYYY`, crime dates `YYYYMMDD`,
times `HHMM`, timestamps `DD/MM/YYYY HH:MM:SS` in UTC, flags `Y`/`N`. Reading a bad value raises
`BusFault`, which the dispatcher turns into a SOAP Fault.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from lxml import etree

from ._fault import BusFault

_DDMMYYYY = re.compile(r"(\d{2})/(\d{2})/(\d{4})")
_YYYYMMDD = re.compile(r"(\d{4})(\d{2})(\d{2})")
_HHMM = re.compile(r"([01]\d|2[0-3])([0-5]\d)")


def format_ddmmyyyy(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def format_yyyymmdd(value: date) -> str:
    return value.strftime("%Y%m%d")


def format_hhmm(value: time) -> str:
    return value.strftime("%H%M")


def format_timestamp(value: datetime) -> str:
    """`25/11/2026 07:53:01`, in UTC: the bus never says which zone it means."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%d/%m/%Y %H:%M:%S")


def yes_no(flag: bool) -> str:
    return "Y" if flag else "N"


def _calendar_date(year: str, month: str, day: str, field: str, text: str) -> date:
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        raise BusFault.invalid(field, f"{field} {text!r} is not a calendar date") from None


def _ddmmyyyy(name: str, text: str) -> date:
    match = _DDMMYYYY.fullmatch(text)
    if not match:
        raise BusFault.invalid(name, f"{name} {text!r} is not a date in the form DD/MM/YYYY")
    day, month, year = match.groups()
    return _calendar_date(year, month, day, name, text)


@dataclass(frozen=True)
class Fields:
    """The child elements of one request element, read by local name in its namespace."""

    element: etree._Element

    @property
    def namespace(self) -> str:
        return etree.QName(self.element).namespace or ""

    def _child(self, name: str) -> etree._Element | None:
        return self.element.find(f"{{{self.namespace}}}{name}")

    def optional(self, name: str, max_length: int = 4000) -> str | None:
        """The stripped text of child `name`; None when absent, empty or nil."""
        node = self._child(name)
        if node is None:
            return None
        text = (node.text or "").strip()
        if not text:
            return None
        if len(text) > max_length:
            raise BusFault.invalid(name, f"{name} is longer than {max_length} characters")
        return text

    def required(self, name: str, max_length: int = 4000) -> str:
        text = self.optional(name, max_length)
        if text is None:
            raise BusFault.invalid(name, f"{name} is required")
        return text

    def group(self, name: str) -> Fields:
        node = self._child(name)
        if node is None:
            raise BusFault.invalid(name, f"{name} is required")
        return Fields(node)

    def matching(self, name: str, pattern: str, example: str) -> str:
        """The text of `name`, which must match `pattern` in full (`example` goes in the fault)."""
        text = self.required(name)
        self._check(name, text, pattern, example)
        return text

    def optional_matching(self, name: str, pattern: str, example: str) -> str | None:
        text = self.optional(name)
        if text is not None:
            self._check(name, text, pattern, example)
        return text

    @staticmethod
    def _check(name: str, text: str, pattern: str, example: str) -> None:
        if not re.fullmatch(pattern, text):
            raise BusFault.invalid(name, f"{name} {text!r} is not in the form {example}")

    def ddmmyyyy(self, name: str) -> date:
        return _ddmmyyyy(name, self.required(name))

    def optional_ddmmyyyy(self, name: str) -> date | None:
        text = self.optional(name)
        return None if text is None else _ddmmyyyy(name, text)

    def yyyymmdd(self, name: str) -> date:
        text = self.required(name)
        match = _YYYYMMDD.fullmatch(text)
        if not match:
            raise BusFault.invalid(name, f"{name} {text!r} is not a date in the form YYYYMMDD")
        year, month, day = match.groups()
        return _calendar_date(year, month, day, name, text)

    def hhmm(self, name: str) -> time | None:
        text = self.optional(name)
        if text is None:
            return None
        match = _HHMM.fullmatch(text)
        if not match:
            raise BusFault.invalid(name, f"{name} {text!r} is not a time in the form HHMM")
        return time(int(match.group(1)), int(match.group(2)))

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        text = self.optional(name)
        if text is None:
            return default
        try:
            value = int(text)
        except ValueError:
            raise BusFault.invalid(name, f"{name} {text!r} is not a whole number") from None
        if not low <= value <= high:
            raise BusFault.invalid(name, f"{name} must be between {low} and {high}")
        return value


def new_element(namespace: str, prefix: str, name: str) -> etree._Element:
    """A root element of `namespace`, written with the bus's usual `prefix` for it."""
    return etree.Element(f"{{{namespace}}}{name}", nsmap={prefix: namespace})


def add(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    """Append child `name` in the parent's namespace, with `text` if given."""
    child = etree.SubElement(parent, f"{{{etree.QName(parent).namespace}}}{name}")
    if text is not None:
        child.text = text
    return child


def add_optional(parent: etree._Element, name: str, text: str | None) -> None:
    """Append child `name` only when there is a value (the XSD has it as minOccurs=0)."""
    if text is not None:
        add(parent, name, text)
