"""The one seam through which Turnout reaches another HTTP server: the legacy bus, the modern
services, a replay target.

Like httpx's transports: everything above sends an `Outbound` and gets an `HttpResponse` (or a
`Streamed` answer too large to hold) or a `TransportError` with a stable `kind`. The real one
is one pooled HTTP/1.1 client (`H1Transport`: keep-alive connections on asyncio protocols, a
third of aiohttp's client's CPU per request) with its timeouts and error mapping written once;
tests that exercise pure logic hand the same code a `MemoryTransport` instead of a server.
"""

from ._h1 import H1Transport
from ._memory import MemoryTransport
from ._values import Outbound, Streamed, Timeouts, Transport, TransportError

__all__ = ["H1Transport", "MemoryTransport", "Outbound", "Streamed", "Timeouts", "Transport", "TransportError"]
