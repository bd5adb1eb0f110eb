"""The demo's records and the one store both the legacy bus and the modern services read.

Plain dataclasses, `datetime.date` for dates and codes kept as codes (sex `M`/`F`, colour `BLU`,
warning markers `FI`): how a record is spelled on the wire (legacy date formats, `Y`/`N` flags,
upper-case surnames) is the business of whoever serves it, never of the store.

Every record is fictional. The seed rows live in `_seed.py`; a new store always starts from the
same rows and allocates references by counting up, so two runs of the same script see the same
references.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time

from . import _seed

#: the fictional force every location belongs to (a two-digit code, as on the national systems)
FORCE_CODE = "98"

#: warning markers a person record may carry
WARNING_MARKERS: dict[str, str] = {
    "FI": "firearms",
    "VI": "violent",
    "SH": "self-harm",
    "SU": "suicidal",
    "DR": "drugs",
    "WE": "weapons",
    "ES": "escaper",
    "MH": "mental health",
    "CO": "contagious",
}

COLOUR_CODES: dict[str, str] = {
    "BLK": "black",
    "BLU": "blue",
    "BRO": "brown",
    "GRN": "green",
    "GRY": "grey",
    "MAR": "maroon",
    "RED": "red",
    "SIL": "silver",
    "WHI": "white",
    "YEL": "yellow",
}

OFFENCE_CODES: dict[str, str] = {
    "BURG": "burglary, dwelling",
    "THFV": "theft from a motor vehicle",
    "TOMV": "theft of a motor vehicle",
    "ASLT": "assault occasioning actual bodily harm",
    "CRDM": "criminal damage",
    "ROBB": "robbery of personal property",
    "SHOP": "theft from a shop",
    "DRUG": "possession of a controlled drug",
}

#: crime report status: recorded, under investigation, closed, no further action
CRIME_STATUSES: dict[str, str] = {
    "REC": "recorded",
    "INV": "under investigation",
    "CLD": "closed",
    "NFA": "no further action",
}

#: MERLIN: what a record is about, how much risk, and where it stands
MERLIN_RECORD_TYPES: dict[str, str] = {
    "MISSING": "missing person",
    "CHILD_AT_RISK": "child at risk",
    "ADULT_AT_RISK": "adult at risk",
}
MERLIN_RISK_LEVELS: tuple[str, ...] = ("LOW", "MEDIUM", "HIGH", "CRITICAL")
MERLIN_STATUSES: dict[str, str] = {"OPEN": "open", "FOUND": "found safe", "CLOSED": "closed"}

BEAT_CODES: dict[str, str] = {
    "TN01": "Turnbridge North, Larkspur",
    "TN02": "Turnbridge North, Hollowmead",
    "TC01": "Turnbridge Centre, Market",
    "TC02": "Turnbridge Centre, Station",
    "TS01": "Turnbridge South, Quarry Lane",
    "TS02": "Turnbridge South, Riverside",
}


class StoreError(Exception):
    """Base of the store's errors. Callers branch on the type and read `field`."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class UnknownRecord(StoreError):
    """A write refers to a record that does not exist (e.g. a statement for an unknown crime)."""


class InvalidRecord(StoreError):
    """A write carries a value the store refuses (unknown code, a date in the future)."""


@dataclass(frozen=True)
class Location:
    location_id: str
    address_line: str
    postcode: str
    latitude: float
    longitude: float
    beat_code: str
    force_code: str = FORCE_CODE


@dataclass(frozen=True)
class Person:
    pnc_id: str
    surname: str
    forenames: str
    born_on: date
    sex: str  # M, F
    location_id: str
    warning_markers: tuple[str, ...] = ()
    wanted: bool = False
    missing: bool = False


@dataclass(frozen=True)
class Vehicle:
    registration: str  # normalised: upper case, one space, e.g. "TB19 XKF"
    make: str
    model: str
    colour: str  # a COLOUR_CODES key
    keeper_id: str  # a Person.pnc_id
    first_registered: date
    insured: bool = True
    stolen: bool = False


@dataclass(frozen=True)
class Crime:
    reference: str  # CR/<year>/<six digits>
    offence_code: str
    committed_on: date
    committed_at: time | None
    beat_code: str
    address_line: str
    postcode: str
    summary: str
    officer_id: str
    status: str
    recorded_on: date
    victim_id: str | None = None


