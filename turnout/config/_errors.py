"""Configuration errors that name the file, the line and the field, as a person would look for them."""

from __future__ import annotations

from pathlib import Path


class ConfigError(Exception):
    """A configuration file is wrong. `str()` reads `turnout.yaml:12: routes[2].mode: ...`."""

    def __init__(
        self, message: str, *, file: Path | str | None = None, line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.file = str(file) if file is not None else None
        self.line = line
        self.field = field
        self.message = message
        super().__init__(self.describe())

    def describe(self) -> str:
        where = self.file or "<config>"
        if self.line is not None:
            where += f":{self.line}"
        what = f"{self.field}: " if self.field else ""
        return f"{where}: {what}{self.message}"
