"""A scripted, deterministic day on the bus, driven by real zeep clients.

`run_scenario(base_url)` fetches each WSDL from `base_url` (the proxy, or the bus itself), then
calls every operation: enquiries that match, miss and fail, crime reports filed and read back,
witness statements against them. The script is fixed; only what the bus allocates (references,
message ids, timestamps) varies from one bus to another. Expected faults are recorded, never
raised.

One witness statement carries the witness's signature image as an MTOM attachment, as a
form-filling client sends it; zeep sends no MTOM, so zeep builds and signs that envelope and
`_mtom.optimise` moves the image into a MIME part before it is posted.

`run_scenario(base_url, identity=DemoIdentity.load())` is the same day on a bus that
authenticates: every call is signed with a WS-Security UsernameToken (PasswordDigest, zeep's
`UsernameToken(use_digest=True)`) by the officer on that desk (PC4127 runs the PNC checks,
PCSO9001 the location lookups, PC5518 crimes and statements, DC0912 the MERLIN records, DS7043
MetSearch), and
three refusals follow, each an
expected Fault: PC4127 filing a crime (FORBIDDEN), PCSO9001 checking a vehicle (FORBIDDEN) and
a wrong password (AUTHFAIL).
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass
from typing import Any

import requests
import zeep
from lxml import etree
from zeep.exceptions import Fault, TransportError
from zeep.transports import Transport
from zeep.wsse.username import UsernameToken

from ..soap import SoapError, parse_xml
from ._mtom import optimise
from .bus.merlin import FAULT_CODES as MERLIN_FAULT_CODES
from .identity import DemoIdentity

TIMEOUT_SECONDS = 10.0
SERVICE_PATHS = ("/pnc", "/cris", "/geo", "/eforms", "/merlin", "/metsearch")
#: who signs a service's calls when the bus authenticates: the officer on that desk
DESK_OFFICERS = {
    "/pnc": "PC4127",
    "/geo": "PCSO9001",
    "/cris": "PC5518",
    "/eforms": "PC5518",
    "/merlin": "DC0912",
    "/metsearch": "DS7043",
}
AUTHENTICATION_FAILED = "AUTHFAIL"
FORBIDDEN = "FORBIDDEN"


@dataclass(frozen=True)
class ScenarioCall:
    operation: str  # "/pnc PersonEnquiry", the route-table key
    label: str  # what the call is for, e.g. "unknown vehicle"
    ok: bool  # True when the call was answered without a fault
    expected_fault: bool
    latency_ms: float
    fault_code: str | None = None  # "soap:Client", "soap:Sender", or "HTTP 502" for non-SOAP
    fault_reason: str | None = None
    #: the bus's own code from the ServiceFault detail, "NOREC" (MERLIN's from its faultcode)
    error_code: str | None = None
    officer: str | None = None  # who signed the call (an authenticating bus), else None
    #: the bus code a refusal must carry (AUTHFAIL, FORBIDDEN); a Fault without a ServiceFault
    #: (a proxy's own refusal) passes too, a Fault with another bus code does not
    expected_error: str | None = None

    @property
    def as_expected(self) -> bool:
        if self.ok == self.expected_fault:
            return False
        return self.expected_error is None or self.error_code in (None, self.expected_error)


@dataclass(frozen=True)
class _Step:
    """One scripted call: where, what, why, and whether a fault is the right answer."""

    path: str
    operation: str
    label: str
    args: dict[str, Any]
    fault: bool = False
    officer: str | None = None  # who signs it (authenticating bus); None: the desk's officer
    password: str | None = None  # a wrong password to sign with, for the refusals
    error: str | None = None  # the bus code the fault must carry


class _Run:
    """Holds the clients and the calls made so far."""

    def __init__(
        self, base_url: str, session: requests.Session, identity: DemoIdentity | None = None
    ) -> None:
        transport = Transport(
            session=session, timeout=TIMEOUT_SECONDS, operation_timeout=TIMEOUT_SECONDS
        )
        base = base_url.rstrip("/")
        self.base, self.session = base, session
        self.clients = {
            path: zeep.Client(f"{base}{path}?wsdl", transport=transport) for path in SERVICE_PATHS
        }
        self.calls: list[ScenarioCall] = []
        self.identity = identity

    def _sign(self, step: _Step) -> str | None:
        """Sign the step's client as its officer, with a fresh nonce; the officer's id."""
        client = self.clients[step.path]
        if self.identity is None:
            client.wsse = None
            return None
        officer = step.officer or DESK_OFFICERS[step.path]
        password = step.password or self.identity.officers[officer].password
        client.wsse = UsernameToken(officer, password, use_digest=True, zulu_timestamp=True)
        return officer

    def call(self, step: _Step) -> Any:
        """Make one call; returns zeep's result, or None after a fault."""
        officer = self._sign(step)
        method = getattr(self.clients[step.path].service, step.operation)
        started = time.perf_counter()
        result: Any = None
        code = reason = error_code = None
        try:
            result = method(**step.args)
        except Fault as exc:
            code, reason, error_code = exc.code, exc.message, _error_code(exc.code, exc.detail)
        except TransportError as exc:  # a non-SOAP answer, e.g. a proxy's 502
            code, reason = f"HTTP {exc.status_code}", str(exc)
        self._record(step, officer, started, code, reason, error_code)
        return result

    def call_mtom(self, step: _Step, element: str, media_type: str) -> None:
        """Make one call as an MTOM client does: zeep builds and signs the envelope, then the
        bytes in `step.args[element]` go in a MIME part of `media_type` (`_mtom.optimise`)."""
        officer = self._sign(step)
        client = self.clients[step.path]
        envelope = client.create_message(client.service, step.operation, **step.args)
        namespace = etree.QName(envelope.find("{*}Body")[0]).namespace
        found = envelope.find(f".//{{{namespace}}}{element}")
        action = client.service._binding.get(step.operation).soapaction
        body, headers = optimise(envelope, found, step.args[element], media_type, action)
        started = time.perf_counter()
        answer = self.session.post(f"{self.base}{step.path}", data=body, headers=headers,
                                   timeout=TIMEOUT_SECONDS)
        self._record(step, officer, started, *_fault_of(answer))

    def _record(self, step: _Step, officer: str | None, started: float, code: str | None,
                reason: str | None, error_code: str | None) -> None:
        latency = (time.perf_counter() - started) * 1000.0
        self.calls.append(
            ScenarioCall(
                operation=f"{step.path} {step.operation}",
                label=step.label,
                ok=code is None,
                expected_fault=step.fault,
                latency_ms=round(latency, 3),
                fault_code=code,
                fault_reason=reason,
                error_code=error_code,
                officer=officer,
                expected_error=step.error if self.identity is not None else None,
            )
        )


