"""Serving the modern services until interrupted, optionally beside the legacy bus."""

from __future__ import annotations

import uvicorn

from ..data import DemoStore
from ..identity import DemoIdentity
from ..legacy import make_legacy_app
from ..server import ServerThread
from ._app import make_modern_app


def run_services(
    host: str,
    port: int,
    *,
    store: DemoStore | None = None,
    legacy_port: int | None = None,
    token_key: bytes | None = None,
    identity: DemoIdentity | None = None,
) -> None:
    """Serve all the modern services on `host`:`port` (blocking).

    Over `store`, or a fresh `DemoStore`. With `legacy_port`, the legacy bus is served too, on
    `host`:`legacy_port` over the same store, so writes on one side are readable on the other.
    With `token_key`, every call needs Turnout's bearer token (see `make_modern_app`); with
    `identity`, the legacy bus authenticates too.
    """
    store = store if store is not None else DemoStore()
    legacy = None
    if legacy_port is not None:
        legacy = ServerThread(make_legacy_app(store, identity), port=legacy_port, host=host).start()
    try:
        uvicorn.run(
            make_modern_app(store, token_key),
            host=host,
            port=port,
            log_level="warning",
            access_log=False,
        )
    finally:
        if legacy is not None:
            legacy.stop()
