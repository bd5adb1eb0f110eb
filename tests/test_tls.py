"""TLS on every hop (issue 11): clients to the proxy, the proxy to the bus, the proxy to a service.

Certificates are made at test time: `trustme` for the CAs and the certificates they issue, and
`cryptography` for what trustme will not make on purpose (a certificate that expired, one from an
impostor CA that copies the real CA's name). Every behaviour is shown through a real proxy
process (`turnout proxy --config`) with real TLS sockets on both sides: an HTTPS client, and
`ScriptedBus` with its listening socket wrapped in TLS as the bus or the JSON service. The
configuration errors are shown on `load_proxy_config`, and once through the process.
"""

from __future__ import annotations

import datetime
import http.client
import os
import shutil
import socket
import ssl
import time
import warnings
from pathlib import Path
from typing import Iterator

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from turnout.config import ConfigError, load_proxy_config

from .support.bus import Reply, ScriptedBus
from .support.proxy_process import ProxyProcess
from .test_proxy_passthrough import ENVELOPE, SOAP_HEADERS, fault_of

SUPPORT = Path(__file__).parent / "support" / "translators_for_tests.py"
BUS_ANSWER = b"<from-the-bus/>"
OFFICER = "CN=PC 1234,OU=Response,O=Police"


# --- certificates ---------------------------------------------------------------------------


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def issue(ca: trustme.CA, common_name: str, *, expired: bool = False, org_unit: str = "Response") -> tuple[bytes, bytes]:
    """A client certificate (PEM) and its key, signed by `ca`'s key; `expired`: valid until yesterday."""
    key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = x509.load_pem_x509_certificate(ca.cert_pem.bytes())
    ca_key = serialization.load_pem_private_key(ca.private_key_pem.bytes(), password=None)
    now = datetime.datetime.now(datetime.timezone.utc)
    not_after = now - datetime.timedelta(days=1) if expired else now + datetime.timedelta(days=30)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Police"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, org_unit),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_after - datetime.timedelta(days=60))
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())  # type: ignore[arg-type]
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def impostor_of(ca: trustme.CA) -> trustme.CA:
    """A CA with exactly the real CA's name and a key of its own: what only a signature check tells apart."""
    real = x509.load_pem_x509_certificate(ca.cert_pem.bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(real.subject).issuer_name(real.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=9), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return trustme.CA.from_pem(cert.public_bytes(serialization.Encoding.PEM), key_pem)


class Pki:
    """Every certificate of one test, as files in its own directory."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        directory.mkdir()
        # the proxy's own certificate, from an intermediate of the CA its clients trust (so the
        # chain in tls.cert must be sent for a client to verify it)
        self.proxy_ca = trustme.CA(organization_name="Police proxy CA")
        self.proxy_intermediate = self.proxy_ca.create_child_ca()
        proxy = self.proxy_intermediate.issue_cert("127.0.0.1", "localhost")
        self.proxy_cert = write(directory / "proxy.pem", b"".join(p.bytes() for p in proxy.cert_chain_pems))
        self.proxy_key = write(directory / "proxy.key", proxy.private_key_pem.bytes())
        self.proxy_ca_file = write(directory / "proxy-ca.pem", self.proxy_ca.cert_pem.bytes())
        # officers' devices: client certificates from the force's device CA
        self.device_ca = trustme.CA(organization_name="Police device CA")
        self.device_ca_file = write(directory / "device-ca.pem", self.device_ca.cert_pem.bytes())
        # the bus and the modern service: each its own CA; the proxy shows them a client certificate
        self.bus_ca = trustme.CA(organization_name="Bus CA")
        self.bus_ca_file = write(directory / "bus-ca.pem", self.bus_ca.cert_pem.bytes())
        self.service_ca = trustme.CA(organization_name="Service CA")
        self.service_ca_file = write(directory / "service-ca.pem", self.service_ca.cert_pem.bytes())
        self.turnout_ca = trustme.CA(organization_name="Turnout client CA")
        cert, key = issue(self.turnout_ca, "turnout-proxy")
        self.turnout_cert = write(directory / "turnout-client.pem", cert)
        self.turnout_key = write(directory / "turnout-client.key", key)
        self.other_ca_file = write(directory / "other-ca.pem", trustme.CA().cert_pem.bytes())

    def client(self, name: str, ca: trustme.CA | None = None, expired: bool = False) -> tuple[Path, Path]:
        cert, key = issue(ca or self.device_ca, "PC 1234", expired=expired)
        return write(self.dir / f"{name}.pem", cert), write(self.dir / f"{name}.key", key)

    def server_context(self, ca: trustme.CA, require_client_ca: trustme.CA | None = None) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        if require_client_ca is not None:
            context.verify_mode = ssl.CERT_REQUIRED
            require_client_ca.configure_trust(context)
        return context


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return Pki(tmp_path / "pki")


def https_server(context: ssl.SSLContext, reply: Reply) -> ScriptedBus:
    """`ScriptedBus` speaking HTTPS: its listening socket wrapped, the handshake on each accept."""
    server = ScriptedBus()
    server.reply = reply
    server.server.socket = context.wrap_socket(server.server.socket, server_side=True)
    server.url = f"https://127.0.0.1:{server.port}"
    return server


@pytest.fixture
def plain_bus() -> Iterator[ScriptedBus]:
    with ScriptedBus() as bus:
        bus.reply = Reply(body=BUS_ANSWER)
        yield bus


# --- the proxy ------------------------------------------------------------------------------


def write_config(tmp_path: Path, upstream: str, tls: str = "", extra: str = "") -> Path:
    path = tmp_path / "turnout.yaml"
    path.write_text(
        f"upstream: {upstream}\n"
        "timeouts: {upstream: 5, connect: 3}\n"
        + (f"tls:\n{tls}" if tls else "")
        + extra
    )
    return path


def listen_tls(pki: Pki, mutual: bool | None = False) -> str:
    """`tls:` for listening; `mutual`: client certificates required (True), optional but
    verified when shown (None), not asked for (False)."""
    text = f"  cert: {pki.proxy_cert}\n  key: {pki.proxy_key}\n"
    if mutual is not False:
        text += f"  client_ca: {pki.device_ca_file}\n  require_client_cert: {str(bool(mutual)).lower()}\n"
    return text


def client_context(pki: Pki, cert: tuple[Path, Path] | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(pki.proxy_ca_file))
    if cert is not None:
        context.load_cert_chain(str(cert[0]), str(cert[1]))
    return context


def post_https(port: int, context: ssl.SSLContext, body: bytes = ENVELOPE,
               headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=20)
    try:
        conn.request("POST", "/pnc", body=body, headers=headers or SOAP_HEADERS)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def post_plain(port: int, body: bytes = ENVELOPE) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        conn.request("POST", "/pnc", body=body, headers=SOAP_HEADERS)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def alert(port: int, context: ssl.SSLContext) -> str:
    """The TLS alert the proxy ends this client's handshake with (seen in the handshake, or with
    TLS 1.3, where a client finishes its side before the server has judged its certificate, on
    the first read). Fails the test if the handshake is accepted."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        try:
            with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                tls.recv(1)
        except ssl.SSLError as exc:
            return exc.reason or str(exc)
    raise AssertionError("the proxy accepted the handshake")


