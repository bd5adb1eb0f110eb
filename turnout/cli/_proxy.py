"""`turnout proxy`: run the proxy in front of the legacy bus."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from ..config import ConfigError, ProxyConfig, check_upstream, load_proxy_config
from ._render import console, fail, render_counters


@click.command()
@click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="turnout.yaml to read (command-line options override it).")
@click.option("--upstream", help="URL of the legacy bus, e.g. http://bus.internal:8000.")
@click.option("--host", help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=click.IntRange(0, 65535), help="Port to listen on (default 8080).")
@click.option("--record", "record_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Directory to record exchanges into (redacted first).")
def proxy(config_path: Path | None, upstream: str | None, host: str | None, port: int | None,
          record_dir: Path | None) -> None:
    """Run the Turnout proxy in front of the legacy bus."""
    try:
        if config_path is not None:
            config = load_proxy_config(config_path)
        elif upstream is None:
            fail("give --upstream URL or --config turnout.yaml")
        else:
            config = ProxyConfig(upstream=check_upstream(upstream))
        config = config.with_overrides(
            upstream=upstream, listen_host=host, listen_port=port,
            record_dir=record_dir.resolve() if record_dir else None,
        )
    except ConfigError as exc:
        fail(str(exc))

    from ..proxy import ProxyState, serve  # imported late: mitmproxy is slow to import

    state = ProxyState(config)

    def ready(bound_host: str, bound_port: int) -> None:
        console.print(
            f"[bold]turnout proxy[/] listening on http://{bound_host}:{bound_port} "
            f"-> {config.upstream}"
            + (f", recording to {config.record_dir}" if config.record_dir else ", not recording")
        )
        table = state.routes.get()
        moved = [f"{r.key} {r.describe()}" for r in table if r.mode != "legacy"]
        console.print(f"routes: {', '.join(moved) if moved else 'every operation legacy'}"
                      + (f" (watching {config.source})" if config.source else ""))

    try:
        asyncio.run(serve(config, state, on_ready=ready, handle_signals=True))
    except KeyboardInterrupt:
        return
    except ConfigError as exc:
        fail(str(exc))
    render_counters(state.stats.snapshot())
