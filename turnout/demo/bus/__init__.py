"""The legacy bus's services: one module per service, each a small table of operation handlers.

`SERVICES` is everything the bus serves, in the order `/services` lists them.
"""

from __future__ import annotations

from . import cris, eforms, geo, merlin, metsearch, pnc
from ._codec import Fields
from ._dispatch import BusReply, answer
from ._envelope import fault_envelope, response_envelope, service_fault
from ._fault import (
    ACTION_MISMATCH,
    AUTHENTICATION_FAILED,
    FORBIDDEN,
    INVALID_INPUT,
    NO_RECORD,
    SYSTEM_ERROR,
    UNKNOWN_OPERATION,
    UNREADABLE_MESSAGE,
    VERSION_MISMATCH,
    BusFault,
)
from ._service import BusService, Handler

SERVICES: tuple[BusService, ...] = (
    pnc.SERVICE, cris.SERVICE, geo.SERVICE, eforms.SERVICE, merlin.SERVICE, metsearch.SERVICE,
)

__all__ = [
    "ACTION_MISMATCH",
    "AUTHENTICATION_FAILED",
    "BusFault",
    "BusReply",
    "BusService",
    "FORBIDDEN",
    "Fields",
    "Handler",
    "INVALID_INPUT",
    "NO_RECORD",
    "SERVICES",
    "SYSTEM_ERROR",
    "UNKNOWN_OPERATION",
    "UNREADABLE_MESSAGE",
    "VERSION_MISMATCH",
    "answer",
    "fault_envelope",
    "response_envelope",
    "service_fault",
]
