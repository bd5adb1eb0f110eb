"""Reading the route file only when it is safe to trust, and replacing it atomically.

Whoever can write the route file decides where police data goes, so a file anyone on the machine
could have written is refused rather than obeyed.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ..config import ConfigError, write_atomically

_MAX_BYTES = 1024 * 1024


class FileMissing(ConfigError):
    """The route file is not there (perhaps only for a moment, while an editor saves it)."""


def read_trusted(path: Path) -> str:
    """The file's text, after checking (on the open descriptor, so no swap can slip in between)
    that it is a regular file, not world-writable, and owned by this process's user or root."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)  # O_NONBLOCK: a FIFO planted at the path must not hang us
    except FileNotFoundError:
        raise FileMissing("file not found", file=path) from None
    except OSError as exc:
        raise ConfigError(f"cannot open: {exc.strerror or exc}", file=path) from None
    with os.fdopen(fd, "rb") as handle:
        check_trusted(os.fstat(handle.fileno()), path)
        data = handle.read(_MAX_BYTES + 1)
    if len(data) > _MAX_BYTES:
        raise ConfigError("file is over 1 MiB; refusing to read it", file=path)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text: {exc}", file=path) from None


def check_trusted(info: os.stat_result, path: Path | str) -> None:
    """Refuse a file that is not regular, is world-writable, or belongs to another user.

    Ownership is checked only where the platform has users (`os.getuid`). Root-owned files are
    accepted, as ssh does: root can change anything anyway, and config mounts are often root's.
    """
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError("not a regular file", file=path)
    if not hasattr(os, "getuid"):
        return
    if info.st_mode & stat.S_IWOTH:
        raise ConfigError(
            "is world-writable, so anyone on this machine could reroute traffic; "
            f"refusing it (fix with: chmod o-w {path})", file=path,
        )
    uid = os.getuid()
    if info.st_uid not in (uid, 0):
        raise ConfigError(
            f"is owned by uid {info.st_uid}, not by this process's user (uid {uid}) or root; "
            "refusing routes another user could have written", file=path,
        )


def replace_atomically(path: Path, text: str, expected: str | None = None) -> None:
    """Write `text` to `path` with the one atomic writer (`turnout.config.write_atomically`).

    Readers (the proxy's watcher) see the old file or the new one, never half of one. The file
    keeps its mode, and a symlinked route file keeps its link (its target is replaced). If
    `expected` is given and the file no longer holds it, nothing is written: someone else
    edited it meanwhile, and their edit must not be silently lost.
    """
    def unchanged_meanwhile() -> None:
        if expected is not None and read_trusted(Path(path)) != expected:
            raise ConfigError("changed by someone else while being edited; nothing written, "
                              "try again", file=path)

    try:
        write_atomically(Path(path), text, before_replace=unchanged_meanwhile)
    except OSError as exc:
        raise ConfigError(f"cannot write: {exc.strerror or exc}", file=path) from None
