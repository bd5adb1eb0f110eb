"""The compare rules file: a `default` section merged into each operation's section.

```yaml
namespaces: {pnc: "urn:police:pnc:v1"}    # for every section; a section may add its own
default:
  ignore: ["//pnc:MessageHeader"]
"/pnc PersonEnquiry":
  unordered: [{path: "//pnc:person", key: "pnc:pncId"}]
  normalise: [{path: "//pnc:dateOfBirth", as: date}]
  fault_detail: true
```

Every error names the file, the line and the field (`compare.yaml:7: /pnc PersonEnquiry.
unordered[0].key: unknown namespace prefix 'pcn'`), as all Turnout configuration does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from turnout.config import Node, load_yaml, parse_yaml

from ._patterns import RuleError
from ._rules import Ignore, Normalise, Rules, Unordered

_SECTION = {"namespaces", "ignore", "unordered", "normalise", "fault_detail"}
_OPERATION = re.compile(r"/\S* \S+")
_PREFIX = re.compile(r"[A-Za-z_][\w.\-]*")
T = TypeVar("T")


def load_rules(path: Path | str) -> dict[str, Rules]:
    """Rules per operation key (`"/pnc PersonEnquiry"`), each with `default` merged in first.

    The table also holds `"default"` itself, for operations the file does not name; see
    `rules_for`. Raises `turnout.config.ConfigError` naming file, line and field.
    """
    return _rules(load_yaml(Path(path)))


def parse_rules(text: str, source: Path | str = "<compare rules>") -> dict[str, Rules]:
    """`load_rules` for text already in hand; `source` is the name errors give."""
    return _rules(parse_yaml(text, source))


def _rules(root: Node) -> dict[str, Rules]:
    if not isinstance(root.value, dict):
        raise root.error("must be a mapping of default and operation keys to rules")
    shared = _namespaces(root.get("namespaces"), {})
    default = Rules()
    operations: dict[str, Node] = {}
    for key in root.value:
        node = root.get(str(key)) if isinstance(key, str) else None
        if node is None:
            raise root.error(f"{key!r} is not a section name")
        if key == "namespaces":
            continue
        if key == "default":
            default = _section(node, shared)
        elif _OPERATION.fullmatch(key):
            operations[key] = node
        else:
            raise node.error(
                "unknown section (expected namespaces, default, or an operation key such as "
                "'/pnc PersonEnquiry')"
            )
    table = {"default": default}
    for key, node in operations.items():
        table[key] = default.merge(_section(node, shared))
    return table


def _section(node: Node, shared: dict[str, str]) -> Rules:
    if node.value is None:
        return Rules()
    node.mapping(_SECTION)
    namespaces = _namespaces(node.get("namespaces"), shared)
    fault_detail = node.get("fault_detail")
    return Rules(
        ignore=tuple(_each(node.get("ignore"), lambda item: _ignore(item, namespaces))),
        unordered=tuple(_each(node.get("unordered"), lambda item: _unordered(item, namespaces))),
        normalise=tuple(_each(node.get("normalise"), lambda item: _normalise(item, namespaces))),
        fault_detail=None if fault_detail is None else fault_detail.boolean(),
    )


def _each(node: Node | None, build: Callable[[Node], T]) -> list[T]:
    return [] if node is None else [build(item) for item in node.items()]


def _ignore(item: Node, namespaces: dict[str, str]) -> Ignore:
    return _built(item, lambda: Ignore(item.string(), namespaces))


def _unordered(item: Node, namespaces: dict[str, str]) -> Unordered:
    if isinstance(item.value, str):
        return _built(item, lambda: Unordered(item.string(), None, namespaces))
    item.mapping({"path", "key"})
    path = _required(item, "path")
    key = item.get("key")
    path_text = path.string()
    _built(path, lambda: Unordered(path_text, None, namespaces))
    if key is None:
        return Unordered(path_text, None, namespaces)
    key_text = key.string()
    return _built(key, lambda: Unordered(path_text, key_text, namespaces))


def _normalise(item: Node, namespaces: dict[str, str]) -> Normalise:
    item.mapping({"path", "as"})
    path = _required(item, "path")
    how_node = _required(item, "as")
    how: str | tuple[str, ...]
    if isinstance(how_node.value, list):
        how = tuple(entry.string() for entry in how_node.items())
    else:
        how = how_node.string()
    path_text = path.string()
    _built(path, lambda: Normalise(path_text, "trim", namespaces))
    return _built(how_node, lambda: Normalise(path_text, how, namespaces))


def _required(item: Node, key: str) -> Node:
    found = item.get(key)
    if found is None:
        raise item.error(f"missing field: {key}")
    return found


def _built(node: Node, build: Callable[[], T]) -> T:
    try:
        return build()
    except RuleError as exc:
        raise node.error(str(exc)) from None


def _namespaces(node: Node | None, inherited: dict[str, str]) -> dict[str, str]:
    result = dict(inherited)
    if node is None:
        return result
    if not isinstance(node.value, dict):
        raise node.error("must be a mapping of prefix to namespace URI")
    for prefix in node.value:
        entry = node.get(prefix) if isinstance(prefix, str) else None
        if entry is None or not _PREFIX.fullmatch(prefix):
            raise (entry or node).error(f"{prefix!r} is not a namespace prefix")
        result[prefix] = entry.string()
    return result
