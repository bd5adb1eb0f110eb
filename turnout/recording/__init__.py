"""Recording exchanges: the model, its YAML file format, redaction, the store and its writer.

Plain Python over plain data: nothing here knows about mitmproxy. The proxy builds an
`Exchange` and hands it to the writer `open_writer` gives it, which only queues it: a process
of its own redacts, serialises and stores it (`_writer_process`).
"""

from ._carry_learn import MIN_SEEN as CARRY_MIN_SEEN
from ._carry_learn import Learned, learn_carry
from ._carry_rules import (
    CarryPlace,
    CarryRule,
    load_carry_rules,
    parse_carry_rules,
    reference_like,
    render_rules,
    write_rules,
)
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
from ._har import HarError, HarImport, HarSkip, Namer, Naming, exchanges_to_har, har_to_exchanges
from ._pseudonym import Pseudonymiser
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
from ._redact_json import JsonRule, compile_json_rule
from ._replay import (
    NOT_RESENT,
    SKIP_BAD_PATH,
    SKIP_NOT_NAMED,
    SKIP_UNDECLARED,
    SKIP_UNREADABLE,
    SKIP_WHY,
    SKIP_WRITE,
    SKIP_WRITE_NAME,
    RateLimiter,
    ReplayPlan,
    ReplayPolicy,
    ReplaySummary,
    SendOptions,
    Sent,
    Skipped,
    never_a_write,
    normalised_key,
    plan_replay,
    read_recordings,
    replay,
    replayed_exchange,
    resend_check,
    resendable_headers,
    send_all,
    write_keys,
    write_verb,
)
from ._retention import parse_age, prune, recorded_at
from ._scan import PATTERNS, Hit, scan
from ._serialize import dumps
from ._store import RecordingStore, instance_root, read_exchange
from ._summary import LatencyStats, OperationSummary, StoreSummary
from ._writer import RecordingWriter
from ._writer_process import ProcessWriter, open_writer
from ._writer_thread import ThreadWriter

__all__ = [
    "NOT_RESENT",
    "SKIP_BAD_PATH",
    "SKIP_NOT_NAMED",
    "SKIP_UNDECLARED",
    "SKIP_UNREADABLE",
    "SKIP_WHY",
    "SKIP_WRITE",
    "SKIP_WRITE_NAME",
    "AmbiguousExchangeId",
    "CARRY_MIN_SEEN",
    "CarryPlace",
    "CarryRule",
    "Learned",
    "learn_carry",
    "load_carry_rules",
    "parse_carry_rules",
    "reference_like",
    "render_rules",
    "write_rules",
    "BodyRule",
    "EXCHANGE_ID",
    "Exchange",
    "ExchangeNotFound",
    "FORMAT_VERSION",
    "HarError",
    "HarImport",
    "HarSkip",
    "Namer",
    "Naming",
    "HeaderRule",
    "Hit",
    "JsonRule",
    "LatencyStats",
    "OUTCOMES",
    "OmittedBody",
    "OperationSummary",
    "PATTERNS",
    "Pseudonymiser",
    "REDACTED",
    "ROUTES",
    "RateLimiter",
    "RecordingError",
    "RecordingStore",
    "instance_root",
    "RecordingWriter",
    "ThreadWriter",
    "ProcessWriter",
    "Redactor",
    "Replacement",
    "ReplayPlan",
    "ReplayPolicy",
    "ReplaySummary",
    "Rule",
    "SendOptions",
    "Sent",
    "Skipped",
    "StoreSummary",
    "compile_body_rule",
    "compile_json_rule",
    "dumps",
    "exchanges_to_har",
    "fixed_token",
    "har_to_exchanges",
    "is_exchange_id",
    "loads",
    "never_a_write",
    "new_exchange_id",
    "normalised_key",
    "open_writer",
    "parse_age",
    "plan_replay",
    "prune",
    "read_exchange",
    "read_recordings",
    "recorded_at",
    "redactor_from_config",
    "replay",
    "replayed_exchange",
    "resend_check",
    "resendable_headers",
    "scan",
    "send_all",
    "write_keys",
    "write_verb",
]
