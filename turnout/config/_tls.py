"""The `tls:` section of `turnout.yaml`, and the TLS settings of each modern service.

    tls:
      cert: proxy.pem                 # the proxy's certificate (its chain may follow it), PEM
      key: proxy.key                  # its private key, PEM, unencrypted (protect it on disk)
      client_ca: officers-ca.pem      # mutual TLS: clients must show a certificate from this CA
      require_client_cert: true       # default true with client_ca; false: optional, but verified
      upstream_ca: bus-ca.pem         # the CA bundle the bus's certificate is verified against
      upstream_client_cert: t.pem     # the certificate the proxy shows the bus (mutual TLS)
      upstream_client_key: t.key
    services:
      pnc: {url: https://pnc-api:9443, ca: pnc-ca.pem, client_cert: t.pem, client_key: t.key}
      cris: http://cris-api:9000      # the plain form still works

Every file is read when the configuration loads, so a missing or unreadable file, a file that
is not PEM, an expired certificate or a key that does not match its certificate is an error
naming file, line and field before anything listens. Certificate verification towards the bus
and the services is always on: there is no option to turn it off. Without a CA bundle, an
https:// peer is verified against the system's trust store.

Only the standard library's `ssl` and `cryptography` (mitmproxy's own dependency) are used here:
the contexts for the outgoing side are built from these settings by `PeerTls.ssl_context`.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ._errors import ConfigError
from ._yaml import Node

#: the Mozilla "intermediate" profile: TLS 1.2 and 1.3, forward-secret AEAD ciphers only
MIN_VERSION = ssl.TLSVersion.TLSv1_2
CIPHERS_TLS12 = (
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305"
)


@dataclass(frozen=True)
class ListenTls:
    """How the proxy terminates client connections: with TLS only, plain HTTP refused."""

    cert: Path
    key: Path
    #: clients' certificates are verified against this CA bundle (None: none is asked for)
    client_ca: Path | None = None
    #: a client with no certificate is refused in the handshake (only with `client_ca`)
    require_client_cert: bool = False


@dataclass(frozen=True)
class PeerTls:
    """How the proxy reaches one HTTPS peer (the bus, a modern service). Verification is
    always on: the peer's certificate must chain to `ca` (else the system's trust store) and
    name the host in the URL."""

    ca: Path | None = None
    client_cert: Path | None = None
    client_key: Path | None = None

    def ssl_context(self) -> ssl.SSLContext:
        """A client context: CERT_REQUIRED, hostname checked, TLS 1.2 or later."""
        context = ssl.create_default_context(cafile=str(self.ca) if self.ca else None)
        context.minimum_version = MIN_VERSION
        context.set_ciphers(CIPHERS_TLS12)
        if self.client_cert is not None:
            context.load_cert_chain(str(self.client_cert), str(self.client_key))
        assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
        return context


def load_listen_tls(section: Node, base: Path) -> tuple[ListenTls | None, PeerTls]:
    """The `tls:` section: how the proxy listens, and how it reaches the bus."""
    section.mapping({"cert", "key", "client_ca", "require_client_cert",
                     "upstream_ca", "upstream_client_cert", "upstream_client_key"})
    cert_node, key_node = section.get("cert"), section.get("key")
    listen = None
    if cert_node is not None or key_node is not None:
        if cert_node is None:
            raise section.error("tls.key is given without tls.cert: give both, or neither")
        if key_node is None:
            raise section.error("tls.cert is given without tls.key: give both, or neither")
        cert, key = _file(cert_node, base), _file(key_node, base)
        _check_pair(cert_node, cert, key_node, key, server=True)
        client_ca = None
        if (ca_node := section.get("client_ca")) is not None:
            client_ca = _file(ca_node, base)
            _check_ca(ca_node, client_ca)
        require_node = section.get("require_client_cert")
        require = require_node.boolean() if require_node is not None else client_ca is not None
        if require and client_ca is None:
            assert require_node is not None
            raise require_node.error("needs tls.client_ca: the CA clients' certificates are verified against")
        listen = ListenTls(cert, key, client_ca, require)
    else:
        for name in ("client_ca", "require_client_cert"):
            if (node := section.get(name)) is not None:
                raise node.error("needs tls.cert and tls.key: client certificates are asked for "
                                 "only when the proxy listens with TLS")
    upstream = _peer(section, base, "upstream_ca", "upstream_client_cert", "upstream_client_key")
    return listen, upstream


def load_service(node: Node, base: Path) -> tuple[str, Node, PeerTls | None]:
    """One entry of `services:`: `URL`, or `{url: URL, ca:, client_cert:, client_key:}`.
    Returns the URL and its node (the caller checks it as a service URL), and the TLS settings."""
    if not isinstance(node.value, dict):
        return node.string(), node, None
    node.mapping({"url", "ca", "client_cert", "client_key"})
    url_node = node.get("url")
    if url_node is None:
        raise node.error("missing field: url (the service's base URL)")
    url = url_node.string()
    tls = _peer(node, base, "ca", "client_cert", "client_key")
    if not url.lower().startswith("https://") and tls != PeerTls():
        raise url_node.error(f"must be an https:// URL when ca, client_cert or client_key is given, "
                             f"not {url!r}: the service would be reached in clear")
    return url, url_node, tls


def check_upstream_scheme(upstream: str, upstream_node: Node | None, tls: PeerTls, section: Node | None) -> None:
    """TLS settings for the bus with an http:// bus are a mistake, never silently ignored."""
    if tls == PeerTls() or upstream.lower().startswith("https://"):
        return
    node = upstream_node or section
    message = (f"must be an https:// URL when tls.upstream_ca, tls.upstream_client_cert or "
               f"tls.upstream_client_key is given, not {upstream!r}: the bus would be reached in clear")
    raise node.error(message) if node is not None else ConfigError(message, field="upstream")


