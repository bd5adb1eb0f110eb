"""The one atomic file writer: every file Turnout writes (routes, mappings, learned rules,
recordings, scaffold state) goes through here.

A reader sees the old file or the new one, never half of one, and a file reported written
survives a power cut: the data goes to a temporary file in the same directory, which is
fsync'd, renamed over the target, and then the directory itself is fsync'd so the rename is
durable too. `write_many` does the same for a batch of files and syncs each directory once
(group commit: the recording writer's way to keep up under load without giving up durability).
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_BINARY = getattr(os, "O_BINARY", 0)


class AtomicWriteError(OSError):
    """A file could not be written whole; `path` names it and nothing was left half-written."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(message)
        self.path = path


def write_atomically(
    path: Path,
    data: bytes | str,
    *,
    mode: int | None = None,
    keep_mode: bool = True,
    make_dirs: int | None = None,
    before_replace: Callable[[], None] | None = None,
    sync_directory: bool = True,
) -> None:
    """Write `data` (text is UTF-8) to `path` atomically and durably.

    `mode`: the new file's permissions; by default an existing file keeps its own (`keep_mode`)
    and a new one gets 0o644. A symlinked `path` has its target replaced and keeps the link.
    `make_dirs`: create missing parent directories with this mode (each synced into its
    parent). `before_replace` runs after the data is safe in the temporary file and before the
    rename; raising there leaves the old file untouched (an edit that lost a race)."""
    target = Path(os.path.realpath(path))
    if make_dirs is not None:
        make_directories(target.parent, make_dirs)
    if mode is None:
        mode = 0o644
        if keep_mode:
            try:
                mode = stat.S_IMODE(target.stat().st_mode)
            except FileNotFoundError:
                pass
    temp = _write_temp(target, data.encode("utf-8") if isinstance(data, str) else data, mode)
    try:
        if before_replace is not None:
            before_replace()
        os.replace(temp, target)
    except BaseException:
        _remove_quietly(temp)
        raise
    if sync_directory:
        fsync_directory(target.parent)


def write_many(files: Iterable[tuple[Path, bytes]], *, mode: int = 0o644,
               make_dirs: int | None = None,
               workers: int = 1) -> list[tuple[Path, BaseException | None]]:
    """Write each (path, data) atomically, then sync each directory touched once.

    `workers` > 1 writes and fsyncs that many temporary files at a time, on threads (fsync
    lets go of the interpreter lock, and the file system commits syncs in flight together:
    on the development machine 4 threads synced 2.7 times the files a second one did); each
    is renamed once all are on disk. Returns each path with None (written and durable) or the
    error that stopped it; one file failing never stops the others."""
    files = list(files)

    def temp_for(item: tuple[Path, bytes]) -> Path | Exception:
        path, data = item
        try:
            if make_dirs is not None:
                make_directories(path.parent, make_dirs)
            return _write_temp(path, data, mode)
        except Exception as exc:  # noqa: BLE001 - reported per file, the batch goes on
            return exc

    if workers > 1 and len(files) > 1:
        with ThreadPoolExecutor(min(workers, len(files)), "turnout-write-many") as pool:
            temps = list(pool.map(temp_for, files))
    else:
        temps = [temp_for(item) for item in files]
    results: list[tuple[Path, BaseException | None]] = []
    renamed: list[tuple[int, Path]] = []
    for (path, _), temp in zip(files, temps, strict=True):
        if isinstance(temp, Exception):
            results.append((path, temp))
            continue
        try:
            os.replace(temp, path)
        except Exception as exc:  # noqa: BLE001 - reported per file, the batch goes on
            _remove_quietly(temp)
            results.append((path, exc))
            continue
        renamed.append((len(results), path.parent))
        results.append((path, None))
    synced: dict[Path, BaseException | None] = {}
    for index, directory in renamed:
        if directory not in synced:
            try:
                fsync_directory(directory)
                synced[directory] = None
            except OSError as exc:
                synced[directory] = exc
        if synced[directory] is not None:
            results[index] = (results[index][0], synced[directory])
    return results


def _write_temp(target: Path, data: bytes, mode: int) -> Path:
    """The data, fsync'd, in a new temporary file beside `target` (never through a symlink)."""
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    temp = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
    except BaseException:
        _remove_quietly(temp)
        raise
    return temp


def make_directories(directory: Path, mode: int = 0o755) -> None:
    """Create `directory` and its missing parents, syncing each new entry into its parent."""
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
            new.mkdir(mode=mode)
        except FileExistsError:
            continue  # another writer made it first
        fsync_directory(new.parent)


def fsync_directory(directory: Path) -> None:
    """Make renames in `directory` durable; a no-op where directories cannot be opened."""
    if os.name == "nt":
        return
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
