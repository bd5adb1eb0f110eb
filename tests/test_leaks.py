"""Every way a personal value or a credential reached a recording or the proxy's log, each shut.

The proxy runs as a real process (`turnout proxy`), in front of the demo's legacy bus and modern
services (or a scripted bus where the demo cannot misbehave as needed), and the clients are
plain HTTP. Each test then looks for its raw values, in every spelling a recording could hold
them in, in every file and directory name under the recording directory and in the proxy's log,
and checks that what it looks for was recorded at all (so no test passes on an empty disk).
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator
from urllib.parse import quote, quote_plus

import pytest
from click.testing import CliRunner

from turnout.cli import main
from turnout.demo import DemoStore, ServerThread, make_legacy_app, make_modern_app
from turnout.demo.config import write_demo_config
from turnout.recording import (
    BodyRule, Exchange, Pseudonymiser, Redactor, read_exchange,
)
from turnout.routing import set_route
from turnout.soap import HttpRequest, HttpResponse, OperationName

from tests.support.bus import Reply, ScriptedBus
from tests.support.proxy_process import TURNOUT, ProxyProcess, free_port

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
PNC, CRIS, GEO, EFORMS = (f"urn:police:{s}:v1" for s in ("pnc", "cris", "geo", "eforms"))


# -- sending ---------------------------------------------------------------------------------


def soap11(namespace: str, operation: str, fields: str, header: str = "", attrs: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n<s:Envelope xmlns:s="{SOAP11}" xmlns:o="{namespace}">'
        f"{f'<s:Header>{header}</s:Header>' if header else ''}"
        f"<s:Body><o:{operation}{attrs}>{fields}</o:{operation}></s:Body></s:Envelope>"
    ).encode()


def soap12(namespace: str, operation: str, fields: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n<s:Envelope xmlns:s="{SOAP12}" xmlns:o="{namespace}">'
        f"<s:Body><o:{operation}>{fields}</o:{operation}></s:Body></s:Envelope>"
    ).encode()


def call(proxy: ProxyProcess, target: str, namespace: str, operation: str, body: bytes,
         headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    action = f"{namespace}#{operation}"
    if b"www.w3.org/2003/05/soap-envelope" in body:
        sent = {"Content-Type": f'application/soap+xml; charset=utf-8; action="{action}"'}
    else:
        sent = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{action}"'}
    status, _, answer = proxy.request("POST", target, body, {**sent, **(headers or {})})
    return status, answer


# -- looking ---------------------------------------------------------------------------------


def spellings(value: str) -> set[str]:
    """`value` as a recording could hold it: any case, without its spaces, as repr writes it
    (backslashes doubled), URL- and JSON-escaped."""
    forms = {value, value.replace(" ", ""), value.replace("\\", "\\\\"), quote(value, safe=""),
             quote(value), quote_plus(value), json.dumps(value)[1:-1]}
    return {form.lower() for form in forms}


@dataclass
class Run:
    """What one proxy run left behind."""

    recordings: Path
    log: str

    def exchanges(self) -> list[tuple[Path, Exchange]]:
        return [(path, read_exchange(path)) for path in sorted(self.recordings.rglob("*.yaml"))
                if path.name != "compare.yaml"]

    def disk_text(self) -> str:
        """Every file's text, every body decoded, and every file and directory name."""
        parts = []
        for path in sorted(self.recordings.rglob("*")):
            parts.append(str(path.relative_to(self.recordings)))
            if path.is_file():
                parts.append(path.read_bytes().decode("utf-8", "replace"))
        for _, exchange in self.exchanges():
            for message in (exchange.request, exchange.response, exchange.translated):
                if message is not None:
                    parts.append(message.body.decode("utf-8", "replace"))
        return "\n".join(parts).lower()

    def assert_nowhere(self, *values: str) -> None:
        disk, log = self.disk_text(), self.log.lower()
        for value in values:
            for form in spellings(value):
                assert form not in disk, f"{value!r} (as {form!r}) is on disk under {self.recordings}"
                assert form not in log, f"{value!r} (as {form!r}) is in the proxy log"

    def assert_private(self) -> None:
        """Recordings are the proxy user's alone: directories 0700, files 0600."""
        for path in [self.recordings, *self.recordings.rglob("*")]:
            mode = stat.S_IMODE(path.stat().st_mode)
            if path.is_dir():
                assert mode == 0o700, f"{path} is {mode:04o}"
            elif path.name != "compare.yaml":
                assert mode == 0o600, f"{path} is {mode:04o}"

    def one(self, operation: str, predicate=lambda e: True) -> tuple[Path, Exchange]:  # type: ignore[no-untyped-def]
        found = [(p, e) for p, e in self.exchanges()
                 if e.operation is not None and e.operation.name == operation and predicate(e)]
        assert found, f"no recording of {operation} matched (of {len(self.exchanges())})"
        return found[0]