def logged(proxy: ProxyProcess, *texts: str, within: float = 10.0) -> str:
    """The proxy's log once it holds every one of `texts` (it writes after the client is answered)."""
    deadline = time.monotonic() + within
    while not all(text in (log := proxy.log) for text in texts) and time.monotonic() < deadline:
        time.sleep(0.05)
    return log


def refused(port: int, context: ssl.SSLContext) -> str:
    """How the proxy refused this client: an error in the handshake or, with TLS 1.3 (where a
    client finishes its side before the server has judged its certificate), on the first read.
    Fails the test if any HTTP answer arrives."""
    try:
        status, body = post_https(port, context)
    except (ssl.SSLError, ConnectionError, http.client.RemoteDisconnected, http.client.BadStatusLine) as exc:
        return f"{type(exc).__name__}: {exc}"
    raise AssertionError(f"served over mutual TLS without a valid client certificate: {status} {body[:200]!r}")


# --- listening with TLS ---------------------------------------------------------------------


def test_tls_listen_serves_a_client_that_trusts_the_ca_and_refuses_plain_http(
    pki: Pki, plain_bus: ScriptedBus, tmp_path: Path
) -> None:
    config = write_config(tmp_path, plain_bus.url, listen_tls(pki))
    with ProxyProcess(config) as proxy:
        status, body = post_https(proxy.port, client_context(pki))
        plain_status, plain_body = post_plain(proxy.port)
        log = logged(proxy, "refused plain HTTP")
        # a client that trusts only the system's CAs (not mitmproxy's, not ours) is refused by itself
        with pytest.raises(ssl.SSLCertVerificationError):
            post_https(proxy.port, ssl.create_default_context())
        # the certificate the proxy shows is ours, whatever name the client asks for
        with socket.create_connection(("127.0.0.1", proxy.port)) as raw:
            with client_context(pki).wrap_socket(raw, server_hostname="localhost") as tls:
                shown = x509.load_der_x509_certificate(tls.getpeercert(binary_form=True))
                version = tls.version()
    assert (status, body) == (200, BUS_ANSWER)
    assert len(plain_bus.received) == 1 and plain_bus.received[0].body == ENVELOPE
    assert plain_status == 400
    assert fault_of(plain_body)[2] == "tls.required"
    assert "HTTPS only" in fault_of(plain_body)[1]
    assert shown.issuer == x509.load_pem_x509_certificate(pki.proxy_intermediate.cert_pem.bytes()).subject
    assert version in ("TLSv1.2", "TLSv1.3")
    assert "refused plain HTTP" in log
    assert f"listening on https://127.0.0.1:{proxy.port}" in proxy.log  # says what it serves