@dataclass(frozen=True)
class Signature:
    """A witness's signature image, as sent: its media type and its bytes."""

    content_type: str
    data: bytes


@dataclass(frozen=True)
class WitnessStatement:
    statement_id: str  # WS/<year>/<six digits>
    crime_reference: str
    surname: str
    forenames: str
    born_on: date
    address_line: str
    postcode: str
    text: str
    officer_id: str
    received_at: datetime  # timezone-aware, UTC
    signature: Signature | None = None


@dataclass(frozen=True)
class MerlinRecord:
    """A MERLIN record: a missing person, or a child or adult at risk."""

    record_id: str  # MER/<year>/<six digits>
    record_type: str  # a MERLIN_RECORD_TYPES key
    risk_level: str  # one of MERLIN_RISK_LEVELS
    status: str  # a MERLIN_STATUSES key
    surname: str
    forenames: str
    born_on: date
    pnc_id: str | None  # the subject's PNC person, when known
    last_seen_at: datetime | None  # timezone-aware, UTC, whole seconds
    last_seen_location: str | None
    circumstances: str
    linked_refs: tuple[str, ...]  # crime references and other MERLIN records
    officer_id: str
    reported_at: datetime  # timezone-aware, UTC, whole seconds


@dataclass(frozen=True)
class NewMerlinRecord:
    """What a caller gives to file a MERLIN record; the store adds id, status and time."""

    record_type: str
    risk_level: str
    surname: str
    forenames: str
    born_on: date
    circumstances: str
    officer_id: str
    pnc_id: str | None = None
    last_seen_at: datetime | None = None  # timezone-aware
    last_seen_location: str | None = None
    linked_refs: tuple[str, ...] = ()


@dataclass(frozen=True)
class MerlinHit:
    """A search hit: the record and how well it matched, 0..100."""

    score: int
    record: MerlinRecord


@dataclass(frozen=True)
class CrimePage:
    total: int
    page: int
    page_size: int
    items: tuple[Crime, ...]


def normalise_registration(registration: str) -> str:
    """`tb19xkf`, ` TB19  XKF ` -> `TB19 XKF` (the last three characters are the suffix)."""
    compact = "".join(registration.split()).upper()
    if len(compact) <= 3:
        return compact
    return f"{compact[:-3]} {compact[-3:]}"


def normalise_postcode(postcode: str) -> str:
    """`tb14lx` -> `TB1 4LX` (the inward code is always the last three characters)."""
    return normalise_registration(postcode)


def _fold(text: str) -> str:
    return " ".join(text.replace(",", " ").split()).casefold()


def _utc_now() -> datetime:
    return datetime.now(UTC)


