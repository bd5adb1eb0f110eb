"""Semantic comparison of SOAP envelopes: does the new path answer as the legacy one did?

`diff(legacy, new, rules)` walks both trees once. Namespace prefixes and where they are
declared, attribute order, whitespace-only text between elements, comments, processing
instructions and the XML declaration never count; per-operation `Rules` say what else does not
(volatile fields, sets, spellings of one value). `load_rules` reads them from a YAML file.

On top of the diff: parity over recordings and its reports (`turnout compare`), noise
learning (`--learn-noise`), golden checks of recorded shadow exchanges (the pytest plugin), and
the readiness of an operation for its translator.
"""

from ._diff import Document, diff
from ._golden import (
    ABSENT,
    CallDifference,
    GoldenError,
    GoldenResult,
    NotGolden,
    accept_golden,
    call_differences,
    call_document,
    check_golden,
    golden_volatiles,
    merge_rule_tables,
    not_golden_reason,
    rewrite_recording,
)
from ._load import load_rules, parse_rules
from ._model import CHANGED, EXTRA, KINDS, MISSING, REORDERED, Diff, Difference
from ._noise import (
    NOISE_GAP,
    Added,
    NoiseLearner,
    NoiseReport,
    OperationNoise,
    Pattern,
    Proposal,
    learn_noise,
    pattern_of,
    propose,
    write_proposals,
)
from ._normalise import NORMALISERS, Normaliser
from ._parity import (
    DIFFERENT,
    EQUAL,
    IDENTICAL,
    AnswerSource,
    NewAnswer,
    NotCompared,
    OperationParity,
    ParityError,
    ParityReport,
    Sample,
    SampleDifference,
    TargetAnswers,
    TranslatorAnswers,
    compare_recordings,
    compare_sample,
    legacy_answered,
    resendable_headers,
)
from ._patterns import RuleError
from ._readiness import Readiness, shadow_readiness
from ._reports import (
    HTML_NAME,
    JSON_NAME,
    JUNIT_NAME,
    parity_text,
    readable_differences,
    report_data,
    report_html,
    report_json,
    report_junit,
    write_reports,
)
from ._rules import Ignore, Normalise, Rules, Unordered, rules_for

__all__ = [
    "ABSENT",
    "Added",
    "AnswerSource",
    "CHANGED",
    "CallDifference",
    "DIFFERENT",
    "Diff",
    "Difference",
    "Document",
    "EQUAL",
    "EXTRA",
    "GoldenError",
    "GoldenResult",
    "HTML_NAME",
    "IDENTICAL",
    "Ignore",
    "JSON_NAME",
    "JUNIT_NAME",
    "KINDS",
    "MISSING",
    "NOISE_GAP",
    "NORMALISERS",
    "NewAnswer",
    "NoiseLearner",
    "NoiseReport",
    "Normalise",
    "Normaliser",
    "NotCompared",
    "NotGolden",
    "OperationNoise",
    "OperationParity",
    "ParityError",
    "ParityReport",
    "Pattern",
    "Proposal",
    "REORDERED",
    "Readiness",
    "RuleError",
    "Rules",
    "Sample",
    "SampleDifference",
    "TargetAnswers",
    "TranslatorAnswers",
    "Unordered",
    "accept_golden",
    "call_differences",
    "call_document",
    "check_golden",
    "compare_recordings",
    "compare_sample",
    "diff",
    "golden_volatiles",
    "learn_noise",
    "legacy_answered",
    "load_rules",
    "merge_rule_tables",
    "not_golden_reason",
    "parity_text",
    "parse_rules",
    "pattern_of",
    "propose",
    "readable_differences",
    "report_data",
    "report_html",
    "report_json",
    "report_junit",
    "resendable_headers",
    "rewrite_recording",
    "rules_for",
    "shadow_readiness",
    "write_proposals",
    "write_reports",
]
