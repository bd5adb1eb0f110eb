"""The demo's writes, as its translators declare them (`writes: true`), for tests that must
treat writes apart (they are never replayed nor compared) and would go stale naming them."""

from __future__ import annotations

from turnout.demo.translators import DIRECTORY
from turnout.translators import load_translators


def demo_writes() -> frozenset[str]:
    """The route-table keys of every demo operation whose translator writes."""
    translators = load_translators(DIRECTORY)
    return frozenset(translators[name].operation for name in translators
                     if translators[name].writes)
