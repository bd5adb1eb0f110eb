"""Which host serves the gateway: `fast` (asyncio + uvloop) or `mitmproxy`, and running either.

`turnout proxy --engine`, `serve(..., engine=)` and `ProxyThread(..., engine=)` all choose
through `engine_of`: the engine named, else the `TURNOUT_ENGINE` environment variable, else
`DEFAULT_ENGINE`. mitmproxy is imported only when its engine runs, so the fast host's process
never loads it. `bare` (mitmproxy's own reverse proxy with none of Turnout's addons, the benches'
baseline) exists only on the mitmproxy engine, and so do `mitmdump -s turnout/proxy/script.py`
and mitmweb.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import Any

from ..config import ProxyConfig
from ..gateway import ProxyState

FAST = "fast"
MITMPROXY = "mitmproxy"
ENGINES = (FAST, MITMPROXY)
#: the host `turnout proxy` runs when none is chosen
DEFAULT_ENGINE = FAST
ENGINE_VARIABLE = "TURNOUT_ENGINE"


def engine_of(engine: str | None = None) -> str:
    """The engine to run: `engine`, else $TURNOUT_ENGINE, else `DEFAULT_ENGINE`."""
    chosen = (engine or os.environ.get(ENGINE_VARIABLE) or DEFAULT_ENGINE).strip().lower()
    if chosen not in ENGINES:
        raise ValueError(f"unknown proxy engine {chosen!r}: choose one of {', '.join(ENGINES)}")
    return chosen


async def serve(
    config: ProxyConfig,
    state: ProxyState | None = None,
    on_ready: Callable[[str, int], None] | None = None,
    on_master: Callable[[Any], None] | None = None,
    handle_signals: bool = False,
    bare: bool = False,
    engine: str | None = None,
    on_stop: Callable[[Callable[[], None]], None] | None = None,
) -> ProxyState:
    """Run the proxy until it is stopped; return the state (counters).

    With `handle_signals`, SIGINT and SIGTERM stop it cleanly (requests in flight finish and
    pending recordings are written) and SIGHUP re-reads the route file. `on_stop` is given a
    function that stops the proxy at once from any thread. `on_master` (the mitmproxy master)
    and `bare` are the mitmproxy engine's only."""
    chosen = MITMPROXY if bare else engine_of(engine)
    if chosen == FAST:
        if on_master is not None:
            raise ValueError("on_master is given a mitmproxy master: the fast engine has none")
        from ._fast_host import serve_fast

        return await serve_fast(config, state, on_ready, on_stop, handle_signals)
    from . import _launcher

    def keep(master: Any) -> None:
        if on_master is not None:
            on_master(master)
        if on_stop is not None:
            on_stop(master.shutdown)

    return await _launcher.serve(config, state, on_ready, keep, handle_signals, bare)


def run(
    config: ProxyConfig,
    state: ProxyState | None = None,
    on_ready: Callable[[str, int], None] | None = None,
    handle_signals: bool = False,
    bare: bool = False,
    engine: str | None = None,
    on_stop: Callable[[Callable[[], None]], None] | None = None,
) -> ProxyState:
    """`serve` on a new event loop of its own: uvloop's for the fast engine."""
    chosen = MITMPROXY if bare else engine_of(engine)
    work = serve(config, state, on_ready, None, handle_signals, bare, chosen, on_stop)
    if chosen == FAST:
        import uvloop

        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(work)
    return asyncio.run(work)