def _fault_of(answer: requests.Response) -> tuple[str | None, str | None, str | None]:
    """(code, reason, bus code) of a SOAP 1.2 Fault answer; all None for a 200."""
    if answer.status_code == 200:
        return None, None, None
    try:
        fault = parse_xml(answer.content).find("{*}Body/{*}Fault")
    except SoapError:
        fault = None
    if fault is None:
        return f"HTTP {answer.status_code}", answer.text[:200], None
    code = fault.findtext("{*}Code/{*}Value")
    return code, fault.findtext("{*}Reason/{*}Text"), _error_code(code, fault.find("{*}Detail"))


#: MERLIN's faultcodes (`Client.RecordNotFound`) -> the bus's own codes (`NOREC`)
_MERLIN_ERRORS = {subcode: code for code, subcode in MERLIN_FAULT_CODES.items()}


def _error_code(code: str | None, detail: etree._Element | None) -> str | None:
    """The bus's own code: from the `ServiceFault` detail, or from a MERLIN faultcode."""
    if isinstance(detail, etree._Element):
        found: str | None = detail.findtext("{*}ServiceFault/{*}errorCode")
        if found is not None:
            return found
    return _MERLIN_ERRORS.get((code or "").rpartition(":")[2])


def _body(result: Any) -> Any:
    """The body of a reply (the bus declares a response header, so zeep returns both)."""
    return None if result is None else result.body


def _pnc(label: str, *, fault: bool = False, **args: Any) -> _Step:
    operation = "VehicleEnquiry" if "registrationMark" in args else "PersonEnquiry"
    return _Step("/pnc", operation, label, args, fault)


def _geo(label: str, *, fault: bool = False, **args: Any) -> _Step:
    return _Step("/geo", "ResolveLocation", label, args, fault)


def _cris(operation: str, label: str, *, fault: bool = False, **args: Any) -> _Step:
    return _Step("/cris", operation, label, args, fault)


def _merlin(operation: str, label: str, *, fault: bool = False, **args: Any) -> _Step:
    return _Step("/merlin", operation, label, args, fault)


# spelled as officers type them: any case, with or without the space
_KNOWN_VEHICLES = (
    "TB19 XKF",
    "TB68 LMR",
    "tb21qpa",
    "TB15 DVE",
    "TB70 HNW",
    "TB17 ZRC",
    "TB64 KTB",
    "TB12DVH",
    "TB66 JKF",
    "TB18 RUF",
)

