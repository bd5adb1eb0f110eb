"""Load YAML keeping line numbers, so every validation error can point at a line; and write
plain data as YAML. ruamel.yaml is the project's one YAML library.

ruamel.yaml's round-trip loader records where each key and item came from; `Node` wraps a value
with its path and line so validators can raise `ConfigError` without threading positions by hand.
`dump_yaml` writes with ruamel.yaml's safe dumper, whose emitter is ruamel.yaml.clib's C one.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from ._errors import ConfigError

_MAX_CONFIG_BYTES = 1024 * 1024


def load_yaml(path: Path) -> Node:
    """Read `path` as YAML. Errors name the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("file not found", file=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read: {exc}", file=path) from None
    return parse_yaml(text, path)


def dump_yaml(data: Any, *, width: int = 100) -> str:
    """Plain data (dicts, lists, scalars) as block YAML: keys in their order, Unicode as is,
    lines folded at `width`. For files Turnout generates; to change a file people wrote, keeping
    their comments, use `YamlEditor`."""
    yaml = YAML(typ="safe")
    yaml.default_flow_style = False
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]  # ruamel infers None
    yaml.allow_unicode = True
    yaml.width = width
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def parse_yaml(text: str, path: Path | str) -> Node:
    if len(text) > _MAX_CONFIG_BYTES:
        raise ConfigError("file is over 1 MiB; refusing to read it", file=path)
    try:
        data = YAML(typ="rt", pure=True).load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise ConfigError(f"not valid YAML: {exc.problem or exc}", file=path, line=line) from None
    if data is None:
        data = CommentedMap()
    return Node(data, str(path), "", 1)


class Node:
    """A YAML value with where it came from: file, dotted field path and line."""

    def __init__(self, value: Any, file: str, field: str, line: int | None) -> None:
        self.value = value
        self.file = file
        self.field = field
        self.line = line

    def error(self, message: str) -> ConfigError:
        return ConfigError(message, file=self.file, line=self.line, field=self.field or None)

    # -- mappings ---------------------------------------------------------------------------
    def mapping(self, allowed: set[str]) -> Node:
        """Assert this is a mapping whose keys are all in `allowed` (typos are errors)."""
        if not isinstance(self.value, dict):
            raise self.error(f"must be a mapping, not {_kind(self.value)}")
        for key in self.value:
            if key not in allowed:
                hint = ", ".join(sorted(allowed))
                raise self._child(key).error(f"unknown field (expected one of: {hint})")
        return self

    def get(self, key: str) -> Node | None:
        if not isinstance(self.value, dict) or key not in self.value:
            return None
        return self._child(key)

    def _child(self, key: Any) -> Node:
        line = self.line
        if isinstance(self.value, CommentedMap):
            try:
                line = self.value.lc.key(key)[0] + 1
            except (KeyError, TypeError):
                pass
        field = f"{self.field}.{key}" if self.field else str(key)
        return Node(self.value.get(key), self.file, field, line)

    # -- sequences --------------------------------------------------------------------------
    def items(self) -> Iterator[Node]:
        if not isinstance(self.value, list):
            raise self.error(f"must be a list, not {_kind(self.value)}")
        for index, item in enumerate(self.value):
            line = self.line
            if isinstance(self.value, CommentedSeq):
                try:
                    line = self.value.lc.item(index)[0] + 1
                except (KeyError, TypeError):
                    pass
            yield Node(item, self.file, f"{self.field}[{index}]", line)

    # -- scalars ----------------------------------------------------------------------------
    def string(self) -> str:
        if not isinstance(self.value, str) or not self.value.strip():
            raise self.error(f"must be a non-empty string, not {_kind(self.value)}")
        return str(self.value)

    def boolean(self) -> bool:
        if not isinstance(self.value, bool):
            raise self.error(f"must be true or false, not {_kind(self.value)}")
        return self.value

    def integer(self, minimum: int, maximum: int) -> int:
        if isinstance(self.value, bool) or not isinstance(self.value, int):
            raise self.error(f"must be a whole number, not {_kind(self.value)}")
        if not minimum <= self.value <= maximum:
            raise self.error(f"must be between {minimum} and {maximum}, not {self.value}")
        return int(self.value)

    def number(self, minimum: float, maximum: float) -> float:
        if isinstance(self.value, bool) or not isinstance(self.value, (int, float)):
            raise self.error(f"must be a number, not {_kind(self.value)}")
        if not minimum <= self.value <= maximum:
            raise self.error(f"must be between {minimum} and {maximum}, not {self.value}")
        return float(self.value)

    def choice(self, options: tuple[str, ...]) -> str:
        if self.value not in options:
            raise self.error(f"must be one of {', '.join(options)}, not {self.value!r}")
        return str(self.value)

    def plain(self) -> Any:
        """The value as plain dicts, lists and scalars (for sections validated elsewhere)."""
        return _plain(self.value)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, (dict, list)):
        return "a mapping" if isinstance(value, dict) else "a list"
    return repr(value)
