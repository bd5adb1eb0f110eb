"""Everything a proxy needs, loaded and cross-checked without starting one.

Used by the proxy before it listens and on every reload, and by `turnout routes check|set`, so
both refuse the same things with the same messages: a route naming a translator that does not
exist, or one whose service has no URL under `services:`. `TranslatorsOnDisk` is what the
proxy's reloader watches: the same translators directory the CLI loads.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .compare import Readiness
from .config import ConfigError, ProxyConfig
from .routing import RouteTable, check_translators, load_route_table
from .translators import Translator, load_translators


@dataclass(frozen=True)
class Setup:
    config: ProxyConfig
    routes: RouteTable
    translators: Mapping[str, Translator] = field(default_factory=dict)


def load_translators_of(config: ProxyConfig) -> dict[str, Translator]:
    if config.translators_dir is None:
        return {}
    return dict(load_translators(config.translators_dir).items())


#: a file modified this recently is hashed as well as stat'ed (see routing's _RACY_SECONDS)
_RACY_SECONDS = 2.0
_TRANSLATOR_SUFFIXES = (".yaml", ".yml", ".py")


class TranslatorsOnDisk:
    """The translators directory of a config, as a live reload sees it (`TranslatorSource`).

    `signature()` changes when any file a translator may be built from changes: every mapping
    file, included part (`_pnc.yaml`) and Python file under the directory, added, removed or
    edited. Hidden files (editors' swap files) and `__pycache__` do not count. A file modified
    in the last two seconds is hashed too, so two writes within one mtime tick still differ.
    """

    def __init__(self, config: ProxyConfig) -> None:
        self.config = config
        self.directory = config.translators_dir

    def signature(self) -> Hashable:
        if self.directory is None:
            return None
        try:
            entries = sorted(self.directory.rglob("*"))
        except OSError as exc:
            return ("unreadable", str(exc))
        now = time.time()
        found: list[tuple[object, ...]] = []
        for path in entries:
            relative = path.relative_to(self.directory)
            if any(part.startswith(".") or part == "__pycache__" for part in relative.parts):
                continue
            if path.suffix not in _TRANSLATOR_SUFFIXES:
                continue
            try:
                info = path.stat()
            except OSError:
                continue  # gone between the listing and the stat: the next poll sees it
            row: tuple[object, ...] = (str(relative), info.st_size, info.st_mtime_ns, info.st_ino)
            if now - info.st_mtime < _RACY_SECONDS:
                row += (_file_hash(path),)
            found.append(row)
        return (os.fspath(self.directory), tuple(found))

    def load(self) -> Mapping[str, Translator]:
        return load_translators_of(self.config)


def _file_hash(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


def check_routes(table: RouteTable, translators: Mapping[str, Translator], config: ProxyConfig) -> RouteTable:
    """What the route file alone cannot know: its translators exist and can reach a service.
    Returns the table with each route's translator found (see `check_translators`)."""
    table = check_translators(table, translators)
    for route in table:
        translator = translators.get(route.translator_name)
        if route.uses_translator and translator is not None and translator.service not in config.services:
            raise ConfigError(
                f"translator {route.translator_name} calls service {translator.service!r}, "
                "which has no URL under services:",
                file=route.source, line=route.line, field=f"routes.{route.key}",
            )
    return table


def load_setup(config: ProxyConfig) -> Setup:
    """Translators and routes of `config`, all validated. Raises ConfigError."""
    translators = load_translators_of(config)
    routes = load_route_table(config.source) if config.source is not None else RouteTable()
    return Setup(config, check_routes(routes, translators, config), translators)


def readiness_of(
    config: ProxyConfig, operations: list[str], directory: Path | None = None
) -> dict[str, Readiness]:
    """Each operation's shadow parity, in its window, against the config's readiness bar.

    The recordings are found as `turnout status` and `turnout compare` find them (`directory`,
    else where the running proxy records, else `recordings.dir`; see `turnout.evidence`), and
    each shadow is judged as `turnout compare` judges it, with the config's translators and
    rules. With no recordings there is no evidence: every operation has no samples, and so is
    not ready. Raises ConfigError (translators, rules, or a recording that cannot be read).
    """
    from .evidence import gather_evidence

    return gather_evidence(config, operations, directory).readiness