def test_tls_listen_refuses_tls_1_1(pki: Pki, plain_bus: ScriptedBus, tmp_path: Path) -> None:
    """A client that offers TLS 1.1 at most (old ciphers allowed on its side) is refused by the proxy."""
    context = client_context(pki)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            context.set_ciphers("ALL:@SECLEVEL=0")
            context.minimum_version = context.maximum_version = ssl.TLSVersion.TLSv1_1
        except (ValueError, ssl.SSLError):
            pytest.skip("this OpenSSL cannot offer TLS 1.1 at all")
    with ProxyProcess(write_config(tmp_path, plain_bus.url, listen_tls(pki))) as proxy:
        how = refused(proxy.port, context)
        log = logged(proxy, "TLS handshake with 127.0.0.1")
    assert plain_bus.received == []
    assert "ALERT_PROTOCOL_VERSION" in how  # the proxy's refusal, not the client's own
    assert "TLS handshake with 127.0.0.1" in log, log


# --- mutual TLS ----------------------------------------------------------------------------


@pytest.mark.parametrize("client", ["none", "other-ca", "impostor-ca", "expired"])
def test_mutual_tls_refuses_a_client_without_a_valid_certificate_in_the_handshake(
    pki: Pki, plain_bus: ScriptedBus, tmp_path: Path, client: str
) -> None:
    cert = {
        "none": None,
        "other-ca": pki.client("other", trustme.CA(organization_name="Police device CA")),
        "impostor-ca": pki.client("impostor", impostor_of(pki.device_ca)),
        "expired": pki.client("expired", expired=True),
    }[client]
    expected = {
        "none": "sent no certificate",
        "other-ca": "client certificate rejected: unable to get local issuer certificate",
        "impostor-ca": "client certificate rejected: certificate signature failure",
        "expired": "client certificate rejected: certificate has expired",
    }[client]
    config = write_config(tmp_path, plain_bus.url, listen_tls(pki, mutual=True))
    with ProxyProcess(config) as proxy:
        how = refused(proxy.port, client_context(pki, cert))
        told = alert(proxy.port, client_context(pki, cert))
        # the proxy goes on serving a client whose certificate is right
        good = post_https(proxy.port, client_context(pki, pki.client("good")))
        log = logged(proxy, expected)
    assert how
    # the client is told why, in the TLS alert (mitmproxy alone would just close the connection)
    assert told == {
        "none": "TLSV13_ALERT_CERTIFICATE_REQUIRED",
        "other-ca": "TLSV1_ALERT_UNKNOWN_CA",
        "impostor-ca": "TLSV1_ALERT_DECRYPT_ERROR",
        "expired": "SSLV3_ALERT_CERTIFICATE_EXPIRED",
    }[client]
    assert good == (200, BUS_ANSWER)
    assert len(plain_bus.received) == 1  # the refused client's request never reached the bus
    assert "TLS handshake with 127.0.0.1" in log and expected in log, log