#: MERLIN's reads: records with and without a PNC link, nil fields, linked refs, ranked hits
_MERLIN_READS: tuple[_Step, ...] = (
    _merlin("GetRecord", "missing person on the PNC", recordId="MER/2026/000001"),
    _merlin("GetRecord", "child at risk: nil fields, several linked refs",
            recordId="MER/2026/000003"),
    _merlin("GetRecord", "found safe, no linked refs", recordId="MER/2026/000005"),
    _merlin("GetRecord", "unknown record", fault=True, recordId="MER/2026/999999"),
    _merlin("GetRecord", "malformed record id", fault=True, recordId="MER-2026-17"),
    _merlin("SearchRecords", "surname and forename, ranked", surname="Quillfeather",
            forenames="Ophelia"),
    _merlin("SearchRecords", "surname prefix and date of birth", surname="thistle",
            dateOfBirth="1961-03-14"),
    _merlin("SearchRecords", "closed records left out", surname="Ashgrove"),
    _merlin("SearchRecords", "closed records asked for", surname="Ashgrove", includeClosed=True),
    _merlin("SearchRecords", "no match is an empty result", surname="Zzyzx-Nonesuch"),
    _merlin("SearchRecords", "date of birth not xs:date", fault=True, surname="Golightly",
            dateOfBirth="30/09/1965"),
)

def _metsearch(label: str, *, fault: bool = False, **args: Any) -> _Step:
    return _Step("/metsearch", "Search", label, args, fault)


#: MetSearch: one search across PNC, CRIS and MERLIN, hits merged by person and ranked. None
#: of these people is written by the scenario: a shadowed search runs after the bus's, and a
#: crime or record filed in between would be found by one side only.
_METSEARCH: tuple[_Step, ...] = (
    _metsearch("one person in all three sources, another in PNC only", surname="Thistlewood"),
    _metsearch("a PNC person and a MERLIN record of no PNC person", surname="Quillfeather"),
    _metsearch("forenames and date of birth raise the score", surname="Golightly",
               forenames="Rufus", dateOfBirth="30/09/1965"),
    _metsearch("a victim of two crimes", surname="Fennimore-Keane"),
    _metsearch("MERLIN's surname prefix only", surname="Lindqvist"),
    _metsearch("no match in any source", surname="Zzyzx-Nonesuch"),
    _metsearch("ISO date, not DD/MM/YYYY", fault=True, surname="Penhallow",
               dateOfBirth="1975-05-09"),
)

#: the enquiries and searches: fixed requests, whatever the bus holds
_READS: tuple[_Step, ...] = (
    _pnc("surname with two matches", surname="Thistlewood"),
    _pnc("surname and forename", surname="THISTLEWOOD", forenames="Barnaby"),
    _pnc("surname and date of birth", surname="Penhallow", dateOfBirth="09/05/1975"),
    _pnc("family at one address", surname="Marchbank"),
    _pnc("forename prefix", surname="ashgrove", forenames="win"),
    _pnc("missing person", surname="Quillfeather"),
    _pnc("wanted, with warning markers", surname="Blackthorn"),
    _pnc("born on a leap day", surname="Drummond-Vale", dateOfBirth="29/02/1968"),
    _pnc("missing teenager", surname="Lindqvist-Hart"),
    _pnc("no match is an empty list", surname="Zzyzx-Nonesuch"),
    _pnc("ISO date, not DD/MM/YYYY", fault=True, surname="Golightly", dateOfBirth="1965-09-30"),
    _pnc("no such calendar date", fault=True, surname="Ormerod", dateOfBirth="31/02/1958"),
    *(_pnc("known vehicle", registrationMark=mark) for mark in _KNOWN_VEHICLES),
    _pnc("unknown vehicle", fault=True, registrationMark="ZZ99 ZZZ"),
    _pnc("unknown vehicle", fault=True, registrationMark="TB00 NON"),
    _geo("postcode", postcode="TB1 4LX"),
    _geo("postcode without a space", postcode="tb25sa"),
    _geo("postcode", postcode="TB3 9WS"),
    _geo("address line", addressLine="52 Quarry Lane, Turnbridge"),
    _geo("address line, odd case", addressLine="turnbridge market square"),
    _geo("postcode wins", postcode="TB3 6RW", addressLine="9 Brackenfold Way, Turnbridge"),
    _geo("unknown postcode", fault=True, postcode="TB9 9ZZ"),
    _geo("neither address nor postcode", fault=True),
    _cris("SearchCrimeReports", "by offence", offenceCode="BURG"),
    _cris("SearchCrimeReports", "by beat", beatCode="TC02"),
    _cris("SearchCrimeReports", "by offence and beat", offenceCode="TOMV", beatCode="TN02"),
    *(
        _cris("SearchCrimeReports", "paged", beatCode="TC01", pageNumber=page, pageSize=1)
        for page in (1, 2, 3)
    ),
    _cris("SearchCrimeReports", "no criteria", fault=True, pageNumber=1, pageSize=10),
    *(
        _cris("GetCrimeReport", "seeded crime", crimeReference=f"CR/2026/000{number}")
        for number in (101, 104, 108, 110)
    ),
    _cris("GetCrimeReport", "unknown reference", fault=True, crimeReference="CR/2026/999999"),
    _cris("GetCrimeReport", "malformed reference", fault=True, crimeReference="CR-2026-17"),
    *_MERLIN_READS,
    *_METSEARCH,
)