def _peer(section: Node, base: Path, ca_name: str, cert_name: str, key_name: str) -> PeerTls:
    ca_node, cert_node, key_node = section.get(ca_name), section.get(cert_name), section.get(key_name)
    ca = cert = key = None
    if ca_node is not None:
        ca = _file(ca_node, base)
        _check_ca(ca_node, ca)
    if cert_node is not None or key_node is not None:
        if cert_node is None:
            raise section.error(f"{key_name} is given without {cert_name}: give both, or neither")
        if key_node is None:
            raise section.error(f"{cert_name} is given without {key_name}: give both, or neither")
        cert, key = _file(cert_node, base), _file(key_node, base)
        _check_pair(cert_node, cert, key_node, key, server=False)
    return PeerTls(ca, cert, key)


def _file(node: Node, base: Path) -> Path:
    """The path (relative to the config file), checked readable now."""
    path = (base / node.string()).resolve()
    try:
        with path.open("rb") as handle:
            handle.read(1)
    except FileNotFoundError:
        raise node.error(f"file not found: {path}") from None
    except IsADirectoryError:
        raise node.error(f"is a directory, not a file: {path}") from None
    except OSError as exc:
        raise node.error(f"cannot read {path}: {exc.strerror or exc}") from None
    return path


def _certificates(node: Node, path: Path) -> list:
    """The PEM certificates in `path`; an error naming the field when there are none."""
    from cryptography import x509

    data = path.read_bytes()
    try:
        found = x509.load_pem_x509_certificates(data)
    except ValueError:
        found = []
    if not found:
        raise node.error(f"holds no PEM certificate (-----BEGIN CERTIFICATE-----): {path}")
    return found


def _check_ca(node: Node, path: Path) -> None:
    _certificates(node, path)
    try:
        ssl.create_default_context(cafile=str(path))
    except ssl.SSLError as exc:
        raise node.error(f"is not a usable CA bundle ({exc.reason or exc}): {path}") from None


def _check_pair(cert_node: Node, cert: Path, key_node: Node, key: Path, server: bool) -> None:
    """A certificate (its chain may follow it) and its private key: readable, current, matching."""
    leaf = _certificates(cert_node, cert)[0]
    now = datetime.now(UTC)
    if leaf.not_valid_after_utc < now:
        raise cert_node.error(f"the certificate expired on {leaf.not_valid_after_utc:%Y-%m-%d %H:%M} UTC: {cert}")
    if leaf.not_valid_before_utc > now:
        raise cert_node.error(f"the certificate is not valid before "
                              f"{leaf.not_valid_before_utc:%Y-%m-%d %H:%M} UTC: {cert}")
    text = key.read_bytes()
    if b"ENCRYPTED" in text:
        raise key_node.error(f"the key is encrypted with a passphrase, which Turnout cannot be given; "
                             f"store it unencrypted, readable only by the proxy's user: {key}")
    if b"-----BEGIN" not in text or b"PRIVATE KEY-----" not in text:
        raise key_node.error(f"holds no PEM private key (-----BEGIN ... PRIVATE KEY-----): {key}")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER if server else ssl.PROTOCOL_TLS_CLIENT)
    try:
        context.load_cert_chain(str(cert), str(key))
    except ssl.SSLError as exc:
        if "KEY_VALUES_MISMATCH" in str(exc) or exc.reason == "KEY_VALUES_MISMATCH":
            raise key_node.error(f"does not match the certificate in {cert_node.field} ({cert}): {key}") from None
        raise key_node.error(f"cannot be used with {cert_node.field} ({exc.reason or exc}): {key}") from None
