"""Shared fixtures. Each group says whose it is; add yours below in its own section."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Iterator

import pytest

from turnout.demo import DemoStore, ServerThread, make_legacy_app

from tests.support.asgi import SwappableApp

# --- demo: the embedded legacy SOAP bus -----------------------------------------------------

AsgiApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


@dataclass(frozen=True)
class LegacyBus:
    """A running legacy bus: its base URL (`http://127.0.0.1:<port>`) and the store behind it."""

    url: str
    port: int
    store: DemoStore


@pytest.fixture(scope="session")
def legacy_bus_server() -> Iterator[tuple[ServerThread, SwappableApp]]:
    """One uvicorn server on a free loopback port for the session; see `legacy_bus`."""
    app = SwappableApp()
    with ServerThread(app) as server:
        yield server, app


@pytest.fixture
def legacy_bus(legacy_bus_server: tuple[ServerThread, SwappableApp]) -> Iterator[LegacyBus]:
    """A fresh legacy bus over a fresh `DemoStore`, served over real HTTP, for one test."""
    server, app = legacy_bus_server
    store = DemoStore()
    app.target = make_legacy_app(store)
    try:
        yield LegacyBus(url=server.url, port=server.port, store=store)
    finally:
        app.target = None


# --- hardening: `slow` tests (long fuzz campaigns, soaks) run only with --run-slow ------------


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-slow", action="store_true", default=False, help="also run tests marked slow")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --run-slow")
    for item in items:
        if item.get_closest_marker("slow") is not None:
            item.add_marker(skip)
