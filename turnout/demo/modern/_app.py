"""Building the modern services: one Starlette app per legacy service, or all four in one."""

from __future__ import annotations

from typing import Callable

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Route

from ..data import DemoStore
from . import cris, eforms, geo, pnc
from ._problem import EXCEPTION_HANDLERS

#: legacy service name -> the routes of its modern replacement, in the order apps are built
SERVICE_ROUTES: dict[str, Callable[[DemoStore], list[BaseRoute]]] = {
    "pnc": pnc.routes,
    "cris": cris.routes,
    "geo": geo.routes,
    "eforms": eforms.routes,
}


def _app(routes: list[BaseRoute]) -> Starlette:
    return Starlette(routes=routes, exception_handlers=dict(EXCEPTION_HANDLERS))


def make_modern_apps(store: DemoStore) -> dict[str, Starlette]:
    """One JSON app per legacy service (`pnc`, `cris`, `geo`, `eforms`), all over `store`."""
    return {name: _app(routes(store)) for name, routes in SERVICE_ROUTES.items()}


def make_modern_app(store: DemoStore) -> Starlette:
    """All four services in one app, at the same paths as the single apps (none collide)."""
    owner: dict[str, str] = {}
    routes: list[BaseRoute] = []
    for name, make_routes in SERVICE_ROUTES.items():
        for route in make_routes(store):
            path = route.path if isinstance(route, Route) else repr(route)
            if owner.setdefault(path, name) != name:
                raise RuntimeError(f"{path} is served by both {owner[path]} and {name}")
            routes.append(route)
    return _app(routes)
