"""SearchCrimeReports -> GET /crimes?offence=&beat=&page=&pageSize=, in Python.

Why not a mapping file: a well-formed offence code the service has no word for (`ZZZZ`) gets an
empty page from the bus, and the service cannot be asked for it (there is no slug to send). The
translator must answer that request itself, without a call, with the page the bus would have
sent: that is a decision about whether to call at all, which a declarative mapping does not make.
The record template, header and faults still come from `_cris.yaml`.
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from turnout.soap import Envelope
from turnout.translators import JsonCall, JsonReply, PythonTranslator, SoapReply

_CODE = re.compile(r"[A-Z0-9]{2,6}")
MAX_PAGE = 10_000
MAX_PAGE_SIZE = 50


class SearchCrimeReports(PythonTranslator):
    name = "cris/SearchCrimeReports"
    operation = "/cris SearchCrimeReports"
    service = "cris"
    shared = "_cris.yaml"

    def prepare(self) -> None:
        self.crime_page = self.template("crimePage")
        self.offences: dict[str, str] = self.parts.decl.value_maps["offences"]
        for field in ("offenceCode", "beatCode", "pageNumber", "pageSize"):
            self.xpath(f"cris:{field}")

    def _code(self, request: Envelope, field: str, example: str) -> str | None:
        text = self.text(request, f"cris:{field}")
        if text is not None and not _CODE.fullmatch(text):
            raise self.reject(request, field, f"{field} {text!r} is not in the form {example}")
        return text

    def _whole(self, request: Envelope, field: str, default: int, high: int) -> int:
        text = self.text(request, f"cris:{field}")
        if text is None:
            return default
        try:
            value = int(text)  # as the bus reads it
        except ValueError:
            raise self.reject(request, field, f"{field} {text!r} is not a whole number") from None
        if not 1 <= value <= high:
            raise self.reject(request, field, f"{field} must be between 1 and {high}")
        return value

    def to_call(self, request: Envelope, *, dry_run: bool = False) -> JsonCall:
        offence = self._code(request, "offenceCode", "BURG")
        beat = self._code(request, "beatCode", "TN01")
        if offence is None and beat is None:
            raise self.reject(request, "offenceCode", "give an offenceCode, a beatCode or both")
        page = self._whole(request, "pageNumber", 1, MAX_PAGE)
        size = self._whole(request, "pageSize", 10, MAX_PAGE_SIZE)
        if offence is not None and offence not in self.offences:
            empty = {"total": 0, "page": page, "pageSize": size, "items": []}
            raise self.answered(
                self._page(request, empty), f"no offence {offence!r} in the service's words"
            )
        slug = self.offences[offence] if offence is not None else None
        query = {"offence": slug, "beat": beat, "page": page, "pageSize": size}
        return self.call("GET", "/crimes", query=query)

    def to_reply(self, reply: JsonReply, request: Envelope) -> SoapReply:
        if reply.status != 200:
            return self.fault_for(reply, request)
        return self._page(request, reply.body)

    def _page(self, request: Envelope, page: Any) -> SoapReply:
        """SearchCrimeReportsResponse from a `GET /crimes` body (or the empty page we made)."""
        scope = self.scope(request, page)

        def body(parent: etree._Element) -> None:
            self.build(self.add(parent, "cris:SearchCrimeReportsResponse"), self.crime_page, scope)

        return self.respond(request, body, page)


TRANSLATORS = [SearchCrimeReports()]
