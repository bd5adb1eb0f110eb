"""`/cris`: the crime recording information system. SOAP 1.1.

Dates travel as `YYYYMMDD` and times as `HHMM`, the way the crime system stores them; offences,
beats and statuses are codes.
"""

from __future__ import annotations

from lxml import etree

from ...soap import SOAP11
from ..data import Crime, DemoStore, StoreError
from ._codec import (
    Fields,
    add,
    add_optional,
    format_hhmm,
    format_yyyymmdd,
    new_element,
)
from ._fault import BusFault
from ._service import BusService

NS = "urn:police:cris:v1"
PREFIX = "cris"
CRIME_REFERENCE = r"CR/\d{4}/\d{6}"
_OFFICER = r"[A-Z]{2}\d{4}"
_CODE = r"[A-Z0-9]{2,6}"
MAX_PAGE_SIZE = 50


def _crime(parent: etree._Element, crime: Crime) -> None:
    record = add(parent, "crimeReport")
    add(record, "crimeReference", crime.reference)
    add(record, "offenceCode", crime.offence_code)
    add(record, "statusCode", crime.status)
    add(record, "committedDate", format_yyyymmdd(crime.committed_on))
    add_optional(
        record, "committedTime", format_hhmm(crime.committed_at) if crime.committed_at else None
    )
    add(record, "beatCode", crime.beat_code)
    add(record, "addressLine", crime.address_line)
    add(record, "postcode", crime.postcode)
    add(record, "summary", crime.summary)
    add(record, "reportingOfficer", crime.officer_id)
    add(record, "recordedDate", format_yyyymmdd(crime.recorded_on))
    add_optional(record, "victimPncId", crime.victim_id)


#: store field names -> the request field a caller knows them by
_WIRE_FIELDS = {
    "offence_code": "offenceCode",
    "beat_code": "beatCode",
    "committed_on": "committedDate",
    "victim_id": "victimPncId",
}


def create_crime_report(store: DemoStore, fields: Fields) -> etree._Element:
    """A write: records the crime and answers with its new reference."""
    offence = fields.matching("offenceCode", _CODE, "BURG")
    beat = fields.matching("beatCode", _CODE, "TN01")
    officer = fields.matching("reportingOfficer", _OFFICER, "PC1234")
    try:
        crime = store.create_crime(
            offence_code=offence,
            beat_code=beat,
            officer_id=officer,
            committed_on=fields.yyyymmdd("committedDate"),
            committed_at=fields.hhmm("committedTime"),
            address_line=fields.required("addressLine", max_length=120),
            postcode=fields.required("postcode", max_length=8),
            summary=fields.required("summary", max_length=2000),
            victim_id=fields.optional("victimPncId", max_length=12),
        )
    except StoreError as error:
        raise BusFault.from_store(error, _WIRE_FIELDS.get(error.field, error.field)) from None
    response = new_element(NS, PREFIX, "CreateCrimeReportResponse")
    add(response, "crimeReference", crime.reference)
    add(response, "statusCode", crime.status)
    add(response, "recordedDate", format_yyyymmdd(crime.recorded_on))
    return response


def get_crime_report(store: DemoStore, fields: Fields) -> etree._Element:
    """One crime by reference; an unknown reference is a fault."""
    reference = fields.matching("crimeReference", CRIME_REFERENCE, "CR/2026/000123")
    crime = store.crime(reference)
    if crime is None:
        raise BusFault.no_record("crimeReference", f"no crime report {reference}")
    response = new_element(NS, PREFIX, "GetCrimeReportResponse")
    _crime(response, crime)
    return response


def search_crime_reports(store: DemoStore, fields: Fields) -> etree._Element:
    """Crimes by offence and/or beat (at least one), a page at a time."""
    offence = fields.optional_matching("offenceCode", _CODE, "BURG")
    beat = fields.optional_matching("beatCode", _CODE, "TN01")
    if offence is None and beat is None:
        raise BusFault.invalid("offenceCode", "give an offenceCode, a beatCode or both")
    page = fields.integer("pageNumber", default=1, low=1, high=10_000)
    size = fields.integer("pageSize", default=10, low=1, high=MAX_PAGE_SIZE)
    result = store.search_crimes(offence_code=offence, beat_code=beat, page=page, page_size=size)
    response = new_element(NS, PREFIX, "SearchCrimeReportsResponse")
    add(response, "totalRecords", str(result.total))
    add(response, "pageNumber", str(result.page))
    add(response, "pageSize", str(result.page_size))
    for crime in result.items:
        _crime(response, crime)
    return response


SERVICE = BusService(
    name="cris",
    title="Crime Recording Information System",
    version=SOAP11,
    namespace=NS,
    prefix=PREFIX,
    handlers={
        "CreateCrimeReport": create_crime_report,
        "GetCrimeReport": get_crime_report,
        "SearchCrimeReports": search_crime_reports,
    },
)
