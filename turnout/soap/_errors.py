"""Typed errors of the SOAP layer. Callers branch on the type, never on the message."""


class SoapError(Exception):
    """Base class of every error the SOAP layer raises."""


class XmlThreat(SoapError):
    """The document is hostile or over a bound: a DOCTYPE, an entity, too big, too deep.

    The proxy answers these itself and never forwards them.
    """

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class XmlUnreadable(SoapError):
    """The document is not well-formed XML, or not a SOAP envelope.

    Not hostile: a legacy bus may accept it today, so the proxy forwards it by default.
    """
