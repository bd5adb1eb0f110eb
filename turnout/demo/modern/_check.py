"""Reading and checking request values, collecting every problem before answering.

One `Checker` per request part (query, body). Each reader returns the clean value, or None after
noting why the value was refused; `raise_if_invalid()` then raises one `Problem` naming them all.
Strings are trimmed and an empty string counts as absent, as on the legacy bus.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, time
from typing import Any, Literal

from ._problem import InvalidParam, Problem
from .vocab import ADDRESS_SEPARATOR

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_HH_MM = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")
_WHOLE = re.compile(r"\d{1,9}")


class Checker:
    def __init__(self, kind: str) -> None:
        self.kind = kind  # the Problem slug raised when something is invalid
        self.invalid: list[InvalidParam] = []

    def fail(self, name: str, reason: str) -> None:
        self.invalid.append(InvalidParam(name, reason))

    def raise_if_invalid(self) -> None:
        if self.invalid:
            raise Problem.of(self.kind, self.invalid)

    def group(
        self,
        data: Mapping[str, Any] | None,
        key: str,
        name: str,
        *,
        if_absent: Literal["fail", "leaves", "skip"] = "fail",
    ) -> Mapping[str, Any] | None:
        """A nested object. When absent: `fail` notes the object itself as required, `leaves`
        answers `{}` so the reads of its fields note each one, `skip` answers None (optional).
        Not an object: noted, and None, so the reads of its fields stay silent."""
        if data is None:
            return None
        value = data.get(key)
        if value is None:
            if if_absent == "fail":
                self.fail(name, "is required")
                return None
            return {} if if_absent == "leaves" else None
        if not isinstance(value, dict):
            self.fail(name, "must be an object")
            return None
        return value

    def text(
        self,
        data: Mapping[str, Any] | None,
        key: str,
        name: str,
        *,
        max_length: int,
        required: bool = True,
    ) -> str | None:
        """A trimmed string of at most `max_length` characters."""
        if data is None:  # the enclosing object was missing or refused: noted already
            return None
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            self.fail(name, "must be a string")
            return None
        text = (value or "").strip()
        if not text:
            if required:
                self.fail(name, "is required")
            return None
        if len(text) > max_length:
            self.fail(name, f"must be at most {max_length} characters")
            return None
        return text

    def matching(
        self,
        data: Mapping[str, Any] | None,
        key: str,
        name: str,
        pattern: str,
        example: str,
        *,
        required: bool = True,
    ) -> str | None:
        text = self.text(data, key, name, max_length=200, required=required)
        if text is not None and not re.fullmatch(pattern, text):
            self.fail(name, f"{text!r} is not in the form {example}")
            return None
        return text

    def one_of(
        self,
        data: Mapping[str, Any] | None,
        key: str,
        name: str,
        words: Mapping[str, str],
        *,
        required: bool = True,
    ) -> str | None:
        """A word from `words` (word -> code); returns the code."""
        text = self.text(data, key, name, max_length=200, required=required)
        if text is None:
            return None
        if text not in words:
            self.fail(name, f"{text!r} is not one of {', '.join(sorted(words))}")
            return None
        return words[text]

    def iso_date(
        self, data: Mapping[str, Any] | None, key: str, name: str, *, required: bool = True
    ) -> date | None:
        """A `YYYY-MM-DD` calendar date."""
        text = self.text(data, key, name, max_length=40, required=required)
        if text is None:
            return None
        if _ISO_DATE.fullmatch(text):
            try:
                return date.fromisoformat(text)
            except ValueError:
                pass
        self.fail(name, f"{text!r} is not a calendar date in the form YYYY-MM-DD")
        return None

    def hh_mm(self, data: Mapping[str, Any] | None, key: str, name: str) -> time | None:
        """An optional `HH:MM` time of day."""
        text = self.text(data, key, name, max_length=40, required=False)
        if text is None:
            return None
        match = _HH_MM.fullmatch(text)
        if match is None:
            self.fail(name, f"{text!r} is not a time in the form HH:MM")
            return None
        return time(int(match.group(1)), int(match.group(2)))

    def whole(
        self, data: Mapping[str, Any], key: str, *, default: int, low: int, high: int
    ) -> int | None:
        """A whole number from a query parameter, `default` when absent."""
        text = self.text(data, key, key, max_length=20, required=False)
        if text is None:  # absent, or too long and noted
            return default
        if not _WHOLE.fullmatch(text) or not low <= int(text) <= high:
            self.fail(key, f"must be a whole number from {low} to {high}")
            return None
        return int(text)

    def address_line(
        self, address: Mapping[str, Any] | None, name: str, *, max_length: int
    ) -> str | None:
        """`address.lines`, joined into the store's one line."""
        if address is None:
            return None
        lines = address.get("lines")
        if lines is None or lines == []:
            self.fail(name, "is required")
            return None
        if not isinstance(lines, list):
            self.fail(name, "must be a non-empty list of strings")
            return None
        if not all(isinstance(line, str) and line.strip() for line in lines):
            self.fail(name, "every line must be a non-empty string")
            return None
        joined = ADDRESS_SEPARATOR.join(line.strip() for line in lines)
        if len(joined) > max_length:
            reason = f"joined with {ADDRESS_SEPARATOR!r}, at most {max_length} characters"
            self.fail(name, reason)
            return None
        return joined
