"""Reading a recording directory into the mocks' books, with the compare rules that apply."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from turnout.compare import Rules, load_rules, merge_rule_tables
from turnout.recording import RecordingStore, write_verb

from ._book import IsWrite, LegacyBook
from ._handed import Handed
from ._services import ServiceBook

#: the compare rules a recording directory may carry beside its recordings (the golden set's)
RULES_FILE = "compare.yaml"


def mock_rules(directory: Path, files: Iterable[Path] = ()) -> dict[str, Rules]:
    """The compare rules of `files` (in order), then the directory's own `compare.yaml` when
    it has one, merged: an operation gets every file's rules for it."""
    paths = [Path(p) for p in files]
    own = Path(directory) / RULES_FILE
    if own.is_file() and own.resolve() not in {p.resolve() for p in paths}:
        paths.append(own)
    return merge_rule_tables(*(load_rules(path) for path in paths))


def writes_by(declared: Iterable[str] = ()) -> IsWrite:
    """A write: declared one (`writes: true`; keys normalised), or named with a verb that
    writes (`CreateCrimeReport`), as replay judges it."""
    keys = frozenset(declared)

    def is_write(key: str) -> bool:
        return key in keys or write_verb(key.partition(" ")[2]) is not None

    return is_write


def open_legacy(directory: Path, rules: dict[str, Rules], is_write: IsWrite) -> LegacyBook:
    """The recordings under `directory` as a virtual bus's book. Raises `RecordingError` for a
    recording that cannot be read (naming the file)."""
    return LegacyBook(RecordingStore(Path(directory)).iter_exchanges(), rules, is_write)


def open_services(directory: Path, handed: Handed | None = None) -> ServiceBook:
    """The JSON calls and replies recorded under `directory` as the virtual services' book
    (remembering what it hands out in `handed`, when given: one memory shared with a virtual
    bus)."""
    return ServiceBook(RecordingStore(Path(directory)).iter_exchanges(), handed)
