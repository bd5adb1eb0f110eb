"""The recording store: one YAML file per exchange, under a directory per operation.

```
root/pnc/PersonEnquiry/20261125T075301.123Z-1a2b3c4d.yaml
root/_unreadable/...      no operation could be named
root/_rejected/...        a threat, answered by the proxy itself
root/_instances/<name>/pnc/PersonEnquiry/...   the same layout, written by one named instance
```

Many proxy instances may share one recordings volume. Each named instance (`instance:` or
`TURNOUT_INSTANCE`, see `turnout.config.instance_of`) writes under `root/_instances/<name>/`
(`instance_root`), so no two ever write the same file or remove each other's unfinished temp
files at start. Every reader walks the whole of `root`, so a store opened on `root` (status,
the readiness gate, compare, the golden tools) reads the union of all instances, and of what an
unnamed proxy wrote beside them, in time order.

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

Files go through the project's one atomic writer (`turnout.config.write_many`): each to a
temporary file beside its target (created exclusively, never through a symlink), fsync'd, then
renamed over the target; a batch syncs each directory it touched once (group commit: the writer
process's way to keep up). A reader sees no file or the whole file; a process killed mid-write
leaves only a hidden temp file, which `remove_stale_temp_files` deletes at the next start.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from turnout.config import write_many
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
_FILE_MODE = 0o600  # recordings may hold personal data even when redacted
_DIR_MODE = 0o700
#: the folder of a service path no route or translator names: `_service-<digest>`
UNKNOWN_SERVICE = "_service"
#: the folder under a store's root that holds each named instance's own tree
INSTANCES = "_instances"
#: a temp file the atomic writer leaves when killed mid-write: `.<id>.yaml.<random>.tmp`
#: (and `.<id>.tmp`, the name this store's own writer used before)
_TEMP_FILE = re.compile(r"\.(\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{8})(?:\.yaml\.[A-Za-z0-9_]+)?\.tmp")


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
        self._verified = False

    @property
    def unredacted(self) -> bool:
        """True when personal data is written in clear (only credentials are hidden)."""
        return self.redactor is None or not self.redactor.has_rules

    # -- writing

    def path_for(self, exchange: Exchange, known: bool | None = None) -> Path:
        """Where `write` puts `exchange`. `known`: whether its service path may be a folder
        name, decided by the caller (the writer process is told so by the serving process,
        which knows the routes in force); None asks `known_services`."""
        if not is_exchange_id(exchange.id):
            raise RecordingError(f"{exchange.id!r} is not an exchange id")
        if exchange.operation is None:
            directory = self.root / (REJECTED if exchange.outcome == "rejected" else UNREADABLE)
        elif self._is_known(exchange.operation.service) if known is None else known:
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
        return service_key(service) in {service_key(known) for known in self.known_services()}

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
        [result] = self.write_files([self.prepare(exchange)])
        if isinstance(result, RecordingError):
            raise result
        return result

    def prepare(self, exchange: Exchange, known: bool | None = None) -> tuple[Path, bytes]:
        """`exchange` decoded, redacted and serialised, and the path it goes to (see
        `path_for` for `known`). Nothing touches the disk. Raises `RecordingError`."""
        exchange = decode_bodies(exchange, self.max_decoded_bytes)
        exchange = (self.redactor or CREDENTIALS_ONLY).redact(exchange)
        # the first file of each store is verified to load back whole (`dumps`); after that
        # only what is written by hand (the body blocks), cheaply: see `_serialize`
        data = dumps(exchange, verify=not self._verified).encode("utf-8")
        self._verified = True
        path = self.path_for(exchange, known)
        if self.unredacted and path.parent not in self._warned_dirs:
            self._warned_dirs.add(path.parent)
            log.warning(
                "recording WITHOUT redaction rules to %s: personal data is written in clear "
                "(only credentials are hidden)", path.parent,
            )
        return path, data

    def write_files(
        self, files: list[tuple[Path, bytes]], workers: int = 1
    ) -> list[Path | RecordingError]:
        """Write prepared files atomically, each directory synced once (`workers` files
        synced at a time); for each its path, or the `RecordingError` that stopped it (one
        failing never stops the others)."""
        results: list[Path | RecordingError] = []
        for path, error in write_many(files, mode=_FILE_MODE, make_dirs=_DIR_MODE, workers=workers):
            if error is None:
                results.append(path)
            elif isinstance(error, OSError):
                problem = f"cannot write: {error.strerror or error}"
                wrapped = RecordingError(problem, source=str(path))
                wrapped.__cause__ = error
                results.append(wrapped)
            else:  # not an OSError: a bug, raised as it came (the writer counts it by type)
                raise error
        return results

    # -- reading

    def remove_stale_temp_files(self) -> int:
        """Delete temp files a killed writer left (`.<id>.yaml.<random>.tmp`); returns how many.

        A process killed mid-write (SIGKILL, power loss) cannot clean up; the rename never
        happened, so the exchange was never a recording. Call at start-up, before writing.
        Other instances' trees (`_instances/` under this root) are left alone: they may be
        writing right now.
        """
        removed = 0
        if not self.root.is_dir():
            return 0
        for directory, subdirs, files in os.walk(self.root):
            if Path(directory) == self.root and INSTANCES in subdirs:
                subdirs.remove(INSTANCES)  # the named instances' own: each cleans up its own
            for name in files:
                if name.endswith(".tmp") and _TEMP_FILE.fullmatch(name):
                    Path(directory, name).unlink(missing_ok=True)
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


def instance_root(root: Path, instance: str | None) -> Path:
    """Where instance `instance` writes within the store at `root` (`root` itself when unnamed).
    The name is one path segment (`turnout.config.check_instance_name`)."""
    if instance is None:
        return Path(root)
    if not instance or instance.startswith((".", "_")) or "/" in instance or "\\" in instance:
        raise RecordingError(f"{instance!r} is not an instance name", source=str(root))
    return Path(root) / INSTANCES / instance


def service_key(service: str) -> str:
    """A service path as the store compares it with the known ones: case and a trailing slash
    do not count."""
    return service.rstrip("/").casefold() or "/"


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
