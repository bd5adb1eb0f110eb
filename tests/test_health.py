"""`/healthz` and `/readyz` on the admin port, for load balancers and Kubernetes probes.

A real proxy in front of the real demo bus: ready (200) when its routes and translators are
loaded and the bus answers; 503 naming `bus` once the bus is stopped, and `draining` once a
graceful stop has begun. An admin endpoint over a gateway that never loaded its routes answers
503 naming `routes`.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from turnout.config import load_proxy_config
from turnout.demo import DemoStore, ServerThread, make_legacy_app
from turnout.gateway import ProxyState
from turnout.proxy import ProxyThread
from turnout.proxy._admin import AdminServer


def get(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url, timeout=10) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def until(url: str, status: int, seconds: float = 10.0) -> tuple[int, dict[str, Any]]:
    deadline = time.monotonic() + seconds
    got = get(url)
    while got[0] != status and time.monotonic() < deadline:
        time.sleep(0.1)
        got = get(url)
    return got


def proxy_config(tmp_path: Path, bus_url: str) -> Path:
    config = tmp_path / "turnout.yaml"
    config.write_text(f"upstream: {bus_url}\nlisten: {{port: 0}}\nadmin: {{port: 0}}\n"
                      "routes:\n  /pnc VehicleEnquiry: {mode: legacy}\n", encoding="utf-8")
    return config


def test_ready_while_the_bus_answers_then_not_once_it_is_stopped(tmp_path: Path) -> None:
    bus = ServerThread(make_legacy_app(DemoStore())).start()
    try:
        with ProxyThread(load_proxy_config(proxy_config(tmp_path, bus.url))) as proxy:
            admin = proxy.state.admin_url
            assert admin is not None
            assert get(f"{admin}/healthz") == (200, {"alive": True})
            status, body = get(f"{admin}/readyz")
            assert status == 200 and body["ready"] is True and body["failed"] is None, body
            assert body["checks"]["bus"] == "ok" and body["checks"]["routes"].startswith("ok")
            bus.stop()
            status, body = until(f"{admin}/readyz", 503)
            assert status == 503 and body["failed"] == "bus", body
            assert "refused or is unreachable" in body["checks"]["bus"]
            assert get(f"{admin}/healthz")[0] == 200  # alive all the same: it still serves
            metrics = urllib.request.urlopen(f"{admin}/metrics", timeout=10).read().decode()
            assert "turnout_ready 0.0" in metrics
    finally:
        bus.stop()


def test_readyz_fails_first_when_a_graceful_stop_begins(tmp_path: Path) -> None:
    with ServerThread(make_legacy_app(DemoStore())) as bus, \
            ProxyThread(load_proxy_config(proxy_config(tmp_path, bus.url))) as proxy:
        admin = proxy.state.admin_url
        assert admin is not None
        assert get(f"{admin}/readyz")[0] == 200
        proxy.state.draining = True  # what the SIGTERM handler sets as the stop begins
        status, body = get(f"{admin}/readyz")
        assert status == 503 and body["failed"] == "draining", body
        assert body["checks"]["bus"] == "ok"  # only draining failed
        assert get(f"{admin}/healthz")[0] == 200
        proxy.state.draining = False
        assert get(f"{admin}/readyz")[0] == 200


def test_not_ready_before_the_routes_and_translators_are_loaded() -> None:
    """The admin endpoint over a gateway that was never prepared nor started."""
    state = ProxyState()

    async def probe() -> tuple[int, dict[str, Any]]:
        admin = AdminServer(state, "127.0.0.1", 0)
        await admin.start()
        try:
            assert state.admin_url is not None
            return await asyncio.to_thread(get, f"{state.admin_url}/readyz")
        finally:
            await admin.stop()

    status, body = asyncio.run(probe())
    assert status == 503 and body["failed"] == "routes", body
    assert body["ready"] is False