@pytest.mark.engine("mitmproxy", reason="a mitmproxy addon reads the subject; the fast host has no addons")
def test_mutual_tls_tells_other_addons_the_verified_subject(
    pki: Pki, plain_bus: ScriptedBus, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`client_certificate_subject(flow)` as another addon (identity, audit) reads it: in-process,
    the one test here that is, since a probe addon must sit beside Turnout's."""
    from turnout.proxy import ProxyThread, _launcher
    from turnout.proxy._tls import client_certificate_subject

    seen: list[str | None] = []

    class Probe:
        def request(self, flow) -> None:  # type: ignore[no-untyped-def]
            seen.append(client_certificate_subject(flow))

    made = _launcher.make_addons
    monkeypatch.setattr(_launcher, "make_addons", lambda state: [Probe(), *made(state)])
    officer = pki.client("officer")
    stranger = pki.client("stranger", trustme.CA(organization_name="Police device CA"))
    subjects = {}
    for mutual in (True, None, False):
        config = write_config(tmp_path, plain_bus.url, listen_tls(pki, mutual), extra="listen: {port: 0}\n")
        seen.clear()
        with ProxyThread(load_proxy_config(config)) as proxy:
            # two requests on one connection, then one on another: each knows its officer
            conn = http.client.HTTPSConnection("127.0.0.1", proxy.port, context=client_context(pki, officer),
                                               timeout=20)
            for _ in range(2):
                conn.request("POST", "/pnc", body=ENVELOPE, headers=SOAP_HEADERS)
                response = conn.getresponse()
                assert (response.status, response.read()) == (200, BUS_ANSWER)
            conn.close()
            assert post_https(proxy.port, client_context(pki, officer)) == (200, BUS_ANSWER)
            if mutual is None:  # optional: no certificate is served; a wrong one is still refused
                assert post_https(proxy.port, client_context(pki)) == (200, BUS_ANSWER)
                assert alert(proxy.port, client_context(pki, stranger)) == "TLSV1_ALERT_UNKNOWN_CA"
        subjects[mutual] = list(seen)
    assert subjects[True] == [OFFICER] * 3
    assert subjects[None] == [OFFICER] * 3 + [None]
    # without client_ca the proxy never asks for a certificate, so it knows no subject
    assert subjects[False] == [None] * 3


@pytest.mark.engine("mitmproxy", reason="mitmdump -s turnout/proxy/script.py is mitmproxy's own")
def test_loaded_as_a_mitmdump_script_it_refuses_plain_http_and_verifies_clients_too(
    pki: Pki, plain_bus: ScriptedBus, tmp_path: Path
) -> None:
    """With `mitmdump -s`, script addons run *before* mitmproxy's own (the opposite of `turnout
    proxy`): the same refusals hold."""
    import subprocess
    import sys

    from .support.proxy_process import free_port

    config = write_config(tmp_path, plain_bus.url, listen_tls(pki, mutual=True))
    port = free_port()
    script = Path(__file__).parent.parent / "turnout" / "proxy" / "script.py"
    with (tmp_path / "mitmdump.log").open("wb") as out:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "mitmdump"), "--mode", f"reverse:{plain_bus.url}",
             "--listen-host", "127.0.0.1", "-p", str(port), "-s", str(script),
             "--set", f"turnout_config={config}"],
            stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, (tmp_path / "mitmdump.log").read_text()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, (tmp_path / "mitmdump.log").read_text()
                time.sleep(0.1)
        plain_status, plain_body = post_plain(port)
        told = alert(port, client_context(pki))
        good = post_https(port, client_context(pki, pki.client("officer")))
    finally:
        process.terminate()
        process.wait(20)
    assert plain_status == 400 and fault_of(plain_body)[2] == "tls.required"
    assert told == "TLSV13_ALERT_CERTIFICATE_REQUIRED"
    assert good == (200, BUS_ANSWER)
    assert len(plain_bus.received) == 1


