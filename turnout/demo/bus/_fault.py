"""The fault a bus handler raises, and the bus's own error codes."""

from __future__ import annotations

from ..data import StoreError, UnknownRecord

#: the bus's own error codes, carried in the `ServiceFault` detail element of every service
NO_RECORD = "NOREC"
INVALID_INPUT = "INVAL"
UNKNOWN_OPERATION = "BADOP"
UNREADABLE_MESSAGE = "BADMSG"
ACTION_MISMATCH = "BADACT"
VERSION_MISMATCH = "VERMM"
SYSTEM_ERROR = "SYSERR"
#: a request without a valid WS-Security UsernameToken (never says which part failed)
AUTHENTICATION_FAILED = "AUTHFAIL"
#: an officer without the role the operation needs
FORBIDDEN = "FORBIDDEN"


class BusFault(Exception):
    """A handler's refusal: becomes a SOAP Fault with a `ServiceFault` detail.

    `sender` True blames the caller (Client / Sender), False the bus (Server / Receiver).
    """

    def __init__(
        self,
        code: str,
        text: str,
        *,
        field: str | None = None,
        sender: bool = True,
        version_mismatch: bool = False,
    ) -> None:
        super().__init__(text)
        self.code = code
        self.text = text
        self.field = field
        self.sender = sender
        self.version_mismatch = version_mismatch

    @classmethod
    def invalid(cls, field: str, text: str) -> BusFault:
        return cls(INVALID_INPUT, text, field=field)

    @classmethod
    def no_record(cls, field: str, text: str) -> BusFault:
        return cls(NO_RECORD, text, field=field)

    @classmethod
    def from_store(cls, error: StoreError, field: str) -> BusFault:
        """A store refusal, reported against the request field the caller knows."""
        code = NO_RECORD if isinstance(error, UnknownRecord) else INVALID_INPUT
        return cls(code, str(error), field=field)
