"""The hosts that serve the gateway: the mitmproxy adapter and launcher (the only modules that
import mitmproxy) and the fast asyncio host. Nothing here imports mitmproxy until the mitmproxy
engine runs (or `make_addons`/`mitmproxy_options` are asked for), so the fast host's process
never loads it."""

from typing import Any

from ..gateway import ProxyState, ProxyStats
from ._engines import DEFAULT_ENGINE, ENGINES, engine_of, run, serve
from ._proxy_thread import ProxyThread

__all__ = ["DEFAULT_ENGINE", "ENGINES", "ProxyState", "ProxyStats", "ProxyThread", "engine_of", "make_addons",
           "mitmproxy_options", "run", "serve"]


def __getattr__(name: str) -> Any:
    if name in ("make_addons", "mitmproxy_options"):
        from . import _launcher

        return getattr(_launcher, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
