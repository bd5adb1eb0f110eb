"""The bytes on the wire: a ~1.5 KB VehicleEnquiry, the bus's answer at 2, 20 or 200 KB, and the
modern PNC service's JSON for the same vehicle.

Shaped after recordings/pnc/VehicleEnquiry (what zeep sends to the demo bus, with a WS-Security
timestamp and a message header as real terminals add), so the guard, the redaction rules and the
translator do the work they do on real traffic. The 2 KB answer and the JSON describe the same
vehicle, so a shadow diff of the two is equal under the demo's compare rules (message id and
timestamp ignored); the bigger answers repeat the vehicle record with other marks, as a search
answer would, which a shadow diff then reports as extra records.
"""

from __future__ import annotations

import json

SOAPACTION = '"urn:police:pnc:v1#VehicleEnquiry"'
CONTENT_TYPE = "text/xml; charset=utf-8"
PATH = "/pnc"
OPERATION = "/pnc VehicleEnquiry"

_WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
_WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
_PROFILE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
_SECURITY = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0"

REQUEST = (
    "<?xml version='1.0' encoding='utf-8'?>\n"
    '<soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/">'
    "<soap-env:Header>"
    f'<wsse:Security xmlns:wsse="{_WSSE}" xmlns:wsu="{_WSU}">'
    '<wsu:Timestamp wsu:Id="TS-6a1f0c2e"><wsu:Created>2026-11-30T21:33:09Z</wsu:Created>'
    "<wsu:Expires>2026-11-30T21:38:09Z</wsu:Expires></wsu:Timestamp>"
    '<wsse:UsernameToken wsu:Id="UT-9b2d44e1"><wsse:Username>LV6914</wsse:Username>'
    f'<wsse:Password Type="{_PROFILE}#PasswordDigest">q8Yb0wWkS7yM1oVdA3cE+Jm2xgE=</wsse:Password>'
    f'<wsse:Nonce EncodingType="{_SECURITY}#Base64Binary">d2h5IG5vdCBhIG5vbmNlIGhlcmU/</wsse:Nonce>'
    "<wsu:Created>2026-11-30T21:33:09Z</wsu:Created></wsse:UsernameToken></wsse:Security>"
    '<pnc:MessageHeader xmlns:pnc="urn:police:pnc:v1">'
    "<pnc:messageId>3f0c9a5e-8d1b-4c7e-9a52-1b7e0d6c4f21</pnc:messageId>"
    "<pnc:timestamp>30/11/2026 21:33:09</pnc:timestamp></pnc:MessageHeader>"
    '<wsa:To xmlns:wsa="http://www.w3.org/2005/08/addressing">http://isb.force.internal/pnc</wsa:To>'
    '<wsa:Action xmlns:wsa="http://www.w3.org/2005/08/addressing">urn:police:pnc:v1#VehicleEnquiry'
    "</wsa:Action>"
    "</soap-env:Header>"
    '<soap-env:Body><ns0:VehicleEnquiry xmlns:ns0="urn:police:pnc:v1">'
    "<ns0:registrationMark>AL93 VHU</ns0:registrationMark></ns0:VehicleEnquiry>"
    "</soap-env:Body></soap-env:Envelope>"
).encode()

_MARKERS = ["VI", "FI", "DR", "WE", "SH", "ES", "MH", "SU", "CO"]
_MARKER_WORDS = {
    "FI": "firearms", "VI": "violent", "SH": "self-harm", "SU": "suicidal", "DR": "drugs",
    "WE": "weapons", "ES": "escaper", "MH": "mental-health", "CO": "contagious",
}


def _vehicle(mark: str, n: int) -> str:
    """One vehicle record, indented as many buses write their answers."""
    markers = "".join(f"\n          <pnc:marker>{m}</pnc:marker>" for m in _MARKERS)
    fields = [
        f"<pnc:registrationMark>{mark}</pnc:registrationMark>", "<pnc:make>FORD</pnc:make>",
        "<pnc:model>FOCUS</pnc:model>", "<pnc:colourCode>BLU</pnc:colourCode>",
        "<pnc:firstRegistered>01/03/2019</pnc:firstRegistered>", "<pnc:insured>Y</pnc:insured>",
        "<pnc:stolen>N</pnc:stolen>",
    ]
    keeper = [
        f"<pnc:pncId>53/{166223 + n:06d}L</pnc:pncId>", "<pnc:surname>XKVZCQVAXBF</pnc:surname>",
        "<pnc:forenames>JIATVYM</pnc:forenames>", "<pnc:dateOfBirth>15/01/1979</pnc:dateOfBirth>",
        "<pnc:sex>M</pnc:sex>", "<pnc:addressLine>59 UVHZVITJ RGIQG, RIVUPCAPDW</pnc:addressLine>",
        "<pnc:postcode>AL4 2CJ</pnc:postcode>",
        f"<pnc:warningMarkers>{markers}\n        </pnc:warningMarkers>",
        "<pnc:wanted>Y</pnc:wanted>", "<pnc:missing>N</pnc:missing>",
    ]
    return (
        "    <pnc:vehicle>\n" + "".join(f"      {f}\n" for f in fields) + "      <pnc:keeper>\n"
        + "".join(f"        {k}\n" for k in keeper)
        + "      </pnc:keeper>\n    </pnc:vehicle>\n"
    )


def answer(kilobytes: int) -> bytes:
    """The bus's VehicleEnquiryResponse, about `kilobytes` KB: the first record is the vehicle
    the JSON service describes; more records with other marks fill it to the size."""
    head = (
        "<?xml version='1.0' encoding='utf-8'?>\n"
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:pnc="urn:police:pnc:v1"><soap:Header><pnc:MessageHeader>'
        "<pnc:messageId>d04a4c02-d60e-4474-9e9e-95a7c33add3a</pnc:messageId>"
        "<pnc:timestamp>30/11/2026 21:33:09</pnc:timestamp></pnc:MessageHeader></soap:Header>"
        "\n  <soap:Body>\n   <pnc:VehicleEnquiryResponse>\n"
    )
    tail = "  </pnc:VehicleEnquiryResponse>\n  </soap:Body>\n</soap:Envelope>\n"
    records = [_vehicle("AL93 VHU", 0)]
    target = kilobytes * 1024
    while len(head) + sum(map(len, records)) + len(records[0]) + len(tail) <= target:
        n = len(records)
        records.append(_vehicle(f"AL{n % 100:02d} V{chr(65 + n % 26)}{chr(65 + n // 26 % 26)}", n))
    body = head + "".join(records) + tail
    if len(body) < target:  # insignificant whitespace makes up the last few bytes
        body = body.replace("\n  </pnc:VehicleEnquiryResponse>",
                            "\n" + " " * (target - len(body) + 2) + "</pnc:VehicleEnquiryResponse>", 1)
    return body.encode()


def modern_reply() -> bytes:
    """GET /vehicles/AL93VHU as the modern PNC service answers it: the first record above."""
    return json.dumps({
        "registration": "AL93 VHU", "make": "FORD", "model": "FOCUS", "colour": "blue",
        "firstRegistered": "2019-03-01", "insured": True, "stolen": False,
        "keeper": {
            "pncId": "53/166223L", "name": {"given": "Jiatvym", "family": "Xkvzcqvaxbf"},
            "dateOfBirth": "1979-01-15", "sex": "male",
            "address": {"lines": ["59 Uvhzvitj Rgiqg", "Rivupcapdw"], "postcode": "AL4 2CJ"},
            "warningMarkers": [_MARKER_WORDS[m] for m in _MARKERS], "wanted": True, "missing": False,
        },
    }, separators=(",", ":")).encode()
