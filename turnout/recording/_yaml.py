"""PyYAML plumbing: the fastest safe loader and dumper, line numbers, and literal blocks.

libyaml's emitter refuses the literal style (`|`) for text with tabs, carriage returns or
spaces before a line break, and falls back to an escaped string. XML bodies routinely have
tabs, so `literal_block` writes the block itself; the loader reads such blocks fine. Callers
make sure every block loads back as it went in before trusting it (`_serialize`).

The rest of Turnout reads and edits its files with ruamel.yaml; recordings stay on PyYAML
because it is the faster of the two for them, both on libyaml's C code: a 2 KB translator-mode
recording dumped in 322 µs with PyYAML's CSafeDumper against 1,010 µs with ruamel.yaml's
`YAML(typ="safe")` (its C emitter, ruamel.yaml.clib), and loaded in 343 µs against 942 µs
(ruamel.yaml 0.18.6, PyYAML 6.0.4; the same document, best of 2,000 calls each).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:  # the C classes behave as these; the stubs do not say so
    from yaml import SafeDumper as _BaseDumper
    from yaml import SafeLoader as _BaseLoader
else:
    try:
        from yaml import CSafeDumper as _BaseDumper
        from yaml import CSafeLoader as _BaseLoader
    except ImportError:  # PyYAML built without libyaml
        from yaml import SafeDumper as _BaseDumper
        from yaml import SafeLoader as _BaseLoader

YAMLError = yaml.YAMLError
MarkedYAMLError = yaml.MarkedYAMLError

#: wide enough that no scalar is ever folded over several lines
_NO_WRAP = 1_000_000_000


class FlowList(list[Any]):
    """A list written on one line, `[name, value]`: header pairs stay one per line."""


class MarkedDict(dict[Any, Any]):
    """A mapping as loaded, remembering the line (1-based) it and each of its keys are on."""

    line: int = 0
    key_lines: dict[Any, int]

    def line_of(self, key: Any) -> int:
        lines: dict[Any, int] = getattr(self, "key_lines", {})
        return lines.get(key, self.line)


class _Dumper(_BaseDumper):
    def ignore_aliases(self, data: Any) -> bool:
        """Never `&id001` / `*id001`: a recording is a tree built afresh for each file, so a
        value met twice is written twice, readably; and not looking for repeats is 14% of the
        dump's time."""
        return True


class _Loader(_BaseLoader):
    pass


def _represent_flow_list(dumper: _Dumper, data: FlowList) -> yaml.Node:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True)


def _construct_marked_map(loader: _Loader, node: yaml.MappingNode) -> Iterator[MarkedDict]:
    data = MarkedDict()
    data.line = node.start_mark.line + 1
    yield data
    data.update(loader.construct_mapping(node))
    data.key_lines = {
        key.value: key.start_mark.line + 1
        for key, _ in node.value
        if isinstance(key, yaml.ScalarNode)
    }


_Dumper.add_representer(FlowList, _represent_flow_list)
_Loader.add_constructor("tag:yaml.org,2002:map", _construct_marked_map)


def dump(data: Any) -> str:
    """Block-style YAML, keys in insertion order, Unicode as is, no line folding."""
    text: str = yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=_NO_WRAP,
        indent=2,
    )
    return text


def load(text: str) -> Any:
    """Safe load; mappings come back as `MarkedDict`. Raises `yaml.YAMLError`."""
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader


def literal_block(text: str, key_column: int) -> str:
    """`text` as a literal block scalar for a key at `key_column`, header and lines included.

    Returns e.g. `|-\\n    line one\\n    line two\\n`, to follow `key: ` on the key's line. No
    carriage returns allowed: YAML reads them as line breaks. The result must be verified.
    """
    # An explicit indentation is needed when the first line does not show it by itself.
    indicator = "2" if text[:1] in (" ", "\t", "\n") else ""
    if not text.endswith("\n"):
        chomping, lines = "-", text.split("\n")
    else:
        chomping = "+" if text.endswith("\n\n") else ""
        lines = text[:-1].split("\n")
    prefix = " " * (key_column + 2)
    body = "".join(f"{prefix}{line}\n" if line else "\n" for line in lines)
    return f"|{indicator}{chomping}\n{body}"
