"""The one comment-keeping YAML editor: changing a file people wrote (routes, learned compare
rules, a copy of turnout.yaml) without losing what they wrote around the change.

The file is loaded round-trip and dumped with its own indentation, quotes and key order;
comments stay where they were, and lines nobody edited come back as they were.

One ruamel.yaml habit needs undoing: it attaches the comment lines that follow a block's last
entry (an `# end of routes`, a commented-out route kept for later, the comment introducing the
next section) to that entry. Appending to the block would put the new entry below those lines,
and deleting the entry would delete them. So before its first change, each container is
`keep_tail`'d: those trailing lines are detached, and `text()` attaches them again to whatever
is last in the container afterwards, innermost containers first.
"""

from __future__ import annotations

import io
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark
from ruamel.yaml.tokens import CommentToken
from ruamel.yaml.util import load_yaml_guess_indent

Container = CommentedMap | CommentedSeq

#: never re-wrap a long line people wrote
_WIDTH = 4096


class YamlEditor:
    """One YAML document loaded for editing. Change `doc` in place, `keep_tail` each container
    before its first change, then `text()` is the file with the edits.

    `indent_sequences` is the layout of block sequences when the file has none to copy:
    indented under their key (`key:\\n  - item`, True) or level with it (`key:\\n- item`).
    """

    def __init__(self, text: str, *, indent_sequences: bool = True) -> None:
        self.yaml = YAML(typ="rt", pure=True)
        self.yaml.preserve_quotes = True
        self.yaml.width = _WIDTH
        mapping = _mapping_indent(text)
        _, sequence, offset = load_yaml_guess_indent(text) if text.strip() else (None, None, None)
        if offset is None:  # no block sequence to copy: ruamel's guess measured mappings
            if indent_sequences:
                self.yaml.indent(mapping=mapping, sequence=mapping + 2, offset=mapping)
            else:
                self.yaml.indent(mapping=mapping, sequence=mapping, offset=0)
        else:
            self.yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
        loaded = self.yaml.load(text) if text.strip() else None
        self.doc: Any = loaded if loaded is not None else CommentedMap()
        self._tails: dict[int, tuple[Container, str]] = {}

    @property
    def map_indent(self) -> int:
        return int(self.yaml.map_indent or 2)

    @property
    def sequence_indent(self) -> int:
        return int(self.yaml.sequence_indent or 2)

    def keep_tail(self, container: Container) -> None:
        """Detach the comment lines after `container`'s last entry, to be attached again after
        its last entry by `text()`. Call before the container's first change; again is a no-op."""
        if id(container) not in self._tails:
            self._tails[id(container)] = (container, _detach_tail(container))

    def text(self) -> str:
        """The document as YAML text, each kept tail back at the end of its container."""
        for container, tail in reversed(self._tails.values()):
            _attach_tail(container, tail)
        self._tails.clear()
        out = io.StringIO()
        self.yaml.dump(self.doc, out)
        return out.getvalue()


def _mapping_indent(text: str) -> int:
    """The indentation of nested mapping keys: the least indentation of a line that is not a
    comment, a sequence item or a flow collection (ruamel's guess measures sequences)."""
    widths = [
        len(line) - len(stripped) for line in text.splitlines()
        if line.startswith(" ") and (stripped := line.lstrip(" "))
        and stripped[0] not in "#-[{]}"
    ]
    return min(widths, default=2)


def _detach_tail(container: Container) -> str:
    slot = _comment_slot(container)
    if slot is None:
        return ""
    entry, index = slot
    head, newline, tail = entry[index].value.partition("\n")
    if not tail:
        return ""
    if head.strip():
        entry[index].value = head + newline  # the end-of-line comment stays on its line
    else:
        entry[index] = None
    return str(tail)


def _attach_tail(container: Container, tail: str) -> None:
    if not tail:
        return
    slot = _comment_slot(container, create=True)
    if slot is None:  # the container is empty now
        return
    entry, index = slot
    if entry[index] is not None:
        entry[index].value = entry[index].value.rstrip("\n") + "\n" + tail
    else:
        entry[index] = CommentToken("\n" + tail, CommentMark(0), None)


def _comment_slot(node: Any, create: bool = False) -> tuple[list[Any], int] | None:
    """The comment entry of the last leaf under `node`: ruamel keeps a mapping value's
    trailing comment at index 2 of its key's entry, a sequence item's at index 0."""
    while True:
        if isinstance(node, CommentedMap) and len(node):
            key: Any = next(reversed(node))
            index = 2
        elif isinstance(node, CommentedSeq) and len(node):
            key, index = len(node) - 1, 0
        else:
            return None
        value = node[key]
        if isinstance(value, (CommentedMap, CommentedSeq)) and len(value) \
                and not value.fa.flow_style():
            node = value
            continue
        entry = node.ca.items.get(key)
        if entry is None or len(entry) <= index or entry[index] is None:
            if not create:
                return None
            entry = node.ca.items.setdefault(key, [None, None, None, None])
            while len(entry) <= index:
                entry.append(None)
        return entry, index
