"""What must never reach the bus: an operation moved off it, under any spelling or disguise.

A route in `translator` or `canary` mode says the bus no longer executes that operation for
(some) callers; for a write, the modern service has become the system of record and the bus
executing it too makes two crime reports with one reference. The router sends such requests to
the translator, but a request can name one operation to us and another to the bus:
- a SOAPAction that names another operation than the Body (a bus that dispatches on the action
  runs the action's operation);
- a method other than POST (some buses execute an envelope whatever the method);
- a body we cannot read (an encoding trick, a syntax error the bus's parser forgives) on a
  service path that hosts a moved write: we cannot tell which operation it is, so it is refused.
Each case is refused with a Fault rather than forwarded. Plain functions over plain values, no
host: the mitmproxy addons and any other host ask the same question.
"""

from __future__ import annotations

from ..routing import Route, RouteTable
from ..soap import Fault
from ._reading import ReadRequest

#: modes in which the bus must not execute the operation (for some or all callers)
MOVED = frozenset({"translator", "canary"})


def route_for(table: RouteTable, service: str, operation: str, case_insensitive: bool = False) -> Route:
    """The route for `service operation`; with `case_insensitive`, service paths match in any case."""
    key = f"{service} {operation}"
    if not case_insensitive:
        return table.route_for(key)
    wanted = service.lower()
    for route in table:
        if route.operation == operation and route.service.lower() == wanted:
            return route
    return table.route_for(key)


def moved_writes_on(table: RouteTable, service: str, case_insensitive: bool = False) -> list[Route]:
    """The writes moved off the bus on `service` (a normalised service path)."""
    wanted = service.lower() if case_insensitive else service
    return [
        r for r in table
        if r.writes and r.mode in MOVED
        and (r.service.lower() if case_insensitive else r.service) == wanted
    ]


def action_operation(action: str | None) -> str | None:
    """The operation an action URI names (its last segment), or None for no action."""
    if not action:
        return None
    last = action.strip().strip('"').rstrip("/")
    for sep in ("#", "/", ":"):
        last = last.rsplit(sep, 1)[-1]
    return last or None


def bus_refusal(
    read: ReadRequest, table: RouteTable, method: str, case_insensitive: bool = False
) -> Fault | None:
    """A Fault when sending this request to the bus could make it execute a moved operation."""
    service = read.service
    if service is None or read.reading in ("passthrough", "rejected"):
        return None
    if read.envelope is None:  # unreadable
        writes = moved_writes_on(table, service, case_insensitive)
        if writes:
            return Fault(
                f"Request refused by the proxy: the body cannot be read as SOAP, and {service} hosts "
                f"an operation moved off the bus ({writes[0].operation})",
                sender=True, kind="routing.unreadable-on-moved-service",
            )
        return None
    body_op = read.envelope.operation.name
    body_route = route_for(table, service, body_op, case_insensitive)
    if method.upper() != "POST" and body_route.mode in MOVED:
        return Fault(
            f"Request refused by the proxy: {body_op} is served only by POST, not {method.upper()}",
            sender=True, kind="routing.method",
        )
    if read.envelope.action_mismatch:
        named = action_operation(read.envelope.action)
        action_route = route_for(table, service, named, case_insensitive) if named else None
        if (body_route.mode in MOVED or (action_route is not None and action_route.mode in MOVED)
                or moved_writes_on(table, service, case_insensitive)):
            return Fault(
                f"SOAPAction {read.envelope.action!r} names another operation than the Body "
                f"({body_op}), and one of them no longer runs on the bus",
                sender=True, kind="soapaction-mismatch",
                details={"action": read.envelope.action or "", "body": body_op},
            )
    return None