# -- the demo, with its redaction rules, through a real proxy process ------------------------

#: the keeper of TB68 LMR is Marjorie Thistlewood, born 14/03/1961
KEEPER_DOB = "14/03/1961"


class _PncService:
    """The demo's pnc service, except that the keeper of TB68 LMR comes back with a date of
    birth in the bus's format, not ISO: the translator cannot read it and says so, quoting it."""

    def __init__(self, modern_url: str) -> None:
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                try:
                    with urllib.request.urlopen(modern_url + self.path, timeout=10) as answer:
                        status, data = answer.status, answer.read()
                        kind = answer.headers.get("Content-Type", "application/json")
                except urllib.error.HTTPError as exc:
                    status, data = exc.code, exc.read()
                    kind = exc.headers.get("Content-Type", "application/json")
                if self.path.startswith("/vehicles/TB68LMR") and status == 200:
                    doc = json.loads(data)
                    doc["keeper"]["dateOfBirth"] = KEEPER_DOB
                    data = json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, proxy_engine: str) -> Iterator[Run]:
    """One proxy with the demo's configuration and rules: PersonEnquiry in shadow,
    VehicleEnquiry on its translator (falling back to the bus), the rest on the bus."""
    home = tmp_path_factory.mktemp("leaks-demo")
    recordings = home / "rec"
    store = DemoStore()
    with ServerThread(make_legacy_app(store)) as bus, ServerThread(make_modern_app(store)) as modern:
        pnc = _PncService(modern.url)
        try:
            config = write_demo_config(home, bus.url, modern.url, recordings, authenticate=False)  # an open bus and services
            config.write_text(config.read_text().replace(f"pnc: {modern.url}", f"pnc: {pnc.url}"))
            set_route(config, "/pnc PersonEnquiry", "shadow")
            set_route(config, "/pnc VehicleEnquiry", "translator")
            with ProxyProcess(config) as proxy:
                _drive_demo(proxy)
            yield Run(recordings, proxy.log)
        finally:
            pnc.close()


