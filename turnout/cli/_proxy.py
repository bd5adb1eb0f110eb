"""`turnout proxy`: run the proxy in front of the legacy bus."""

from __future__ import annotations

import errno
import logging
import socket
from pathlib import Path

import click
from rich.markup import escape

from ..config import LOG_FORMATS, ConfigError, ProxyConfig, check_upstream, configure_logging, load_proxy_config
from ..proxy import DEFAULT_ENGINE, ENGINES  # mitmproxy is imported only when its engine runs
from ._render import console, fail, fail_config, render_counters, shown

DEFAULT_CONFIG = Path("turnout.yaml")


@click.command()
@click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="turnout.yaml to read (command-line options override it). Default: "
                   "./turnout.yaml when it exists and --upstream is not given.")
@click.option("--upstream", help="URL of the legacy bus, e.g. http://bus.internal:8000.")
@click.option("--host", help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=click.IntRange(0, 65535), help="Port to listen on (default 8080).")
@click.option("--record", "record_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Directory to record exchanges into (redacted first).")
@click.option("--unredacted", is_flag=True,
              help="Record even though the configuration has no redaction rules: personal "
                   "data is then written in clear (credentials are still hidden).")
@click.option("--engine", type=click.Choice(list(ENGINES)), envvar="TURNOUT_ENGINE",
              help="The host that serves the proxy: 'fast' (asyncio and uvloop, for production "
                   f"traffic) or 'mitmproxy'. Default: {DEFAULT_ENGINE} (env TURNOUT_ENGINE). "
                   "Watching flows (mitmweb) and `mitmdump -s turnout/proxy/script.py` are "
                   "mitmproxy's only.")
@click.option("--log-format", type=click.Choice(LOG_FORMATS),
              help="As `turnout --log-format`: text, or one JSON object per line.")
def proxy(config_path: Path | None, upstream: str | None, host: str | None, port: int | None,
          record_dir: Path | None, unredacted: bool, engine: str | None, log_format: str | None) -> None:
    """Run the Turnout proxy in front of the legacy bus.

    With neither --config nor --upstream, ./turnout.yaml is read, as every other command does.
    Recording needs redaction rules (recordings.redaction) unless --unredacted is given.
    Both engines serve the same requests the same way; see docs/performance.md for what each
    costs.
    """
    if log_format is not None:
        configure_logging(logging.getLogger().level, log_format)
    if config_path is None and upstream is None:
        if not DEFAULT_CONFIG.is_file():
            fail(f"no configuration: give --config FILE or --upstream URL (there is no "
                 f"turnout.yaml in {Path.cwd()})")
        config_path = DEFAULT_CONFIG
    try:
        if config_path is not None:
            config = load_proxy_config(config_path)
        else:
            assert upstream is not None
            config = ProxyConfig(upstream=check_upstream(upstream))
        config = config.with_overrides(
            upstream=upstream, listen_host=host, listen_port=port,
            record_dir=record_dir.resolve() if record_dir else None,
        )
    except ConfigError as exc:
        fail_config(exc)
    if config.record_dir is not None:
        _check_redaction(config, unredacted)
    for what, bind_host, bind_port, setting in (
        ("listen", config.listen_host, config.listen_port, "--port or listen.port"),
        ("admin endpoint", config.admin_host, config.admin_port, "admin.port"),
    ):
        if problem := port_problem(bind_host, bind_port):
            fail(f"cannot {'listen' if what == 'listen' else 'serve the ' + what} on "
                 f"{bind_host}:{bind_port}: {problem}; choose another with {setting}", code=1)

    from ..proxy import ProxyState, engine_of, run  # imported late: the hosts are slow to import

    state = ProxyState(config)
    engine = engine_of(engine)

    def ready(bound_host: str, bound_port: int) -> None:
        console.print(
            f"[bold]turnout proxy[/] listening on {'https' if config.listen_tls else 'http'}://"
            f"{bound_host}:{bound_port} "
            f"-> {escape(config.upstream)}"
            + (f", recording to {escape(str(config.record_dir))}" if config.record_dir
               else ", not recording")
            + f" ({engine} host)"
        )
        table = state.routes.get()
        moved = [f"{r.key} {r.describe()}" for r in table if r.mode != "legacy"]
        watching = f" (watching {shown(config.source.resolve())})" if config.source else ""
        console.print(escape(f"routes: {', '.join(moved) if moved else 'every operation legacy'}"
                             + watching))

    try:
        run(config, state, on_ready=ready, handle_signals=True, engine=engine)
    except KeyboardInterrupt:
        return
    except ConfigError as exc:
        fail_config(exc)
    render_counters(state.stats.snapshot())


def _check_redaction(config: ProxyConfig, unredacted: bool) -> None:
    """Recording needs redaction rules, unless `--unredacted` says to write personal data in
    clear; and the pseudonymisation key the config names (loading the config did not read it:
    changing a route must not need it). Either missing: one line, before anything listens."""
    from ..recording import redactor_from_config

    source = f"{config.source.resolve()}: " if config.source else ""
    try:
        redactor = redactor_from_config(config.redaction)
    except ValueError as exc:
        fail(f"cannot record to {config.record_dir}: {source}recordings.{exc} (recording "
             f"needs the pseudonymisation key; routes and checks do not)")
    if not redactor.has_rules and not unredacted:
        where = (f"{source}recordings.redaction names no rules" if config.source
                 else "no configuration names redaction rules (recordings.redaction)")
        fail(f"refusing to record to {config.record_dir}: {where}, so every surname, date of "
             f"birth and address would be written in clear. Give --config with "
             f"recordings.redaction (turnout/demo/turnout.yaml has an example), or "
             f"--unredacted to record in clear all the same (credentials are still hidden)")


def port_problem(host: str, port: int | None) -> str | None:
    """Why `host:port` cannot be listened on (in use, not allowed, not an address of this
    machine), or None when it can (or cannot be told: then the proxy itself reports it).

    Checked before the proxy starts, so a taken port is one line, not mitmproxy's advice about
    its own `--mode` flag or a traceback from the admin endpoint."""
    if not port:
        return None  # 0: any free port
    try:
        addresses = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM,
                                       flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        return f"{host!r} is not an address this machine can listen on ({exc.strerror})"
    for family, kind, proto, _, address in addresses:
        try:
            sock = socket.socket(family, kind, proto)
        except OSError:
            continue  # e.g. IPv6 switched off: the proxy will not use it either
        with sock:
            # as asyncio's servers do, so a port in TIME_WAIT is not taken for one in use
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(address)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    return "the port is already in use (another proxy, or another program)"
                if exc.errno == errno.EACCES:
                    return "not allowed (ports below 1024 need privileges)"
                if exc.errno == errno.EADDRNOTAVAIL:
                    return f"{host} is not an address of this machine"
                return None
    return None