# --- the bus over HTTPS ---------------------------------------------------------------------


def test_bus_over_https_with_the_right_ca_and_a_client_certificate(pki: Pki, tmp_path: Path) -> None:
    bus = https_server(pki.server_context(pki.bus_ca, require_client_ca=pki.turnout_ca), Reply(body=BUS_ANSWER))
    tls = (f"  upstream_ca: {pki.bus_ca_file}\n"
           f"  upstream_client_cert: {pki.turnout_cert}\n  upstream_client_key: {pki.turnout_key}\n")
    with bus, ProxyProcess(write_config(tmp_path, bus.url, listen_tls(pki) + tls)) as proxy:
        status, body = post_https(proxy.port, client_context(pki))
    assert (status, body) == (200, BUS_ANSWER)
    assert len(bus.received) == 1 and bus.received[0].body == ENVELOPE


@pytest.mark.parametrize("trust", ["other-ca", "system"])
def test_bus_whose_certificate_cannot_be_verified_gets_nothing_and_the_client_a_fault(
    pki: Pki, tmp_path: Path, trust: str
) -> None:
    bus = https_server(pki.server_context(pki.bus_ca), Reply(body=BUS_ANSWER))
    tls = f"  upstream_ca: {pki.other_ca_file}\n" if trust == "other-ca" else ""
    with bus, ProxyProcess(write_config(tmp_path, bus.url, tls)) as proxy:
        status, body = post_plain(proxy.port)
    assert status == 500
    code, reason, kind = fault_of(body)
    assert (code, kind) == ("soap:Server", "upstream.certificate")
    assert "certificate that could not be verified" in reason and "nothing was sent" in reason
    assert bus.received == []  # never sent, in clear or otherwise


def test_bus_that_wants_a_client_certificate_the_proxy_does_not_have(pki: Pki, tmp_path: Path) -> None:
    bus = https_server(pki.server_context(pki.bus_ca, require_client_ca=pki.turnout_ca), Reply(body=BUS_ANSWER))
    with bus, ProxyProcess(write_config(tmp_path, bus.url, f"  upstream_ca: {pki.bus_ca_file}\n")) as proxy:
        status, body = post_plain(proxy.port)
    assert status == 500
    assert fault_of(body)[2].startswith("upstream.")
    assert bus.received == []


# --- a modern service over HTTPS (translator route) ----------------------------------------


def translator_config(tmp_path: Path, bus: ScriptedBus, service_entry: str, on_error: str = "fault") -> Path:
    translators = tmp_path / "translators"
    translators.mkdir(exist_ok=True)
    shutil.copy(SUPPORT, translators / "test_translators.py")
    return write_config(tmp_path, bus.url, extra=(
        "translators: translators\n"
        f"services:\n  pnc: {service_entry}\n"
        f"routes:\n  /pnc VehicleEnquiry: {{mode: translator, on_error: {on_error}, timeout: 5}}\n"
    ))


