"""The hosts that serve the gateway: the mitmproxy adapter and launcher (the only modules that
import mitmproxy) and the fast asyncio host."""

from ..gateway import ProxyState, ProxyStats
from ._launcher import ProxyThread, make_addons, mitmproxy_options, serve

__all__ = ["ProxyState", "ProxyStats", "ProxyThread", "make_addons", "mitmproxy_options", "serve"]
