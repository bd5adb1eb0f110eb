"""TLS where clients meet the proxy: listen with a certificate, refuse plain HTTP, and, with
`tls.client_ca`, verify every client's certificate during the handshake (mutual TLS).

mitmproxy 11 terminates TLS with a certificate its own CA forges per host name, and its
`request_client_cert` option only *asks* for a client certificate: it never verifies one. So
this addon builds the pyOpenSSL server context itself, once, from `tls:` (`ListenTls`), and puts
a connection of it in place of the one mitmproxy's `TlsConfig` made, in `tls_start_client` (our
hook runs after mitmproxy's, since default addons come first):

- the certificate and key of `tls.cert`/`tls.key` (a chain following the certificate is sent too);
- TLS 1.2 and 1.3 only, Mozilla's "intermediate" ciphers, no compression, no renegotiation;
- with `tls.client_ca`: OpenSSL verifies the client's chain against that CA alone (expiry, not-yet-
  valid and signature included); a client with no certificate (with `require_client_cert`), or one
  not issued by the CA, or expired, fails the handshake: no request is ever read from it.

Plain HTTP on the TLS port is refused in `next_layer`, before any HTTP is parsed: in reverse mode
mitmproxy would otherwise serve TLS and plain HTTP on one port alike. The client gets a one-off
400 Fault (`tls.required`) and the connection is closed; nothing reaches an addon, the bus or the
recorder.

The verified client certificate's subject is kept per client connection while it is open:
`client_certificate_subject(flow)` (RFC 4514, e.g. `CN=PC 1234,OU=Response,O=Police`) and
`client_certificate(flow)` (the `cryptography` certificate) are for other addons (identity,
audit). They answer None when no certificate was verified: a connection without mutual TLS.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from cryptography import x509
from mitmproxy import connection, http, tls
from mitmproxy.addons.tlsconfig import AppData, alpn_select_callback
from mitmproxy.net.tls import starts_like_tls_record
from mitmproxy.proxy import commands, events, layer
from mitmproxy.proxy.layers import modes
from mitmproxy.proxy.layers.tls import ClientTLSLayer
from OpenSSL import SSL, crypto

from ..config import CIPHERS_TLS12, ListenTls
from ..gateway import ProxyState, is_power_of_ten
from ._host_faults import plain_http_refused
from ._wire import head_of

log = logging.getLogger("turnout.proxy")

#: client connection id -> its verified certificate, while the connection is open. One proxy per
#: process (mitmproxy's context is process-wide), so one table.
_verified: dict[str, x509.Certificate] = {}


def client_certificate(flow: http.HTTPFlow) -> x509.Certificate | None:
    """The client certificate verified against `tls.client_ca` on this flow's connection, or None."""
    return _verified.get(flow.client_conn.id)


def client_certificate_subject(flow: http.HTTPFlow) -> str | None:
    """The verified client certificate's subject as an RFC 4514 string, or None."""
    cert = client_certificate(flow)
    return cert.subject.rfc4514_string() if cert is not None else None


def server_context(settings: ListenTls) -> SSL.Context:
    """The pyOpenSSL context every client connection is served with (built once)."""
    context = SSL.Context(SSL.TLS_SERVER_METHOD)
    context.set_min_proto_version(SSL.TLS1_2_VERSION)
    context.set_options(SSL.OP_NO_COMPRESSION | SSL.OP_CIPHER_SERVER_PREFERENCE
                        | getattr(SSL, "OP_NO_RENEGOTIATION", 0))
    context.set_cipher_list(CIPHERS_TLS12.encode())
    context.use_certificate_chain_file(str(settings.cert))
    context.use_privatekey_file(str(settings.key))
    context.check_privatekey()
    context.set_alpn_select_callback(alpn_select_callback)  # type: ignore[arg-type]  # mitmproxy's callback, typed loosely
    if settings.client_ca is not None:
        context.load_verify_locations(str(settings.client_ca))
        # The CertificateRequest names the CAs we accept, so a client with several picks the right one.
        context.set_client_ca_list([
            crypto.X509.from_cryptography(ca).get_subject()
            for ca in x509.load_pem_x509_certificates(settings.client_ca.read_bytes())
        ])
        mode = SSL.VERIFY_PEER | SSL.VERIFY_CLIENT_ONCE
        if settings.require_client_cert:
            mode |= SSL.VERIFY_FAIL_IF_NO_PEER_CERT
        context.set_verify(mode)  # no callback: OpenSSL's own verdict stands, unchanged
        context.set_session_id(b"turnout")  # resumed sessions keep the verified identity
    return context


_REFUSAL = plain_http_refused()
_PLAIN_REFUSED = head_of(_REFUSAL) + _REFUSAL.body


class _RefusePlain(layer.Layer):
    """Answers a plain-HTTP client once and closes: TLS is required on this port."""

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        self.answered = False

    def _handle_event(self, event: events.Event) -> layer.CommandGenerator[None]:
        if not self.answered:
            self.answered = True
            yield commands.SendData(self.context.client, _PLAIN_REFUSED)
            yield commands.CloseConnection(self.context.client)


