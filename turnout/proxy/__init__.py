"""The mitmproxy addons and launcher: the only package that imports mitmproxy."""

from ._launcher import ProxyThread, make_addons, mitmproxy_options, serve
from ._state import ProxyState, ProxyStats

__all__ = ["ProxyState", "ProxyStats", "ProxyThread", "make_addons", "mitmproxy_options", "serve"]
