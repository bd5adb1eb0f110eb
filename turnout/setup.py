"""Everything a proxy needs, loaded and cross-checked without starting one.

Used by the proxy before it listens and by `turnout routes check|set`, so both refuse the same
things with the same messages: a route naming a translator that does not exist, or one whose
service has no URL under `services:`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from .compare import Readiness, shadow_readiness
from .config import ConfigError, ProxyConfig
from .recording import RecordingStore
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


def check_routes(table: RouteTable, translators: Mapping[str, Translator], config: ProxyConfig) -> None:
    """What the route file alone cannot know: its translators exist and can reach a service."""
    check_translators(table, set(translators))
    for route in table:
        translator = translators.get(route.translator_name)
        if route.uses_translator and translator is not None and translator.service not in config.services:
            raise ConfigError(
                f"translator {route.translator_name} calls service {translator.service!r}, "
                "which has no URL under services:",
                file=route.source, line=route.line, field=f"routes.{route.key}",
            )


def load_setup(config: ProxyConfig) -> Setup:
    """Translators and routes of `config`, all validated. Raises ConfigError."""
    translators = load_translators_of(config)
    routes = load_route_table(config.source) if config.source is not None else RouteTable()
    check_routes(routes, translators, config)
    return Setup(config, routes, translators)


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
