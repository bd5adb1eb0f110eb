"""The safeguarding records both sides serve: fictional people, one shape per case a mapping
must get right.

- SG-1001: every field, two linked references, a whole-second `created`;
- SG-1002: no forenames (spyne leaves the element out), `lastSeenLocation` not known (spyne
  writes `xsi:nil="true"`: the element is mandatory and nillable), no linked references (an
  empty `stringArray` wrapper) and a `created` with a fraction of a second;
- SG-1003: linked references not known at all (no wrapper), and text that needs escaping.

Times are UTC ISO 8601 strings here; each server spells them its own way.
"""

from __future__ import annotations

from typing import Any

RECORDS: dict[str, dict[str, Any]] = {
    "SG-1001": {
        "recordId": "SG-1001", "risk": "HIGH", "surname": "Adebayo", "forenames": "Tomi",
        "created": "2026-03-01T09:30:00+00:00", "lastSeenLocation": "Bus station, Leyton",
        "linkedRefs": ["CR/2026/000104", "MER/2026/000007"],
    },
    "SG-1002": {
        "recordId": "SG-1002", "risk": "MEDIUM", "surname": "Brennan", "forenames": None,
        "created": "2026-02-14T17:05:42.250000+00:00", "lastSeenLocation": None,
        "linkedRefs": [],
    },
    "SG-1003": {
        "recordId": "SG-1003", "risk": "LOW", "surname": "Adebayo", "forenames": "Grace <Gee>",
        "created": "2025-12-31T23:59:59+00:00", "lastSeenLocation": "Market St & 5th",
        "linkedRefs": None,
    },
}

#: an id neither side knows: spyne's Client.RecordNotFound Fault, the service's 404
MISSING = "SG-9999"

NAMESPACE = "urn:interop:safeguarding:v1"

#: the path both the spyne service and the proxy route on: operations are "/safeguarding GetRecord"
SERVICE_PATH = "/safeguarding"


def search(surname: str) -> list[dict[str, Any]]:
    """The records whose surname is `surname` (case-insensitive), in id order."""
    wanted = surname.strip().casefold()
    return [record for _, record in sorted(RECORDS.items()) if record["surname"].casefold() == wanted]
