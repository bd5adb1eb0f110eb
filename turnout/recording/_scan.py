"""Checking a recording set for personal data that should never have reached disk.

Redaction is configuration, and configuration can miss a field. `scan` reads every recording as
text and looks for known raw values (e.g. the people a test data set holds, or a list an
operator keeps) and for patterns (dates of birth, postcodes). A hit names the file, the line and
the kind of value, never the value itself: the report must not become the leak.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from ._exchange import is_exchange_id
from ._store import SUFFIX

#: named patterns an operator can ask for; broad on purpose (false positives are cheap here)
PATTERNS: dict[str, re.Pattern[str]] = {
    "date": re.compile(r"\b(?:\d{2}/\d{2}/(?:19|20)\d{2}|(?:19|20)\d{2}-\d{2}-\d{2})\b"),
    "postcode": re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}\b"),
}


@dataclass(frozen=True)
class Hit:
    path: Path
    line: int
    kind: str  # "known value" or a pattern name

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.kind}"


def _known_pattern(values: Iterable[str]) -> re.Pattern[str] | None:
    words = sorted({v.strip() for v in values if len(v.strip()) >= 3}, key=len, reverse=True)
    if not words:
        return None
    alternatives = "|".join(re.escape(w) for w in words)
    return re.compile(rf"(?<![\w]){'(?:' + alternatives + ')'}(?![\w])", re.IGNORECASE)


def scan(root: Path, known: Iterable[str] = (), patterns: Iterable[str] = ()) -> list[Hit]:
    """Every line of every recording under `root` that holds a known value or matches a pattern.

    Values shorter than three characters are ignored (they would match everywhere).
    """
    checks: list[tuple[str, re.Pattern[str]]] = []
    if (pattern := _known_pattern(known)) is not None:
        checks.append(("known value", pattern))
    for name in patterns:
        if name not in PATTERNS:
            raise ValueError(f"unknown pattern {name!r} (known: {', '.join(sorted(PATTERNS))})")
        checks.append((name, PATTERNS[name]))
    hits: list[Hit] = []
    for path in sorted(root.rglob(f"*{SUFFIX}")):
        if not is_exchange_id(path.name[: -len(SUFFIX)]):
            continue  # temp files, rules files and anything else that is not a recording
        with path.open(encoding="utf-8", errors="replace") as lines:
            for number, text in enumerate(lines, start=1):
                for kind, check in checks:
                    if check.search(text):
                        hits.append(Hit(path, number, kind))
    return hits
