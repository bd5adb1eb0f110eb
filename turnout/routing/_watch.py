"""Live reload: a thread that notices a changed route file and offers the new table, if valid.

An edit takes effect only when the whole file validates; anything else is reported through
`on_error` and the last good table stays in force. A broken edit must never take a live
operation off the air, and the watcher must never die, so nothing escapes the thread.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from pathlib import Path
from typing import Callable

from ..config import ConfigError
from ._files import FileMissing, read_trusted
from ._load import parse_route_table
from ._table import RouteTable

#: a file modified this recently may be modified again within the same mtime tick (coarse
#: filesystems have 1-2 s), so its stat signature is not trusted until it is older (cf. git's
#: "racily clean" entries); the content hash keeps the extra reads from becoming reloads
_RACY_SECONDS = 2.0

_Signature = tuple[int, int, int, int, int, int]


class RouteWatcher:
    """Polls `path` every `interval` seconds and calls `on_change(table)` after a valid edit.

    - `start()` reads the file once, synchronously, and returns the table (raising
      `ConfigError` if it is invalid: a proxy should not start on a broken file), unless an
      `initial` table is given. `on_change` is not called for it.
    - A change is detected by stat (mtime, size, inode, ...) then confirmed by a content hash,
      so a `touch` or a save with the same bytes is not a reload; a table equal to the current
      one (say, only comments changed) is not offered either.
    - `validate(table)` (e.g. `check_translators`) may raise `ConfigError` to refuse a table.
      So may `on_change`; either way `on_error` gets the error and `current` stays as it was.
    - A file that disappears is waited for (editors save by rename); `on_error` hears of it
      only if it stays missing for `missing_grace` seconds.
    - `on_error` is called once per distinct problem, not on every poll.
    """

    def __init__(
        self, path: Path | str, on_change: Callable[[RouteTable], None],
        on_error: Callable[[ConfigError], None], interval: float = 0.5, *,
        validate: Callable[[RouteTable], None] | None = None, initial: RouteTable | None = None,
        missing_grace: float = 2.0,
    ) -> None:
        self.path = Path(path)
        self.interval = interval
        self._on_change = on_change
        self._on_error = on_error
        self._validate = validate
        self._missing_grace = missing_grace
        self._current = initial
        self._signature: _Signature | None = None
        self._digest: bytes | None = None
        #: whether the content hashed in `_digest` was accepted (or equal to the table in force)
        self._digest_good = False
        self._reported: str | None = None
        self._missing_since: float | None = None
        self._missing_reported = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._poll_lock = threading.Lock()

    @property
    def current(self) -> RouteTable | None:
        """The last good table (None only before `start`)."""
        return self._current

    def start(self) -> RouteTable:
        if self._thread is not None:
            raise RuntimeError("RouteWatcher already started")
        if self._current is None:
            info = os.stat(self.path) if self.path.exists() else None
            text = read_trusted(self.path)
            table = parse_route_table(text, self.path)
            if self._validate is not None:
                self._validate(table)
            self._current = table
            self._digest, self._digest_good = _hash(text), True
            if info is not None:
                self._signature = _trusted_signature(info)
        self._thread = threading.Thread(
            target=self._run, name=f"turnout-routes:{self.path.name}", daemon=True,
        )
        self._thread.start()
        return self._current

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def __enter__(self) -> "RouteWatcher":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def check_now(self) -> None:
        """Poll once, now, on the calling thread (for a reload signal, and for tests)."""
        with self._poll_lock:
            try:
                self._poll()
            except Exception as exc:  # never let a surprise kill the watcher
                self._report(ConfigError(f"reload failed unexpectedly: {exc!r}", file=self.path))

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.check_now()

    def _poll(self) -> None:
        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            self._missing()
            return
        except OSError as exc:
            self._report(ConfigError(f"cannot stat: {exc.strerror or exc}", file=self.path))
            return
        self._missing_since, self._missing_reported = None, False
        signature = _trusted_signature(info)
        if signature is not None and signature == self._signature:
            return
        try:
            text = read_trusted(self.path)
        except FileMissing:
            self._missing()
            return
        except ConfigError as exc:  # unsafe owner or mode, unreadable
            self._signature = signature
            self._report(exc)
            return
        self._signature = signature
        digest = _hash(text)
        if digest == self._digest:
            if self._digest_good:
                self._reported = None  # back to a good state: report the next problem afresh
            return
        self._digest, self._digest_good = digest, False
        try:
            table = parse_route_table(text, self.path)
            if self._validate is not None:
                self._validate(table)
        except ConfigError as exc:
            self._report(exc)
            return
        self._reported = None
        if table == self._current:
            self._digest_good = True
            return
        try:
            self._on_change(table)
        except Exception as exc:
            error = exc if isinstance(exc, ConfigError) else ConfigError(
                f"new routes refused while applying them: {exc!r}", file=self.path)
            self._report(error)
            return
        self._current, self._digest_good = table, True

    def _missing(self) -> None:
        self._signature = None
        now = time.monotonic()
        if self._missing_since is None:
            self._missing_since = now
        elif now - self._missing_since >= self._missing_grace and not self._missing_reported:
            self._missing_reported = True
            self._reported = None
            self._report(ConfigError("file is missing; the last good routes stay in force",
                                     file=self.path))

    def _report(self, error: ConfigError) -> None:
        text = str(error)
        if text == self._reported:
            return
        self._reported = text
        try:
            self._on_error(error)
        except Exception:
            pass  # the error callback failing must not stop the reloads


def _trusted_signature(info: os.stat_result) -> _Signature | None:
    """The stat signature, or None when the file is too fresh for its mtime to be trusted."""
    if time.time() - info.st_mtime < _RACY_SECONDS:
        return None
    return (info.st_mtime_ns, info.st_size, info.st_ino, info.st_dev, info.st_mode, info.st_uid)


def _hash(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()
