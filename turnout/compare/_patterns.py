"""Path patterns for compare rules: `/*/soap:Header`, `//pnc:person`, `//pnc:person/@id`.

A small, XPath-like language over element names only, so a pattern can be decided from the chain
of names from the root to an element (which `Rules` caches per chain), never from the document:

- `/step` a child, `//step` a descendant at any depth; a pattern starts with `/` or `//`;
- a step is `name` (any namespace, matched on the local name), `prefix:name` (prefix resolved
  through the rule's namespace map), `*` (any element) or `prefix:*` (any element of a namespace);
- a last step `@name` / `@prefix:name` / `@*` selects attributes of the elements before it;
  `//@id` means `//*/@id`.

No predicates, no axes, no functions: rules name places in a message, not queries over it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

#: A test on one Clark-notation name (`{urn:x}local` or `local`).
NameTest = Callable[[str], bool]

_NAME = r"[A-Za-z_][\w.\-]*"
_STEP = re.compile(rf"(@)?(?:(?:({_NAME}):)?({_NAME}|\*)|({_NAME}):\*)")
_TOKEN = re.compile(r"(//|/)([^/]*)")


class RuleError(ValueError):
    """A rule is malformed: a bad path, an unknown prefix or normaliser. The message says which."""


@dataclass(frozen=True)
class Step:
    descendant: bool  # True after `//`: any number of levels may come between
    test: NameTest
    text: str


@dataclass(frozen=True)
class PathPattern:
    """A compiled pattern: element steps and, when it selects attributes, an attribute test."""

    text: str
    steps: tuple[Step, ...]
    attribute: NameTest | None = None

    def matches(self, chain: tuple[str, ...]) -> bool:
        """Does the element whose root-to-self Clark names are `chain` match the element steps?"""
        return _match(self.steps, 0, chain, 0)


def _match(steps: tuple[Step, ...], i: int, chain: tuple[str, ...], j: int) -> bool:
    if i == len(steps):
        return j == len(chain)
    step = steps[i]
    if step.descendant:
        return any(
            step.test(chain[k]) and _match(steps, i + 1, chain, k + 1)
            for k in range(j, len(chain))
        )
    return j < len(chain) and step.test(chain[j]) and _match(steps, i + 1, chain, j + 1)


def name_test(text: str, namespaces: Mapping[str, str]) -> NameTest:
    """The test for one step's name (without `@`): `*`, `p:*`, `p:name` or `name`."""
    match = _STEP.fullmatch(text)
    if match is None or match.group(1):
        raise RuleError(f"{text!r} is not a name, prefix:name, * or prefix:*")
    prefix = match.group(2) or match.group(4)
    local = match.group(3)
    if prefix is not None:
        if prefix not in namespaces:
            raise RuleError(f"unknown namespace prefix {prefix!r} (declare it under namespaces)")
        uri = namespaces[prefix]
        if local is None or local == "*":
            start = f"{{{uri}}}"
            return lambda tag: tag.startswith(start)
        clark = f"{{{uri}}}{local}"
        return lambda tag: tag == clark
    if local == "*":
        return lambda tag: True
    suffix = f"}}{local}"
    return lambda tag: tag == local or tag.endswith(suffix)


def compile_path(text: str, namespaces: Mapping[str, str]) -> PathPattern:
    """Compile `text`, or raise `RuleError` saying what is wrong with it."""
    if not isinstance(text, str) or not text.startswith("/"):
        raise RuleError(f"path {text!r} must start with / or //")
    tokens = _TOKEN.findall(text)
    if "".join(sep + step for sep, step in tokens) != text:
        raise RuleError(f"path {text!r} has three or more slashes in a row")
    steps: list[Step] = []
    attribute: NameTest | None = None
    for index, (separator, step) in enumerate(tokens):
        if not step:
            raise RuleError(f"path {text!r} has an empty step")
        if "[" in step or "(" in step:
            raise RuleError(f"path {text!r}: predicates and functions are not supported")
        if step.startswith("@"):
            if index != len(tokens) - 1:
                raise RuleError(f"path {text!r}: an attribute step must come last")
            attribute = _attribute_test(step[1:], namespaces, text)
            if separator == "//":  # `//@id` is `//*/@id`
                steps.append(Step(True, lambda tag: True, "*"))
            break
        try:
            steps.append(Step(separator == "//", name_test(step, namespaces), step))
        except RuleError as exc:
            raise RuleError(f"path {text!r}: {exc}") from None
    if not steps:
        raise RuleError(f"path {text!r} names no element")
    return PathPattern(text, tuple(steps), attribute)


def _attribute_test(name: str, namespaces: Mapping[str, str], text: str) -> NameTest:
    try:
        return name_test(name, namespaces)
    except RuleError as exc:
        raise RuleError(f"path {text!r}: {exc}") from None


@dataclass(frozen=True)
class RelativePath:
    """A path below an element (`pnc:pncId`, `pnc:ids/pnc:pnc`, `@id`): the key of a set."""

    text: str
    steps: tuple[NameTest, ...]
    attribute: NameTest | None = None


def compile_relative(text: str, namespaces: Mapping[str, str]) -> RelativePath:
    """Compile a child path for an `unordered` key, or raise `RuleError`."""
    if not isinstance(text, str) or not text or text.startswith("/") or "//" in text:
        raise RuleError(f"key {text!r} must be a child path such as pnc:pncId or @id")
    parts = text.split("/")
    attribute = None
    if parts[-1].startswith("@"):
        attribute = _attribute_test(parts.pop()[1:], namespaces, text)
    try:
        steps = tuple(name_test(part, namespaces) for part in parts if part or not attribute)
    except RuleError as exc:
        raise RuleError(f"key {text!r}: {exc}") from None
    return RelativePath(text, steps, attribute)