def test_service_over_https_with_the_right_ca_and_a_client_certificate(
    pki: Pki, plain_bus: ScriptedBus, tmp_path: Path
) -> None:
    service = https_server(pki.server_context(pki.service_ca, require_client_ca=pki.turnout_ca),
                           Reply(headers=[("Content-Type", "application/json")], body=b'{"colour": "blue"}'))
    with service:
        entry = (f"{{url: {service.url}, ca: {pki.service_ca_file}, client_cert: {pki.turnout_cert}, "
                 f"client_key: {pki.turnout_key}}}")
        with ProxyProcess(translator_config(tmp_path, plain_bus, entry)) as proxy:
            status, body = post_plain(proxy.port)
    assert status == 200 and b"<p:colourCode>blue</p:colourCode>" in body
    assert [r.path for r in service.received] == ["/vehicles/TB19XKF"]
    assert plain_bus.received == []


def test_service_whose_certificate_cannot_be_verified_gets_nothing(
    pki: Pki, plain_bus: ScriptedBus, tmp_path: Path
) -> None:
    service = https_server(pki.server_context(pki.service_ca),
                           Reply(headers=[("Content-Type", "application/json")], body=b'{"colour": "blue"}'))
    with service:
        entry = f"{{url: {service.url}, ca: {pki.other_ca_file}}}"
        with ProxyProcess(translator_config(tmp_path, plain_bus, entry)) as proxy:
            status, body = post_plain(proxy.port)
    assert status == 500
    code, reason, kind = fault_of(body)
    assert kind == "translator.service.certificate"
    assert "certificate that could not be verified" in reason
    assert service.received == [] and plain_bus.received == []


def test_a_read_whose_service_cannot_be_verified_falls_back_to_the_bus(
    pki: Pki, plain_bus: ScriptedBus, tmp_path: Path
) -> None:
    service = https_server(pki.server_context(pki.service_ca),
                           Reply(headers=[("Content-Type", "application/json")], body=b'{"colour": "blue"}'))
    with service:
        config = translator_config(tmp_path, plain_bus, service.url, on_error="legacy")  # system trust store
        with ProxyProcess(config) as proxy:
            status, body = post_plain(proxy.port)
    assert (status, body) == (200, BUS_ANSWER)
    assert service.received == [] and len(plain_bus.received) == 1


# --- configuration errors: file, line and field ---------------------------------------------


def config_error(tmp_path: Path, text: str) -> str:
    path = tmp_path / "turnout.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_proxy_config(path)
    return str(caught.value)


