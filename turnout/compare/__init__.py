"""Semantic comparison of SOAP envelopes: does the new path answer as the legacy one did?

`diff(legacy, new, rules)` walks both trees once. Namespace prefixes and where they are
declared, attribute order, whitespace-only text between elements, comments, processing
instructions and the XML declaration never count; per-operation `Rules` say what else does not
(volatile fields, sets, spellings of one value). `load_rules` reads them from a YAML file.
"""

from ._diff import Document, diff
from ._load import load_rules, parse_rules
from ._model import CHANGED, EXTRA, KINDS, MISSING, REORDERED, Diff, Difference
from ._normalise import NORMALISERS, Normaliser
from ._patterns import RuleError
from ._readiness import Readiness, shadow_readiness
from ._rules import Ignore, Normalise, Rules, Unordered, rules_for

__all__ = [
    "CHANGED",
    "EXTRA",
    "KINDS",
    "MISSING",
    "NORMALISERS",
    "REORDERED",
    "Diff",
    "Difference",
    "Document",
    "Ignore",
    "Normalise",
    "Normaliser",
    "Readiness",
    "RuleError",
    "Rules",
    "Unordered",
    "diff",
    "load_rules",
    "parse_rules",
    "rules_for",
    "shadow_readiness",
]
