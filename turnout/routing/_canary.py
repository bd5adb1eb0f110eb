"""Which callers a canary route sends to the translator: sticky, deterministic, no state.

A caller is hashed with the operation key into one of 10,000 buckets; buckets below
`percent * 100` go to the translator. The same caller therefore always takes the same path for
the same operation (an officer does not flip between two systems mid-shift), every proxy
instance behind a load balancer agrees without sharing anything, and raising the percentage
only adds callers: nobody already on the translator is sent back.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from ._route import Route

BUCKETS = 10_000


def canary_bucket(operation_key: str, caller: str, salt: str = "") -> int:
    """The caller's bucket, 0..9999, for this operation."""
    material = "\x00".join((salt, operation_key, caller)).encode("utf-8", "surrogatepass")
    digest = hashlib.sha256(material).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def choose_canary(route: Route, caller_id: str, salt: str = "") -> bool:
    """True when this caller's request for a canary route goes to the translator.

    False for any route that is not a canary: the canary share does not apply to it.
    """
    if route.mode != "canary" or not route.percent:
        return False
    return canary_bucket(route.key, caller_id, salt) < round(route.percent * 100)


def caller_id(headers: Mapping[str, str], client_address: str, sticky_header: str | None) -> str:
    """Who is calling, for stickiness: the sticky header's value, else the client's address.

    `headers` has lower-case names. The address may carry a port (`10.0.0.7:51234`,
    `[::1]:51234`); it is dropped, since each new connection gets a new one. Behind a load
    balancer every client has the balancer's address: set `canary.sticky_header` then.
    """
    if sticky_header:
        value = headers.get(sticky_header.lower(), "").strip()
        if value:
            return f"h:{value}"
    return f"a:{_host(client_address)}"


def _host(address: str) -> str:
    address = address.strip()
    if address.startswith("["):
        return address[1:].split("]", 1)[0]
    if address.count(":") == 1:  # IPv4 or a name, with a port; bare IPv6 has several colons
        return address.split(":", 1)[0]
    return address
