"""Loading a translators directory: every mapping file and Python file under it, checked.

    translators/
      pnc/_pnc.yaml                 shared parts (a leading _ : never loaded on its own)
      pnc/vehicle_enquiry.yaml      a mapping translator
      cris/search_crime_reports.py  Python translators

Every error is a `ConfigError` naming the file (and line): a broken file, or two translators
with the same name or the same operation, which names both files.

Each loaded translator gets a `version`: the first 12 hex digits of a SHA-256 over the files it
was built from (its mapping file and the file it includes, or its Python file and its `shared`
file). The same files give the same version on every machine and every load, so a recording that
names the version says exactly which translator answered it, and a reload that changed nothing
in a translator's files leaves its version as it was.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from pathlib import Path

from ..config import ConfigError, load_yaml
from ._mapping import load_mapping
from ._protocol import Translator, Volatiles
from ._python import load_python

_MAPPING_SUFFIXES = (".yaml", ".yml")


class TranslatorSet(Mapping[str, Translator]):
    """Translators by name, and by operation key (`for_operation("/pnc VehicleEnquiry")`)."""

    def __init__(self, translators: Mapping[str, Translator], sources: Mapping[str, Path],
                 versions: Mapping[str, str] | None = None) -> None:
        self._by_name = dict(translators)
        self._sources = dict(sources)
        self._versions = dict(versions or {})
        for name, version in self._versions.items():
            _stamp(self._by_name[name], version)
        self._by_operation = {key: t for t in self._by_name.values() for key in _keys(t)}

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

    def version(self, name: str) -> str | None:
        """Translator `name`'s version: a hash of the files it was built from."""
        return self._versions.get(name)

    @property
    def versions(self) -> dict[str, str]:
        """Every translator's version, by name."""
        return dict(self._versions)

    def with_volatiles(self, volatiles: Volatiles) -> TranslatorSet:
        """The same translators taking their clock and message ids from `volatiles`."""
        changed = {
            name: (t.with_volatiles(volatiles) if hasattr(t, "with_volatiles") else t)
            for name, t in self._by_name.items()
        }
        return TranslatorSet(changed, self._sources, self._versions)


def _keys(translator: Translator) -> tuple[str, ...]:
    """Every operation key a translator serves: a mapping may list several."""
    keys: tuple[str, ...] = getattr(translator, "operations", ()) or (translator.operation,)
    return keys


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
    versions: dict[str, str] = {}
    for path in translator_files(directory):
        for translator in load_translator_file(path):
            versions[translator.name] = translator_version(translator_inputs(path, translator))
            name = translator.name
            if name in by_name:
                raise ConfigError(
                    f"translator name {name!r} is also defined in {sources[name]}",
                    file=path, field="name",
                )
            for operation in _keys(translator):
                if operation in by_operation:
                    other = by_operation[operation]
                    raise ConfigError(
                        f"operation {operation!r} already has translator {other!r} "
                        f"({sources[other]})", file=path, field="operation",
                    )
                by_operation[operation] = name
            by_name[name] = translator
            sources[name] = path
    result = TranslatorSet(by_name, sources, versions)
    return result.with_volatiles(volatiles) if volatiles is not None else result


def translator_inputs(path: Path, translator: object) -> list[Path]:
    """The files a translator loaded from `path` was built from: the file itself, then the
    file a mapping `include:`s or a Python translator names as `shared`."""
    files = [path]
    shared: object = None
    if path.suffix == ".py":
        shared = getattr(translator, "shared", None)
    else:
        try:
            include = load_yaml(path).get("include")
        except ConfigError:
            include = None
        shared = include.value if include is not None else None
    if isinstance(shared, str) and shared:
        files.append(path.parent / shared)
    return files


def translator_version(files: list[Path]) -> str:
    """A short, stable hash of `files`' bytes, in order: 12 hex digits of SHA-256."""
    digest = hashlib.sha256()
    for file in files:
        try:
            data = file.read_bytes()
        except OSError:
            data = b""
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()[:12]


def _stamp(translator: Translator, version: str) -> None:
    """Give `translator` its `version` attribute (frozen dataclasses included)."""
    try:
        object.__setattr__(translator, "version", version)
    except (AttributeError, TypeError):
        pass  # a translator with __slots__ and no room: its version stays in the set
