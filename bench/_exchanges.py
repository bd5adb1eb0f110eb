"""Exchanges for the recording benches: a demo-like PNC enquiry whose answer grows to a size.

Three shapes. `vehicle`: a VehicleEnquiry signed with WS-Security (about 1.5 KB) answered with
the vehicle, its keeper (eight values the demo's rules hide) and as many history events (no
personal data) as it takes to reach the size. `unsigned`: the same without the WS-Security
header (bench/proxy_overhead.py's request). `people`: a PersonEnquiry answered with as many
distinct people as fit (seven hidden values each): the dearest case for redaction.
"""

from __future__ import annotations

from datetime import UTC, datetime

from turnout.recording import Exchange
from turnout.soap import HttpRequest, HttpResponse, OperationName

PNC = "urn:police:pnc:v1"
_ENVELOPE = "http://schemas.xmlsoap.org/soap/envelope/"
_WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
_DIGEST = ("http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
           "#PasswordDigest")


def _request(operation: str, fields: str, signed: bool = True) -> bytes:
    if not signed:
        return (f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{_ENVELOPE}">'
                f'<soap:Body><pnc:{operation} xmlns:pnc="{PNC}">{fields}</pnc:{operation}>'
                "</soap:Body></soap:Envelope>").encode()
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n<soap:Envelope xmlns:soap="{_ENVELOPE}">'
        f'<soap:Header><wsse:Security xmlns:wsse="{_WSSE}"><wsse:UsernameToken>'
        "<wsse:Username>PC5518</wsse:Username>"
        f'<wsse:Password Type="{_DIGEST}">c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0</wsse:Password>'
        "<wsse:Nonce>bm9uY2Vub25jZW5vbmNlbm9uY2U=</wsse:Nonce>"
        "<wsu:Created xmlns:wsu=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-"
        'wssecurity-utility-1.0.xsd">2026-11-30T21:33:09Z</wsu:Created>'
        "</wsse:UsernameToken></wsse:Security>"
        f'<pnc:MessageHeader xmlns:pnc="{PNC}"><pnc:messageId>3f0c9a52-6a43-4f6e-9d2b-'
        "0c2f4a1e9b77</pnc:messageId><pnc:timestamp>30/11/2026 21:33:09</pnc:timestamp>"
        "<pnc:terminal>IVT-0042-WEST</pnc:terminal><pnc:channel>in-vehicle</pnc:channel>"
        "</pnc:MessageHeader></soap:Header>"
        f'<soap:Body><pnc:{operation} xmlns:pnc="{PNC}">{fields}</pnc:{operation}>'
        "</soap:Body></soap:Envelope>\n"
    ).encode()


def _word(i: int, n: int = 7) -> str:
    out = ""
    for _ in range(n):
        out += "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[i % 26]
        i = i // 26 + 7 * (len(out) + 3)
    return out


def _person(i: int, tag: str = "person") -> str:
    return (
        f"<pnc:{tag}><pnc:pncId>{i % 90 + 10}/{100000 + i}R</pnc:pncId>"
        f"<pnc:surname>{_word(i)}</pnc:surname>"
        f"<pnc:forenames>{_word(i * 7 + 3, 6)} {_word(i * 3 + 1, 4)}</pnc:forenames>"
        f"<pnc:dateOfBirth>{i % 28 + 1:02d}/{i % 12 + 1:02d}/{1940 + i % 60}</pnc:dateOfBirth>"
        f"<pnc:sex>F</pnc:sex><pnc:addressLine>{i + 1} {_word(i + 11, 8)} STREET, "
        f"TOWNBRIDGE</pnc:addressLine><pnc:postcode>TB{i % 20} {i % 9}{_word(i, 2)}</pnc:postcode>"
        f"<pnc:wanted>N</pnc:wanted><pnc:missing>N</pnc:missing></pnc:{tag}>\n"
    )


def _event(i: int) -> str:
    return (
        f"<pnc:event><pnc:date>{2019 + i % 7}-{i % 12 + 1:02d}-{i % 28 + 1:02d}</pnc:date>"
        f"<pnc:kind>{('MOT', 'SERVICE', 'TAX', 'ANPR')[i % 4]}</pnc:kind>"
        f"<pnc:odometer>{1000 + 37 * i}</pnc:odometer><pnc:station>ST{i % 97:04d}</pnc:station>"
        "</pnc:event>\n"
    )


