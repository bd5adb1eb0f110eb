"""The route table: which path each SOAP operation takes, read from `turnout.yaml`, checked
rule by rule (writes above all), reloaded live, and the sticky canary choice.

Plain Python over plain data: the proxy adapts flows to it, the CLI edits it.
"""

from ._canary import BUCKETS, caller_id, canary_bucket, choose_canary
from ._edit import set_route
from ._holder import RouteHolder
from ._load import (
    CANARY_FIELDS,
    ROUTE_FIELDS,
    check_translators,
    load_route_table,
    parse_route_table,
    route_table_from_node,
)
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
from ._watch import RouteWatcher

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
    "Route",
    "RouteHolder",
    "RouteTable",
    "RouteWatcher",
    "caller_id",
    "canary_bucket",
    "check_translators",
    "choose_canary",
    "default_translator",
    "load_route_table",
    "operation_key_problem",
    "parse_route_table",
    "route_table_from_node",
    "set_route",
]
