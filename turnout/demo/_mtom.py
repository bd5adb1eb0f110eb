"""An MTOM request as an MTOM client writes it, for the one scenario call zeep cannot make.

zeep reads MTOM answers but sends none: it writes a base64Binary value inline. A real MTOM
client (WCF, Axis2, CXF) optimises it instead: the bytes go in a MIME part of their own, and an
`xop:Include href="cid:..."` takes their place in the envelope. This does that to an envelope
zeep built (and signed), so the scenario sends one witness statement with its signature image
the way a form-filling client would.
"""

from __future__ import annotations

import uuid

from lxml import etree

XOP_NS = "http://www.w3.org/2004/08/xop/include"


def optimise(envelope: etree._Element, element: etree._Element, data: bytes, media_type: str,
             action: str) -> tuple[bytes, dict[str, str]]:
    """The multipart/related body and its headers that send `envelope` with `element`'s
    content (`data`, base64 inline so far) as a MIME part of `media_type`, SOAP 1.2 `action`."""
    token = uuid.uuid4().hex
    boundary, root_id, part_id = f"MIMEBoundary_{token}", f"root.{token}@turnout.demo", f"sig.{token}@turnout.demo"
    for child in list(element):
        element.remove(child)
    element.text = None
    etree.SubElement(element, f"{{{XOP_NS}}}Include", nsmap={"xop": XOP_NS}, href=f"cid:{part_id}")
    root = etree.tostring(envelope, encoding="utf-8", xml_declaration=True)
    body = b"".join([
        f"--{boundary}\r\n"
        'Content-Type: application/xop+xml; charset=UTF-8; type="application/soap+xml"\r\n'
        f"Content-Transfer-Encoding: 8bit\r\nContent-ID: <{root_id}>\r\n\r\n".encode(),
        root,
        f"\r\n--{boundary}\r\nContent-Type: {media_type}\r\nContent-Transfer-Encoding: binary\r\n"
        f"Content-ID: <{part_id}>\r\n\r\n".encode(),
        data,
        f"\r\n--{boundary}--\r\n".encode(),
    ])
    content_type = (f'multipart/related; boundary="{boundary}"; type="application/xop+xml"; '
                    f'start="<{root_id}>"; start-info="application/soap+xml"; action="{action}"')
    return body, {"Content-Type": content_type}