def _drive_demo(proxy: ProxyProcess) -> None:
    # the URL path and query carry a surname and a date of birth the body also holds
    call(proxy, "/pnc/Thistlewood?surname=Thistlewood&dob=14%2F03%2F1961", PNC, "PersonEnquiry",
         soap11(PNC, "PersonEnquiry",
                "<o:surname>Thistlewood</o:surname><o:dateOfBirth>14/03/1961</o:dateOfBirth>"))
    # a custom SOAP header element, and attributes, holding the same person and an officer
    context = ('<ctx:RequestContext xmlns:ctx="urn:force:context" ctx:subject="Thistlewood">'
               "<ctx:surname>Thistlewood</ctx:surname><ctx:officerId>PC5518</ctx:officerId>"
               "<ctx:reason>enquiry about THISTLEWOOD by PC5518</ctx:reason>"
               "</ctx:RequestContext>")
    status, answer = call(
        proxy, "/pnc", PNC, "PersonEnquiry",
        soap11(PNC, "PersonEnquiry", "<o:surname>Thistlewood</o:surname>", context,
               ' o:officerId="PC5518"'),
        {"X-Officer-Id": "PC5518"},
    )
    assert status == 200 and b"98/104233K" in answer  # the bus answered with PNC IDs
    # officer IDs and a victim's PNC ID in a write, and an officer in a statement (SOAP 1.2)
    status, answer = call(proxy, "/cris", CRIS, "CreateCrimeReport", soap11(CRIS, "CreateCrimeReport", (
        "<o:offenceCode>THFV</o:offenceCode><o:committedDate>20260305</o:committedDate>"
        "<o:beatCode>TS02</o:beatCode><o:addressLine>112 Riverside Walk, Turnbridge</o:addressLine>"
        "<o:postcode>TB3 6RW</o:postcode><o:summary>Window smashed, rucksack taken.</o:summary>"
        "<o:reportingOfficer>PC4127</o:reportingOfficer><o:victimPncId>98/136620Y</o:victimPncId>"
    )), {"X-Officer-Id": "PC4127"})
    assert status == 200, answer
    call(proxy, "/eforms", EFORMS, "SubmitWitnessStatement", soap12(EFORMS, "SubmitWitnessStatement", (
        "<o:witness><o:surname>Oakenshaw</o:surname><o:forenames>Wilhelmina</o:forenames>"
        "<o:dateOfBirth>30\\09\\1965</o:dateOfBirth><o:addressLine>110 Riverside Walk</o:addressLine>"
        "<o:postcode>TB3 6RW</o:postcode></o:witness><o:statementText>I saw it.</o:statementText>"
        "<o:officerId>PC5518</o:officerId><o:crimeReference>CR/2026/000104</o:crimeReference>"
    )))
    # the registration in the translator's JSON call path (/vehicles/TB19XKF)
    status, answer = call(proxy, "/pnc", PNC, "VehicleEnquiry",
                          soap11(PNC, "VehicleEnquiry", "<o:registrationMark>TB19 XKF</o:registrationMark>"))
    assert status == 200 and b"FOCUS" in answer
    # a JSON reply the translator cannot read: its error quotes the keeper's date of birth
    status, answer = call(proxy, "/pnc", PNC, "VehicleEnquiry",
                          soap11(PNC, "VehicleEnquiry", "<o:registrationMark>TB68 LMR</o:registrationMark>"))
    assert status == 200 and b"ASTRA" in answer  # answered by the bus, after the fallback
    # the bus's Fault text, not quoted
    status, answer = call(proxy, "/geo", GEO, "ResolveLocation",
                          soap11(GEO, "ResolveLocation", "<o:postcode>TB9 4ZQ</o:postcode>"))
    assert status == 500 and b"no location found for postcode TB9 4ZQ" in answer
    # a date whose repr doubles its backslashes: in the bus's Fault and the translator's
    status, answer = call(proxy, "/pnc", PNC, "PersonEnquiry", soap11(PNC, "PersonEnquiry", (
        "<o:surname>Golightly</o:surname><o:dateOfBirth>30\\09\\1965</o:dateOfBirth>")))
    assert status == 500 and b"30\\\\09\\\\1965" in answer


def test_a_value_in_the_url_path_and_query_is_hidden_and_never_a_directory_name(demo: Run) -> None:
    path, exchange = demo.one("PersonEnquiry", lambda e: e.request.path.startswith("/pnc/"))
    demo.assert_nowhere("Thistlewood", "14/03/1961", "14%2F03%2F1961")
    assert exchange.operation is not None and exchange.operation.service != "/pnc/Thistlewood"
    # an unknown service path is filed under a keyed digest of it, not under its text
    folder = path.relative_to(demo.recordings).parts[0]
    assert folder.startswith("_service-") and "thistlewood" not in str(path).lower()
    demo.assert_private()


def test_custom_soap_header_elements_and_attributes_are_hidden(demo: Run) -> None:
    _, exchange = demo.one("PersonEnquiry", lambda e: b"RequestContext" in e.request.body)
    body = exchange.request.body
    assert b"<ctx:officerId>" in body and b'ctx:subject="' in body and b'o:officerId="' in body
    assert b"enquiry about " in body  # the words around the values stay
    demo.assert_nowhere("Thistlewood", "PC5518")


