"""Reading the trail: every access to one person (by a value hashed with the key), or by one officer.

`who_accessed` hashes the value the investigator gives exactly as the proxy hashed what devices
sent, for each kind it could be (or the one `kind` named), and lists the lines holding one of
those hashes. For a combined kind (a name) the value is its parts in order, separated by commas
(`Smith, John, 15/01/1979`; an unknown part left empty: `Smith, , 15/01/1979`), and an enquiry
that gave fewer parts than the person has (the surname alone, surname and date of birth) could
have answered with this person, so it matches too: every subset of the given parts that keeps
the first one is hashed.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ._hash import AuditKey, combine, normalise
from ._identifiers import IdentifierFinder
from ._line import FORMAT, line_time
from ._trail import day_files


@dataclass(frozen=True)
class Access:
    """One line of the trail that matched, with what matched in it (who-accessed)."""

    line: Mapping[str, Any]
    time: datetime
    matched: str = ""

    def get(self, name: str) -> Any:
        return self.line.get(name)


@dataclass
class Found:
    accesses: list[Access] = field(default_factory=list)
    files: int = 0
    lines: int = 0
    #: lines that could not be read (a torn last line after a power cut, another format)
    skipped: int = 0


def read_lines(directory: Path, since: datetime | None = None) -> Iterator[tuple[dict[str, Any], datetime] | None]:
    """Each line of the trail at or after `since`, oldest file first, with its time; None for
    a line that cannot be read."""
    for day, path in day_files(directory):
        if since is not None and datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1) <= since:
            continue
        with path.open("rb") as handle:
            for raw in handle:
                try:
                    line = json.loads(raw)
                except ValueError:
                    yield None
                    continue
                at = line_time(line) if isinstance(line, dict) else None
                if at is None or line.get("v") != FORMAT:
                    yield None
                    continue
                if since is not None and at < since:
                    continue
                yield line, at


def search_terms(
    key: AuditKey, value: str, kinds: Mapping[str, tuple[str, ...]], kind: str | None = None
) -> dict[str, str]:
    """hash -> what it stands for, for `value` as `kind` (or as every plain kind, and every
    combined one when the value has a comma). `kinds` is kind -> part names (one for a plain kind)."""
    if kind is not None and kind not in kinds:
        raise ValueError(f"unknown kind {kind!r}: the trail holds {', '.join(sorted(kinds))}")
    wanted = [kind] if kind is not None else [k for k, parts in kinds.items() if len(parts) == 1 or "," in value]
    terms: dict[str, str] = {}
    for each in wanted:
        parts = kinds[each]
        if len(parts) == 1:
            if normalised := normalise(each, value):
                terms[key.digest(each, normalised)] = each
            continue
        given = [part.strip() for part in value.split(",")]
        if len(given) > len(parts):
            if kind is not None:
                raise ValueError(f"{each} has {len(parts)} parts ({', '.join(parts)}); "
                                 f"{len(given)} were given")
            continue
        given += [""] * (len(parts) - len(given))
        if not given[0]:
            if kind is not None:
                raise ValueError(f"{each} needs its first part ({parts[0]})")
            continue
        optional = [i for i in range(1, len(parts)) if given[i]]
        for n in range(len(optional) + 1):
            for kept in itertools.combinations(optional, n):
                values = [given[0]] + [given[i] if i in kept else "" for i in range(1, len(parts))]
                label = ", ".join(parts[i] for i in (0, *kept))
                terms[key.digest(each, combine(each, values))] = f"{each} ({label})"
    if not terms:
        raise ValueError("nothing to look for: the value is empty once normalised")
    return terms


def kinds_of(finder: IdentifierFinder) -> dict[str, tuple[str, ...]]:
    """Every kind the trail can hold -> its part names (kinds from XPaths: `part 1`, ...)."""
    kinds: dict[str, tuple[str, ...]] = {kind: (kind,) for kind in finder.names}
    kinds.update(finder.combined)
    for kind, n in finder.arity.items():
        if kind not in kinds:
            kinds[kind] = (kind,) if n == 1 else tuple(f"part {i + 1}" for i in range(n))
    return kinds


def who_accessed(
    directory: Path, terms: Mapping[str, str], since: datetime | None = None
) -> Found:
    found = Found(files=len(day_files(directory)))
    for item in read_lines(directory, since):
        if item is None:
            found.skipped += 1
            continue
        line, at = item
        found.lines += 1
        matched = []
        for identifier in line.get("identifiers") or ():
            what = terms.get(identifier.get("hmac", "")) if isinstance(identifier, dict) else None
            if what is not None and identifier.get("kind") == what.split(" ", 1)[0] and what not in matched:
                matched.append(what)
        if matched:
            found.accesses.append(Access(line, at, "; ".join(matched)))
    return found


def by_subject(directory: Path, subject: str, since: datetime | None = None) -> Found:
    """Every line whose caller is `subject` (case-insensitive), verified or not."""
    wanted = subject.strip().casefold()
    found = Found(files=len(day_files(directory)))
    for item in read_lines(directory, since):
        if item is None:
            found.skipped += 1
            continue
        line, at = item
        found.lines += 1
        if str(line.get("subject") or "").casefold() == wanted:
            found.accesses.append(Access(line, at))
    return found

