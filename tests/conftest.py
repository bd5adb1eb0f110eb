"""Shared fixtures. Each group says whose it is; add yours below in its own section."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Iterator

import pytest

from turnout.demo import DemoStore, ServerThread, make_legacy_app

# --- demo: the embedded legacy SOAP bus -----------------------------------------------------

AsgiApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


class _SwappableApp:
    """An ASGI app forwarding to whichever app the current test installed.

    uvicorn takes ~0.2 s to stop, so one server serves the whole session and each test gets a
    fresh bus and store behind it instead of a fresh server.
    """

    def __init__(self) -> None:
        self.target: AsgiApp | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if self.target is None:
            raise RuntimeError("no app installed: use the legacy_bus fixture")
        await self.target(scope, receive, send)


@dataclass(frozen=True)
class LegacyBus:
    """A running legacy bus: its base URL (`http://127.0.0.1:<port>`) and the store behind it."""

    url: str
    port: int
    store: DemoStore


@pytest.fixture(scope="session")
def legacy_bus_server() -> Iterator[tuple[ServerThread, _SwappableApp]]:
    """One uvicorn server on a free loopback port for the session; see `legacy_bus`."""
    app = _SwappableApp()
    with ServerThread(app) as server:
        yield server, app


@pytest.fixture
def legacy_bus(legacy_bus_server: tuple[ServerThread, _SwappableApp]) -> Iterator[LegacyBus]:
    """A fresh legacy bus over a fresh `DemoStore`, served over real HTTP, for one test."""
    server, app = legacy_bus_server
    store = DemoStore()
    app.target = make_legacy_app(store)
    try:
        yield LegacyBus(url=server.url, port=server.port, store=store)
    finally:
        app.target = None
