"""What the gateway hands back to a host: the `Handled` answer, and the answers it frames itself
(a translator's reply, the gateway's own Faults). Its own module so the pipeline and the
strategies share it without importing each other."""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus

from ..soap import Fault, HttpResponse
from ..translators import SoapReply
from ..transport import Streamed
from ._framing import client_response
from ._inspect import fault_answer
from ._state import RequestNote

#: HTTP status -> its reason phrase, for the answers the gateway frames itself
_REASONS = {status.value: status.phrase for status in HTTPStatus}


@dataclass(slots=True)
class Handled:
    """What the host sends back, and the note `finish` records it by.

    Exactly one of `response` (framed for the client by `client_response`) and `stream` (an
    answer too large to hold: pass its head and chunks on as they arrive) is set."""

    note: RequestNote
    response: HttpResponse | None = None
    stream: Streamed | None = None


def answer_of(reply: SoapReply, method: str = "POST") -> HttpResponse:
    """An answer the gateway makes itself (a Fault) or a translator's (`SoapReply`, the one reply
    type from translator to client), framed for the client."""
    return client_response(HttpResponse(reply.status, [("Content-Type", reply.content_type)],
                                        reply.body, _REASONS.get(reply.status, "")), method)


def fault_of(note: RequestNote, kind: str, reason: str, sender: bool = False,
             method: str = "POST") -> HttpResponse:
    """`reason` as the gateway's own Fault, in the caller's SOAP version."""
    return answer_of(fault_answer(note.inspection.version, Fault(reason, sender=sender, kind=kind)), method)