class DemoStore:
    """People, vehicles, locations, crimes and witness statements, safe to share across threads.

    Reads return frozen records; writes take the lock and allocate the next reference.
    `year` goes into allocated references; `clock` stamps receipts and dates new reports.
    """

    def __init__(
        self, *, year: int = _seed.REFERENCE_YEAR, clock: Callable[[], datetime] = _utc_now
    ) -> None:
        self._lock = threading.RLock()
        self._year = year
        self._clock = clock
        self._locations = {row[0]: Location(*row) for row in _seed.LOCATIONS}
        self._people = {row[0]: Person(*row) for row in _seed.PEOPLE}
        self._vehicles = {row[0]: Vehicle(*row) for row in _seed.VEHICLES}
        self._crimes = {row[0]: Crime(*row) for row in _seed.CRIMES}
        self._statements: dict[str, WitnessStatement] = {}
        self._merlin = {row[0]: MerlinRecord(*row) for row in _seed.MERLIN_RECORDS}
        self._next_merlin = _seed.FIRST_NEW_MERLIN_NUMBER
        self._next_crime = _seed.FIRST_NEW_CRIME_NUMBER
        self._next_statement = 1
        self._source_delays: dict[str, float] = {}

    def now(self) -> datetime:
        """The store's clock: what receipts are stamped with."""
        return self._clock()

    # a demo switch: slow sources -------------------------------------------------------------

    def slow_source(self, source: str, seconds: float) -> None:
        """Make `source` (`PNC`, `CRIS`, `MERLIN`) answer a MetSearch lookup `seconds` late, on
        the bus and on its modern search endpoint alike (0: at once again). For demos and tests
        of the path where a source does not answer within MetSearch's per-source timeout."""
        with self._lock:
            if seconds > 0:
                self._source_delays[source.upper()] = seconds
            else:
                self._source_delays.pop(source.upper(), None)

    def source_delay(self, source: str) -> float:
        """Seconds `source` is made to wait before answering a search (0: none)."""
        return self._source_delays.get(source.upper(), 0.0)

    # locations -----------------------------------------------------------------------------

    def location(self, location_id: str) -> Location | None:
        return self._locations.get(location_id)

    def locations(self) -> list[Location]:
        with self._lock:
            return sorted(self._locations.values(), key=lambda loc: loc.location_id)

    def resolve_location(
        self, *, address_line: str | None = None, postcode: str | None = None
    ) -> Location | None:
        """The location with this postcode, or else with this address line (case, commas and
        spacing ignored). A postcode wins when both are given."""
        with self._lock:
            candidates = list(self._locations.values())
        if postcode:
            wanted = normalise_postcode(postcode)
            return next((loc for loc in candidates if loc.postcode == wanted), None)
        if address_line:
            wanted = _fold(address_line)
            return next((loc for loc in candidates if _fold(loc.address_line) == wanted), None)
        return None

    # people and vehicles -------------------------------------------------------------------

    def person(self, pnc_id: str) -> Person | None:
        return self._people.get(pnc_id)

    def people(self) -> list[Person]:
        with self._lock:
            return sorted(self._people.values(), key=_person_order)

    def search_people(
        self, surname: str, forenames: str | None = None, born_on: date | None = None
    ) -> list[Person]:
        """Exact surname (any case), forenames as a prefix of the recorded forenames, exact date
        of birth. An empty result is an answer, not an error."""
        wanted_surname = _fold(surname)
        wanted_forenames = _fold(forenames) if forenames else ""
        with self._lock:
            people = list(self._people.values())
        return sorted(
            (
                p
                for p in people
                if _fold(p.surname) == wanted_surname
                and _fold(p.forenames).startswith(wanted_forenames)
                and (born_on is None or p.born_on == born_on)
            ),
            key=_person_order,
        )

    def vehicle(self, registration: str) -> Vehicle | None:
        return self._vehicles.get(normalise_registration(registration))

    def vehicles(self) -> list[Vehicle]:
        with self._lock:
            return sorted(self._vehicles.values(), key=lambda v: v.registration)

    # crimes --------------------------------------------------------------------------------

    def crime(self, reference: str) -> Crime | None:
        return self._crimes.get(reference.strip().upper())

    def crimes(self) -> list[Crime]:
        with self._lock:
            return sorted(self._crimes.values(), key=lambda c: c.reference)

    def search_crimes(
        self,
        *,
        offence_code: str | None = None,
        beat_code: str | None = None,
        page: int = 1,
        page_size: int = 10,
    ) -> CrimePage:
        """Crimes matching every given criterion, in reference order, one page of them."""
        if page < 1:
            raise InvalidRecord("page", "page numbers start at 1")
        if page_size < 1:
            raise InvalidRecord("page_size", "page size must be at least 1")
        matches = [
            c
            for c in self.crimes()
            if (offence_code is None or c.offence_code == offence_code)
            and (beat_code is None or c.beat_code == beat_code)
        ]
        start = (page - 1) * page_size
        return CrimePage(len(matches), page, page_size, tuple(matches[start : start + page_size]))

    def search_crimes_by_victim(
        self, surname: str, forenames: str | None = None, born_on: date | None = None
    ) -> list[tuple[Crime, Person]]:
        """Crimes whose victim is a person `search_people` finds, in reference order."""
        victims = {p.pnc_id: p for p in self.search_people(surname, forenames, born_on)}
        return [(c, victims[c.victim_id]) for c in self.crimes() if c.victim_id in victims]

    def create_crime(
        self,
        *,
        offence_code: str,
        committed_on: date,
        beat_code: str,
        address_line: str,
        postcode: str,
        summary: str,
        officer_id: str,
        committed_at: time | None = None,
        victim_id: str | None = None,
    ) -> Crime:
        """Record a new crime with the next reference; its status is `REC`."""
        if offence_code not in OFFENCE_CODES:
            raise InvalidRecord("offence_code", f"unknown offence code {offence_code!r}")
        if beat_code not in BEAT_CODES:
            raise InvalidRecord("beat_code", f"unknown beat code {beat_code!r}")
        if victim_id is not None and victim_id not in self._people:
            raise UnknownRecord("victim_id", f"no person with PNC id {victim_id!r}")
        today = self._clock().date()
        if committed_on > today:
            raise InvalidRecord("committed_on", "a crime cannot be committed in the future")
        with self._lock:
            reference = f"CR/{self._year}/{self._next_crime:06d}"
            self._next_crime += 1
            crime = Crime(
                reference=reference,
                offence_code=offence_code,
                committed_on=committed_on,
                committed_at=committed_at,
                beat_code=beat_code,
                address_line=address_line,
                postcode=normalise_postcode(postcode),
                summary=summary,
                officer_id=officer_id,
                status="REC",
                recorded_on=today,
                victim_id=victim_id,
            )
            self._crimes[reference] = crime
            return crime

    def next_crime_reference(self) -> str:
        """The reference the next `create_crime` would allocate. Allocates nothing: for dry runs,
        and only a prediction (a create in between takes it)."""
        with self._lock:
            return f"CR/{self._year}/{self._next_crime:06d}"

    def set_crime_status(self, reference: str, status: str) -> Crime:
        if status not in CRIME_STATUSES:
            raise InvalidRecord("status", f"unknown crime status {status!r}")
        with self._lock:
            crime = self.crime(reference)
            if crime is None:
                raise UnknownRecord("reference", f"no crime with reference {reference!r}")
            updated = replace(crime, status=status)
            self._crimes[crime.reference] = updated
            return updated

    # witness statements --------------------------------------------------------------------

    def statement(self, statement_id: str) -> WitnessStatement | None:
        return self._statements.get(statement_id.strip().upper())

    def statements(self) -> list[WitnessStatement]:
        with self._lock:
            return sorted(self._statements.values(), key=lambda s: s.statement_id)

    def next_statement_id(self) -> str:
        """The id the next `add_statement` would allocate; allocates nothing (see
        `next_crime_reference`)."""
        with self._lock:
            return f"WS/{self._year}/{self._next_statement:06d}"

    def add_statement(
        self,
        *,
        crime_reference: str,
        surname: str,
        forenames: str,
        born_on: date,
        address_line: str,
        postcode: str,
        text: str,
        officer_id: str,
        signature: Signature | None = None,
    ) -> WitnessStatement:
        """File a witness statement against an existing crime; stamped with the clock."""
        with self._lock:
            crime = self.crime(crime_reference)
            if crime is None:
                raise UnknownRecord(
                    "crime_reference", f"no crime with reference {crime_reference!r}"
                )
            statement_id = f"WS/{self._year}/{self._next_statement:06d}"
            self._next_statement += 1
            statement = WitnessStatement(
                statement_id=statement_id,
                crime_reference=crime.reference,
                surname=surname,
                forenames=forenames,
                born_on=born_on,
                address_line=address_line,
                postcode=normalise_postcode(postcode),
                text=text,
                officer_id=officer_id,
                received_at=self._clock(),
                signature=signature,
            )
            self._statements[statement_id] = statement
            return statement

    # MERLIN records -------------------------------------------------------------------------

    def merlin_record(self, record_id: str) -> MerlinRecord | None:
        return self._merlin.get(record_id.strip().upper())

    def merlin_records(self) -> list[MerlinRecord]:
        with self._lock:
            return sorted(self._merlin.values(), key=lambda r: r.record_id)

    def search_merlin(
        self,
        surname: str,
        forenames: str | None = None,
        born_on: date | None = None,
        *,
        include_closed: bool = False,
    ) -> list[MerlinHit]:
        """Records whose surname matches, ranked by a score out of 100 (see `merlin_score`),
        best first, then by record id. Closed records only with `include_closed`."""
        hits = []
        for record in self.merlin_records():
            if record.status == "CLOSED" and not include_closed:
                continue
            score = merlin_score(record, surname, forenames, born_on)
            if score:
                hits.append(MerlinHit(score, record))
        return sorted(hits, key=lambda hit: (-hit.score, hit.record.record_id))

    def next_merlin_record_id(self) -> str:
        """The id the next `create_merlin_record` would allocate; allocates nothing."""
        with self._lock:
            return f"MER/{self._year}/{self._next_merlin:06d}"

    def preview_merlin_record(self, new: NewMerlinRecord) -> MerlinRecord:
        """What `create_merlin_record(new)` would file now, checked but not filed: for dry
        runs (its id is only a prediction: a create in between takes it)."""
        with self._lock:
            return self._merlin_record(self.next_merlin_record_id(), new)

    def create_merlin_record(self, new: NewMerlinRecord) -> MerlinRecord:
        """File a new MERLIN record with the next id: status `OPEN`, stamped with the clock
        (whole seconds, UTC). Raises `InvalidRecord` / `UnknownRecord`."""
        with self._lock:
            record = self._merlin_record(self.next_merlin_record_id(), new)
            self._next_merlin += 1
            self._merlin[record.record_id] = record
            return record

    def _merlin_record(self, record_id: str, new: NewMerlinRecord) -> MerlinRecord:
        if new.record_type not in MERLIN_RECORD_TYPES:
            raise InvalidRecord("record_type", f"unknown record type {new.record_type!r}")
        if new.risk_level not in MERLIN_RISK_LEVELS:
            raise InvalidRecord("risk_level", f"unknown risk level {new.risk_level!r}")
        if new.pnc_id is not None and new.pnc_id not in self._people:
            raise UnknownRecord("pnc_id", f"no person with PNC id {new.pnc_id!r}")
        now = self._clock().astimezone(UTC).replace(microsecond=0)
        if new.born_on > now.date():
            raise InvalidRecord("born_on", "a date of birth cannot be in the future")
        last_seen_at = new.last_seen_at
        if last_seen_at is not None:
            last_seen_at = last_seen_at.astimezone(UTC).replace(microsecond=0)
            if last_seen_at > now:
                raise InvalidRecord("last_seen_at", "a last sighting cannot be in the future")
        return MerlinRecord(
            record_id=record_id,
            record_type=new.record_type,
            risk_level=new.risk_level,
            status="OPEN",
            surname=new.surname,
            forenames=new.forenames,
            born_on=new.born_on,
            pnc_id=new.pnc_id,
            last_seen_at=last_seen_at,
            last_seen_location=new.last_seen_location,
            circumstances=new.circumstances,
            linked_refs=new.linked_refs,
            officer_id=new.officer_id,
            reported_at=now,
        )