def test_config_errors_name_file_line_and_field(pki: Pki, tmp_path: Path) -> None:
    head = "upstream: http://127.0.0.1:9\n"
    missing = tmp_path / "nowhere.pem"
    assert config_error(tmp_path, head + f"tls:\n  cert: {missing}\n  key: {pki.proxy_key}\n") == (
        f"{tmp_path / 'turnout.yaml'}:3: tls.cert: file not found: {missing}")
    other_cert, _ = pki.client("unrelated")
    error = config_error(tmp_path, head + f"tls:\n  cert: {other_cert}\n  key: {pki.proxy_key}\n")
    assert error.startswith(f"{tmp_path / 'turnout.yaml'}:4: tls.key: does not match the certificate in tls.cert")
    error = config_error(tmp_path, head + f"tls:\n  cert: {pki.proxy_cert}\n")
    assert ":2: tls: tls.cert is given without tls.key" in error
    error = config_error(tmp_path, head + f"tls:\n  cert: {pki.proxy_key}\n  key: {pki.proxy_key}\n")
    assert ":3: tls.cert: holds no PEM certificate" in error
    error = config_error(tmp_path, head + f"tls:\n  cert: {pki.proxy_cert}\n  key: {pki.proxy_cert}\n")
    assert ":4: tls.key: holds no PEM private key" in error
    expired = pki.client("expired", expired=True)
    error = config_error(tmp_path, head + f"tls:\n  upstream_client_cert: {expired[0]}\n"
                                          f"  upstream_client_key: {expired[1]}\n")
    assert ":3: tls.upstream_client_cert: the certificate expired on" in error
    error = config_error(tmp_path, head + f"tls:\n  upstream_ca: {pki.bus_ca_file}\n")
    assert ":1: upstream: must be an https:// URL when tls.upstream_ca" in error
    error = config_error(tmp_path, head + f"tls:\n  cert: {pki.proxy_cert}\n  key: {pki.proxy_key}\n"
                                          "  require_client_cert: true\n")
    assert ":5: tls.require_client_cert: needs tls.client_ca" in error
    error = config_error(tmp_path, head + f"tls:\n  client_ca: {pki.device_ca_file}\n")
    assert ":3: tls.client_ca: needs tls.cert and tls.key" in error
    error = config_error(tmp_path, head + f"tls:\n  cert: {pki.proxy_cert}\n  key: {pki.proxy_key}\n"
                                          f"  client_ca: {pki.dir}\n")
    assert ":5: tls.client_ca: is a directory" in error
    error = config_error(tmp_path, head + "tls:\n  verify: false\n")
    assert ":3: tls.verify: unknown field" in error  # no way to switch verification off
    error = config_error(tmp_path, head + f"services:\n  pnc: {{url: http://pnc:9000, ca: {pki.service_ca_file}}}\n")
    assert ":3: services.pnc.url: must be an https:// URL when ca" in error
    error = config_error(tmp_path, head + f"services:\n  pnc:\n    url: https://pnc:9000\n"
                                          f"    client_cert: {pki.turnout_cert}\n    client_key: {pki.proxy_key}\n")
    assert ":6: services.pnc.client_key: does not match the certificate in services.pnc.client_cert" in error
    error = config_error(tmp_path, head + "services:\n  pnc: {ca: x.pem}\n")
    assert ":3: services.pnc: missing field: url" in error


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_key_is_a_config_error(pki: Pki, tmp_path: Path) -> None:
    pki.proxy_key.chmod(0)
    error = config_error(tmp_path, f"upstream: http://127.0.0.1:9\ntls:\n  cert: {pki.proxy_cert}\n"
                                   f"  key: {pki.proxy_key}\n")
    assert ":4: tls.key: cannot read" in error


def test_the_config_error_stops_the_proxy_before_it_listens(pki: Pki, tmp_path: Path) -> None:
    other_cert, _ = pki.client("unrelated")
    config = write_config(tmp_path, "http://127.0.0.1:9", f"  cert: {other_cert}\n  key: {pki.proxy_key}\n")
    proxy = ProxyProcess(config)
    with pytest.raises(RuntimeError) as caught:
        proxy.start()
    assert "tls.key: does not match the certificate in tls.cert" in str(caught.value)


def test_plain_and_mapping_service_forms_load_side_by_side(pki: Pki, tmp_path: Path) -> None:
    path = tmp_path / "turnout.yaml"
    path.write_text(
        "upstream: https://bus.internal:8443\n"
        f"tls:\n  upstream_ca: {pki.bus_ca_file}\n"
        "services:\n  cris: http://cris:9000\n"
        f"  pnc: {{url: https://pnc:9443/api, ca: {pki.service_ca_file}}}\n"
    )
    config = load_proxy_config(path)
    assert config.services == {"cris": "http://cris:9000", "pnc": "https://pnc:9443/api"}
    assert set(config.service_tls) == {"pnc"} and config.service_tls["pnc"].ca == pki.service_ca_file
    assert config.upstream_tls.ca == pki.bus_ca_file and config.listen_tls is None
    context = config.service_tls["pnc"].ssl_context()
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
