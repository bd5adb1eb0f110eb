"""One SOAP request in, one response or fault envelope out: the bus's whole POST handling.

Pure over bytes and headers, so it is tested without HTTP. The request is read only with
`turnout.soap.read_message`, the hardened parser: a plain envelope, or an MTOM / SwA
(multipart/related) one whose `xop:Include`s are put back as base64 text (`_xop`).

With a `DemoIdentity`, the bus authenticates as a real one does, after reading the envelope and
before naming its operation (so an unsigned caller learns nothing about what is served): a
request without a valid WS-Security UsernameToken is an AUTHFAIL Fault that never says which
part failed; an officer without the operation's role, FORBIDDEN.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from lxml import etree

from ...soap import IdentityError, XmlThreat, XmlUnreadable, read_message
from ..data import DemoStore
from ..identity import DemoIdentity, Forbidden
from ._codec import Fields
from ._envelope import fault_envelope, response_envelope
from ._fault import (
    ACTION_MISMATCH,
    AUTHENTICATION_FAILED,
    FORBIDDEN,
    SYSTEM_ERROR,
    UNKNOWN_OPERATION,
    UNREADABLE_MESSAGE,
    VERSION_MISMATCH,
    BusFault,
)
from ._service import BusService
from ._xop import resolve_xop

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BusReply:
    status: int
    content_type: str
    body: bytes


def answer(
    service: BusService,
    store: DemoStore,
    body: bytes,
    headers: Mapping[str, str],
    identity: DemoIdentity | None = None,
) -> BusReply:
    """The bus's reply to `body` posted to `service`: 200 and a response, or 500 and a Fault.

    With `identity`, every request must carry a valid UsernameToken of an officer holding the
    operation's role."""
    content_type = service.version.content_type
    try:
        payload = _handle(service, store, body, headers, identity)
    except BusFault as fault:
        if service.envelopes is not None:
            return BusReply(500, content_type, service.envelopes.fault(service, fault, store.now()))
        return BusReply(500, content_type, fault_envelope(service, fault, store.now()))
    if service.envelopes is not None:
        return BusReply(200, content_type, service.envelopes.response(service, payload, store.now()))
    return BusReply(200, content_type, response_envelope(service, payload, store.now()))


def _handle(
    service: BusService,
    store: DemoStore,
    body: bytes,
    headers: Mapping[str, str],
    identity: DemoIdentity | None,
) -> etree._Element:
    try:
        envelope = read_message(body, service.path, headers)
    except XmlThreat as threat:
        raise BusFault(UNREADABLE_MESSAGE, f"message refused: {threat}") from None
    except XmlUnreadable as error:
        raise BusFault(UNREADABLE_MESSAGE, f"unreadable message: {error}") from None
    if envelope.version is not service.version:
        raise BusFault(
            VERSION_MISMATCH,
            f"{service.path} speaks SOAP {service.version}, not SOAP {envelope.version}",
            version_mismatch=True,
        )
    officer = None
    if identity is not None:
        try:
            officer = identity.authenticate(envelope)
        except IdentityError as error:
            _log.info("%s: authentication failed (%s): %s", service.path, error.kind, error)
            raise BusFault(AUTHENTICATION_FAILED, "authentication failed") from None
    operation = envelope.operation
    handler = service.handlers.get(operation.name)
    if handler is None or operation.namespace != service.namespace:
        raise BusFault(
            UNKNOWN_OPERATION,
            f"{service.path} has no operation {{{operation.namespace}}}{operation.name}",
        )
    if identity is not None and officer is not None:  # both, or neither
        try:
            identity.authorise(officer, operation.key)
        except Forbidden as refusal:
            raise BusFault(FORBIDDEN, str(refusal)) from None
    if envelope.action_mismatch:
        raise BusFault(
            ACTION_MISMATCH,
            f"action {envelope.action!r} does not name operation {operation.name}",
        )
    resolve_xop(envelope)
    try:
        return handler(store, Fields(envelope.payload))
    except BusFault:
        raise
    except Exception:  # the bus answers every request; a bug becomes a Receiver fault
        _log.exception("%s %s failed", service.path, operation.name)
        raise BusFault(
            SYSTEM_ERROR, "the service failed to process the request", sender=False
        ) from None
