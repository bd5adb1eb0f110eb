"""Small Python translators for the proxy's routing tests: predictable, and able to misbehave.

Copied into a temporary translators directory by `routed_proxy`; they answer from whatever the
scripted JSON service says, so a test controls success, failure and delay from outside.
"""

from turnout.translators import JsonCall, SoapReply, TranslationError

ENVELOPE = (
    '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
    '<p:VehicleEnquiryResponse xmlns:p="urn:police:pnc:v1"><p:colourCode>{colour}</p:colourCode>'
    "</p:VehicleEnquiryResponse></soap:Body></soap:Envelope>"
)


class Vehicle:
    name = "pnc/VehicleEnquiry"
    operation = "/pnc VehicleEnquiry"
    service = "pnc"
    writes = False

    def to_call(self, request, *, dry_run=False):
        return JsonCall("pnc", "GET", "/vehicles/TB19XKF")

    def to_reply(self, reply, request):
        if reply.status != 200 or not isinstance(reply.body, dict):
            raise TranslationError(f"unusable reply: {reply.status}")
        return SoapReply(200, "text/xml; charset=utf-8", ENVELOPE.format(colour=reply.body["colour"]).encode())


class Crashing(Vehicle):
    name = "pnc/PersonEnquiry"
    operation = "/pnc PersonEnquiry"

    def to_call(self, request, *, dry_run=False):
        raise RuntimeError("a bug in a translator")


class CreateCrime:
    name = "cris/CreateCrimeReport"
    operation = "/cris CreateCrimeReport"
    service = "pnc"
    writes = True

    def to_call(self, request, *, dry_run=False):
        return JsonCall("pnc", "POST", "/crimes/validate" if dry_run else "/crimes", body={"offence": "x"})

    def to_reply(self, reply, request):
        if reply.status != 201:
            raise TranslationError(f"unusable reply: {reply.status}")
        return SoapReply(200, "text/xml; charset=utf-8", b"<created/>")


TRANSLATORS = [Vehicle(), Crashing(), CreateCrime()]
