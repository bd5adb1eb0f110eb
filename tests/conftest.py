"""Shared fixtures. Each group says whose it is; add yours below in its own section."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
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


# --- hosts: the proxy suites run against both hosts (turnout proxy --engine) -----------------
#
# Every test in a proxy suite runs once per host, `[mitmproxy]` and `[fast]`. The engine reaches
# the proxy through TURNOUT_ENGINE, set before each test's fixtures are (so `ProxyThread` in this
# process and `turnout proxy` in a subprocess both read it); a fixture wider than a test that
# starts a proxy takes `proxy_engine` so it is started again for the other host. The grouping is
# by session: every proxy test on one host, then on the other. A test of what one host alone has
# is marked `@pytest.mark.engine("mitmproxy", reason=...)`.

PROXY_ENGINES = ("mitmproxy", "fast")
ENGINE_VARIABLE = "TURNOUT_ENGINE"
PROXY_SUITE_DIRS = ("wire", "interop")
PROXY_SUITE_FILES = (
    "test_hostile.py", "test_failing_neighbours.py", "test_tls.py", "test_live_reload.py",
    "test_identity_path.py", "test_audit.py", "test_naming.py", "test_leaks.py", "test_proxy_signals.py",
    "test_recording_failures.py", "test_soak.py", "test_metrics.py", "test_health.py", "test_tracing.py",
    "test_attachments_proxy.py",
)
_ENGINE_GIVEN = os.environ.get(ENGINE_VARIABLE)


def in_proxy_suite(path: Path) -> bool:
    tests = Path(__file__).parent
    try:
        relative = path.relative_to(tests)
    except ValueError:
        return False
    if relative.parts[0] in PROXY_SUITE_DIRS:
        return True
    return len(relative.parts) == 1 and (relative.name in PROXY_SUITE_FILES or relative.name.startswith("test_proxy_"))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "engine(name, reason): a proxy test of what only that host has")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if not in_proxy_suite(Path(str(metafunc.definition.fspath))):
        return
    marker = metafunc.definition.get_closest_marker("engine")
    engines = PROXY_ENGINES if marker is None else tuple(marker.args)
    metafunc.parametrize("proxy_engine", engines, ids=list(engines), scope="session")


@pytest.fixture(scope="session")
def proxy_engine() -> str | None:
    """The host a proxy test runs against (outside the proxy suites: TURNOUT_ENGINE, if set)."""
    return _ENGINE_GIVEN


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    callspec = getattr(item, "callspec", None)
    engine = callspec.params.get("proxy_engine") if callspec is not None else None
    engine = engine or _ENGINE_GIVEN
    if engine is None:
        os.environ.pop(ENGINE_VARIABLE, None)
    else:
        os.environ[ENGINE_VARIABLE] = engine


@pytest.fixture(autouse=True)
def _proxy_engine_in_use(proxy_engine: str | None) -> str | None:
    """Puts `proxy_engine` in every test's fixtures, so the proxy suites can be parametrised by it."""
    return proxy_engine
