"""JSON rules: hide values in the JSON calls and replies a translator made.

Rules apply to the query parameters of a call (as an object) and to the JSON bodies of calls and
replies. A rule is a dotted path over keys and array indexes, matched against every value:
`*` stands for one key or index, `**` for any number of them (none included). So
`**.surname` hides every `surname` however deep, `people.*.name.family` the family name of every
person in a `people` array at the top, and `dob` the `dob` query parameter of a call.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_SEGMENT = re.compile(r"[A-Za-z0-9_$@-]+|\*|\*\*")


@dataclass(frozen=True)
class JsonRule:
    """Hide every value (whole subtree) whose path matches `pattern`."""

    pattern: str


def compile_json_rule(rule: JsonRule) -> re.Pattern[str]:
    """A regex over dotted paths with a leading dot (`.people.0.name.family`), or ValueError."""
    segments = rule.pattern.split(".")
    if not rule.pattern or not all(_SEGMENT.fullmatch(s) for s in segments):
        raise ValueError(
            f"bad JSON path {rule.pattern!r}: use dotted keys, '*' for one step, '**' for any"
        )
    regex = "".join(
        r"(?:\.[^.]+)*" if s == "**" else r"\.[^.]+" if s == "*" else r"\." + re.escape(s)
        for s in segments
    )
    return re.compile(regex)


def redact_json(
    value: Any, rules: list[tuple[JsonRule, re.Pattern[str]]], replace: Callable[[str, JsonRule], str],
    path: str = "",
) -> Any:
    """A copy of `value` with every matched subtree's scalars replaced (`value` is unchanged)."""
    if path:
        for rule, pattern in rules:
            if pattern.fullmatch(path):
                return _replace_all(value, rule, replace)
    if isinstance(value, dict):
        return {k: redact_json(v, rules, replace, _join(path, str(k))) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_json(v, rules, replace, _join(path, str(i))) for i, v in enumerate(value)]
    return value


def _replace_all(value: Any, rule: JsonRule, replace: Callable[[str, JsonRule], str]) -> Any:
    if isinstance(value, dict):
        return {k: _replace_all(v, rule, replace) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_all(v, rule, replace) for v in value]
    if value is None or isinstance(value, bool):
        return value  # presence and yes/no say nothing about who someone is
    return replace(str(value), rule)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}"
