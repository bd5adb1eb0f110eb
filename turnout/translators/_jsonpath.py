"""Dotted JSON paths with array indexes: `keeper.name.family`, `people[0].pncId`, `.`, `$.total`.

Compiled once, at load, into a tuple of steps; reading one is a short loop over dicts and lists.
A path is relative to the current JSON context (the reply body, or the array item inside an
`each`); `$` starts from the reply body whatever the context, `.` is the context itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ._protocol import TranslationError


class _Missing:
    """The value at a path that leads nowhere: distinct from JSON null. One instance."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()

_STEP = re.compile(r"([A-Za-z_][A-Za-z0-9_\-]*)((?:\[\d+\])*)")
_INDEX = re.compile(r"\[(\d+)\]")


@dataclass(frozen=True)
class JsonPath:
    text: str
    steps: tuple[str | int, ...]
    absolute: bool = False

    def read(self, context: Any, root: Any) -> Any:
        """The value at this path, `MISSING` when a step is absent, or TranslationError when a
        step meets the wrong JSON type (a key into a list, an index into an object)."""
        value = root if self.absolute else context
        steps = self.steps
        if len(steps) == 1 and type(value) is dict:  # the common case: one key of an object
            return value.get(steps[0], MISSING)
        for step in steps:
            if value is None or value is MISSING:
                return MISSING
            if isinstance(step, str):
                if not isinstance(value, dict):
                    raise TranslationError(
                        f"JSON {self.text}: expected an object before .{step}, "
                        f"got {_json_type(value)}"
                    )
                value = value.get(step, MISSING)
            else:
                if not isinstance(value, list):
                    raise TranslationError(
                        f"JSON {self.text}: expected an array before [{step}], "
                        f"got {_json_type(value)}"
                    )
                value = value[step] if step < len(value) else MISSING
        return value


def compile_json_path(text: str) -> JsonPath:
    """Compile `text`; ValueError (with a reason a person can act on) when it is malformed."""
    original = text
    text = text.strip()
    absolute = False
    if text in (".", "$"):
        return JsonPath(original, (), absolute=text == "$")
    if text.startswith("$."):
        absolute, text = True, text[2:]
    if not text:
        raise ValueError("empty JSON path")
    steps: list[str | int] = []
    for part in text.split("."):
        match = _STEP.fullmatch(part)
        if match is None:
            raise ValueError(
                f"bad JSON path {original!r}: {part!r} is not a name with optional [index]es"
            )
        steps.append(match.group(1))
        steps.extend(int(index) for index in _INDEX.findall(match.group(2)))
    return JsonPath(original, tuple(steps), absolute)


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (int, float)):
        return "a number"
    return "null" if value is None else type(value).__name__


json_type = _json_type