_NEW_CRIMES: tuple[dict[str, str], ...] = (
    {
        "offenceCode": "THFV",
        "committedDate": "20260305",
        "committedTime": "2215",
        "beatCode": "TS02",
        "addressLine": "112 Riverside Walk, Turnbridge",
        "postcode": "TB3 6RW",
        "summary": "Rear window of a parked hatchback smashed, rucksack taken from the back seat.",
        "reportingOfficer": "PC5518",
        "victimPncId": "98/136620Y",
    },
    {
        "offenceCode": "CRDM",
        "committedDate": "20260308",
        "beatCode": "TN01",
        "addressLine": "14 Larkspur Close, Turnbridge",
        "postcode": "TB1 4LX",
        "summary": "Garden fence panels kicked through overnight.",
        "reportingOfficer": "PC4127",
    },
    {
        "offenceCode": "SHOP",
        "committedDate": "20260311",
        "committedTime": "1105",
        "beatCode": "TC01",
        "addressLine": "Turnbridge Market Square",
        "postcode": "TB2 2MS",
        "summary": "Two phone chargers taken from a stall, suspect detained by the stallholder.",
        "reportingOfficer": "PC3309",
    },
)


def _crime_reports(run: _Run) -> list[str]:
    """Files the new crimes and reads each back; returns their references."""
    references = []
    for crime in _NEW_CRIMES:
        reply = _body(run.call(_Step("/cris", "CreateCrimeReport", "new crime", dict(crime))))
        if reply is not None:
            references.append(reply.crimeReference)
    bad_date = {**_NEW_CRIMES[1], "committedDate": "20261341"}
    run.call(_Step("/cris", "CreateCrimeReport", "no such calendar date", bad_date, fault=True))
    for reference in references:
        run.call(_cris("GetCrimeReport", "read back a new crime", crimeReference=reference))
    run.call(_cris("SearchCrimeReports", "new crime on its beat", beatCode="TS02"))
    return references


def _witness(surname: str, forenames: str, born: str, address: str, code: str) -> dict[str, str]:
    return {
        "surname": surname,
        "forenames": forenames,
        "dateOfBirth": born,
        "addressLine": address,
        "postcode": code,
    }


_WITNESSES = (
    _witness("Oakenshaw", "Wilhelmina", "17/06/1971", "110 Riverside Walk, Turnbridge", "TB3 6RW"),
    _witness("Featherstonehaugh", "Crispin Lyle", "03/10/1984", "16 Larkspur Close", "TB1 4LX"),
    _witness("Abernathy-Quince", "Delphine", "29/02/2000", "Turnbridge Market Square", "TB2 2MS"),
)


def _statement(label: str, *, fault: bool = False, **args: Any) -> _Step:
    args = {"officerId": "PC5518", **args}
    return _Step("/eforms", "SubmitWitnessStatement", label, args, fault)


def _statements(run: _Run, references: list[str]) -> None:
    targets = (references + ["CR/2026/000104"] * len(_WITNESSES))[: len(_WITNESSES)]
    for witness, reference in zip(_WITNESSES, targets, strict=True):
        text = f"I saw what happened and I am willing to attend court ({reference})."
        step = _statement(
            "witness statement", witness=witness, statementText=text, crimeReference=reference
        )
        run.call(step)
    unknown_crime = _statement(
        "unknown crime reference",
        fault=True,
        witness=_WITNESSES[0],
        statementText="I heard shouting.",
        crimeReference="CR/2026/999999",
    )
    run.call(unknown_crime)
    iso_date = _statement(
        "ISO date of birth",
        fault=True,
        witness={**_WITNESSES[1], "dateOfBirth": "1984-10-03"},
        statementText="I saw a cyclist.",
        crimeReference="CR/2026/000108",
    )
    run.call(iso_date)
    signed = _statement(
        "statement with a signature image (MTOM)",
        witness=_WITNESSES[2],
        statementText="I saw what happened and I sign this statement.",
        crimeReference=targets[0],
        signature=SIGNATURE_PNG,
    )
    run.call_mtom(signed, "signature", "image/png")


