"""The result of a comparison: a list of differences, each a readable path, a kind and values."""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

MISSING = "missing"  # in legacy, not in new
EXTRA = "extra"  # in new, not in legacy
CHANGED = "changed"  # a text or attribute value differs
REORDERED = "reordered"  # the same children in another order, where order counts
KINDS = (MISSING, EXTRA, CHANGED, REORDERED)


@dataclass(frozen=True)
class Difference:
    """One way the new envelope does not answer as the legacy one did.

    `path` is the legacy document's (the new one's for `extra`). `legacy` and `new` are what a
    person needs to see, and may hold personal data: the elements are kept (outside equality and
    repr) so a caller can decide what to hide by what was matched, not by re-parsing the path.
    `attribute` is the Clark name of the attribute a difference is about, if any.
    """

    path: str
    kind: str
    legacy: str | None
    new: str | None
    legacy_element: etree._Element | None = field(default=None, compare=False, repr=False)
    new_element: etree._Element | None = field(default=None, compare=False, repr=False)
    attribute: str | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Diff:
    """Every difference found, in document order (legacy's, then what only new has).

    `exact` means equal before any rule was needed: nothing was ignored, normalised, matched
    out of order or (in a Fault) left out as detail, so a report can say "identical" rather
    than "equal under rules". Prefixes, whitespace and the like never count. `namespaces`
    maps each prefix used in the paths to its namespace URI.
    """

    differences: list[Difference]
    exact: bool = False
    namespaces: dict[str, str] = field(default_factory=dict)

    @property
    def equal(self) -> bool:
        return not self.differences