def test_pnc_ids_and_officer_ids_are_hidden_in_every_message(demo: Run) -> None:
    _, enquiry = demo.one("PersonEnquiry", lambda e: b"RequestContext" in e.request.body)
    assert enquiry.response is not None and b"<pnc:pncId>" in enquiry.response.body
    assert enquiry.translation.get("reply")  # and the shadow's JSON reply was recorded
    _, report = demo.one("CreateCrimeReport")
    assert b"<o:reportingOfficer>" in report.request.body
    assert ("X-Officer-Id", "PC4127") not in report.request.headers
    demo.one("SubmitWitnessStatement")
    demo.assert_nowhere("98/104233K", "98/118402B", "98/136620Y", "PC4127", "PC5518")
    result = CliRunner().invoke(main, ["recordings", "scan", str(demo.recordings), "--demo"])
    assert result.exit_code == 0, result.output


def test_the_registration_in_the_translators_json_call_path_is_hidden(demo: Run) -> None:
    _, exchange = demo.one("VehicleEnquiry", lambda e: (e.translation.get("kind") == "ok"))
    path = exchange.translation["call"]["path"]
    assert path.startswith("/vehicles/") and path != "/vehicles/TB19XKF"
    # the same token as the request's field, spelled as the call spells it
    mark = exchange.request.body.split(b"<o:registrationMark>")[1].split(b"<")[0].decode()
    assert path == "/vehicles/" + mark.replace(" ", "")
    demo.assert_nowhere("TB19 XKF", "TB19XKF")


def test_a_translation_error_never_quotes_the_value_into_the_recording_or_the_log(demo: Run) -> None:
    _, exchange = demo.one("VehicleEnquiry",
                           lambda e: e.translation.get("kind") == "translation-error")
    assert exchange.outcome == "fallback" and "dateOfBirth" in exchange.translation["error"]
    assert "translator failed (translation-error)" in demo.log and "dateOfBirth" in demo.log
    demo.assert_nowhere(KEEPER_DOB, "1961-03-14", "TB68 LMR", "TB68LMR")


def test_the_bus_fault_text_is_hidden_though_nothing_quotes_the_value(demo: Run) -> None:
    _, exchange = demo.one("ResolveLocation")
    assert exchange.response is not None
    assert b"no location found for postcode " in exchange.response.body
    demo.assert_nowhere("TB9 4ZQ")


def test_a_date_with_backslashes_is_hidden_where_repr_doubles_them(demo: Run) -> None:
    _, enquiry = demo.one("PersonEnquiry", lambda e: e.response is not None
                          and b"is not a date" in e.response.body)
    assert enquiry.translated is not None and b"is not a date" in enquiry.translated.body
    _, statement = demo.one("SubmitWitnessStatement")
    assert statement.response is not None and statement.response.status == 500
    demo.assert_nowhere("30\\09\\1965", "Golightly", "Oakenshaw")


# -- no rules at all: credentials are hidden whatever the configuration ----------------------

SECRETS = {
    "authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LWJlYXJlcg.sig0sig1sig2",
    "basic": "dXNlcjpodW50ZXIy",  # user:hunter2
    "proxy": "Basic cHJveHk6cHJveHlwYXNzd29yZA==",
    "api_key": "ak_live_7Hq2ZxR4mN8pL1sV",
    "session_token": "st_93jfd8s7dfs9d8f7",
    "cookie": "sess_4f3e2d1c0b9a8877",
    "set_cookie": "srv_5a6b7c8d9e0f1a2b",
    "query_key": "qk_1029384756abcdef",
    "password": "Tr0ub4dor&3-horse",
    "nonce": "bm9uY2UtMTIzNDU2Nzg5MA==",
    "token": "MIIBbinarysecuritytokenQUJDREVG",
    "signature": "c2lnbmF0dXJldmFsdWUxMjM0NTY3OA==",
    "cert": "MIIDclientcertificatePEMbodyXYZ",
    "cert_hash": "468ed33be74eee6556d90c0149c1309e9ba61d6425303443c0748a02dd8de688",
}

WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
SECURITY = (
    f'<wsse:Security xmlns:wsse="{WSSE}" xmlns:ds="http://www.w3.org/2000/09/xmldsig#">'
    "<wsse:UsernameToken><wsse:Username>PC5518</wsse:Username>"
    f'<wsse:Password Type="#PasswordText">{SECRETS["password"].replace("&", "&amp;")}</wsse:Password>'
    f'<wsse:Nonce>{SECRETS["nonce"]}</wsse:Nonce></wsse:UsernameToken>'
    f'<wsse:BinarySecurityToken>{SECRETS["token"]}</wsse:BinarySecurityToken>'
    f'<ds:Signature><ds:SignatureValue>{SECRETS["signature"]}</ds:SignatureValue></ds:Signature>'
    # the same secrets in another namespace, known by their local names inside Security
    f'<x:Password xmlns:x="urn:vendor:sec">{SECRETS["password"].replace("&", "&amp;")}2</x:Password>'
    "</wsse:Security>"
)


@pytest.fixture(scope="module")
def unredacted(tmp_path_factory: pytest.TempPathFactory, proxy_engine: str) -> Iterator[Run]:
    """README's first proxy command, `--upstream URL --record DIR`, with `--unredacted`."""
    home = tmp_path_factory.mktemp("leaks-unredacted")
    recordings = home / "rec"
    config = home / "turnout.yaml"
    with ScriptedBus() as bus:
        config.write_text(f"upstream: {bus.url}\n")  # no redaction: the same as --upstream URL
        bus.reply = Reply(500, [
            ("Content-Type", "text/xml; charset=utf-8"),
            ("Set-Cookie", f"srv={SECRETS['set_cookie']}; Path=/; HttpOnly"),
        ], (f'<s:Envelope xmlns:s="{SOAP11}"><s:Body><s:Fault><faultcode>s:Client</faultcode>'
            f"<faultstring>token {SECRETS['session_token']} expired for key {SECRETS['api_key']}"
            "</faultstring></s:Fault></s:Body></s:Envelope>").encode())
        with ProxyProcess(config, extra=["--record", str(recordings), "--unredacted"]) as proxy:
            for path in ("/pnc", "/cris"):
                call(proxy, f"{path}?api_key={SECRETS['query_key']}&page=2", PNC, "PersonEnquiry",
                     soap11(PNC, "PersonEnquiry", "<o:surname>Thistlewood</o:surname>", SECURITY),
                     {"Authorization": SECRETS["authorization"],
                      "Proxy-Authorization": SECRETS["proxy"],
                      "X-Api-Key": SECRETS["api_key"],
                      "X-Session-Token": SECRETS["session_token"],
                      "Cookie": f"theme=dark; session={SECRETS['cookie']}",
                      "X-SSL-Client-Cert": SECRETS["cert"],
                      "X-SSL-Client-S-DN": "CN=PC5518,O=Turnbridge Police",
                      "X-Forwarded-Client-Cert": (f'Hash={SECRETS["cert_hash"]};Subject="CN=PC5518,'
                                                  f'O=Turnbridge Police";Cert="{SECRETS["cert"]}"')})
            # (the bus echoes only what this request sent: hidden by value within an exchange)
            bus.reply = Reply(500, bus.reply.headers, bus.reply.body.replace(
                SECRETS["session_token"].encode(), b"it").replace(SECRETS["api_key"].encode(), b"it"))
            call(proxy, "/pnc", PNC, "PersonEnquiry",
                 soap11(PNC, "PersonEnquiry", "<o:surname>x</o:surname>"),
                 {"Authorization": f"Basic {SECRETS['basic']}"})
        yield Run(recordings, proxy.log)


