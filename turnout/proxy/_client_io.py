"""Reaching a client's connection beneath mitmproxy's flow API: to cut it off, or to write to it.

mitmproxy offers no public way to close a client connection from a timer or to stream an answer
it did not build; its proxyserver keeps each connection's handler and transport. Three addons
need them (the body timeout, the header/idle timeout, and passing on an answer too large to
hold), so the private access lives here once. Private API of the pinned mitmproxy 11.x.
"""

from __future__ import annotations

from typing import Any

from mitmproxy import ctx


def client_io(client_id: str) -> Any | None:
    """The transport record (`.writer`, `.handler`) of a live client connection, or None."""
    proxyserver = ctx.master.addons.get("proxyserver")
    handler = proxyserver.connections.get(client_id) if proxyserver else None
    io = handler.transports.get(handler.client) if handler is not None else None
    if io is None or io.handler is None:
        return None
    return io