#: the witness's signature image (a small real PNG), sent as an MTOM attachment
SIGNATURE_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAgAAAAECAAAAACWpiEsAAAAJElEQVR4nGNgUPXKn7LzHjNDdMPSU+9FLOMYtt2GiDEImkHE"
    "APZkDkFvhLuqAAAAAElFTkSuQmCC"
)


_NEW_MERLIN_RECORDS: tuple[dict[str, Any], ...] = (
    {
        "recordType": "MISSING",
        "riskLevel": "HIGH",
        "subject": {
            "surname": "Nakamura-Bell",
            "forenames": "Hana",
            "dateOfBirth": "1996-03-11",
            "pncId": "98/136620Y",
        },
        "lastSeenAt": "2026-03-10T18:45:00Z",
        "lastSeenLocation": "Riverside Walk, Turnbridge",
        "circumstances": "Did not arrive for a night shift; car found at the riverside car park.",
        "linkedRefs": {"string": ["CR/2026/000108"]},
        "reportingOfficer": "DC0912",
    },
    {
        "recordType": "CHILD_AT_RISK",
        "riskLevel": "CRITICAL",
        "subject": {
            "surname": "Pemberthy",
            "forenames": "Maisie",
            "dateOfBirth": "2017-10-05",
            "pncId": None,
        },
        "lastSeenAt": None,
        "lastSeenLocation": None,
        "circumstances": "Sibling of a child already at risk; same household, same concerns.",
        "linkedRefs": {"string": ["MER/2026/000003", "MER/2026/000004", "CR/2026/000104"]},
        "reportingOfficer": "DC0912",
    },
)


def _merlin_records(run: _Run) -> None:
    """Files the new MERLIN records, one refused, and reads each filed one back."""
    record_ids = []
    for record in _NEW_MERLIN_RECORDS:
        step = _merlin("CreateRecord", "new record", record=dict(record))
        reply = _body(run.call(step))
        if reply is not None:
            record_ids.append(reply.CreateRecordResult.recordId)
    severe = {**_NEW_MERLIN_RECORDS[0], "riskLevel": "SEVERE"}
    run.call(_merlin("CreateRecord", "risk level not in the enumeration", fault=True,
                     record=severe))
    for record_id in record_ids:
        run.call(_merlin("GetRecord", "read back a new record", recordId=record_id))


#: an authenticating bus's refusals: a role the officer lacks, a password that is wrong
_REFUSALS: tuple[_Step, ...] = (
    _Step("/cris", "CreateCrimeReport", "PC4127 may not file a crime", dict(_NEW_CRIMES[1]),
          fault=True, officer="PC4127", error=FORBIDDEN),
    _Step("/pnc", "VehicleEnquiry", "PCSO9001 may not check a vehicle",
          {"registrationMark": "TB19 XKF"}, fault=True, officer="PCSO9001", error=FORBIDDEN),
    _Step("/pnc", "PersonEnquiry", "wrong password", {"surname": "Thistlewood"}, fault=True,
          officer="PC4127", password="not-the-password", error=AUTHENTICATION_FAILED),
)


def _check_officers(identity: DemoIdentity) -> None:
    wanted = set(DESK_OFFICERS.values()) | {step.officer for step in _REFUSALS if step.officer}
    missing = sorted(wanted - set(identity.officers))
    if missing:
        raise ValueError(f"the scenario signs as {', '.join(missing)}: not in the identity given")


def run_scenario(base_url: str, identity: DemoIdentity | None = None) -> list[ScenarioCall]:
    """Drive the scripted scenario at `base_url` (`http://host:port`); one entry per call.

    With `identity` (the bus's officers, e.g. `DemoIdentity.load()`), every call is signed by
    its desk's officer and the refusals are made too. Raises only when the bus cannot be
    reached or its WSDLs cannot be read, or `identity` lacks an officer the script signs as.
    """
    if identity is not None:
        _check_officers(identity)
    with requests.Session() as session:
        run = _Run(base_url, session, identity)
        for step in _READS:
            run.call(step)
        references = _crime_reports(run)
        _statements(run, references)
        _merlin_records(run)
        if identity is not None:
            for step in _REFUSALS:
                run.call(step)
    return run.calls
