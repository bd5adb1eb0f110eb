"""Typed errors of the recording layer. Callers branch on the type; the CLI prints the message."""

from __future__ import annotations


class RecordingError(Exception):
    """A recording could not be written or read.

    Carries where the problem is (file, line, field) separately from what it is, so the message
    reads `recordings/pnc/x.yaml:12: request.status: expected an integer` and a caller can still
    pick the parts apart.
    """

    def __init__(
        self,
        problem: str,
        source: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.problem = problem
        self.source = source
        self.line = line
        self.field = field
        super().__init__(self._format())

    def _format(self) -> str:
        where = ""
        if self.source is not None:
            where = self.source if self.line is None else f"{self.source}:{self.line}"
        parts = [part for part in (where, self.field, self.problem) if part]
        return ": ".join(parts)


class ExchangeNotFound(RecordingError):
    """No recorded exchange has the id (or id prefix) asked for."""


class AmbiguousExchangeId(RecordingError):
    """An id prefix matches more than one recorded exchange."""

    def __init__(self, problem: str, matches: list[str], source: str | None = None) -> None:
        self.matches = matches
        super().__init__(problem, source=source)
