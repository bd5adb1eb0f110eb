"""What a mock handed out: each fresh value with the recorded value it stands for.

The virtual bus and the virtual services each draw fresh values (a new crime reference, a
statement id) and must later accept them as the recorded ones (`GetCrimeReport` of the new
reference). When both run in one process (`turnout mock legacy --services-port`) they share
one `Handed`, so a reference the bus handed out is known to the services when a translator
asks for it, and the other way round: a proxy in shadow or translator mode in front of both
sees one consistent virtual world.

A value is recognised as it was handed out or with other punctuation between the same letters
and digits: a translator that turns the bus's `CR/2026/482913` into the path segment
`CR-2026-482913` still carries the handed-out value, and gets back the recorded one in its own
punctuation (`CR-2026-000104`). Only whole values are recognised (an XML leaf, a JSON string, a
query value, a run of whole path segments), never a part of one.

The memory is bounded (oldest dropped) and lives as long as the process.
"""

from __future__ import annotations

import re
from collections import OrderedDict

_REMEMBERED = 100_000
_RUNS = re.compile(r"[0-9A-Za-z]+")


def _runs(value: str) -> tuple[str, ...]:
    return tuple(_RUNS.findall(value))


class Handed:
    """Fresh value handed out -> the recorded value it stands for."""

    def __init__(self, remembered: int = _REMEMBERED) -> None:
        self._exact: OrderedDict[str, str] = OrderedDict()
        #: the letters and digits of a fresh value -> (fresh, recorded)
        self._by_runs: dict[tuple[str, ...], tuple[str, str]] = {}
        self._remembered = remembered

    def __len__(self) -> int:
        return len(self._exact)

    def remember(self, fresh: str, recorded: str) -> None:
        self._exact[fresh] = recorded
        self._exact.move_to_end(fresh)
        runs = _runs(fresh)
        if runs and len(runs) == len(_runs(recorded)):
            self._by_runs[runs] = (fresh, recorded)
        while len(self._exact) > self._remembered:
            dropped, _ = self._exact.popitem(last=False)
            self._by_runs.pop(_runs(dropped), None)

    def recorded_for(self, value: str) -> dict[str, str]:
        """When `value` is a value handed out (in any punctuation): recorded -> fresh for it,
        the recorded value first in `value`'s own punctuation (the one to put in its place),
        then as handed out (so an answer carrying either form gets the fresh one back).
        Empty when `value` was not handed out."""
        if not value or not self._exact:
            return {}
        recorded = self._exact.get(value)
        if recorded is not None:
            return {recorded: value}
        found = self._by_runs.get(_runs(value))
        if found is None:
            return {}
        fresh, recorded = found
        runs = iter(_runs(recorded))
        rewritten = _RUNS.sub(lambda _: next(runs), value)
        return {rewritten: value, recorded: fresh}

    def put_back(self, value: str, stood_for: dict[str, str]) -> str:
        """`value` with the recorded value in place of a handed-out one (and the pair added to
        `stood_for`, recorded -> fresh); `value` itself when it was not handed out."""
        pairs = self.recorded_for(value)
        if not pairs:
            return value
        stood_for.update(pairs)
        return next(iter(pairs))

    def put_back_in_path(self, path: str, stood_for: dict[str, str]) -> str:
        """`path` with each run of whole segments that is a handed-out value (`/crimes/
        CR-2026-482913`, or `/crimes/CR/2026/482913` unencoded) replaced by the recorded one;
        the longest run first."""
        if not self._exact:
            return path
        segments = path.split("/")
        out: list[str] = []
        start = 0
        while start < len(segments):
            for end in range(len(segments), start, -1):
                joined = "/".join(segments[start:end])
                pairs = self.recorded_for(joined)
                if pairs or end == start + 1:
                    stood_for.update(pairs)
                    out.append(next(iter(pairs)) if pairs else joined)
                    start = end
                    break
        return "/".join(out)
