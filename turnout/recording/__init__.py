"""Recording exchanges: the model, its YAML file format, redaction, the store and its writer.

Plain Python over plain data: nothing here knows about mitmproxy. The proxy builds an
`Exchange`, hands it to a `RecordingWriter`, and the writer's thread redacts and stores it.
"""

from ._deserialize import loads
from ._errors import AmbiguousExchangeId, ExchangeNotFound, RecordingError
from ._exchange import (
    EXCHANGE_ID,
    OUTCOMES,
    ROUTES,
    Exchange,
    OmittedBody,
    is_exchange_id,
    new_exchange_id,
)
from ._format import FORMAT_VERSION
from ._redact import (
    REDACTED,
    BodyRule,
    HeaderRule,
    Redactor,
    Replacement,
    Rule,
    compile_body_rule,
    fixed_token,
)
from ._redact_config import redactor_from_config
from ._pseudonym import Pseudonymiser
from ._redact_json import JsonRule, compile_json_rule
from ._retention import parse_age, prune, recorded_at
from ._scan import PATTERNS, Hit, scan
from ._serialize import dumps
from ._store import RecordingStore, read_exchange
from ._summary import LatencyStats, OperationSummary, StoreSummary
from ._writer import RecordingWriter

__all__ = [
    "EXCHANGE_ID",
    "FORMAT_VERSION",
    "OUTCOMES",
    "PATTERNS",
    "REDACTED",
    "ROUTES",
    "AmbiguousExchangeId",
    "BodyRule",
    "Exchange",
    "ExchangeNotFound",
    "HeaderRule",
    "Hit",
    "JsonRule",
    "LatencyStats",
    "OmittedBody",
    "OperationSummary",
    "Pseudonymiser",
    "RecordingError",
    "RecordingStore",
    "RecordingWriter",
    "Redactor",
    "Replacement",
    "Rule",
    "StoreSummary",
    "compile_body_rule",
    "compile_json_rule",
    "dumps",
    "fixed_token",
    "is_exchange_id",
    "loads",
    "parse_age",
    "prune",
    "recorded_at",
    "scan",
    "new_exchange_id",
    "read_exchange",
    "redactor_from_config",
]
