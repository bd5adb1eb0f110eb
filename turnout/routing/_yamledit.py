"""Round-trip YAML editing that keeps people's comments where they wrote them.

ruamel.yaml attaches the comment lines that follow a mapping's last entry (an `# end of
routes`, a commented-out route kept for later) to that entry's last value. Appending a key
would put the new key *below* those lines; deleting the last key would delete them. So an
edit first detaches that trailing block, then reattaches it to whatever is last afterwards.
"""

from __future__ import annotations

import io
from contextlib import contextmanager
from typing import Any, Iterator

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark
from ruamel.yaml.tokens import CommentToken
from ruamel.yaml.util import load_yaml_guess_indent


def round_trip(text: str) -> tuple[Any, YAML]:
    """Load `text` for editing; the returned YAML dumps it with the file's own indentation."""
    mapping = _mapping_indent(text)
    _, indent, block_seq_indent = load_yaml_guess_indent(text)
    yaml = YAML(typ="rt", pure=True)
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap long lines
    if block_seq_indent is None:  # no block sequences: `indent` is the mappings' one
        yaml.indent(mapping=mapping, sequence=mapping, offset=0)
    else:
        yaml.indent(mapping=mapping, sequence=indent, offset=block_seq_indent)
    data = yaml.load(text)
    return (data if data is not None else CommentedMap()), yaml


def _mapping_indent(text: str) -> int:
    """The indentation of nested mapping keys (ruamel's guess measures sequences instead)."""
    widths = [
        len(line) - len(stripped) for line in text.splitlines()
        if (stripped := line.lstrip(" ")) and line[0] == " " and stripped[0] not in "#-[{]}'\""
    ]
    return min(widths, default=2)


def dump(yaml: YAML, data: Any) -> str:
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


@contextmanager
def keeping_trailing_comments(container: CommentedMap) -> Iterator[None]:
    """Edit `container` inside the block; its trailing comment lines stay at its end."""
    tail = _detach_tail(container)
    yield
    if tail:
        _attach_tail(container, tail)


def _last_leaf(node: Any) -> tuple[Any, Any] | None:
    """(container, key-or-index) of the last scalar or flow entry under `node`."""
    while True:
        if isinstance(node, CommentedMap) and len(node):
            key = next(reversed(node))
        elif isinstance(node, CommentedSeq) and len(node):
            key = len(node) - 1
        else:
            return None
        value = node[key]
        if isinstance(value, (CommentedMap, CommentedSeq)) and len(value) and \
                not value.fa.flow_style():
            node = value
            continue
        return node, key


def _detach_tail(container: CommentedMap) -> str:
    leaf = _last_leaf(container)
    if leaf is None:
        return ""
    parent, key = leaf
    entry = parent.ca.items.get(key)
    if not entry or len(entry) < 3 or entry[2] is None:
        return ""
    token = entry[2]
    head, newline, tail = token.value.partition("\n")
    if not tail:
        return ""
    if head.strip():
        token.value = head + newline  # the end-of-line comment stays on its line
    else:
        entry[2] = None
    return str(tail)


def _attach_tail(container: CommentedMap, tail: str) -> None:
    leaf = _last_leaf(container)
    if leaf is None:
        return
    parent, key = leaf
    entry = parent.ca.items.setdefault(key, [None, None, None, None])
    while len(entry) < 3:
        entry.append(None)
    if entry[2] is not None:
        entry[2].value = entry[2].value.rstrip("\n") + "\n" + tail
    else:
        entry[2] = CommentToken("\n" + tail, CommentMark(0), None)
