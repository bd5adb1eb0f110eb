"""`/geo`: resolve an address line or a postcode to coordinates, beat and force. SOAP 1.1."""

from __future__ import annotations

from lxml import etree

from ...soap import SOAP11
from ..data import DemoStore
from ._codec import Fields, add, new_element
from ._fault import BusFault
from ._service import BusService

NS = "urn:police:geo:v1"
PREFIX = "geo"


def resolve_location(store: DemoStore, fields: Fields) -> etree._Element:
    """A postcode wins over an address line; one of the two is required."""
    address_line = fields.optional("addressLine", max_length=120)
    postcode = fields.optional("postcode", max_length=8)
    if address_line is None and postcode is None:
        raise BusFault.invalid("addressLine", "give an addressLine or a postcode")
    location = store.resolve_location(address_line=address_line, postcode=postcode)
    if location is None:
        asked = f"postcode {postcode}" if postcode else f"address {address_line!r}"
        raise BusFault.no_record(
            "postcode" if postcode else "addressLine", f"no location found for {asked}"
        )
    response = new_element(NS, PREFIX, "ResolveLocationResponse")
    record = add(response, "location")
    add(record, "addressLine", location.address_line)
    add(record, "postcode", location.postcode)
    add(record, "latitude", f"{location.latitude:.6f}")
    add(record, "longitude", f"{location.longitude:.6f}")
    add(record, "beatCode", location.beat_code)
    add(record, "forceCode", location.force_code)
    return response


SERVICE = BusService(
    name="geo",
    title="Geolocation: addresses and postcodes to coordinates and beats",
    version=SOAP11,
    namespace=NS,
    prefix=PREFIX,
    handlers={"ResolveLocation": resolve_location},
)
