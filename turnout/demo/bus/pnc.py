"""`/pnc`: person and vehicle enquiries on the (fictional) national police computer. SOAP 1.1.

Surnames come back in upper case, dates of birth as `DD/MM/YYYY`, flags as `Y`/`N`: the way the
old system always printed them.
"""

from __future__ import annotations

from lxml import etree

from ...soap import SOAP11
from ..data import DemoStore, Person
from ._codec import Fields, add, format_ddmmyyyy, new_element, yes_no
from ._fault import BusFault
from ._service import BusService

NS = "urn:police:pnc:v1"
PREFIX = "pnc"
_VRM = r"[A-Za-z0-9 ]{2,10}"


def _person(parent: etree._Element, tag: str, store: DemoStore, person: Person) -> None:
    record = add(parent, tag)
    add(record, "pncId", person.pnc_id)
    add(record, "surname", person.surname.upper())
    add(record, "forenames", person.forenames.upper())
    add(record, "dateOfBirth", format_ddmmyyyy(person.born_on))
    add(record, "sex", person.sex)
    location = store.location(person.location_id)
    add(record, "addressLine", location.address_line.upper() if location else "")
    add(record, "postcode", location.postcode if location else "")
    markers = add(record, "warningMarkers")
    for marker in person.warning_markers:
        add(markers, "marker", marker)
    add(record, "wanted", yes_no(person.wanted))
    add(record, "missing", yes_no(person.missing))


def person_enquiry(store: DemoStore, fields: Fields) -> etree._Element:
    """Zero or more people; no match is an empty answer, not a fault."""
    surname = fields.required("surname", max_length=35)
    forenames = fields.optional("forenames", max_length=50)
    born_on = fields.optional_ddmmyyyy("dateOfBirth")
    people = store.search_people(surname, forenames, born_on)
    response = new_element(NS, PREFIX, "PersonEnquiryResponse")
    add(response, "matchCount", str(len(people)))
    for person in people:
        _person(response, "person", store, person)
    return response


def vehicle_enquiry(store: DemoStore, fields: Fields) -> etree._Element:
    """One vehicle and its keeper; an unknown registration mark is a fault."""
    registration = fields.matching("registrationMark", _VRM, "AB12 CDE")
    vehicle = store.vehicle(registration)
    if vehicle is None:
        raise BusFault.no_record(
            "registrationMark", f"no vehicle with registration mark {registration.upper()}"
        )
    response = new_element(NS, PREFIX, "VehicleEnquiryResponse")
    record = add(response, "vehicle")
    add(record, "registrationMark", vehicle.registration)
    add(record, "make", vehicle.make)
    add(record, "model", vehicle.model)
    add(record, "colourCode", vehicle.colour)
    add(record, "firstRegistered", format_ddmmyyyy(vehicle.first_registered))
    add(record, "insured", yes_no(vehicle.insured))
    add(record, "stolen", yes_no(vehicle.stolen))
    keeper = store.person(vehicle.keeper_id)
    if keeper is not None:
        _person(record, "keeper", store, keeper)
    return response


SERVICE = BusService(
    name="pnc",
    title="Police National Computer: person and vehicle enquiries",
    version=SOAP11,
    namespace=NS,
    prefix=PREFIX,
    handlers={"PersonEnquiry": person_enquiry, "VehicleEnquiry": vehicle_enquiry},
)
