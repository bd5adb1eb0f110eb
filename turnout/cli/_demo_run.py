"""The demo's script: legacy, then shadow, then translator, then a refused edit under traffic.

No printing here: each phase hands its result to a callback, and `_demo.py` renders it. The
proxy is started once; every route change goes through the route file, exactly as operations
would make it, and is picked up live.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ..config import load_proxy_config
from ..demo import DemoStore, ServerThread, make_legacy_app, make_modern_app
from ..demo.config import write_demo_config
from ..demo.drain import wait_for_recordings as _wait_for_recordings
from ..demo.identity import DemoIdentity, read_token_key
from ..demo.scenario import ScenarioCall, run_scenario
from ..proxy import ProxyThread
from ..recording import Exchange, RecordingStore
from ..routing import set_route
from ..setup import readiness_of

READS = (
    "/pnc PersonEnquiry", "/pnc VehicleEnquiry", "/geo ResolveLocation",
    "/cris GetCrimeReport", "/cris SearchCrimeReports",
    "/merlin GetRecord", "/merlin SearchRecords", "/metsearch Search",
)


@dataclass
class Phase:
    name: str
    title: str
    calls: list[ScenarioCall]
    exchanges: list[Exchange]
    routes: Mapping[str, str]  # operation -> mode
    counters: dict[str, int]
    refusals: list[str] = field(default_factory=list)
    #: operation -> the readiness verdict it was switched on (translator phase)
    readiness: dict[str, str] = field(default_factory=dict)

    @property
    def surprises(self) -> list[ScenarioCall]:
        return [call for call in self.calls if not call.as_expected]


@dataclass
class DemoRun:
    directory: Path
    bus_url: str = ""
    services_url: str = ""
    proxy_url: str = ""
    phases: list[Phase] = field(default_factory=list)


class _Refusals(logging.Handler):
    """Collects the proxy's "route change refused" log lines, to show them."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if "route change refused" in record.getMessage():
            self.messages.append(record.getMessage())


def run_demo(out: Path, on_phase: Callable[[DemoRun, Phase], None],
             on_start: Callable[[DemoRun], None] | None = None) -> DemoRun:
    run = DemoRun((out / datetime.now(UTC).strftime("run-%Y%m%dT%H%M%SZ")).resolve())
    store = DemoStore()  # one store: the new services are built over the same records
    # Authentication on every path: the bus asks for WS-Security and the officer's role, the
    # services for Turnout's bearer token, and the proxy's identity: section refuses on the
    # translator path exactly what the bus refuses.
    identity = DemoIdentity.load()
    with ServerThread(make_legacy_app(store, identity)) as bus, \
            ServerThread(make_modern_app(store, read_token_key())) as services:
        config_path = write_demo_config(run.directory, bus.url, services.url, run.directory / "recordings")
        with ProxyThread(load_proxy_config(config_path)) as proxy:
            run.bus_url, run.services_url, run.proxy_url = bus.url, services.url, proxy.url
            if on_start is not None:
                on_start(run)
            recordings = RecordingStore(run.directory / "recordings")

            def phase(name: str, title: str, modes: dict[str, str]) -> Phase:
                verdicts = _gate(config_path, modes)
                for operation, mode in modes.items():
                    set_route(config_path, operation, mode)
                _wait_for_routes(proxy, modes)
                started = datetime.now(UTC)
                calls = run_scenario(proxy.url, identity)
                _wait_for_recordings(proxy)
                exchanges = [e for e in recordings.iter_exchanges() if e.started_at >= started]
                routes = {r.key: r.mode for r in proxy.state.routes.get()}
                result = Phase(name, title, calls, exchanges, routes, proxy.state.stats.snapshot(),
                               readiness=verdicts)
                run.phases.append(result)
                on_phase(run, result)
                return result

            phase("legacy", "1. every operation on the legacy bus", {})
            phase("shadow", "2. reads in shadow: the bus answers, the translators run beside it",
                  {op: "shadow" for op in READS})
            phase("translator", "3. reads moved to the translators: the bus no longer sees them",
                  {op: "translator" for op in READS})
            run.phases.append(_bad_edit(proxy, config_path, on_phase, run, identity))
    return run


def _bad_edit(proxy: ProxyThread, config_path: Path, on_phase: Callable[[DemoRun, Phase], None],
              run: DemoRun, identity: DemoIdentity) -> Phase:
    """Break the route file while a scenario runs: the edit is refused, traffic carries on."""
    handler = _Refusals()
    logging.getLogger("turnout.proxy").addHandler(handler)
    good = config_path.read_text(encoding="utf-8")
    calls: list[ScenarioCall] = []
    traffic = threading.Thread(target=lambda: calls.extend(run_scenario(proxy.url, identity)))
    try:
        traffic.start()
        broken, count = re.subn(r"(/pnc VehicleEnquiry: \{mode: )\w+", r"\1teleport", good)
        if count != 1:
            raise RuntimeError("the demo's route file is not as the demo expects")
        config_path.write_text(broken, encoding="utf-8")
        deadline = time.monotonic() + 5
        while not handler.messages and time.monotonic() < deadline:
            time.sleep(0.05)
        traffic.join()
    finally:
        config_path.write_text(good, encoding="utf-8")
        logging.getLogger("turnout.proxy").removeHandler(handler)
    _wait_for_recordings(proxy)
    routes = {r.key: r.mode for r in proxy.state.routes.get()}
    result = Phase("bad-edit", "4. a broken route edit, refused while traffic flows", calls, [],
                   routes, proxy.state.stats.snapshot(), refusals=handler.messages)
    on_phase(run, result)
    return result


def _gate(config_path: Path, modes: dict[str, str]) -> dict[str, str]:
    """The readiness gate `turnout routes set OP translator` applies; the demo obeys it too."""
    moving = [op for op, mode in modes.items() if mode == "translator"]
    if not moving:
        return {}
    verdicts = readiness_of(load_proxy_config(config_path), moving)
    not_ready = {op: r for op, r in verdicts.items() if not r.ready}
    if not_ready:
        raise RuntimeError("not ready for translator: " + "; ".join(
            f"{op}: {', '.join(r.missing)}" for op, r in not_ready.items()))
    return {op: r.describe() for op, r in verdicts.items()}


def _wait_for_routes(proxy: ProxyThread, modes: dict[str, str], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        table = proxy.state.routes.get()
        if all(table.route_for(op).mode == mode for op, mode in modes.items()):
            return
        time.sleep(0.05)
    raise RuntimeError(f"the proxy did not pick up the route change within {timeout:g} s")