def test_credentials_never_reach_disk_or_log_even_unredacted(unredacted: Run) -> None:
    exchanges = [e for _, e in unredacted.exchanges()]
    assert len(exchanges) == 3
    unredacted.assert_nowhere(*SECRETS.values(), "hunter2", "cHJveHk6cHJveHlwYXNzd29yZA==",
                              "proxypassword")
    first = exchanges[0]
    headers = dict(first.request.headers)
    assert headers["Authorization"] == headers["X-Api-Key"] == "REDACTED"
    assert headers["X-SSL-Client-S-DN"] == "CN=PC5518,O=Turnbridge Police"  # the subject stays
    assert headers["X-Forwarded-Client-Cert"] == (
        'Hash=REDACTED;Subject="CN=PC5518,O=Turnbridge Police";Cert=REDACTED')
    assert "api_key=REDACTED&page=2" in first.request.path
    assert b"<wsse:Username>PC5518</wsse:Username>" in first.request.body  # no rule: in clear
    assert b"Thistlewood" in first.request.body  # unredacted means what it says, but for secrets
    assert first.response is not None
    assert ("Set-Cookie", "REDACTED") in first.response.headers
    assert b"token REDACTED expired for key REDACTED" in first.response.body
    unredacted.assert_private()


def test_recording_without_rules_warns_at_start_and_for_every_new_directory(unredacted: Run) -> None:
    log = unredacted.log
    assert "WITHOUT redaction rules" in log
    directories = {path.parent for path, _ in unredacted.exchanges()}
    assert len(directories) == 2  # /pnc and /cris
    for directory in directories:
        assert f"WITHOUT redaction rules to {directory}" in log