def _answer(operation: str, fixed: str, filler, size: int) -> bytes:  # type: ignore[no-untyped-def]
    head = (f'<?xml version="1.0" encoding="utf-8"?>\n<soap:Envelope xmlns:soap="{_ENVELOPE}" '
            f'xmlns:pnc="{PNC}"><soap:Body><pnc:{operation}Response>\n{fixed}')
    tail = f"</pnc:{operation}Response></soap:Body></soap:Envelope>\n"
    parts, n, i = [], len(head) + len(tail), 0
    while n < size:
        part = filler(i)
        parts.append(part)
        n += len(part)
        i += 1
    return (head + "".join(parts) + tail).encode()


def make_exchange(size: int, shape: str = "vehicle", *, translated: bool = False,
                  seed: int = 0) -> Exchange:
    """An exchange whose answer is about `size` bytes. `translated`: a translator-mode exchange
    (the client's answer is the translator's envelope, and the JSON call and reply are kept).
    Exchanges of different `seed`s name different people and vehicles."""
    mark = f"TB{19 + seed % 80} {_word(seed, 3)}"
    if shape == "people":
        request = _request("PersonEnquiry", "<pnc:surname>Thistlewood</pnc:surname>"
                           "<pnc:forenames>Marjorie Anne</pnc:forenames>"
                           "<pnc:dateOfBirth>1961-03-14</pnc:dateOfBirth>")
        answer = _answer("PersonEnquiry", "", lambda i: _person(i + 1000 * seed), size)
        operation = "PersonEnquiry"
    else:
        request = _request("VehicleEnquiry", f"<pnc:registrationMark>{mark}</pnc:registrationMark>",
                           signed=shape != "unsigned")
        vehicle = (f"<pnc:vehicle><pnc:registrationMark>{mark}</pnc:registrationMark>"
                   "<pnc:make>FORD</pnc:make><pnc:model>FOCUS</pnc:model>"
                   "<pnc:colourCode>BLU</pnc:colourCode></pnc:vehicle>\n"
                   + _person(4711 + seed, "keeper") + "<pnc:history>\n")
        answer = _answer("VehicleEnquiry", vehicle, _event, size - len("</pnc:history>\n"))
        answer = answer.replace(b"</pnc:VehicleEnquiryResponse>",
                                b"</pnc:history>\n</pnc:VehicleEnquiryResponse>")
        operation = "VehicleEnquiry"
    headers = [("Host", "127.0.0.1:8080"), ("User-Agent", "Zeep/4.3.3"),
               ("Content-Type", "text/xml; charset=utf-8"),
               ("SOAPAction", f'"{PNC}#{operation}"'), ("Content-Length", str(len(request))),
               ("X-Officer-Id", "PC5518")]
    response = HttpResponse(200, [("Content-Type", "text/xml; charset=utf-8"),
                                  ("Date", "Mon, 30 Nov 2026 21:33:08 GMT"), ("Server", "bus"),
                                  ("Content-Length", str(len(answer)))], answer, "OK")
    exchange = Exchange(
        request=HttpRequest("POST", "/pnc", headers, request),
        client="127.0.0.1:51110",
        started_at=datetime.now(UTC),
        operation=OperationName("/pnc", operation, PNC),
        soap_version="1.1",
        action=f"{PNC}#{operation}",
        route="translator" if translated else "legacy",
        outcome="translated" if translated else "forwarded",
        response=response,
        timings={"total": 8.89, "upstream": 7.975},
    )
    if translated:
        exchange.translated = HttpResponse(200, [("Content-Type", "text/xml; charset=utf-8")],
                                           answer)
        exchange.translation = {
            "translator": f"pnc/{operation}", "translator_version": "bedae85575c8", "kind": "ok",
            "ms": 1.2,
            "call": {"service": "pnc", "method": "GET", "path": f"/vehicles/{mark.replace(' ', '')}",
                     "query": {}, "body": None},
            "reply": {"status": 200, "body": {"registrationMark": mark, "make": "FORD",
                                              "keeper": {"family": _word(4711 + seed),
                                                         "given": _word(seed * 7 + 3, 6)}}},
        }
    return exchange
