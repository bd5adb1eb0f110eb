"""What a request got (its route mode) and what became of it (its outcome): one word each.

Enums rather than strings spread across packages; each is a `str` too, so a counter name
(`outcome.translated`), a recording and an audit line keep the words they always had.
"""

from __future__ import annotations

from enum import StrEnum


class Mode(StrEnum):
    """What the route table gives an operation (docs/routes.md)."""

    LEGACY = "legacy"
    TRANSLATOR = "translator"
    SHADOW = "shadow"
    CANARY = "canary"


class Outcome(StrEnum):
    """What became of one request."""

    #: passed to the bus and answered from it
    FORWARDED = "forwarded"
    #: a threat or a request that could make the bus run a moved operation: answered here
    REJECTED = "rejected"
    #: not a readable envelope, passed to the bus (first, do no harm), or answered with a Fault
    UNREADABLE = "unreadable"
    #: SOAPAction and Body disagree, refused under `soapaction_mismatch: reject`
    MISMATCH_REJECTED = "mismatch-rejected"
    #: no body to read (a WSDL GET): passed on, neither recorded nor audited
    PASSTHROUGH = "passthrough"
    #: answered by a translator
    TRANSLATED = "translated"
    #: the translator failed on a read and the bus answered instead (`on_error: legacy`)
    FALLBACK = "fallback"
    #: the translator failed and the client got the proxy's Fault
    TRANSLATOR_FAULT = "translator-fault"
    #: the bus could not be reached or did not answer in time
    UPSTREAM_ERROR = "upstream-error"
    #: the client went away or sent something the host could not take
    CLIENT_ERROR = "client-error"