def test_recording_without_rules_is_refused_unless_unredacted(tmp_path: Path) -> None:
    result = subprocess.run(
        [*TURNOUT, "proxy", "--upstream", "http://127.0.0.1:9", "--port", str(free_port()),
         "--record", str(tmp_path / "rec")], capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    said = " ".join(result.stderr.split())
    assert "refusing to record" in said and "--unredacted" in said and "redaction" in said
    assert not (tmp_path / "rec").exists()


# -- key files -------------------------------------------------------------------------------


def _refusal(tmp_path: Path, key_file: str) -> str:
    (tmp_path / "turnout.yaml").write_text(
        "upstream: http://127.0.0.1:9\nrecordings:\n  dir: rec\n  redaction:\n"
        f"    body: ['//surname']\n    key_file: {key_file}\n"
    )
    result = subprocess.run(
        [*TURNOUT, "proxy", "--config", str(tmp_path / "turnout.yaml"), "--port", str(free_port())],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    return " ".join(result.stderr.split())


@pytest.mark.parametrize("mode", [0o644, 0o666, 0o640, 0o604])
def test_a_key_file_others_can_read_is_refused_naming_the_file_and_mode(
    tmp_path: Path, mode: int
) -> None:
    key = tmp_path / "keys" / "pseudonym.key"
    key.parent.mkdir()
    key.write_bytes(b"k" * 32)
    key.chmod(mode)
    said = _refusal(tmp_path, str(key))
    assert str(key) in said and f"{mode:04o}" in said and "0600" in said


@pytest.mark.parametrize("target", ["/proc/self/environ", "/dev/null", "fifo", "directory"])
def test_a_key_file_that_is_no_plain_file_is_refused(tmp_path: Path, target: str) -> None:
    if target == "fifo":
        os.mkfifo(tmp_path / "fifo")
    elif target == "directory":
        (tmp_path / "directory").mkdir()
    if not target.startswith("/"):
        target = str(tmp_path / target)
    link = tmp_path / "pseudonym.key"
    link.symlink_to(target)
    for named in (target, str(link)):
        said = _refusal(tmp_path, named)
        assert "key_file" in said and Path(target).name in said and "mode" in said
        assert "kernel" in said or "not a regular file" in said


def test_a_private_key_file_is_accepted_and_the_demo_key_is_the_one_exception(tmp_path: Path) -> None:
    from turnout.recording import redactor_from_config

    key = tmp_path / "pseudonym.key"
    key.write_bytes(b"k" * 32 + b"\n")
    key.chmod(0o600)
    redactor = redactor_from_config({"body": ["//surname"], "key_file": str(key)})
    assert isinstance(redactor.replacement, Pseudonymiser)
    key.chmod(0o400)
    assert isinstance(redactor_from_config({"key_file": str(key)}).replacement, Pseudonymiser)
    # committed to git (so 0644 in a checkout), public by design, for fictional people only
    demo_key = Path(__file__).resolve().parents[1] / "turnout" / "demo" / "demo-pseudonym.key"
    assert isinstance(redactor_from_config({"key_file": str(demo_key)}).replacement, Pseudonymiser)


# -- a shadow diff's diagnostics stay readable -----------------------------------------------


def test_diff_diagnostics_are_hidden_by_value_only_and_values_always() -> None:
    """Kinds, paths, parse errors and rendered element names are diagnostics: only the hidden
    values in them are replaced. What differed is hidden (fail closed)."""
    pseudonym = Pseudonymiser(b"0123456789abcdef0123456789abcdef")
    redactor = Redactor([BodyRule("//surname")], replacement=pseudonym)
    parse_error = "Opening and ending tag mismatch: surname line 1 and Thistlewood, line 1"
    exchange = Exchange(
        request=HttpRequest("POST", "/pnc", [], b"<r><surname>Thistlewood</surname></r>"),
        response=HttpResponse(200, [], b"<a/>"), client="127.0.0.1",
        operation=OperationName("/pnc", "PersonEnquiry"),
        translation={"diff": [
            {"path": "/", "kind": "unreadable", "legacy": None, "new": parse_error},
            {"path": "/soap:Envelope/soap:Body/pnc:person[surname='Thistlewood']",
             "kind": "changed", "legacy": "Penhallow", "new": "Thistlewood"},
            {"path": "/soap:Envelope/soap:Body/pnc:person", "kind": "missing",
             "legacy": '<pnc:person id="98/104233K"><pnc:surname>Thistlewood</pnc:surname></pnc:person>',
             "new": None},
            {"path": "/", "kind": "changed", "legacy": "{urn:police:pnc:v1}PersonEnquiryResponse",
             "new": "{urn:police:pnc:v1}Fault"},
        ]},
    )
    unreadable, changed, missing, root = redactor.redact(exchange).translation["diff"]
    token = pseudonym("Thistlewood")
    assert unreadable["new"] == parse_error.replace("Thistlewood", token)
    assert unreadable["kind"] == "unreadable" and unreadable["path"] == "/"
    assert changed["path"] == f"/soap:Envelope/soap:Body/pnc:person[surname='{token}']"
    assert changed["new"] == token and changed["legacy"] == pseudonym("Penhallow")
    assert missing["legacy"] == (f'<pnc:person id="{pseudonym("98/104233K")}"><pnc:surname>'
                                 f"{token}</pnc:surname></pnc:person>")
    assert root["legacy"] == "{urn:police:pnc:v1}PersonEnquiryResponse"


def test_a_failure_inside_redaction_never_quotes_the_exchange_into_the_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A bug that raises `KeyError('Thistlewood')` while redacting: the writer logs its type,
    not its message."""
    import logging

    from turnout.recording import RecordingStore, ThreadWriter

    class Failing(Redactor):
        def redact(self, exchange: Exchange) -> Exchange:
            raise KeyError("Thistlewood")

    writer = ThreadWriter(RecordingStore(tmp_path, Failing([BodyRule("//surname")])))
    with caplog.at_level(logging.ERROR, logger="turnout.recording"):
        writer.submit(Exchange(request=HttpRequest("POST", "/pnc", [], b"<surname>Thistlewood</surname>"),
                               client="127.0.0.1"))
        assert writer.close(timeout=10)
    assert writer.failed == 1 and "KeyError" in caplog.text
    assert "Thistlewood" not in caplog.text
