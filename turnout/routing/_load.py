"""Reading the `routes:` and `canary:` sections of `turnout.yaml`, with every rule checked.

Errors name file, line and field (`turnout.yaml:14: routes./pnc PersonEnquiry.percent: ...`).
Other top-level keys belong to other layers and are not looked at here.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..config import ConfigError, Node, parse_yaml
from ._files import read_trusted
from ._route import DEFAULT_TIMEOUT, MAX_TIMEOUT, MODES, ON_ERROR, Route, operation_key_problem
from ._table import RouteTable

ROUTE_FIELDS = {
    "mode", "percent", "translator", "timeout", "on_error", "writes", "shadow_target",
    "history",  # switches forced past the readiness gate, with their reasons; not routing
}
CANARY_FIELDS = {"sticky_header", "salt"}

_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_NAME = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")


def load_route_table(path: Path | str) -> RouteTable:
    """Read the route table from `path` (normally `turnout.yaml`), refusing an unsafe file."""
    path = Path(path)
    return parse_route_table(read_trusted(path), path)


def parse_route_table(text: str, path: Path | str) -> RouteTable:
    """Validate `text` as the file `path` and build its route table."""
    return route_table_from_node(parse_yaml(text, path))


def route_table_from_node(root: Node) -> RouteTable:
    """The route table from an already parsed `turnout.yaml` (see `turnout.config.parse_yaml`)."""
    if not isinstance(root.value, dict):
        raise root.error("the file must be a mapping of sections (routes:, upstream:, ...)")
    sticky_header, salt = None, ""
    if (canary := root.get("canary")) is not None and canary.value is not None:
        canary.mapping(CANARY_FIELDS)
        if (header := canary.get("sticky_header")) is not None:
            sticky_header = header.string().strip()
            if not _HEADER_NAME.match(sticky_header):
                raise header.error(f"{sticky_header!r} is not an HTTP header name")
        if (salt_node := canary.get("salt")) is not None:
            salt = salt_node.string()
    routes: list[Route] = []
    if (section := root.get("routes")) is not None and section.value is not None:
        if not isinstance(section.value, dict):
            raise section.error("must be a mapping of operation key to route, e.g. "
                                "'/pnc VehicleEnquiry: {mode: translator}'")
        for key in section.value:
            routes.append(_route(section.get(key), key))  # type: ignore[arg-type]
    return RouteTable(routes, sticky_header=sticky_header, salt=salt, source=root.file)


def routes_one_by_one(text: str, path: Path | str) -> tuple[dict[str, Route], list[ConfigError]]:
    """Each route of the file that is valid on its own, and the errors of those that are not.

    For the rules that must work on a file broken elsewhere (a rollback to legacy): raises
    `ConfigError` only when nothing can be read route by route (not YAML, no mapping).
    """
    root = parse_yaml(text, path)
    if not isinstance(root.value, dict):
        raise root.error("the file must be a mapping of sections (routes:, upstream:, ...)")
    found: dict[str, Route] = {}
    problems: list[ConfigError] = []
    section = root.get("routes")
    if section is None or section.value is None:
        return found, problems
    if not isinstance(section.value, dict):
        raise section.error("must be a mapping of operation key to route, e.g. "
                            "'/pnc VehicleEnquiry: {mode: translator}'")
    for key in section.value:
        try:
            route = _route(section.get(key), key)  # type: ignore[arg-type]
        except ConfigError as exc:
            problems.append(exc)
            continue
        found[route.key] = route
    return found, problems


def _route(node: Node, key: Any) -> Route:
    if (problem := operation_key_problem(key)) is not None:
        raise node.error(problem)
    node.mapping(ROUTE_FIELDS)
    if (history := node.get("history")) is not None and history.value is not None:
        for entry in history.items():
            entry.mapping({"at", "mode", "reason", "parity", "samples"})

    def field(name: str) -> Node | None:
        child = node.get(name)
        return child if child is not None and child.value is not None else None

    mode_node, writes_node = field("mode"), field("writes")
    mode = mode_node.choice(MODES) if mode_node else "legacy"
    writes = writes_node.boolean() if writes_node else False

    percent = None
    percent_node = field("percent")
    if mode == "canary":
        if percent_node is None:
            raise node.error("mode canary needs percent: the share of callers (0..100) sent to "
                             "the translator")
        percent = percent_node.number(0, 100)
    elif percent_node is not None:
        raise percent_node.error(f"percent only applies to mode canary; this route is {mode}")

    translator = None
    if (t := field("translator")) is not None:
        translator = t.string().strip()
        if not _NAME.match(translator):
            raise t.error(f"{translator!r} is not a translator name like 'pnc/VehicleEnquiry'")

    timeout = DEFAULT_TIMEOUT
    if (t := field("timeout")) is not None:
        timeout = t.number(0, MAX_TIMEOUT)
        if timeout <= 0:
            raise t.error(f"must be more than 0 seconds (at most {MAX_TIMEOUT:g}), not {t.value}")

    on_error_node = field("on_error")
    on_error = on_error_node.choice(ON_ERROR) if on_error_node else ("fault" if writes else "legacy")

    shadow_target = None
    if (s := field("shadow_target")) is not None:
        shadow_target = s.string().strip()
        if not _NAME.match(shadow_target):
            raise s.error(f"{shadow_target!r} is not a target name like 'dry-run'")

    if writes:
        _check_write(node, mode, on_error, on_error_node, shadow_target)
    return Route(
        key=key, mode=mode, percent=percent, translator=translator, timeout=timeout,  # type: ignore[arg-type]
        on_error=on_error, writes=writes, shadow_target=shadow_target,  # type: ignore[arg-type]
        line=node.line, source=node.file,
    )


def _check_write(node: Node, mode: str, on_error: str, on_error_node: Node | None,
                 shadow_target: str | None) -> None:
    """A write must happen exactly once. Refuse every route that could make it happen twice."""
    if mode == "shadow" and shadow_target is None:
        raise node.error(
            "a write cannot be shadowed against the live modern service: the bus and the "
            "modern service would both perform it; give shadow_target (e.g. dry-run) so the "
            "translator calls an endpoint that acts on nothing"
        )
    if mode in ("translator", "canary") and on_error == "legacy":
        raise (on_error_node or node).error(
            "a write cannot fall back to legacy: the modern service may already have acted "
            "before it failed or timed out, and the bus would do the write a second time; "
            "use on_error: fault"
        )


def check_translators(table: RouteTable, known: Collection[str] | Mapping[str, Any]) -> RouteTable:
    """Refuse a table whose non-legacy routes name a translator that does not exist; return it
    with each such route's translator found (`Route.found`).

    A route that names no translator (`translator:`) uses the one named after its key
    (`/pnc X` -> `pnc/X`). When no translator has that name, it uses the one translator whose
    `operation:` lists the key: a mapping serving a service's SOAP 1.1 and 1.2 ports is named
    after the first key, and the route for the second finds it this way. Two translators that
    could serve the key (two listing it, or one named after it that lists other keys and one
    listing it) are refused: the route must say which with `translator:`. `known` is the
    translators by name; given only their names, there is nothing to fall back to.

    The proxy calls this at start and before accepting a reload, so a typo cannot send live
    traffic to nothing.
    """
    serving = _serving(known) if isinstance(known, Mapping) else {}
    names = set(known)
    routes = []
    for route in table:
        if route.uses_translator:
            route = _found(route, names, serving.get(route.key, ()), table)
        routes.append(route)
    return RouteTable(routes, sticky_header=table.sticky_header, salt=table.salt,
                      source=table.source)


def _serving(translators: Mapping[str, Any]) -> dict[str, list[str]]:
    """Operation key -> the names of the translators that list it (`operation:`)."""
    serving: dict[str, list[str]] = {}
    for name, translator in translators.items():
        keys = getattr(translator, "operations", None) or (getattr(translator, "operation", None),)
        for key in keys:
            if isinstance(key, str):
                serving.setdefault(key, []).append(name)
    return serving


def _found(route: Route, names: set[str], claimants: Collection[str], table: RouteTable) -> Route:
    file, field = route.source or table.source, f"routes.{route.key}"
    if route.translator is not None:
        if route.translator not in names:
            raise ConfigError(f"no translator named {route.translator!r}; known: {_hint(names)}",
                              file=file, line=route.line, field=f"{field}.translator")
        return route
    default = route.translator_name
    others = sorted(name for name in claimants if name != default)
    if default in names and not others:
        return route
    if default not in names and len(others) == 1:
        return replace(route, found=others[0])
    if others:
        both = ([f"{default!r} (named after it)"] if default in names else []) + [
            f"{name!r} (its operation: lists it)" for name in others]
        raise ConfigError(
            f"more than one translator could serve {route.key}: {', '.join(both)}; "
            "say which with translator:", file=file, line=route.line, field=field,
        )
    raise ConfigError(
        f"no translator named {default!r} (the default for this operation; set translator:), "
        f"and none lists {route.key!r} in its operation:; known: {_hint(names)}",
        file=file, line=route.line, field=field,
    )


def _hint(names: Collection[str]) -> str:
    ordered = sorted(names)
    return ", ".join(ordered[:10]) + (", ..." if len(ordered) > 10 else "") or "none loaded"
