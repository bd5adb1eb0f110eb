"""Who is calling, on the translator path: the proxy establishes the caller as the bus does, and
refuses exactly what the bus refuses, without ever calling the modern service; the service gets
the caller's identity in a token it can verify. A real proxy process between zeep-signed (or
hand-built) requests and the demo's authenticating bus and token-checking services."""

from __future__ import annotations

import os
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import jwt
import pytest
from lxml import etree

from turnout.compare import diff, load_rules, rules_for
from turnout.demo import DemoStore, ServerThread, make_legacy_app, make_modern_app
from turnout.demo.identity import DEMO_IDENTITY, DEMO_TOKEN_KEY, DemoIdentity, read_token_key
from turnout.soap import SOAP11_NS, username_token_header

from .support.proxy_process import ProxyProcess

REPO = Path(__file__).resolve().parent.parent
RULES = load_rules(REPO / "turnout" / "demo" / "compare.yaml")
HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"urn:police:pnc:v1#VehicleEnquiry"'}


class Counting:
    """The modern services, counting every call and keeping its Authorization header."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.calls: list[tuple[str, str | None]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = dict(scope.get("headers") or [])
            auth = headers.get(b"authorization")
            self.calls.append((scope["path"], auth.decode() if auth else None))
        await self.app(scope, receive, send)


def vehicle(officer: str | None, password: str | None = None, *, nonce: bytes | None = None) -> bytes:
    envelope = etree.Element(f"{{{SOAP11_NS}}}Envelope", nsmap={"soap": SOAP11_NS})
    if officer is not None:
        header = etree.SubElement(envelope, f"{{{SOAP11_NS}}}Header")
        identity = DemoIdentity.load()
        header.append(username_token_header(
            officer, password or identity.officers[officer].password,
            nonce=nonce or os.urandom(16), created=datetime.now(timezone.utc)))
    body = etree.SubElement(envelope, f"{{{SOAP11_NS}}}Body")
    request = etree.SubElement(body, "{urn:police:pnc:v1}VehicleEnquiry", nsmap={"p": "urn:police:pnc:v1"})
    etree.SubElement(request, "{urn:police:pnc:v1}registrationMark").text = "TB19 XKF"
    return etree.tostring(envelope)


@pytest.fixture(scope="module")
def rig(
    tmp_path_factory: pytest.TempPathFactory, proxy_engine: str
) -> Iterator[tuple[ProxyProcess, ProxyProcess, Counting, str]]:
    root = tmp_path_factory.mktemp("identity")
    key = root / "token.key"
    shutil.copy(DEMO_TOKEN_KEY, key)
    key.chmod(0o600)
    store = DemoStore()
    services = Counting(make_modern_app(store, read_token_key()))
    with ServerThread(make_legacy_app(store, DemoIdentity.load())) as bus, ServerThread(services) as modern:
        def config(name: str, mode: str) -> Path:
            path = root / name
            path.write_text(
                f"upstream: {bus.url}\n"
                f"translators: {REPO / 'turnout' / 'demo' / 'translators'}\n"
                f"services: {{pnc: {modern.url}, cris: {modern.url}, geo: {modern.url}, eforms: {modern.url}}}\n"
                f"identity: {{officers: {DEMO_IDENTITY}, token_key_file: {key}}}\n"
                f"routes:\n  /pnc VehicleEnquiry: {{mode: {mode}, on_error: fault}}\n"
            )
            return path
        with ProxyProcess(config("translated.yaml", "translator")) as translated, \
                ProxyProcess(config("legacy.yaml", "legacy")) as legacy:
            yield translated, legacy, services, bus.url


def same_answer(bus: bytes, translated: bytes) -> None:
    result = diff(bus, translated, rules_for(RULES, "/pnc VehicleEnquiry"))
    assert result.equal, result.differences


def test_an_officer_with_the_role_is_answered_by_the_translator_with_a_verifiable_token(rig) -> None:
    translated, legacy, services, _ = rig
    before = len(services.calls)
    status, _, answer = translated.request("POST", "/pnc", vehicle("PC4127"), HEADERS)
    _, _, from_bus = legacy.request("POST", "/pnc", vehicle("PC4127"), HEADERS)
    assert status == 200
    same_answer(from_bus, answer)
    [(path, authorization)] = services.calls[before:]
    assert path.startswith("/vehicles/") and authorization is not None
    claims = jwt.decode(authorization.removeprefix("Bearer "), read_token_key(), algorithms=["HS256"],
                        audience="pnc", issuer="turnout")
    assert claims["sub"] == "PC4127" and "pnc-check" in claims["roles"]
    assert claims["op"] == "/pnc VehicleEnquiry" and claims["rid"] and claims["exp"] - claims["iat"] <= 60


@pytest.mark.parametrize(
    ("officer", "password", "code"),
    [(None, None, "AUTHFAIL"), ("PC4127", "not-the-password", "AUTHFAIL"), ("NOBODY1", "x", "AUTHFAIL"),
     ("PCSO9001", None, "FORBIDDEN")],
    ids=["no-token", "wrong-password", "unknown-officer", "no-role"],
)
def test_the_translator_path_refuses_exactly_what_the_bus_refuses_and_never_calls_the_service(
    rig, officer: str | None, password: str | None, code: str
) -> None:
    translated, legacy, services, _ = rig
    before = len(services.calls)
    status, _, answer = translated.request("POST", "/pnc", vehicle(officer, password), HEADERS)
    _, _, from_bus = legacy.request("POST", "/pnc", vehicle(officer, password), HEADERS)
    assert status == 500 and f"<pnc:errorCode>{code}</pnc:errorCode>".encode() in from_bus
    same_answer(from_bus, answer)
    assert services.calls[before:] == [], "the modern service was called for a refused caller"


def test_a_replayed_token_is_refused_on_the_translator_path(rig) -> None:
    translated, _, services, _ = rig
    request = vehicle("PC4127", nonce=b"0123456789abcdef")
    first, _, _ = translated.request("POST", "/pnc", request, HEADERS)
    before = len(services.calls)
    status, _, answer = translated.request("POST", "/pnc", request, HEADERS)
    assert first == 200 and status == 500 and b"AUTHFAIL" in answer
    assert services.calls[before:] == []


def test_without_the_token_key_the_proxy_does_not_start(tmp_path: Path) -> None:
    config = tmp_path / "turnout.yaml"
    config.write_text("upstream: http://127.0.0.1:9\n"
                      f"identity: {{officers: {DEMO_IDENTITY}, token_key_env: TURNOUT_NO_SUCH_KEY}}\n")
    with pytest.raises(RuntimeError, match="identity.token_key_env"):
        ProxyProcess(config).start(timeout=20)


# --- the golden set: the bus's refusals beside the translators' wording of them ---------------


def _refusals(translators_dir: Path) -> list[tuple[str, bool]]:
    from turnout.compare import check_golden, merge_rule_tables
    from turnout.recording import RecordingStore
    from turnout.translators import load_translators

    rules = merge_rule_tables(load_rules(REPO / "turnout" / "demo" / "compare.yaml"),
                              load_rules(REPO / "recordings" / "compare.yaml"))
    translators = load_translators(translators_dir)
    found = []
    for exchange in RecordingStore(REPO / "recordings").iter_exchanges():
        if exchange.translation.get("kind") == "identity.refused":
            code = "AUTHFAIL" if b"AUTHFAIL" in (exchange.response.body if exchange.response else b"") else "FORBIDDEN"
            found.append((code, check_golden(exchange, translators, rules).passed))
    return sorted(found)


def test_the_golden_set_holds_the_bus_refusals_and_the_translators_word_them_the_same() -> None:
    assert _refusals(REPO / "turnout" / "demo" / "translators") == [
        ("AUTHFAIL", True), ("FORBIDDEN", True), ("FORBIDDEN", True)]


def test_a_translator_without_the_refusal_rules_fails_those_golden_cases(tmp_path: Path) -> None:
    copy = tmp_path / "translators"
    shutil.copytree(REPO / "turnout" / "demo" / "translators", copy)
    for mapping in copy.rglob("*.yaml"):
        text = mapping.read_text()
        mapping.write_text(text.replace("status: 401", "status: 499").replace("status: 403", "status: 498"))
    assert [passed for _, passed in _refusals(copy)] == [False, False, False]
