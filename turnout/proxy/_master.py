"""The mitmproxy master Turnout runs: only the addons a reverse proxy in front of a bus needs.

`DumpMaster` loads 31 default addons (playback, cookies, HAR export, the browser launcher...)
and dispatches every hook of every flow to each of them, then once more as an `update` event
for the flow lists of mitmproxy's UIs. Measured (shared/perf-notes.md), hook dispatch was 38%
of the proxy's CPU; with only the addons below and no `update` dispatch a request cost 0.65x.
Nothing here keeps flows or shows them, so nobody listens to `update`.

Kept: Core (options and commands), Block (refuses clients from public addresses unless
`block_global` is off, as mitmdump does), Proxyserver, NextLayer, TlsConfig, DisableH2C and
ErrorCheck (a start-up error, such as a port in use, stops the process). `mitmdump -s
turnout/proxy/script.py` and mitmweb keep mitmproxy's full set: they are for watching flows.
The `update` skip replaces one method of this master's AddonManager instance (pinned
mitmproxy 11.x; tests/test_proxy_passthrough.py serves through it).
"""

from __future__ import annotations

import asyncio

from mitmproxy import hooks, master, options
from mitmproxy.addons import block, core, disable_h2c, errorcheck, next_layer, proxyserver, tlsconfig


class TurnoutMaster(master.Master):
    def __init__(self, opts: options.Options, loop: asyncio.AbstractEventLoop | None = None) -> None:
        super().__init__(opts, event_loop=loop, with_termlog=False)
        self.addons.add(
            core.Core(), block.Block(), proxyserver.Proxyserver(), next_layer.NextLayer(),
            tlsconfig.TlsConfig(), disable_h2c.DisableH2C(), errorcheck.ErrorCheck(),
        )
        manager = self.addons

        async def handle_lifecycle(event: hooks.Hook) -> None:
            # as AddonManager.handle_lifecycle, without the `update` event for flow UIs
            await manager.trigger_event(event)

        manager.handle_lifecycle = handle_lifecycle  # type: ignore[method-assign]
