"""Live reload: a thread that notices a changed route file or translators directory and puts the
new pair (route table + translators) in force, if valid.

An edit takes effect only when the whole new pair validates; anything else is reported through
`on_refused` and the last good pair stays in force, except the one change that is always safe:
a read moved back to legacy (see `_reload`). A broken edit must never take a live operation off
the air, and the watcher must never die, so nothing escapes the thread.

What is read is whole: a change is considered only once the route file (stat and content) and
the translators directory (stat of every file) have stayed the same across two polls, and a file
whose last line is unfinished is waited for until it is older than `_RACY_SECONDS`. So a file
being written (half, a pause, the rest) is not read half-way, and a file cut short is caught by
the reload rules (`check_reload`).

A route file mounted from a Kubernetes ConfigMap (or any directory swapped atomically by a
symlink: `turnout.yaml -> ..data/turnout.yaml`, `..data -> ..2026_12_01_xx.yyyy`) changes by a
rename of the `..data` link, not by a write: the path stays the same, what it resolves to does
not. The file's signature therefore holds the real path it resolves to as well as its stat
(inode, size, mtime), so a swap is noticed even when the new file has the same size and an
mtime in the same second and the file system reuses the old inode.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol

from ..config import ConfigError
from ._files import FileMissing, read_trusted
from ._holder import Served
from ._load import parse_route_table
from ._reload import Refusal, check_reload, safe_rollbacks
from ._table import RouteTable

#: a file modified this recently may be modified again within the same mtime tick (coarse
#: filesystems have 1-2 s), so its stat signature is not trusted until it is older (cf. git's
#: "racily clean" entries); the content hash keeps the extra reads from becoming reloads
_RACY_SECONDS = 2.0

_Signature = tuple[int, int, int, int, int, int, str]


class TranslatorSource(Protocol):
    """Where the translators come from (a directory): a cheap signature of its files, which
    changes when any of them does, and a loader that raises `ConfigError` naming the file."""

    def signature(self) -> Hashable: ...

    def load(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class _FileState:
    signature: _Signature
    text: str
    digest: str
    mtime: float


class LiveRoutes:
    """Polls the route file (and the translators, when given a `source`) every `interval`
    seconds; puts each valid new pair in force through `on_swap(served, changes)`.

    - `start()` reads the file and loads the translators once, synchronously, checks them with
      `check(table, translators)` (which may return the table with its translators found, as
      `check_translators` does: that table is the one served) and returns the first `Served`
      pair (raising `ConfigError` on a broken file: a proxy should not start on one), unless
      an `initial` pair is given.
    - A change is considered once stable across two polls (see the module's docstring), then
      validated as a pair: the route file under the reload rules (`check_reload`), the
      translators by loading them all, both together by `check`. Valid: `on_swap` is called
      with the new pair (it may raise to refuse it) and the pair becomes `served`. Refused:
      `on_refused(refusal)` is called, `refused` holds it, and only the safe part is applied
      (reads moved back to legacy; translators that are valid with the table in force).
    - A file that disappears is waited for (editors save by rename); it is reported only if it
      stays missing for `missing_grace` seconds. An unsafe file (world-writable, another
      user's) is reported at once. Each such problem is reported once, not on every poll.
    """

    def __init__(
        self, path: Path | str, *, on_swap: Callable[[Served, list[str]], None],
        on_refused: Callable[[Refusal], None], source: TranslatorSource | None = None,
        check: Callable[[RouteTable, Mapping[str, Any]], RouteTable | None] | None = None,
        interval: float = 0.5, missing_grace: float = 2.0, initial: Served | None = None,
    ) -> None:
        self.path = Path(path)
        self.interval = interval
        self._on_swap = on_swap
        self._on_refused = on_refused
        self._source = source
        self._check = check
        self._missing_grace = missing_grace
        self._served = initial
        #: the translators' signature when the translators in force were loaded
        self._served_inputs: Hashable = None
        #: the refusal of the last change considered (None: it was accepted whole)
        self._refused: Refusal | None = None
        #: a problem met before anything could be considered (missing or unsafe file)
        self._problem: Refusal | None = None
        self._problem_from_file = True
        #: the last file read: its stat signature and what it held
        self._read: _FileState | None = None
        #: what the previous poll saw (file signature and digest, translators' signature)
        self._observed: tuple[Any, ...] | None = None
        #: the inputs last considered (file digest, translators' signature)
        self._considered: tuple[str, Hashable] | None = None
        self._evaluated: str | None = None
        self._reported: str | None = None
        self._missing_since: float | None = None
        self._missing_reported = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._poll_lock = threading.Lock()

    # -- what is in force -----------------------------------------------------------------------

    @property
    def served(self) -> Served | None:
        """The pair in force (None only before `start`)."""
        return self._served

    @property
    def refused(self) -> Refusal | None:
        """The last refusal since the last change accepted whole (or a missing or unsafe route
        file, while it lasts); None when the files on disk are what is in force."""
        return self._problem or self._refused

    @property
    def evaluated(self) -> str | None:
        """SHA-256 (hex) of the route file content last considered, accepted or refused: set
        once the outcome (the swap, or the refusal) is in place."""
        return self._evaluated

    # -- running --------------------------------------------------------------------------------

    def start(self) -> Served:
        if self._thread is not None:
            raise RuntimeError("already started")
        if self._served is None:
            inputs = self._inputs()
            info = os.stat(self.path) if self.path.exists() else None
            text = read_trusted(self.path)
            table = parse_route_table(text, self.path)
            translators = self._source.load() if self._source is not None else {}
            table = self._checked(table, translators)
            digest = _hash(text)
            self._served = Served(table, MappingProxyType(dict(translators)), 1,
                                  source_sha256=digest)
            self._served_inputs = inputs
            self._considered = (digest, inputs)
            self._evaluated = digest
            if info is not None:
                state = _FileState(_signature(info, self.path), text, digest, info.st_mtime)
                self._read = state
                self._observed = (state.signature, digest, inputs)
        self._thread = threading.Thread(
            target=self._run, name=f"turnout-routes:{self.path.name}", daemon=True,
        )
        self._thread.start()
        return self._served

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def check_now(self) -> None:
        """Poll once, now, on the calling thread (for a reload signal, and for tests)."""
        with self._poll_lock:
            try:
                self._poll()
            except Exception as exc:  # never let a surprise kill the watcher
                self._report(ConfigError(f"reload failed unexpectedly: {exc!r}", file=self.path),
                             from_file=False)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.check_now()

    # -- one poll -------------------------------------------------------------------------------

    def _poll(self) -> None:
        state = self._observe_file()
        if state is None:
            return
        inputs = self._inputs()
        before, self._observed = self._observed, (state.signature, state.digest, inputs)
        if before is None or before[:2] != (state.signature, state.digest):
            return  # changed since the last poll: perhaps still being written; look again
        if state.text and not state.text.endswith("\n") and time.time() - state.mtime < _RACY_SECONDS:
            return  # its last line is unfinished: wait until it is clearly not being written
        settled = before[2] == inputs
        if not settled:
            # translators still changing: consider the route file with those in force (a
            # rollback must not wait on someone's translator edits); theirs come once settled
            inputs = self._served_inputs
        considered = (state.digest, inputs)
        if considered == self._considered:
            return
        self._considered = considered
        final = True
        try:
            final = self._evaluate(state, inputs, settled)
        finally:
            if final:
                self._evaluated = state.digest
            else:
                self._considered = None  # look again once the translators have settled

    def _inputs(self) -> Hashable:
        if self._source is None:
            return None
        try:
            return self._source.signature()
        except Exception as exc:  # noqa: BLE001 - an unreadable directory: the load will say
            return ("unreadable", repr(exc))

    def _observe_file(self) -> _FileState | None:
        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            self._missing()
            return None
        except OSError as exc:
            self._report(ConfigError(f"cannot stat: {exc.strerror or exc}", file=self.path))
            return None
        self._missing_since, self._missing_reported = None, False
        signature = _signature(info, self.path)
        if self._read is not None and signature == self._read.signature and not _racy(info):
            return self._read  # read successfully before, unchanged since: no problem pending
        try:
            text = read_trusted(self.path)
        except FileMissing:
            self._missing()
            return None
        except ConfigError as exc:  # unsafe owner or mode, unreadable
            self._read = None
            self._report(exc)
            return None
        self._read = _FileState(signature, text, _hash(text), info.st_mtime)
        if self._problem is not None and self._problem_from_file:
            self._problem, self._reported = None, None  # the file is back, and safe
        return self._read

    def _evaluate(self, state: _FileState, inputs: Hashable, settled: bool = True) -> bool:
        """Consider the file (and, when `inputs` differ from those in force, the translators);
        True when the outcome is final. Unless `settled`, the translators on disk (still
        changing) were not looked at, so nothing is final: an accepted file is put in force
        with the translators in force, a refused one has its safe part applied (the file may
        need exactly the new translators), and the verdict (`refused`, `evaluated`) waits for
        the translators to settle."""
        served = self._served
        assert served is not None
        new_translators: Mapping[str, Any] | None = None
        error: ConfigError | None = None
        if self._source is not None and inputs != self._served_inputs:
            try:
                new_translators = self._source.load()
            except ConfigError as exc:
                error = exc
            except Exception as exc:  # noqa: BLE001 - a translator's import may raise anything
                error = ConfigError(f"translators failed to load: {exc!r}")
        translators = new_translators if new_translators is not None else served.translators
        table: RouteTable | None = None
        if error is None:
            try:
                table = self._checked(check_reload(served.table, state.text, self.path),
                                      translators)
            except ConfigError as exc:
                error = exc
        if error is None and table is not None:
            if table == served.table and _versions(translators) == served.translator_versions:
                self._served_inputs = inputs  # the file and the directory agree with what is in force
                if settled:
                    self._refused = None
                return settled
            if self._swap(table, translators, state.digest, inputs) and settled:
                self._refused = None
            return settled
        assert error is not None
        self._refuse(error, state, inputs, new_translators, publish=settled)
        return settled

    def _refuse(self, error: ConfigError, state: _FileState, inputs: Hashable,
                new_translators: Mapping[str, Any] | None, publish: bool = True) -> None:
        """Refuse the new pair as a whole; apply what is safe anyway, then say both: reads the
        file moves back to legacy, and translators that loaded and are valid with that table.
        Without `publish`, only the safe part is applied (the refusal is not yet the verdict)."""
        served = self._served
        assert served is not None
        table, applied = safe_rollbacks(served.table, state.text, self.path)
        translators, translators_inputs = served.translators, self._served_inputs
        if new_translators is not None and _versions(new_translators) != served.translator_versions:
            try:
                table = self._checked(table, new_translators)
                translators, translators_inputs = new_translators, inputs
            except ConfigError:
                pass
        if table is not served.table or translators is not served.translators:
            if self._swap(table, translators, state.digest, translators_inputs):
                applied = applied + _translator_changes(served, translators)
            else:
                applied = []
        if not publish:
            return
        refusal = Refusal(error, applied=tuple(applied), source_sha256=state.digest)
        self._refused = refusal
        self._report_refusal(refusal)

    def _checked(self, table: RouteTable, translators: Mapping[str, Any]) -> RouteTable:
        """`table` as `check` leaves it (a check may return the table with its translators
        found, see `check_translators`); raises ConfigError to refuse it."""
        if self._check is None:
            return table
        checked = self._check(table, translators)
        return checked if isinstance(checked, RouteTable) else table

    def _swap(self, table: RouteTable, translators: Mapping[str, Any], digest: str,
              inputs: Hashable) -> bool:
        served = self._served
        assert served is not None
        new = served.succeeded_by(table, translators, digest)
        changes = served.table.diff(table) + _translator_changes(served, translators)
        try:
            self._on_swap(new, changes)
        except Exception as exc:
            error = exc if isinstance(exc, ConfigError) else ConfigError(
                f"new routes refused while applying them: {exc!r}", file=self.path)
            refusal = Refusal(error, source_sha256=digest)
            self._refused = refusal
            self._report_refusal(refusal)
            return False
        self._served, self._served_inputs = new, inputs
        return True

    def _missing(self) -> None:
        self._read = None
        self._observed = None
        now = time.monotonic()
        if self._missing_since is None:
            self._missing_since = now
        elif now - self._missing_since >= self._missing_grace and not self._missing_reported:
            self._missing_reported = True
            self._reported = None
            self._report(ConfigError("file is missing; the last good routes stay in force",
                                     file=self.path))

    def _report(self, error: ConfigError, from_file: bool = True) -> None:
        """A problem found before anything could be considered (a missing or unsafe file; a
        surprise): reported once each, and `refused` until the file reads well again."""
        text = str(error)
        if text == self._reported:
            return
        self._reported = text
        refusal = Refusal(error)
        self._problem, self._problem_from_file = refusal, from_file
        self._report_refusal(refusal)

    def _report_refusal(self, refusal: Refusal) -> None:
        try:
            self._on_refused(refusal)
        except Exception:
            pass  # the error callback failing must not stop the reloads


class RouteWatcher(LiveRoutes):
    """The route file alone: `on_change(table)` after a valid edit, `on_error(error)` when one
    is refused; `validate(table)` may refuse a table. See `LiveRoutes` for the rest."""

    def __init__(
        self, path: Path | str, on_change: Callable[[RouteTable], None],
        on_error: Callable[[ConfigError], None], interval: float = 0.5, *,
        validate: Callable[[RouteTable], RouteTable | None] | None = None,
        initial: RouteTable | None = None,
        missing_grace: float = 2.0,
    ) -> None:
        super().__init__(
            path, on_swap=lambda served, changes: on_change(served.table),
            on_refused=lambda refusal: on_error(refusal.error),
            check=(lambda table, translators: validate(table)) if validate is not None else None,
            interval=interval, missing_grace=missing_grace,
            initial=Served(initial) if initial is not None else None,
        )

    @property
    def current(self) -> RouteTable | None:
        """The last good table (None only before `start`)."""
        return self._served.table if self._served is not None else None

    def start(self) -> RouteTable:  # type: ignore[override]
        return super().start().table

    def __enter__(self) -> RouteWatcher:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _versions(translators: Mapping[str, Any]) -> dict[str, str | None]:
    return {name: getattr(t, "version", None) for name, t in translators.items()}


def _translator_changes(served: Served, translators: Mapping[str, Any]) -> list[str]:
    before, after = served.translator_versions, _versions(translators)
    lines = []
    for name in sorted({*before, *after}):
        if name not in before:
            lines.append(f"translator {name}: added (version {after[name]})")
        elif name not in after:
            lines.append(f"translator {name}: removed (was version {before[name]})")
        elif before[name] != after[name] or (before[name] is None and
                                              served.translators[name] is not translators[name]):
            lines.append(f"translator {name}: version {before[name]} -> {after[name]}")
    return lines


def _signature(info: os.stat_result, path: Path) -> _Signature:
    """The file's stat and the real path it resolves to (a swapped `..data` symlink changes it)."""
    return (info.st_mtime_ns, info.st_size, info.st_ino, info.st_dev, info.st_mode, info.st_uid,
            os.path.realpath(path))


def _racy(info: os.stat_result) -> bool:
    """Modified so recently that the same stat could hide another change (see _RACY_SECONDS)."""
    return time.time() - info.st_mtime < _RACY_SECONDS


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
