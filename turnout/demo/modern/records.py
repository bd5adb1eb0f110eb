"""Store records as the modern services spell them in JSON (see docs/modern-services.md)."""

from __future__ import annotations

import base64
from typing import Any

from ..data import Crime, DemoStore, Location, Person, Vehicle, WitnessStatement
from .vocab import (
    COLOURS,
    CRIME_STATUSES,
    OFFENCES,
    SEX,
    WARNING_MARKERS,
    address_lines,
    iso_date,
    iso_time,
    iso_timestamp,
    url_id,
)

Json = dict[str, Any]


def address_json(address_line: str, postcode: str) -> Json:
    return {"lines": address_lines(address_line), "postcode": postcode}


def person_json(store: DemoStore, person: Person) -> Json:
    location = store.location(person.location_id)
    return {
        "pncId": person.pnc_id,
        "name": {"given": person.forenames, "family": person.surname},
        "dateOfBirth": iso_date(person.born_on),
        "sex": SEX[person.sex],
        "address": address_json(location.address_line, location.postcode) if location else None,
        "warningMarkers": [WARNING_MARKERS[marker] for marker in person.warning_markers],
        "wanted": person.wanted,
        "missing": person.missing,
    }


def person_name_json(person: Person) -> Json:
    """Who a person is, without where they live: PNC id, name, date of birth."""
    return {
        "pncId": person.pnc_id,
        "name": {"given": person.forenames, "family": person.surname},
        "dateOfBirth": iso_date(person.born_on),
    }


def vehicle_json(store: DemoStore, vehicle: Vehicle) -> Json:
    keeper = store.person(vehicle.keeper_id)
    return {
        "registration": vehicle.registration,
        "make": vehicle.make,
        "model": vehicle.model,
        "colour": COLOURS[vehicle.colour],
        "firstRegistered": iso_date(vehicle.first_registered),
        "insured": vehicle.insured,
        "stolen": vehicle.stolen,
        "keeper": person_json(store, keeper) if keeper else None,
    }


def crime_json(crime: Crime) -> Json:
    return {
        "reference": crime.reference,
        "id": url_id(crime.reference),
        "offence": OFFENCES[crime.offence_code],
        "status": CRIME_STATUSES[crime.status],
        "committed": {
            "date": iso_date(crime.committed_on),
            "time": iso_time(crime.committed_at) if crime.committed_at else None,
        },
        "beat": crime.beat_code,
        "address": address_json(crime.address_line, crime.postcode),
        "summary": crime.summary,
        "officerId": crime.officer_id,
        "recordedOn": iso_date(crime.recorded_on),
        "victim": {"pncId": crime.victim_id} if crime.victim_id else None,
    }


def location_json(location: Location) -> Json:
    return {
        "id": location.location_id,
        "address": address_json(location.address_line, location.postcode),
        "coordinates": {"lat": location.latitude, "lon": location.longitude},
        "beat": location.beat_code,
        "force": location.force_code,
    }


def statement_json(statement: WitnessStatement) -> Json:
    """The statement as the service answers it; `signature` only when one was sent."""
    signature = statement.signature
    extra: Json = {} if signature is None else {"signature": {
        "contentType": signature.content_type,
        "data": base64.b64encode(signature.data).decode("ascii"),
    }}
    return {
        "statementId": statement.statement_id,
        "id": url_id(statement.statement_id),
        "crimeReference": statement.crime_reference,
        "receivedAt": iso_timestamp(statement.received_at),
        "witness": {
            "name": {"given": statement.forenames, "family": statement.surname},
            "dateOfBirth": iso_date(statement.born_on),
            "address": address_json(statement.address_line, statement.postcode),
        },
        "text": statement.text,
        "officerId": statement.officer_id,
        **extra,
    }
