"""What the gateway holds beyond one request, and when: the route watcher, the identity gate,
the recording writer, the audit trail, the shadow runner (`prepare`, before anything listens),
then the transport to the bus and the services (`start`, on the serving loop), and the orderly
stop that lets queued shadows and recordings finish (`stop`).

The route table and the translators are loaded before the host listens, so a broken file stops
the proxy from starting rather than surfacing at the first request. After that, the watcher
(`LiveRoutes`) follows both the route file and the translators directory: each valid new pair
(table + translators) is swapped in, in one assignment made on the event loop (so no request
sees half of a swap), and logged with what changed; an invalid one is logged with file, line
and field, and the last good pair keeps serving, but for the reads it moves back to legacy,
which are always applied.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from types import MappingProxyType

from ..audit import open_audit
from ..config import ProxyConfig, instance_of
from ..recording import RecordingWriter, instance_root, open_writer
from ..routing import LiveRoutes, Refusal, Served
from ..setup import TranslatorsOnDisk, check_routes
from ..transport import H1Transport, Timeouts, Transport
from ._bus import BusClient
from ._differ import ProcessDiffer
from ._identity import Gatekeeper
from ._metrics import audit_queue
from ._pipeline import Gateway
from ._services import ServiceClients
from ._shadow import Differ, ShadowRunner
from ._state import ProxyState

log = logging.getLogger("turnout.proxy")


def prepare(state: ProxyState, config: ProxyConfig, differ: Differ | None = None) -> Gateway:
    """Load and validate everything the gateway serves from; raise ConfigError before anything
    listens. Returns the gateway, not yet started."""
    state.config = config
    source = TranslatorsOnDisk(config)
    watcher = None
    if config.source is not None:
        watcher = LiveRoutes(
            config.source, source=source,
            on_swap=lambda served, changes: _accept(state, served, changes),
            on_refused=lambda refusal: _refused(state, refusal),
            check=lambda table, translators: check_routes(table, translators, config),
        )
        state.routes.install(watcher.start())  # raises ConfigError on a bad file
    else:
        state.routes.install(Served(state.routes.get(), MappingProxyType(dict(source.load()))))
    state.watcher = watcher
    if config.identity is not None:  # a bad officers file or a missing key stops the start
        state.gatekeeper = Gatekeeper(config.identity)
    differ = differ or ProcessDiffer(config)
    warm = getattr(differ, "warm", None)
    if warm is not None and any(route.mode == "shadow" for route in state.routes.get()):
        warm(wait=True)
    state.shadow = ShadowRunner(
        state, differ, config.shadow_concurrency, config.shadow_queue,
        queue_bytes=config.shadow_queue_bytes, max_diff_bytes=config.shadow_max_diff_bytes,
        limits=config.limits, max_response_bytes=config.max_response_bytes,
    )
    if state.writer is None:
        state.writer = make_writer(config, state)
    gateway = Gateway(state)
    gateway.audit = open_audit(config, state.stats.count)  # its key is read now, at start
    if gateway.audit is not None and state.metrics is not None:
        state.metrics.queues["audit"] = audit_queue(gateway.audit)
    return gateway


async def start(gateway: Gateway, transport: Transport | None = None) -> None:
    """Open the transport and start the shadow workers; call on the serving loop."""
    state, config = gateway.state, gateway.config
    state.loop = asyncio.get_running_loop()
    state.transport = transport or H1Transport()
    state.bus = BusClient(config.upstream, state.transport,
                          Timeouts(config.upstream_timeout, config.connect_timeout), tls=config.upstream_tls)
    state.services = ServiceClients(config.services, state.transport, tls=config.service_tls)
    if config.tracing is not None and state.spans is None:
        from ._spans import SpanExport  # OpenTelemetry is loaded only when spans are exported

        state.spans = SpanExport(config.tracing)
    if state.shadow is not None:
        state.shadow.start()
    state.started.set()


async def stop(gateway: Gateway) -> None:
    """Stop watching, let shadows finish (bounded), close the transport, then write what is
    queued: the writer last, since the shadow runner records into it."""
    state = gateway.state
    if state.watcher is not None:
        state.watcher.stop()
    if state.shadow is not None:
        await state.shadow.drain(timeout=10.0)
    spans, state.spans = state.spans, None
    if spans is not None:  # after the shadows: their spans are sent too
        await asyncio.to_thread(spans.shutdown)
    if state.transport is not None:
        await state.transport.close()
    if state.writer is not None:
        state.writer.close(timeout=10.0)
    if gateway.audit is not None:  # after the drain: every answered request has its line
        gateway.audit.close(timeout=10.0)


def make_writer(config: ProxyConfig, state: ProxyState | None = None) -> RecordingWriter | None:
    """The recording writer: a process of its own (`turnout.recording.open_writer`), so the
    serving loop only queues each exchange. A bad redaction rule or a missing key raises
    ValueError here, before anything listens. With `state`, each exchange it fails to write
    (unwritable directory, full disk, the writer process killed) is counted as
    `recording.failed` beside the proxy's other counters.

    Folder names come only from the service paths the route table and the translators in
    force name (`state`); any other path a client sends is filed under a digest of it, so a
    value in a path never becomes a directory name. Without redaction rules it says so at
    start and the store again for every new directory (`turnout proxy` refuses to get here
    without `--unredacted`)."""
    if config.record_dir is None:
        return None
    on_failure: Callable[[], None] | None = None
    if state is not None:
        def on_failure() -> None:
            state.stats.count("recording.failed")
    # a named instance writes a tree of its own; readers of `record_dir` read them all
    root = instance_root(config.record_dir, instance_of(config))
    return open_writer(root, config.redaction,
                       known_services=lambda: known_services(state), max_queue=config.record_queue,
                       max_bytes=config.record_queue_bytes, on_failure=on_failure)


def known_services(state: ProxyState | None) -> set[str]:
    """The service paths the routes and translators in force name: fit to be folder names."""
    if state is None:
        return set()
    services = {route.service for route in state.routes.get()}
    for translator in state.translators.values():
        services.add(str(getattr(translator, "operation", "")).partition(" ")[0])
    services.discard("")
    return services


def _accept(state: ProxyState, served: Served, changes: list[str]) -> None:
    _install(state, served)
    state.stats.count("routes.reloaded")
    log.warning("route table reloaded (version %d): %s", served.version,
                "; ".join(changes) if changes else "no change in effect")


def _refused(state: ProxyState, refusal: Refusal) -> None:
    state.stats.count("routes.refused")
    log.error("route change refused, still serving the last good table: %s", refusal)
    if refusal.applied:
        log.warning("applied all the same (safe: reads back to legacy, valid translators): %s",
                    "; ".join(refusal.applied))


def _install(state: ProxyState, served: Served) -> None:
    """Put `served` in force on the event loop's thread, between two steps of any request, so
    a request that reads its route and then its translator reads both from one pair."""
    loop = state.loop
    if loop is None or not loop.is_running() or _on_thread_of(loop):
        state.routes.install(served)
        return
    done = threading.Event()
    claim = threading.Lock()
    claimed: list[bool] = []

    def install_once() -> None:
        with claim:  # either the loop installs it or, if it never gets to it, this thread
            if not claimed:
                claimed.append(True)
                state.routes.install(served)

    def on_loop() -> None:
        try:
            install_once()
        finally:
            done.set()

    try:
        loop.call_soon_threadsafe(on_loop)
    except RuntimeError:  # the loop closed meanwhile: nothing serves from it any more
        install_once()
        return
    if not done.wait(5.0):
        install_once()  # a loop too busy to take it in 5 s: one assignment is atomic all the same


def _on_thread_of(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False
