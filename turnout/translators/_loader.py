"""Loading a translators directory: every mapping file and Python file under it, checked.

    translators/
      pnc/_pnc.yaml                 shared parts (a leading _ : never loaded on its own)
      pnc/vehicle_enquiry.yaml      a mapping translator
      cris/search_crime_reports.py  Python translators

Every error is a `ConfigError` naming the file (and line): a broken file, or two translators
with the same name or the same operation, which names both files.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from ..config import ConfigError
from ._mapping import load_mapping
from ._protocol import Translator, Volatiles
from ._python import load_python

_MAPPING_SUFFIXES = (".yaml", ".yml")


class TranslatorSet(Mapping[str, Translator]):
    """Translators by name, and by operation key (`for_operation("/pnc VehicleEnquiry")`)."""

    def __init__(self, translators: Mapping[str, Translator], sources: Mapping[str, Path]) -> None:
        self._by_name = dict(translators)
        self._sources = dict(sources)
        self._by_operation = {t.operation: t for t in self._by_name.values()}

    def __getitem__(self, name: str) -> Translator:
        return self._by_name[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_name)

    def __len__(self) -> int:
        return len(self._by_name)

    def for_operation(self, operation: str) -> Translator | None:
        """The translator for route-table key `operation`, or None."""
        return self._by_operation.get(operation)

    @property
    def operations(self) -> Mapping[str, Translator]:
        return dict(self._by_operation)

    def source(self, name: str) -> Path:
        """The file translator `name` was loaded from."""
        return self._sources[name]

    def with_volatiles(self, volatiles: Volatiles) -> TranslatorSet:
        """The same translators taking their clock and message ids from `volatiles`."""
        changed = {
            name: (t.with_volatiles(volatiles) if hasattr(t, "with_volatiles") else t)
            for name, t in self._by_name.items()
        }
        return TranslatorSet(changed, self._sources)


def translator_files(directory: Path) -> list[Path]:
    """The files `load_translators` reads, in a stable order. Files and folders whose names
    start with `_` or `.` are skipped: shared parts, `__init__.py`, `__pycache__`, editors'."""
    found = []
    for path in sorted(directory.rglob("*")):
        relative = path.relative_to(directory)
        if any(part.startswith(("_", ".")) for part in relative.parts):
            continue
        if path.is_file() and (path.suffix in _MAPPING_SUFFIXES or path.suffix == ".py"):
            found.append(path)
    return found


def load_translator_file(path: Path) -> list[Translator]:
    """The translators one file defines: one for a mapping file, a list for a Python file."""
    if path.suffix == ".py":
        return load_python(path)
    return [load_mapping(path)]


def load_translators(directory: Path, *, volatiles: Volatiles | None = None) -> TranslatorSet:
    """Load every translator under `directory` (`**/*.yaml`, `**/*.py`)."""
    if not directory.is_dir():
        raise ConfigError("translators directory not found", file=directory)
    by_name: dict[str, Translator] = {}
    by_operation: dict[str, str] = {}
    sources: dict[str, Path] = {}
    for path in translator_files(directory):
        for translator in load_translator_file(path):
            name, operation = translator.name, translator.operation
            if name in by_name:
                raise ConfigError(
                    f"translator name {name!r} is also defined in {sources[name]}",
                    file=path, field="name",
                )
            if operation in by_operation:
                other = by_operation[operation]
                raise ConfigError(
                    f"operation {operation!r} already has translator {other!r} "
                    f"({sources[other]})", file=path, field="operation",
                )
            by_name[name] = translator
            by_operation[operation] = name
            sources[name] = path
    result = TranslatorSet(by_name, sources)
    return result.with_volatiles(volatiles) if volatiles is not None else result
