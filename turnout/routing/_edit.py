"""`turnout routes set OP MODE`: change one route in the file people also edit by hand.

The file is edited round-trip (comments, order and layout kept), the result is validated as a
whole before anything is written, and it replaces the old file atomically, so the watcher of a
running proxy sees either the old routes or the new ones and never a half-written file.

Two exceptions to "validated as a whole", both about going back to the bus:
- moving a read back to `legacy` is written even when *other* routes of the file are broken
  (the caller collects their problems), because a running proxy applies that move whatever else
  it refuses (see `_reload`): a rollback must never be blocked by someone else's mistake;
- moving a write from its translator (or a canary) back to `legacy` is refused unless the
  caller says it was decided (`allow_write_rollback`): the modern service has become the write's
  system of record, and the bus knows nothing of what it recorded since.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from ..config import ConfigError, Node, YamlEditor, parse_yaml
from ._files import read_trusted, replace_atomically
from ._load import parse_route_table, routes_one_by_one
from ._route import MODES, operation_key_problem
from ._table import RouteTable


class WriteRollbackRefused(ConfigError):
    """A write on its translator (or in canary) would go back to the bus without a decision."""


def set_route(
    path: Path | str, operation_key: str, mode: str, percent: float | None = None,
    history: dict[str, object] | None = None,
    validate: Callable[[RouteTable], RouteTable | None] | None = None,
    *, allow_write_rollback: bool = False, problems: list[ConfigError] | None = None,
) -> RouteTable:
    """Set the mode (and, for a canary, the percent) of one operation's route in `path`.

    Other fields of the route (translator, timeout, writes, ...) are kept; `percent` is dropped
    when the mode is no longer canary, and kept when a canary is set again without one. Creates
    the `routes:` section and the route if absent. Raises `ConfigError`, leaving the file
    untouched, when the edited file would not validate - for example a write switched to
    `translator` while it says `on_error: legacy`. Returns the new table.

    `history`, when given, is appended to the route's `history:` list (e.g. why a switch was
    forced past the readiness gate), so the reason stays in the file beside the route.
    `validate(table)` may raise ConfigError to refuse the result (e.g. a missing translator)
    before anything is written; a table it returns (its translators found) is the one returned.

    Going back to `legacy`: a write whose route is `translator` or `canary` is refused with
    `WriteRollbackRefused` unless `allow_write_rollback`. With a `problems` list, a move to
    `legacy` is written even when other routes are invalid: their errors are appended to the
    list instead of refusing, and the table returned holds the routes that are valid alone.
    """
    path = Path(path)
    field = f"routes.{operation_key}"
    if (problem := operation_key_problem(operation_key)) is not None:
        raise ConfigError(problem, file=path, field="routes")
    if mode not in MODES:
        raise ConfigError(f"must be one of {', '.join(MODES)}, not {mode!r}", file=path,
                          field=f"{field}.mode")
    if percent is not None and mode != "canary":
        raise ConfigError(f"percent only applies to mode canary, not {mode}", file=path,
                          field=f"{field}.percent")

    original = read_trusted(path)
    before = parse_yaml(original, path)  # a syntax error is reported as the file's, with its line
    if mode == "legacy" and not allow_write_rollback:
        _refuse_undecided_write_rollback(before, operation_key, path)
    lenient = mode == "legacy" and problems is not None
    editor = YamlEditor(original, indent_sequences=False)
    data = editor.doc
    if not isinstance(data, CommentedMap):
        raise before.error("the file must be a mapping of sections (routes:, upstream:, ...)")

    editor.keep_tail(data)
    routes = data.get("routes")
    if routes is None:
        data["routes"] = routes = CommentedMap()
    elif not isinstance(routes, CommentedMap):
        raise _node(before, "routes").error("must be a mapping of operation key to route")
    editor.keep_tail(routes)
    route = routes.get(operation_key)
    if route is None:
        routes[operation_key] = route = CommentedMap()
    elif not isinstance(route, CommentedMap):
        raise _node(before, "routes", operation_key).error("must be a mapping")
    editor.keep_tail(route)
    _set_fields(route, mode, percent)
    if history is not None:
        _append_history(route, history)

    proposed = editor.text()
    unrelated: list[ConfigError] = []
    try:
        table = parse_route_table(proposed, path)
    except ConfigError as exc:
        if not lenient or _about(exc, operation_key):
            raise _not_changed(exc, path) from None
        table, unrelated = _valid_alone(proposed, path, operation_key, exc)
    _check_only_routes_changed(before.plain(), parse_yaml(proposed, path).plain(), path)
    if validate is not None:
        try:
            checked = validate(table)
            if checked is not None:
                table = checked
        except ConfigError as exc:
            if not lenient or _about(exc, operation_key):
                raise
            unrelated.append(exc)
    if problems is not None:
        problems.extend(unrelated)
    if proposed != original:
        replace_atomically(path, proposed, expected=original)
    return table


def _not_changed(exc: ConfigError, path: Path) -> ConfigError:
    return ConfigError(f"{exc.message} (refused: {path.name} was not changed)",
                       file=exc.file, line=exc.line, field=exc.field)


def _about(exc: ConfigError, operation_key: str) -> bool:
    """Whether `exc` is about this operation's own route."""
    field = exc.field or ""
    prefix = f"routes.{operation_key}"
    return field == prefix or field.startswith(prefix + ".")


