"""Compare rules: small named pieces (`Ignore`, `Unordered`, `Normalise`) composed into `Rules`.

Each piece names a place with a path pattern and says one thing about it. `Rules` answers, for
the chain of element names from the root to an element (a `Place`), which pieces apply there;
the answer depends on names only, so it is cached per place and a document pays for matching
once per distinct place, not once per element.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from lxml import etree

from ._normalise import NORMALISERS, Normaliser
from ._patterns import (
    NameTest,
    PathPattern,
    RelativePath,
    RuleError,
    compile_path,
    compile_relative,
)

_CACHE_LIMIT = 4096


@dataclass(frozen=True)
class Ignore:
    """What `path` selects (an element with its subtree, or an attribute) does not count."""

    path: str
    namespaces: Mapping[str, str] = field(default_factory=dict, hash=False)
    pattern: PathPattern = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "pattern", compile_path(self.path, self.namespaces))


@dataclass(frozen=True)
class Unordered:
    """The repeated element `path` is a set: order does not count.

    With a `key` (a child path such as `pnc:pncId`, or `@id`) members are matched by the key's
    text, and a member only one side has is reported by its key. Without one, members are
    matched by their whole content.
    """

    path: str
    key: str | None = None
    namespaces: Mapping[str, str] = field(default_factory=dict, hash=False)
    pattern: PathPattern = field(init=False, repr=False, compare=False)
    key_path: RelativePath | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        pattern = compile_path(self.path, self.namespaces)
        if pattern.attribute is not None:
            raise RuleError(f"path {self.path!r}: an unordered set is of elements, not attributes")
        object.__setattr__(self, "pattern", pattern)
        key = None if self.key is None else compile_relative(self.key, self.namespaces)
        object.__setattr__(self, "key_path", key)


@dataclass(frozen=True)
class Normalise:
    """Texts (or attribute values) at `path` compare after the named normalisers, in order."""

    path: str
    how: str | tuple[str, ...]
    namespaces: Mapping[str, str] = field(default_factory=dict, hash=False)
    pattern: PathPattern = field(init=False, repr=False, compare=False)
    functions: tuple[Normaliser, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = (self.how,) if isinstance(self.how, str) else tuple(self.how)
        if not names:
            raise RuleError("name at least one normaliser")
        for name in names:
            if name not in NORMALISERS:
                raise RuleError(
                    f"unknown normaliser {name!r} (expected one of: {', '.join(NORMALISERS)})"
                )
        object.__setattr__(self, "pattern", compile_path(self.path, self.namespaces))
        object.__setattr__(self, "functions", tuple(NORMALISERS[name] for name in names))


@dataclass(frozen=True)
class NodeRules:
    """What applies at one element: worked out once per chain of names and cached."""

    ignored: bool = False
    text: tuple[Normaliser, ...] = ()
    unordered: Unordered | None = None
    ignored_attributes: tuple[NameTest, ...] = ()
    attribute_normalisers: tuple[tuple[NameTest, tuple[Normaliser, ...]], ...] = ()

    def attribute_ignored(self, name: str) -> bool:
        return any(test(name) for test in self.ignored_attributes)

    def attribute_functions(self, name: str) -> tuple[Normaliser, ...]:
        found: tuple[Normaliser, ...] = ()
        for test, functions in self.attribute_normalisers:
            if test(name):
                found += functions
        return found


NO_RULES = NodeRules()


class Place:
    """One chain of element names (root to self) and the `NodeRules` that apply there.

    Places form a tree cached on their `Rules`: stepping to a child is one dict lookup by tag,
    so a walk never rebuilds or re-hashes chains, and patterns run once per distinct place.
    """

    __slots__ = ("chain", "rules", "plain", "_owner", "_children")

    def __init__(self, chain: tuple[str, ...], owner: Rules) -> None:
        self.chain = chain
        self.rules = owner.resolve(chain)
        #: no rule applies here or anywhere (the owner has none): walks may skip lookups
        self.plain = owner.empty
        self._owner = owner
        self._children: dict[str, Place] = {}

    def child(self, tag: str) -> Place:
        found = self._children.get(tag)
        if found is None:
            found = Place(self.chain + (tag,), self._owner)
            if self._owner.admit_place():
                self._children[tag] = found
        return found

    def below(self, element: etree._Element, top: etree._Element) -> Place:
        """The place of `element`, a descendant of `top` (whose place this is)."""
        tags: list[str] = []
        node: etree._Element | None = element
        while node is not None and node is not top:
            tags.append(node.tag)
            node = node.getparent()
        place = self
        for tag in reversed(tags):
            place = place.child(tag)
        return place


@dataclass(frozen=True)
class Rules:
    """The rules of one operation. `Rules()` is the default semantics: nothing ignored.

    `fault_detail` None means "not said" (detail ignored); `merge` lets an operation override a
    default that said it. A `Rules` caches what applies where; share one per operation.
    """

    ignore: tuple[Ignore, ...] = ()
    unordered: tuple[Unordered, ...] = ()
    normalise: tuple[Normalise, ...] = ()
    fault_detail: bool | None = None
    empty: bool = field(init=False, repr=False, compare=False)
    _places: list[int] = field(init=False, repr=False, compare=False, hash=False)
    _root: Place | None = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        # accept lists from callers; keep the value hashable and immutable
        for name in ("ignore", "unordered", "normalise"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        object.__setattr__(self, "empty", not (self.ignore or self.unordered or self.normalise))
        object.__setattr__(self, "_places", [0])
        object.__setattr__(self, "_root", None)

    @property
    def compares_fault_detail(self) -> bool:
        return bool(self.fault_detail)

    def merge(self, other: Rules) -> Rules:
        """These rules, then `other`'s: lists concatenate, `other.fault_detail` wins if said."""
        return Rules(
            ignore=self.ignore + other.ignore,
            unordered=self.unordered + other.unordered,
            normalise=self.normalise + other.normalise,
            fault_detail=self.fault_detail if other.fault_detail is None else other.fault_detail,
        )

    def place(self, element: etree._Element) -> Place:
        """The place of `element` in its document (its ancestors count, as patterns are
        absolute)."""
        if self._root is None:
            object.__setattr__(self, "_root", Place((), self))
        assert self._root is not None
        place = self._root
        for node in reversed([element, *element.iterancestors()]):
            place = place.child(node.tag)
        return place

    def admit_place(self) -> bool:
        """May one more place be cached? Bounds memory for documents of endless shapes."""
        if self._places[0] >= _CACHE_LIMIT:
            return False
        self._places[0] += 1
        return True

    def resolve(self, chain: tuple[str, ...]) -> NodeRules:
        """What applies to the element whose root-to-self Clark names are `chain` (uncached:
        walks go through `place`)."""
        if self.empty:
            return NO_RULES
        ignored = False
        ignored_attributes: list[NameTest] = []
        for rule in self.ignore:
            if rule.pattern.matches(chain):
                if rule.pattern.attribute is None:
                    ignored = True
                else:
                    ignored_attributes.append(rule.pattern.attribute)
        text: tuple[Normaliser, ...] = ()
        attribute_normalisers: list[tuple[NameTest, tuple[Normaliser, ...]]] = []
        for norm in self.normalise:
            if norm.pattern.matches(chain):
                if norm.pattern.attribute is None:
                    text += norm.functions
                else:
                    attribute_normalisers.append((norm.pattern.attribute, norm.functions))
        unordered = next((u for u in self.unordered if u.pattern.matches(chain)), None)
        if not (ignored or text or unordered or ignored_attributes or attribute_normalisers):
            return NO_RULES
        return NodeRules(
            ignored, text, unordered, tuple(ignored_attributes), tuple(attribute_normalisers)
        )


def rules_for(table: Mapping[str, Rules], operation: str) -> Rules:
    """The rules of `operation` in a table from `load_rules`, else its `default`, else none."""
    found = table.get(operation)
    if found is None:
        found = table.get("default", Rules())
    return found
