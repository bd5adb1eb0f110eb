"""The note a scaffold leaves in an example request, so `turnout send` knows where to post it.

An example envelope alone does not say which service path it belongs to, nor the soapAction
a SOAP 1.1 bus wants; the scaffold writes both into an XML comment after the declaration, and
`turnout send` reads them back. A comment keeps the example a valid envelope.
"""

from __future__ import annotations

import re

#: `<!-- turnout send: operation /pnc VehicleEnquiry; soapAction urn:pnc#VehicleEnquiry -->`
_NOTE = re.compile(
    rb"<!--\s*turnout send: operation (/\S*) ([^\s;]+)(?:; soapAction (\S+))?\s*-->"
)


def with_example_note(data: bytes, key: str, action: str | None) -> bytes:
    """`data` with a comment after the XML declaration saying where `turnout send` posts it:
    the operation key (its service path) and the WSDL's soapAction, when it gives one."""
    note = f"turnout send: operation {key}"
    if action and "--" not in action and not any(c.isspace() for c in action):
        note += f"; soapAction {action}"
    comment = f"<!-- {note} -->\n".encode()
    declaration, newline, rest = data.partition(b"\n")
    if declaration.startswith(b"<?xml") and newline:
        return declaration + newline + comment + rest
    return comment + data


def read_example_note(data: bytes) -> tuple[str | None, str | None]:
    """The operation key and soapAction a scaffold noted in an example (see
    `with_example_note`), each None when not noted."""
    match = _NOTE.search(data[:4096])
    if match is None:
        return None, None
    path, name, action = (g.decode("utf-8", "replace") if g else None for g in match.groups())
    return f"{path} {name}", action
