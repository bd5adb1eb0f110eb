"""Building the modern services: one Starlette app per legacy service, or all of them in one.

With a `token_key`, every endpoint checks Turnout's bearer JWT first (see `_auth.py`); the role
each operation needs comes from `operations`, by default the demo's identity file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Route

from ...config import load_operation_roles
from ..data import DemoStore
from ..identity import DEMO_IDENTITY
from . import cris, eforms, geo, merlin, pnc
from ._auth import TokenCheck, guard_routes
from ._problem import EXCEPTION_HANDLERS

#: legacy service name -> the routes of its modern replacement, in the order apps are built
SERVICE_ROUTES: dict[str, Callable[[DemoStore], list[BaseRoute]]] = {
    "pnc": pnc.routes,
    "cris": cris.routes,
    "geo": geo.routes,
    "eforms": eforms.routes,
    "merlin": merlin.routes,
}


def _app(routes: list[BaseRoute]) -> Starlette:
    return Starlette(routes=routes, exception_handlers=dict(EXCEPTION_HANDLERS))


def _token_check(token_key: bytes | None, operations: Mapping[str, str] | None) -> TokenCheck | None:
    if token_key is None:
        return None
    if not token_key:
        raise ValueError("an empty token key would let anyone sign tokens")
    if operations is None:
        operations = load_operation_roles(DEMO_IDENTITY)
    return TokenCheck(key=token_key, operations=dict(operations))


def _service_routes(name: str, store: DemoStore, check: TokenCheck | None) -> list[BaseRoute]:
    routes = SERVICE_ROUTES[name](store)
    return routes if check is None else guard_routes(name, routes, check)


def make_modern_apps(
    store: DemoStore,
    token_key: bytes | None = None,
    *,
    operations: Mapping[str, str] | None = None,
) -> dict[str, Starlette]:
    """One JSON app per legacy service (`pnc`, `cris`, `geo`, `eforms`, `merlin`), all over
    `store`.

    With `token_key`, each checks bearer tokens (audience: its own name); `operations` maps an
    operation key to the role it needs (default: turnout/demo/identity.yaml)."""
    check = _token_check(token_key, operations)
    return {name: _app(_service_routes(name, store, check)) for name in SERVICE_ROUTES}


def make_modern_app(
    store: DemoStore,
    token_key: bytes | None = None,
    *,
    operations: Mapping[str, str] | None = None,
) -> Starlette:
    """All the services in one app, at the same paths as the single apps (none collide).

    With `token_key`, a token's audience must be the service the path belongs to."""
    check = _token_check(token_key, operations)
    owner: dict[str, str] = {}
    routes: list[BaseRoute] = []
    for name in SERVICE_ROUTES:
        for route in _service_routes(name, store, check):
            path = route.path if isinstance(route, Route) else repr(route)
            if owner.setdefault(path, name) != name:
                raise RuntimeError(f"{path} is served by both {owner[path]} and {name}")
            routes.append(route)
    return _app(routes)
