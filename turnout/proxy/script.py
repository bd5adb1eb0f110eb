"""Turnout as a mitmdump script, for those who run mitmproxy themselves:

    mitmdump --mode reverse:http://bus:8000 -s turnout/proxy/script.py --set turnout_config=turnout.yaml

`turnout proxy` does the same with the right options set; this entry point exists so Turnout
can join an existing mitmproxy deployment. The script sets `connection_strategy=lazy` and
`body_size_limit` itself, as the launcher does.
"""

from __future__ import annotations

from pathlib import Path

from mitmproxy import ctx, exceptions

from turnout.config import ConfigError, load_proxy_config
from turnout.gateway import Gateway, ProxyState, prepare
from turnout.proxy import _error_pages, _header_limit, _trailers
from turnout.proxy._launcher import make_addons


class ConfigLoader:
    """Declares the `turnout_config` option and loads the file whenever it changes."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    def load(self, loader) -> None:
        loader.add_option("turnout_config", str, "turnout.yaml", "Path to Turnout's turnout.yaml.")

    def configure(self, updated: set[str]) -> None:
        if "turnout_config" not in updated:
            return
        try:
            config = load_proxy_config(Path(ctx.options.turnout_config))
        except ConfigError as exc:
            raise exceptions.OptionsError(str(exc)) from None
        _error_pages.install(config.limits.max_bytes)
        _header_limit.install()
        _trailers.install()
        ctx.options.update(body_size_limit=str(config.limits.max_bytes), connection_strategy="lazy")
        if self.gateway.state.config is not None:
            raise exceptions.OptionsError("turnout_config cannot change while running; restart")
        try:
            prepared = prepare(self.gateway.state, config)
        except ConfigError as exc:
            raise exceptions.OptionsError(str(exc)) from None
        self.gateway.audit = prepared.audit  # the addons below already hold this gateway


_gateway = Gateway(ProxyState())
addons = [ConfigLoader(_gateway), *make_addons(_gateway)]