def _valid_alone(text: str, path: Path, operation_key: str,
                 whole: ConfigError) -> tuple[RouteTable, list[ConfigError]]:
    """The routes valid on their own, when the file as a whole is not; the others' errors."""
    try:
        routes, problems = routes_one_by_one(text, path)
    except ConfigError as exc:
        raise _not_changed(exc, path) from None
    for problem in problems:
        if _about(problem, operation_key):
            raise _not_changed(problem, path)
    if operation_key not in routes:
        raise _not_changed(whole, path)
    return RouteTable(routes.values(), source=str(path)), problems or [whole]


def _refuse_undecided_write_rollback(root: Node, operation_key: str, path: Path) -> None:
    """A write on its translator or in canary goes back to the bus only by decision.

    Read from the file's plain data, so a route broken in some other field still counts."""
    plain = root.plain()
    routes = plain.get("routes") if isinstance(plain, dict) else None
    route = routes.get(operation_key) if isinstance(routes, dict) else None
    if not isinstance(route, dict):
        return
    mode = route.get("mode", "legacy")
    if route.get("writes") is True and mode in ("translator", "canary"):
        node = _node(root, "routes", operation_key, "mode")
        raise WriteRollbackRefused(
            f"{operation_key} is a write and is on its translator ({mode}): since it moved, the "
            "modern service has been its system of record, and the bus knows nothing of the "
            "records made there. Moving it back to legacy needs an explicit decision (and a "
            "plan for those records)", file=path, line=node.line, field=f"routes.{operation_key}.mode",
        )


def _set_fields(route: CommentedMap, mode: str, percent: float | None) -> None:
    if "mode" in route:
        route["mode"] = mode
    else:
        route.insert(0, "mode", mode)
    if mode != "canary":
        route.pop("percent", None)
    elif percent is not None:
        value = int(percent) if float(percent).is_integer() else float(percent)
        if "percent" in route:
            route["percent"] = value
        else:
            route.insert(list(route).index("mode") + 1, "percent", value)


def _append_history(route: CommentedMap, entry: dict[str, object]) -> None:
    if route.fa.flow_style():
        route.fa.set_block_style()  # a one-line route grows a history: write it as a block
    history = route.get("history")
    if not isinstance(history, CommentedSeq):
        history = route["history"] = CommentedSeq()
    item = CommentedMap(entry)
    item.fa.set_flow_style()
    history.append(item)


def _node(root: Node, *keys: str) -> Node:
    node = root
    for key in keys:
        child = node.get(key)
        if child is None:
            return node
        node = child
    return node


def _check_only_routes_changed(before: object, after: object, path: Path) -> None:
    """A guard against the round trip touching anything but `routes:` (upstream, redaction...)."""
    def rest(data: object) -> object:
        return {k: v for k, v in data.items() if k != "routes"} if isinstance(data, dict) else data

    if rest(before) != rest(after):
        raise ConfigError("editing routes would have changed other sections of the file; "
                          "nothing written (please report this)", file=path)
