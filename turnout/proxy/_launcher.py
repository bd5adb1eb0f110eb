"""Start mitmproxy in reverse mode with Turnout's addons: `turnout proxy`, tests and the demo.

Nobody needs mitmdump flags: the launcher sets the options Turnout relies on. `lazy` connection
strategy, so mitmproxy never opens its own upstream connection (our forwarder does, with
timeouts); no flow list and no dumper, so no flow stays in memory after it is answered.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Callable
from typing import Any

from mitmproxy import options
from mitmproxy.master import Master
from mitmproxy.tools.dump import DumpMaster

from ..config import ProxyConfig
from ..gateway import Gateway, ProxyState, prepare
from . import _error_pages, _header_limit, _trailers
from ._addon import GatewayAddon, NoDefaultForwarding
from ._client_timeout import ClientBodyTimeout
from ._connections import ConnectionGuard
from ._drain import CloseWhileDraining, InFlight, drain_and_stop
from ._host import HostRuntime
from ._loop_errors import quiet_loop_errors
from ._master import TurnoutMaster
from ._signals import reload_on_hup
from ._tls import ListenTlsAddon

log = logging.getLogger("turnout.proxy")

#: mitmproxy keeps process-wide state (`mitmproxy.ctx`: the master, its options), so a second
#: master in the same process would run the first one's addons on its own event loop.
_one_per_process = threading.Lock()


def make_addons(gateway: Gateway) -> list[Any]:
    """Turnout's addons in hook order: client TLS (with `tls.cert`), connection bounds, body
    timeout (the host's own parts), then the gateway, the guard against mitmproxy forwarding a
    request by default, and the runtime that starts and stops the gateway's long-lived parts."""
    state = gateway.state
    return [
        ListenTlsAddon(state), ConnectionGuard(state), ClientBodyTimeout(state),
        GatewayAddon(gateway), NoDefaultForwarding(), HostRuntime(gateway),
    ]


def mitmproxy_options(config: ProxyConfig) -> dict[str, Any]:
    """The mitmproxy options Turnout runs with (set after the addons that declare them load).

    Client TLS is `ListenTlsAddon`'s (mitmproxy's `request_client_cert` only asks for a
    certificate, never verifies one, so it stays off). Turnout's forwarder reaches the bus, never
    mitmproxy; should mitmproxy ever open an upstream connection itself, it verifies the bus
    against the same CA bundle (`ssl_insecure` stays off)."""
    options: dict[str, Any] = {
        "mode": [f"reverse:{config.upstream}"],
        "listen_host": config.listen_host,
        "listen_port": config.listen_port,
        "connection_strategy": "lazy",
        "body_size_limit": str(config.limits.max_bytes),
        "keep_host_header": config.keep_host_header,
        "ssl_insecure": False,
        "request_client_cert": False,
    }
    if config.upstream_tls.ca is not None:
        options["ssl_verify_upstream_trusted_ca"] = str(config.upstream_tls.ca)
    return options


class _Ready:
    """Reports the bound address once mitmproxy's servers are up (port 0 picks a free one)."""

    def __init__(self, callback: Callable[[str, int], None]) -> None:
        self.callback = callback

    def running(self) -> None:
        from mitmproxy import ctx

        server = ctx.master.addons.get("proxyserver")
        host, port = server.listen_addrs()[0][:2]
        self.callback(host, port)


async def serve(
    config: ProxyConfig,
    state: ProxyState | None = None,
    on_ready: Callable[[str, int], None] | None = None,
    on_master: Callable[[Master], None] | None = None,
    handle_signals: bool = False,
    bare: bool = False,
) -> ProxyState:
    """Run the proxy until shut down. Returns the state (counters) when it stops.

    With `handle_signals`, SIGINT and SIGTERM shut it down cleanly: pending recordings are
    written before the process exits. `bare` runs mitmproxy's own reverse proxy with none of
    Turnout's addons: the baseline `bench/proxy_overhead.py` measures Turnout against.
    """
    if not _one_per_process.acquire(blocking=False):
        raise RuntimeError("a Turnout proxy is already running in this process (one per process)")
    try:
        return await _serve(config, state, on_ready, on_master, handle_signals, bare)
    finally:
        _one_per_process.release()


async def _serve(
    config: ProxyConfig,
    state: ProxyState | None,
    on_ready: Callable[[str, int], None] | None,
    on_master: Callable[[Master], None] | None,
    handle_signals: bool,
    bare: bool,
) -> ProxyState:
    state = state or ProxyState(config)
    asyncio.get_running_loop().set_exception_handler(quiet_loop_errors)
    # bare: mitmproxy's own reverse proxy as mitmdump runs it (the benches' baseline)
    master: Master = DumpMaster(options.Options(), with_termlog=False, with_dumper=False) if bare \
        else TurnoutMaster(options.Options())
    in_flight = InFlight()
    if bare:
        master.options.update(
            mode=[f"reverse:{config.upstream}"], listen_host=config.listen_host,
            listen_port=config.listen_port,
        )
    else:
        _error_pages.install(config.limits.max_bytes)
        _header_limit.install()
        _trailers.install()
        gateway = prepare(state, config)  # ConfigError before anything listens
        master.options.update(**mitmproxy_options(config))
        master.addons.add(in_flight, *make_addons(gateway), CloseWhileDraining(state))
    if on_ready is not None:
        master.addons.add(_Ready(on_ready))
    if on_master is not None:
        on_master(master)
    if handle_signals:
        loop = asyncio.get_running_loop()
        drain = config.upstream_timeout + 5  # long enough for the slowest answer we would wait for
        stopping: list[asyncio.Task[None]] = []

        def on_signal() -> None:
            if stopping or bare:  # a second signal, or nothing to drain: stop now
                master.shutdown()
                return
            stopping.append(asyncio.ensure_future(
                drain_and_stop(master, in_flight, drain, state, config.drain_delay)))

        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, on_signal)
        # SIGHUP (a closed terminal, or an operator's habit of "reload") must never kill the
        # proxy mid-request: it re-reads the route file now, as the watcher would.
        loop.add_signal_handler(signal.SIGHUP, lambda: reload_on_hup(state))
    await master.run()
    return state