class ListenTlsAddon:
    """The mitmproxy addon: our context for client TLS, plain HTTP refused, identities kept.

    Does nothing while the config has no `tls.cert` (the proxy then listens in plain HTTP).
    Reads the settings from the state, so it also serves `mitmdump -s script.py`, where the
    config is loaded after the addons."""

    def __init__(self, state: ProxyState) -> None:
        self.state = state
        self._context: SSL.Context | None = None
        self._built_for: ListenTls | None = None
        self._seen: Counter[str] = Counter()
        install()  # here, so `mitmdump -s script.py` gets it too
        if self.settings is not None:
            self.context()  # a file that went bad since the config loaded: fail before listening

    @property
    def settings(self) -> ListenTls | None:
        config = self.state.config
        return config.listen_tls if config is not None else None

    def context(self) -> SSL.Context:
        settings = self.settings
        assert settings is not None
        if self._context is None or self._built_for != settings:
            self._context, self._built_for = server_context(settings), settings
        return self._context

    def _count(self, name: str) -> int:
        """Count `name` (beside the proxy's other counters); how many so far, for the log."""
        self.state.stats.count(name)
        self._seen[name] += 1
        return self._seen[name]

    def next_layer(self, nextlayer: layer.NextLayer) -> None:
        if self.settings is None:
            return
        context = nextlayer.context
        if not (context.layers and isinstance(context.layers[0], modes.ReverseProxy)):
            return
        # Only the first decision on a connection, whether mitmproxy's NextLayer has made it
        # already (our addon after it: `turnout proxy`) or not yet (`mitmdump -s`: before it).
        chosen = nextlayer.layer
        if chosen is None and len(context.layers) != 1:
            return
        if chosen is not None and (chosen not in context.layers or context.layers.index(chosen) != 1):
            return
        data = nextlayer.data_client()
        if starts_like_tls_record(data):
            return
        if len(data) < 3 and data[:1] in (b"", b"\x16") and data[1:2] in (b"", b"\x03"):
            # Too few bytes to tell (a TLS record may still follow): wait for more.
            del context.layers[1:]
            nextlayer.layer = None
            return
        del context.layers[1:]  # the layers mitmproxy stacked for plain HTTP are not used
        nextlayer.layer = _RefusePlain(context)
        peer = context.client.peername
        n = self._count("tls.plain-refused")
        if is_power_of_ten(n):
            log.warning("refused plain HTTP from %s: this proxy accepts TLS only (%d so far)",
                        f"{peer[0]}:{peer[1]}" if peer else "?", n)

    def tls_start_client(self, data: tls.TlsData) -> None:
        if self.settings is None or data.is_dtls:
            return
        conn = SSL.Connection(self.context())
        # HTTP/1.1 only (ALPN): the proxy's bounds on headers and bodies are written for HTTP/1,
        # and SOAP clients speak it.
        conn.set_app_data(AppData(client_alpn=data.conn.alpn, server_alpn=None, http2=False))
        conn.set_accept_state()
        data.ssl_conn = conn  # in place of mitmproxy's, made with its own forged certificate

    def tls_established_client(self, data: tls.TlsData) -> None:
        settings = self.settings
        if settings is None or settings.client_ca is None or data.ssl_conn is None:
            return
        cert = data.ssl_conn.get_peer_certificate(as_cryptography=True)
        if cert is not None:  # verified by OpenSSL, else the handshake would have failed
            _verified[data.conn.id] = cert

    def tls_failed_client(self, data: tls.TlsData) -> None:
        if self.settings is None:
            return
        peer = data.conn.peername
        error = data.conn.error or ""
        reason = _verify_error(data.ssl_conn)
        if reason is None and ("did not return a certificate" in error or "certificate required" in error):
            reason = "the client sent no certificate (tls.require_client_cert)"
        # Every one: a refused certificate is a security event (mitmproxy logs each failure
        # too, as a client that "may not trust the proxy's certificate", which misleads here).
        n = self._count("tls.handshake-refused")
        log.warning("TLS handshake with %s failed: %s (%d so far)",
                    f"{peer[0]}:{peer[1]}" if peer else "?", reason or error or "no reason given", n)

    def client_disconnected(self, client: connection.Client) -> None:
        _verified.pop(client.id, None)


def _verify_error(conn: SSL.Connection | None) -> str | None:
    """OpenSSL's verdict on the client's certificate, when it rejected one."""
    if conn is None:
        return None
    try:
        result = SSL._lib.SSL_get_verify_result(conn._ssl)  # type: ignore[union-attr]
        if result == 0:
            return None
        text = SSL._ffi.string(SSL._lib.X509_verify_cert_error_string(result)).decode()  # type: ignore[union-attr]
    except Exception:  # noqa: BLE001 - private API of pyOpenSSL: only a better log line is lost
        return None
    return f"client certificate rejected: {text}"


_original_receive_handshake_data = ClientTLSLayer.receive_handshake_data


def _receive_handshake_data_with_alert(self, data):  # type: ignore[no-untyped-def,unused-ignore]
    """mitmproxy closes a client connection whose handshake failed without sending the TLS
    alert OpenSSL wrote (certificate required, unknown CA, certificate expired...): the client
    sees only an EOF. This sends the alert first, so an officer's device can say what is wrong.
    Private API of the pinned mitmproxy 11.x, like `_error_pages`; tests/test_tls.py fails if
    an upgrade moves it."""
    done, error = yield from _original_receive_handshake_data(self, data)
    if not done and error and self.tls is not None:
        try:
            yield from self.tls_interact()
        except SSL.Error:
            pass
    return done, error


def install() -> None:
    """Send the TLS alert of a failed client handshake before closing. Idempotent."""
    ClientTLSLayer.receive_handshake_data = _receive_handshake_data_with_alert  # type: ignore[method-assign]
