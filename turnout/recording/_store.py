"""The recording store: one YAML file per exchange, under a directory per operation.

```
root/pnc/PersonEnquiry/20261125T075301.123Z-1a2b3c4d.yaml
root/_unreadable/...      no operation could be named
root/_rejected/...        a threat, answered by the proxy itself
```

The folders are `turnout.soap._envelope.operation_folder`'s, the same a scaffold's golden stub
and a route's default translator name use. Path segments come from what clients send, so each
is escaped before it becomes a directory: nothing can climb out of `root` or hide in a
dot-directory, and names starting with `_` are left to the store.

A service path is a client's to choose, so it can carry a value (`/pnc/Thistlewood`). A folder
name is never redacted, so given `known_services` (the proxy passes the services its routes and
translators name), a service path that is none of them is filed under `_service-<digest>/`,
a keyed digest of the path (the pseudonymisation key when there is one, else a key of this
store's own), never under its text: recordings of one unknown path still sit together, and
the path itself is in the recording, where redaction by value can reach it.

Directories are created 0700 and files 0600: recordings hold personal data even when redacted.
Without redaction rules only credentials are hidden; the store then says so, loudly, each time
it starts a new directory.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from pathlib import Path
from typing import Callable, Iterable, Iterator

from turnout.soap import operation_folder

from ._decode import DEFAULT_MAX_DECODED, decode_bodies
from ._deserialize import loads
from ._errors import AmbiguousExchangeId, ExchangeNotFound, RecordingError
from ._exchange import Exchange, is_exchange_id
from ._redact import Redactor
from ._serialize import dumps
from ._summary import REJECTED, UNREADABLE, StoreSummary, summarise

log = logging.getLogger("turnout.recording")

SUFFIX = ".yaml"
_TEMP_SUFFIX = ".tmp"
_FILE_MODE = 0o600  # recordings may hold personal data even when redacted
_DIR_MODE = 0o700
#: the folder of a service path no route or translator names: `_service-<digest>`
UNKNOWN_SERVICE = "_service"
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_BINARY = getattr(os, "O_BINARY", 0)


class RecordingStore:
    """Writes exchanges (decoded, then redacted) and reads them back.

    A compressed body is stored decoded, up to `max_decoded_bytes` (see `_decode`). Without a
    `Redactor` (or with one that has no rules) only credentials are hidden, and every new
    directory written to is logged as a warning. `known_services()`, when given, names the
    service paths that may be folder names (see the module's docstring); without it every
    service path is one (the store then holds what was recorded already, or tests').
    """

    def __init__(
        self,
        root: Path,
        redactor: Redactor | None = None,
        max_decoded_bytes: int = DEFAULT_MAX_DECODED,
        known_services: Callable[[], Iterable[str]] | None = None,
    ) -> None:
        self.root = Path(root)
        self.redactor = redactor
        self.max_decoded_bytes = max_decoded_bytes
        self.known_services = known_services
        self._warned_dirs: set[Path] = set()
        self._digest_key: bytes | None = None

    @property
    def unredacted(self) -> bool:
        """True when personal data is written in clear (only credentials are hidden)."""
        return self.redactor is None or not self.redactor.has_rules

    # -- writing

    def path_for(self, exchange: Exchange) -> Path:
        """Where `write` puts `exchange`."""
        if not is_exchange_id(exchange.id):
            raise RecordingError(f"{exchange.id!r} is not an exchange id")
        if exchange.operation is None:
            directory = self.root / (REJECTED if exchange.outcome == "rejected" else UNREADABLE)
        elif self._is_known(exchange.operation.service):
            # the folders every other name of the operation agrees with (routes, scaffold, golden)
            directory = self.root.joinpath(
                *operation_folder(exchange.operation.service, exchange.operation.name)
            )
        else:
            directory = self.root.joinpath(
                f"{UNKNOWN_SERVICE}-{self._digest(exchange.operation.service)}",
                *operation_folder("/", exchange.operation.name),
            )
        return directory / f"{exchange.id}{SUFFIX}"

    def _is_known(self, service: str) -> bool:
        if self.known_services is None:
            return True
        wanted = service.rstrip("/").casefold() or "/"
        return any((known.rstrip("/").casefold() or "/") == wanted for known in self.known_services())

    def _digest(self, service: str) -> str:
        """16 hex digits of a keyed digest of `service`: no dictionary of surnames finds it."""
        if self._digest_key is None:
            key = getattr(self.redactor.replacement, "digest_key", None) if self.redactor else None
            self._digest_key = key() if callable(key) else secrets.token_bytes(32)
        mac = hmac.new(self._digest_key, service.encode("utf-8", "surrogatepass"), hashlib.sha256)
        return mac.hexdigest()[:16]

    def write(self, exchange: Exchange) -> Path:
        """Decode, redact, serialise and write `exchange` atomically; return its path.

        Compressed bodies are decoded first, so the rules see (and hide) what they hold.
        Readers see either no file or the whole file, never a torn one, and a failure leaves
        nothing behind. Raises `RecordingError`.
        """
        exchange = decode_bodies(exchange, self.max_decoded_bytes)
        exchange = (self.redactor or CREDENTIALS_ONLY).redact(exchange)
        data = dumps(exchange).encode("utf-8")
        path = self.path_for(exchange)
        if self.unredacted and path.parent not in self._warned_dirs:
            self._warned_dirs.add(path.parent)
            log.warning(
                "recording WITHOUT redaction rules to %s: personal data is written in clear "
                "(only credentials are hidden)", path.parent,
            )
        _atomic_write(path, data)
        return path

    # -- reading

    def remove_stale_temp_files(self) -> int:
        """Delete temp files a killed writer left (`.<id>.tmp`); returns how many.

        A process killed mid-write (SIGKILL, power loss) cannot clean up; the rename never
        happened, so the exchange was never a recording. Call at start-up, before writing.
        """
        removed = 0
        if not self.root.is_dir():
            return 0
        for temp in self.root.rglob(f".*{_TEMP_SUFFIX}"):
            if temp.is_file() and is_exchange_id(temp.name[1 : -len(_TEMP_SUFFIX)]):
                temp.unlink(missing_ok=True)
                removed += 1
        if removed:
            log.warning("removed %d unfinished recordings left by an earlier stop", removed)
        return removed

    def iter_exchanges(self) -> Iterator[Exchange]:
        """Every exchange in the store, in id (that is, time) order. Raises on a bad file."""
        for _, path in self._files():
            yield read_exchange(path)

    def get(self, id_or_prefix: str) -> Exchange:
        """The one exchange whose id starts with `id_or_prefix`.

        Raises `ExchangeNotFound` or `AmbiguousExchangeId`.
        """
        if not id_or_prefix:
            raise ExchangeNotFound("no exchange id given", source=str(self.root))
        matches = [path for found, path in self._files() if found.startswith(id_or_prefix)]
        if not matches:
            raise ExchangeNotFound(
                f"no exchange id starts with {id_or_prefix!r}", source=str(self.root)
            )
        if len(matches) > 1:
            names = [str(p.relative_to(self.root)) for p in matches]
            shown = ", ".join(p.stem for p in matches[:5])
            more = f" and {len(matches) - 5} more" if len(matches) > 5 else ""
            raise AmbiguousExchangeId(
                f"{len(matches)} exchanges start with {id_or_prefix!r}: {shown}{more}",
                matches=names,
                source=str(self.root),
            )
        return read_exchange(matches[0])

    def summary(self) -> StoreSummary:
        """Counts, statuses and latencies per operation; unreadable files listed, not fatal."""
        errors: list[RecordingError] = []

        def readable() -> Iterator[Exchange]:
            for _, path in self._files():
                try:
                    yield read_exchange(path)
                except RecordingError as exc:
                    errors.append(exc)

        result = summarise(readable())
        result.errors = errors
        return result

    def _files(self) -> list[tuple[str, Path]]:
        """(id, path) of every exchange file, sorted; temp files and dot-entries skipped."""
        found = []
        for directory, subdirs, files in os.walk(self.root):
            subdirs[:] = [d for d in subdirs if not d.startswith(".")]
            for name in files:
                if name.endswith(SUFFIX) and is_exchange_id(name[: -len(SUFFIX)]):
                    found.append((name[: -len(SUFFIX)], Path(directory, name)))
        found.sort()
        return found


#: what a store without a redactor still applies: no rules, so only the credential check
CREDENTIALS_ONLY = Redactor([])


def read_exchange(path: Path) -> Exchange:
    """Load one exchange file; `RecordingError` names the file when anything is wrong."""
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise RecordingError(f"cannot read: {exc.strerror}", source=str(path)) from exc
    except UnicodeDecodeError as exc:
        raise RecordingError(f"not UTF-8 text: {exc.reason}", source=str(path)) from exc
    exchange = loads(text, source=str(path))
    if path.name.endswith(SUFFIX) and path.name[: -len(SUFFIX)] != exchange.id:
        raise RecordingError(
            f"holds exchange {exchange.id}, but its name says {path.stem}", source=str(path)
        )
    return exchange


def _atomic_write(path: Path, data: bytes) -> None:
    """Write `data` to `path` via a temp file in the same directory, fsync'd, then renamed."""
    directory = path.parent
    try:
        _make_dirs(directory)
    except OSError as exc:
        raise RecordingError(f"cannot create directory: {exc}", source=str(directory)) from exc
    temp = directory / f".{path.name[: -len(SUFFIX)]}{_TEMP_SUFFIX}"
    try:
        fd = os.open(
            temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_BINARY, _FILE_MODE
        )
    except OSError as exc:
        raise RecordingError(f"cannot create temp file: {exc}", source=str(temp)) from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException as exc:
        _remove_quietly(temp)
        if isinstance(exc, OSError):
            raise RecordingError(f"cannot write: {exc}", source=str(path)) from exc
        raise
    try:
        _fsync_dir(directory)
    except OSError as exc:
        raise RecordingError(f"written but not synced: {exc}", source=str(path)) from exc


def _make_dirs(directory: Path) -> None:
    """Create missing directories, syncing each new entry into its parent."""
    if directory.is_dir():
        return
    missing = []
    current = directory
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for new in reversed(missing):
        try:
            new.mkdir(mode=_DIR_MODE)
        except FileExistsError:
            continue  # another writer made it first
        _fsync_dir(new.parent)


def _fsync_dir(directory: Path) -> None:
    if os.name == "nt":
        return  # directories cannot be opened for fsync on Windows
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_quietly(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        log.error("could not remove temp file %s: %s", path, exc)
