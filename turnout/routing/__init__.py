"""The route table: which path each SOAP operation takes, read from `turnout.yaml`, checked
rule by rule (writes above all), reloaded live, and the sticky canary choice.

Plain Python over plain data: the proxy adapts flows to it, the CLI edits it.
"""

from ._canary import BUCKETS, caller_id, canary_bucket, choose_canary
from ._edit import WriteRollbackRefused, set_route
from ._holder import RouteHolder, Served
from ._load import (
    CANARY_FIELDS,
    ROUTE_FIELDS,
    check_translators,
    load_route_table,
    parse_route_table,
    route_table_from_node,
    routes_one_by_one,
)
from ._reload import Refusal, check_reload, is_write_leaving_its_translator, safe_rollbacks
from ._route import (
    DEFAULT_TIMEOUT,
    MAX_TIMEOUT,
    MODES,
    ON_ERROR,
    Mode,
    OnError,
    Route,
    default_translator,
    operation_key_problem,
)
from ._table import RouteTable
from ._watch import LiveRoutes, RouteWatcher, TranslatorSource

__all__ = [
    "BUCKETS",
    "CANARY_FIELDS",
    "DEFAULT_TIMEOUT",
    "MAX_TIMEOUT",
    "MODES",
    "Mode",
    "ON_ERROR",
    "OnError",
    "ROUTE_FIELDS",
    "LiveRoutes",
    "Refusal",
    "Route",
    "RouteHolder",
    "RouteTable",
    "RouteWatcher",
    "Served",
    "TranslatorSource",
    "WriteRollbackRefused",
    "caller_id",
    "canary_bucket",
    "check_reload",
    "check_translators",
    "choose_canary",
    "default_translator",
    "is_write_leaving_its_translator",
    "load_route_table",
    "operation_key_problem",
    "parse_route_table",
    "route_table_from_node",
    "routes_one_by_one",
    "safe_rollbacks",
    "set_route",
]