def merlin_score(
    record: MerlinRecord, surname: str, forenames: str | None, born_on: date | None
) -> int:
    """How well `record` matches, out of 100; 0 is no match. The surname decides whether it
    matches at all: 60 when equal, 40 when the query is a prefix of at least three letters
    (case, commas and spacing ignored). Forenames that are a prefix of the recorded ones add
    25, an equal date of birth adds 15; a criterion given and not matched adds nothing."""
    wanted = _fold(surname)
    recorded = _fold(record.surname)
    if recorded == wanted:
        score = 60
    elif len(wanted) >= 3 and recorded.startswith(wanted):
        score = 40
    else:
        return 0
    if forenames and _fold(record.forenames).startswith(_fold(forenames)):
        score += 25
    if born_on is not None and record.born_on == born_on:
        score += 15
    return score


def _person_order(person: Person) -> tuple[str, str, date, str]:
    return (person.surname.casefold(), person.forenames.casefold(), person.born_on, person.pnc_id)


def personal_values(store: DemoStore | None = None) -> list[str]:
    """Every personal value the seeded data holds, spelled as the bus and the services spell
    them: names (as recorded and upper-cased), dates of birth in each format, addresses (whole
    and in their comma-separated parts) and postcodes. What `turnout recordings scan --demo`
    looks for: none of it may appear in a recording."""
    store = store or DemoStore()
    values: set[str] = set()
    for person in store.people():
        values.update({person.surname, person.forenames})
        values.update(person.forenames.split())
        for fmt in ("%d/%m/%Y", "%Y-%m-%d", "%Y%m%d"):
            values.add(person.born_on.strftime(fmt))
        location = store.location(person.location_id)
        if location is not None:
            values.update({location.address_line, location.postcode})
            values.update(part for part in location.address_line.split(", ") if any(c.isdigit() for c in part))
    for record in store.merlin_records():
        values.update({record.surname, record.forenames})
        values.update(record.forenames.split())
        for fmt in ("%d/%m/%Y", "%Y-%m-%d", "%Y%m%d"):
            values.add(record.born_on.strftime(fmt))
        if record.last_seen_location:
            values.add(record.last_seen_location)
    return sorted(values)
