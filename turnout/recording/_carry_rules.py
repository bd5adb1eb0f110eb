"""Replay rules: which value of one answer a later request carries, as a file people edit.

```yaml
carry:
  - from: {operation: "/cris CreateCrimeReport", path: "/Envelope/Body/CreateCrimeReportResponse/crimeReference"}
    to:   {operation: "/cris GetCrimeReport", path: "/Envelope/Body/GetCrimeReport/crimeReference"}
    seen: 3   # requests in the recordings that carried a value from this answer
```

A path names elements by local name from the root (`/Envelope/Body/...`), namespaces not
counted, with no positions: it names every element on that path (a list of search results
is one path), and a last step `@name` names an attribute. Only leaves count: an element with
no child elements, and its text with surrounding whitespace left out.

Loading errors name the file, the line and the field, as every Turnout file does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from turnout.config import Node, load_yaml, parse_yaml, write_atomically
from turnout.soap import HttpResponse, SoapError, parse_xml

_OPERATION = re.compile(r"/\S* \S+")
_NAME = r"[A-Za-z_][\w.\-]*"
_PATH = re.compile(rf"(?:/{_NAME})+(?:/@{_NAME})?")


@dataclass(frozen=True)
class CarryPlace:
    """Where a value sits: an operation key (`/cris GetCrimeReport`) and a leaf path."""

    operation: str
    path: str


@dataclass(frozen=True)
class CarryRule:
    """The value at `source` in an answer is sent again at `target` in later requests."""

    source: CarryPlace
    target: CarryPlace
    seen: int = 0  # how many requests in the recordings carried it (information only)

    def describe(self) -> str:
        return (f"{self.source.operation} {_last(self.source.path)} -> "
                f"{self.target.operation} {_last(self.target.path)}")


def _last(path: str) -> str:
    return path.rsplit("/", 1)[-1]


# -- reading leaves ---------------------------------------------------------------------------


def leaves(body: bytes) -> list[tuple[str, str]]:
    """`(path, value)` for each leaf element's text and each attribute of `body` (read with
    the hardened parser), in document order; [] when it is not readable XML."""
    try:
        root = parse_xml(body)
    except SoapError:
        return []
    found: list[tuple[str, str]] = []
    _walk(root, "", found)
    return found


def _walk(element: etree._Element, parent: str, found: list[tuple[str, str]]) -> None:
    path = f"{parent}/{etree.QName(element).localname}"
    for name, value in element.items():
        found.append((f"{path}/@{etree.QName(name).localname}", value.strip()))
    children = [child for child in element if isinstance(child.tag, str)]
    if not children:
        text = (element.text or "").strip()
        if text:
            found.append((path, text))
    for child in children:
        _walk(child, path, found)


def elements_at(root: etree._Element, path: str) -> Iterator[etree._Element]:
    """The elements a (non-attribute) path names, in document order."""
    steps = path.strip("/").split("/")
    if etree.QName(root).localname != steps[0]:
        return
    level = [root]
    for step in steps[1:]:
        level = [c for e in level for c in e
                 if isinstance(c.tag, str) and etree.QName(c).localname == step]
    yield from level


def answered_ok(response: HttpResponse | None) -> bool:
    """A 2xx answer whose body is not a SOAP Fault: what a later request could build on."""
    if response is None or not 200 <= response.status < 300 or not response.body:
        return False
    return not any(path.startswith("/Envelope/Body/Fault") for path, _ in leaves(response.body))


def values_at(body: bytes, path: str) -> list[str]:
    """The leaf values at `path` in `body`, in document order."""
    return [value for where, value in leaves(body) if where == path]


# -- what looks like a reference --------------------------------------------------------------

_DATE_OR_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
    r"|\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}"
    r"|\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?"
    r"|(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?:T?\d{4,6})?"
)
_NUMBER = re.compile(r"[-+]?\d+(?:[.,]\d+)?")
MIN_LENGTH = 6
MAX_LENGTH = 256


def reference_like(value: str) -> bool:
    """Could `value` be a reference one answer hands to a later request (a crime reference,
    a session or correlation id)? Yes when it is 6 to 256 characters without whitespace,
    holds a digit, and is neither a date or time nor a number shorter than 6 digits (or with
    a decimal part). So `true`, `REC`, `2026-03-05`, `20261130`, `12:30`, `3.50` and free text
    never become rules; `CR/2026/000111`, a uuid and `123456789` may."""
    if not MIN_LENGTH <= len(value) <= MAX_LENGTH:
        return False
    if any(c.isspace() for c in value) or not any(c.isdigit() for c in value):
        return False
    if _DATE_OR_TIME.fullmatch(value):
        return False
    if _NUMBER.fullmatch(value) and not value.isdigit():
        return False  # an amount or a signed number
    return True


# -- the file ---------------------------------------------------------------------------------

HEADER = """\
# Replay rules: values an answer hands to a later request. `turnout replay DIR --rules FILE`
# follows them: when the target answers an operation named under `from`, the value at its
# path is captured (recorded value -> the target's value), and later requests of the `to`
# operation have the recorded value at their `to` path replaced by the target's before they
# are sent. Paths name elements by local name from the root, namespaces not counted; a path
# with several elements (a list) pairs the recorded and new values in document order.
#
# Learned by `turnout replay DIR --learn`: edit freely. Delete a rule to stop following it;
# add one in the same shape. `seen` is how many requests in the recordings carried a value
# from that answer (information only). A value that is the same on the target as in the
# recording is left as it is, so a rule on data that never changes does no harm.
"""


def render_rules(rules: list[CarryRule], note: str = "") -> str:
    """The rules as a commented YAML file (see `HEADER`); `note` adds a comment line."""
    lines = [HEADER.rstrip("\n")]
    if note:
        lines.append(f"# {note}")
    if not rules:
        lines.append("carry: []   # nothing learned: no value of an answer came back in a request")
        return "\n".join(lines) + "\n"
    lines.append("carry:")
    for rule in rules:
        lines.append(f"  - from: {_place(rule.source)}")
        lines.append(f"    to:   {_place(rule.target)}")
        lines.append(f"    seen: {rule.seen}")
    return "\n".join(lines) + "\n"


def _place(place: CarryPlace) -> str:
    return (f"{{operation: {json.dumps(place.operation, ensure_ascii=False)}, "
            f"path: {json.dumps(place.path, ensure_ascii=False)}}}")


def write_rules(path: Path, rules: list[CarryRule], note: str = "") -> None:
    write_atomically(path, render_rules(rules, note), make_dirs=0o755)


def load_carry_rules(path: Path | str) -> list[CarryRule]:
    """The rules of a replay rules file. Raises `ConfigError` naming file, line and field."""
    return _rules(load_yaml(Path(path)))


def parse_carry_rules(text: str, source: Path | str = "<replay rules>") -> list[CarryRule]:
    """`load_carry_rules` for text already in hand; `source` is the name errors give."""
    return _rules(parse_yaml(text, source))


def _rules(root: Node) -> list[CarryRule]:
    if not isinstance(root.value, dict) or "carry" not in root.value:
        raise root.error("must be a mapping with a `carry:` list of rules")
    root.mapping({"carry"})
    carry = root.get("carry")
    assert carry is not None
    if carry.value is None:
        return []
    rules = []
    for item in carry.items():
        item.mapping({"from", "to", "seen"})
        seen = item.get("seen")
        rules.append(CarryRule(
            _place_of(_required(item, "from")), _place_of(_required(item, "to")),
            0 if seen is None else seen.integer(0, 10**9),
        ))
    return rules


def _place_of(node: Node) -> CarryPlace:
    node.mapping({"operation", "path"})
    operation = _required(node, "operation")
    key = operation.string().strip()
    if not _OPERATION.fullmatch(key):
        raise operation.error(f"{key!r} is not an operation key like '/cris GetCrimeReport'")
    path = _required(node, "path")
    text = path.string().strip()
    if not _PATH.fullmatch(text):
        raise path.error(f"{text!r} is not a path of local names like "
                         "'/Envelope/Body/GetCrimeReport/crimeReference' (an attribute last: "
                         "'/@name'; no prefixes, positions or predicates)")
    return CarryPlace(key, text)


def _required(node: Node, key: str) -> Node:
    found = node.get(key)
    if found is None:
        raise node.error(f"missing field: {key}")
    return found

