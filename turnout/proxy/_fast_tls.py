"""TLS where clients meet the fast host: plain HTTP refused, the handshake ours, its alert sent.

The same settings as the mitmproxy host's `_tls` (`tls:` in turnout.yaml, `ListenTls`): the
certificate chain of `tls.cert`, TLS 1.2 and 1.3 only, Mozilla's "intermediate" ciphers, no
compression, no renegotiation, HTTP/1.1 by ALPN; with `tls.client_ca`, OpenSSL verifies each
client's chain against that CA alone during the handshake, and with `require_client_cert` a client
without one is refused there: no request is ever read from it.

TLS is terminated here, over memory BIOs, rather than by asyncio's own TLS transport, for two
reasons: the first bytes must be looked at before any handshake (plain HTTP on the TLS port gets
a one-off 400 Fault `tls.required` and is closed; the bytes of a ClientHello must then still reach
the handshake), and a refused handshake must send OpenSSL's alert (certificate required, unknown
CA, expired...) before closing, so an officer's device can say what is wrong; asyncio closes
without sending it. Each refusal is counted (`tls.plain-refused`, `tls.handshake-refused`) and
logged with OpenSSL's reason.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from typing import TYPE_CHECKING, Any

from ..config import ListenTls
from ..config._tls import CIPHERS_TLS12
from ..gateway import ProxyStats, is_power_of_ten
from ._host_faults import plain_http_refused
from ._wire import head_of

if TYPE_CHECKING:
    from ._fast_connection import ClientConnection

log = logging.getLogger("turnout.proxy")

_REFUSAL = plain_http_refused()
_PLAIN_REFUSED = head_of(_REFUSAL) + _REFUSAL.body


def server_context(settings: ListenTls) -> ssl.SSLContext:
    """The context every client connection is served with (built once, before listening: a
    certificate or key that cannot be read stops the start)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.options |= ssl.OP_NO_COMPRESSION | ssl.OP_CIPHER_SERVER_PREFERENCE | getattr(ssl, "OP_NO_RENEGOTIATION", 0)
    context.set_ciphers(CIPHERS_TLS12)
    context.load_cert_chain(str(settings.cert), str(settings.key))
    context.set_alpn_protocols(["http/1.1"])
    if settings.client_ca is not None:
        context.load_verify_locations(str(settings.client_ca))
        context.verify_mode = ssl.CERT_REQUIRED if settings.require_client_cert else ssl.CERT_OPTIONAL
    return context


def starts_like_tls(data: bytes) -> bool | None:
    """True: a TLS record begins; False: not TLS; None: too few bytes to tell yet."""
    if data[:1] not in (b"", b"\x16"):
        return False
    if data[1:2] not in (b"", b"\x03"):
        return False
    if len(data) < 3:
        return None
    return data[2] <= 0x03


class TlsTerminator(asyncio.Protocol):
    """Sits between the socket and an HTTP connection (`inner`), which sees plaintext only and
    writes through this object as through a transport."""

    def __init__(self, context: ssl.SSLContext, inner: ClientConnection, stats: ProxyStats) -> None:
        self.context = context
        self.inner = inner
        self.stats = stats
        self.transport: Any = None
        self._sniffed = b""
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._tls: ssl.SSLObject | None = None
        self._handshaken = False
        self._closing = False
        self._peer = "?"

    # --- the transport the inner protocol sees ----------------------------------------------

    def write(self, data: bytes) -> None:
        if self._tls is None or not self._handshaken or self._closing:
            return
        view = memoryview(data)
        while view:
            written = self._tls.write(view)
            view = view[written:]
        self._flush()

    def is_closing(self) -> bool:
        return self._closing or self.transport is None or self.transport.is_closing()

    def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        if self._tls is not None and self._handshaken:
            try:
                self._tls.unwrap()  # close_notify
            except (ssl.SSLError, ValueError):
                pass
            self._flush()
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        self._closing = True
        if self.transport is not None:
            self.transport.abort()

    def pause_reading(self) -> None:
        self.transport.pause_reading()

    def resume_reading(self) -> None:
        self.transport.resume_reading()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == "peercert" and self._tls is not None and self._handshaken:
            return self._tls.getpeercert()
        if name == "ssl_object":
            return self._tls
        return self.transport.get_extra_info(name, default)

    # --- asyncio's callbacks ----------------------------------------------------------------

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        peer = transport.get_extra_info("peername")
        self._peer = f"{peer[0]}:{peer[1]}" if peer else "?"
        self.inner.connection_made(self)  # the connection bounds and the header timer start now

    def connection_lost(self, exc: Exception | None) -> None:
        self._closing = True
        self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()

    def eof_received(self) -> bool:
        return False

    def data_received(self, data: bytes) -> None:
        if self._closing:
            return
        if self._tls is None:
            self._sniffed += data
            looks = starts_like_tls(self._sniffed)
            if looks is None:
                return
            if not looks:
                self._refuse_plain()
                return
            data, self._sniffed = self._sniffed, b""
            self._tls = self.context.wrap_bio(self._incoming, self._outgoing, server_side=True)
        tls = self._tls
        self._incoming.write(data)
        if not self._handshaken:
            try:
                tls.do_handshake()
            except ssl.SSLWantReadError:
                self._flush()
                return
            except (ssl.SSLError, OSError) as exc:
                self._flush()  # OpenSSL's alert: the client is told why
                self._handshake_failed(exc)
                return
            self._handshaken = True
            self._flush()
        plain: list[bytes] = []
        while True:
            try:
                chunk = tls.read(65536)
            except ssl.SSLWantReadError:
                break
            except ssl.SSLZeroReturnError:
                self._flush()
                self.close()
                break
            except (ssl.SSLError, OSError) as exc:
                self._flush()
                if self._late_verdict(exc):
                    self._handshake_failed(exc)
                else:
                    log.info("TLS error from %s: %s", self._peer, exc)
                self.close()
                break
            if not chunk:
                break
            plain.append(chunk)
        self._flush()
        if plain:
            self.inner.data_received(b"".join(plain))

    # --- helpers ----------------------------------------------------------------------------

    def _flush(self) -> None:
        pending = self._outgoing.read()
        if pending and self.transport is not None and not self.transport.is_closing():
            self.transport.write(pending)

    def _refuse_plain(self) -> None:
        n = self.stats.count("tls.plain-refused")
        if is_power_of_ten(n):
            log.warning("refused plain HTTP from %s: this proxy accepts TLS only (%d so far)", self._peer, n)
        self.transport.write(_PLAIN_REFUSED)
        self._closing = True
        self.transport.close()

    @staticmethod
    def _late_verdict(exc: BaseException) -> bool:
        """With TLS 1.3 a client finishes its side first; a refused certificate shows on a read."""
        return isinstance(exc, ssl.SSLError) and "CERTIFICATE" in str(getattr(exc, "reason", "") or "").upper()

    def _handshake_failed(self, exc: BaseException) -> None:
        reason = _why(exc)
        n = self.stats.count("tls.handshake-refused")
        log.warning("TLS handshake with %s failed: %s (%d so far)", self._peer, reason, n)
        self._closing = True
        if self.transport is not None:
            self.transport.close()


def _why(exc: BaseException) -> str:
    """OpenSSL's verdict in words, as the mitmproxy host logs it."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"client certificate rejected: {exc.verify_message}"
    reason = str(getattr(exc, "reason", "") or "")
    if reason in ("PEER_DID_NOT_RETURN_A_CERTIFICATE", "CERTIFICATE_REQUIRED"):
        return "the client sent no certificate (tls.require_client_cert)"
    return str(exc) or type(exc).__name__
