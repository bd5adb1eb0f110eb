"""Every demo operation in translator mode, through the real proxy, to the real modern services.

A zeep client calls the legacy bus directly (one fresh store) and the proxy with every route on
the translators (another fresh store, identically seeded, under the modern services): each
answer must match the legacy one under the demo's compare rules (message id and timestamps
aside), and the bus behind the proxy must see none of it.
"""

from __future__ import annotations

from pathlib import Path

import requests

from turnout.compare import diff, load_rules, rules_for
from turnout.config import load_proxy_config
from turnout.demo import DemoStore, ServerThread, make_legacy_app, make_modern_app
from turnout.demo.config import DEMO_CONFIG, write_demo_config
from turnout.proxy import ProxyThread
from turnout.routing import set_route

from .test_proxy_demo import CALLS, call, clients

OPERATIONS = sorted({f"{path} {operation}" for path, operation, _ in CALLS})


def test_every_operation_in_translator_mode_matches_the_legacy_answer(tmp_path: Path) -> None:
    rules = load_rules(DEMO_CONFIG.with_name("compare.yaml"))
    behind = DemoStore()
    with ServerThread(make_legacy_app(DemoStore())) as direct_bus, \
            ServerThread(make_legacy_app(behind)) as bus, \
            ServerThread(make_modern_app(behind)) as services:
        config_path = write_demo_config(tmp_path, bus.url, services.url, tmp_path / "rec", authenticate=False)  # an open bus and services
        for operation in OPERATIONS:
            set_route(config_path, operation, "translator")
        seen_by_bus_before = len(behind.crimes()), len(behind.statements())
        with ProxyThread(load_proxy_config(config_path)) as proxy, requests.Session() as session:
            direct, through = clients(direct_bus.url, session), clients(proxy.url, session)
            # WSDLs still come from the bus through the proxy; operations go to the translators
            for path, operation, args in CALLS:
                expected = call(direct[path], operation, args)
                got = call(through[path], operation, args)
                key = f"{path} {operation}"
                assert got.status_code == expected.status_code, (key, args, got.content)
                result = diff(expected.content, got.content, rules_for(rules, key))
                assert result.equal, (key, args, result.differences)
            counters = proxy.state.stats.snapshot()
    assert counters.get("translator.ok") == len(CALLS)
    assert counters.get("outcome.forwarded", 0) == 0  # no SOAP call reached the bus
    assert (len(behind.crimes()), len(behind.statements())) != seen_by_bus_before  # writes landed, via JSON
