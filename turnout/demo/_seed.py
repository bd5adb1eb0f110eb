"""The fixed rows every `DemoStore` starts from. All of it is invented.

Plain tuples, turned into records by `data.py`. The town of Turnbridge, its `TB` postcodes, its
beats and everybody in it are fictional; any resemblance to real people is accidental. Edit with
care: tests and golden recordings read these values.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

REFERENCE_YEAR = 2026
#: seeded crimes are CR/2026/000101..000110; the first one filed through a store gets this number
FIRST_NEW_CRIME_NUMBER = 111

# location_id, address line, postcode, latitude, longitude, beat
LOCATIONS: tuple[tuple[str, str, str, float, float, str], ...] = (
    ("LOC01", "14 Larkspur Close, Turnbridge", "TB1 4LX", 51.061204, -1.812337, "TN01"),
    ("LOC02", "3 Hollowmead Rise, Turnbridge", "TB1 7HQ", 51.064418, -1.806925, "TN02"),
    ("LOC03", "27 Quillon Terrace, Turnbridge", "TB2 1QT", 51.057730, -1.798441, "TC01"),
    ("LOC04", "Flat 6, Marchbank House, Turnbridge", "TB2 3MB", 51.055962, -1.801178, "TC01"),
    ("LOC05", "88 Station Approach, Turnbridge", "TB2 5SA", 51.053310, -1.795026, "TC02"),
    ("LOC06", "1 Old Tannery Yard, Turnbridge", "TB2 8TY", 51.052147, -1.792803, "TC02"),
    ("LOC07", "52 Quarry Lane, Turnbridge", "TB3 2QL", 51.046885, -1.809512, "TS01"),
    ("LOC08", "9 Brackenfold Way, Turnbridge", "TB3 4BW", 51.044720, -1.813360, "TS01"),
    ("LOC09", "112 Riverside Walk, Turnbridge", "TB3 6RW", 51.042903, -1.800644, "TS02"),
    ("LOC10", "The Lantern Inn, Wharf Street, Turnbridge", "TB3 9WS", 51.041266, -1.797175, "TS02"),
    ("LOC11", "Unit 4, Thornbury Trading Estate, Turnbridge", "TB1 9TE",
     51.066051, -1.820490, "TN02"),
    ("LOC12", "Turnbridge Market Square", "TB2 2MS", 51.056604, -1.799983, "TC01"),
)

# pnc_id, surname, forenames, born on, sex, location_id, warning markers, wanted, missing
PEOPLE: tuple[tuple[str, str, str, date, str, str, tuple[str, ...], bool, bool], ...] = (
    ("98/104233K", "Thistlewood", "Marjorie Anne", date(1961, 3, 14),
     "F", "LOC01", (), False, False),
    ("98/118402B", "Thistlewood", "Barnaby", date(1988, 7, 2), "M", "LOC01", ("VI",), True, False),
    ("98/120577D", "Quillfeather", "Ophelia Rose", date(1994, 11, 23),
     "F", "LOC02", ("SH",), False, True),
    ("98/099812F", "Penhallow", "Desmond Arthur", date(1975, 5, 9),
     "M", "LOC03", ("FI", "VI"), False, False),
    ("98/131190H", "Marchbank", "Tobias", date(2001, 1, 30), "M", "LOC04", ("DR",), False, False),
    ("98/125561J", "Fennimore-Keane", "Priya", date(1983, 9, 17), "F", "LOC05", (), False, False),
    ("98/087345L", "Ashgrove", "Winifred May", date(1949, 12, 25), "F", "LOC06", (), False, False),
    ("98/127730M", "Blackthorn", "Caspian", date(1992, 4, 4),
     "M", "LOC07", ("WE", "VI"), True, False),
    ("98/129014N", "Okonkwo-Bramble", "Adaeze", date(1990, 6, 12), "F", "LOC08", (), False, False),
    ("98/093368P", "Drummond-Vale", "Hamish", date(1968, 2, 29),
     "M", "LOC09", ("MH",), False, False),
    ("98/133872Q", "Pemberthy", "Rowena", date(1999, 8, 8), "F", "LOC10", (), False, False),
    ("98/122459R", "Kowalczyk-Frost", "Jakub", date(1987, 10, 19),
     "M", "LOC11", ("ES",), False, False),
    ("98/088121S", "Ashgrove", "Cedric", date(1951, 3, 3), "M", "LOC06", (), False, False),
    ("98/140306T", "Lindqvist-Hart", "Saoirse", date(2003, 5, 21), "F", "LOC12", (), False, True),
    ("98/097702U", "Marchbank", "Eleanor Grace", date(1972, 12, 1), "F", "LOC04", (), False, False),
    ("98/110648V", "Vanterpool", "Ignatius", date(1979, 7, 27),
     "M", "LOC02", ("FI",), False, False),
    ("98/101955W", "Penhallow", "Tamsin", date(1977, 2, 14), "F", "LOC03", (), False, False),
    ("98/091207X", "Golightly", "Rufus Edmund", date(1965, 9, 30),
     "M", "LOC05", ("SU", "SH"), False, False),
    ("98/136620Y", "Nakamura-Bell", "Hana", date(1996, 3, 11), "F", "LOC09", (), False, False),
    ("98/084419Z", "Ormerod", "Percival", date(1958, 1, 6), "M", "LOC07", ("CO",), False, False),
)

# registration, make, model, colour, keeper pnc_id, first registered, insured, stolen
VEHICLES: tuple[tuple[str, str, str, str, str, date, bool, bool], ...] = (
    ("TB19 XKF", "FORD", "FOCUS", "BLU", "98/118402B", date(2019, 3, 1), True, False),
    ("TB68 LMR", "VAUXHALL", "ASTRA", "SIL", "98/104233K", date(2018, 9, 1), True, False),
    ("TB21 QPA", "TOYOTA", "YARIS", "RED", "98/120577D", date(2021, 3, 12), True, False),
    ("TB15 DVE", "LAND ROVER", "DEFENDER", "GRN", "98/099812F", date(2015, 6, 20), True, False),
    ("TB70 HNW", "VOLKSWAGEN", "GOLF", "BLK", "98/131190H", date(2020, 10, 2), False, False),
    ("TB17 ZRC", "NISSAN", "QASHQAI", "GRY", "98/125561J", date(2017, 4, 7), True, True),
    ("TB09 WMA", "ROVER", "75", "MAR", "98/087345L", date(2009, 5, 15), True, False),
    ("TB64 KTB", "BMW", "320D", "BLK", "98/127730M", date(2014, 11, 3), False, False),
    ("TB22 OAB", "KIA", "NIRO", "WHI", "98/129014N", date(2022, 7, 22), True, False),
    ("TB12 DVH", "VOLVO", "V70", "SIL", "98/093368P", date(2012, 2, 29), True, False),
    ("TB71 RPY", "FIAT", "500", "YEL", "98/133872Q", date(2021, 9, 9), True, False),
    ("TB66 JKF", "FORD", "TRANSIT", "WHI", "98/122459R", date(2016, 12, 1), True, True),
    ("TB11 CAS", "SKODA", "OCTAVIA", "BLU", "98/088121S", date(2011, 8, 30), True, False),
    ("TB20 IVP", "MERCEDES-BENZ", "C220", "GRY", "98/110648V", date(2020, 1, 17), True, False),
    ("TB18 RUF", "HONDA", "JAZZ", "BRO", "98/091207X", date(2018, 4, 4), False, True),
)

# reference, offence, committed on, at, beat, address, postcode, summary, officer, status,
# recorded on, victim pnc_id
CRIMES: tuple[
    tuple[str, str, date, time | None, str, str, str, str, str, str, date, str | None], ...
] = (
    ("CR/2026/000101", "BURG", date(2026, 1, 4), time(2, 15), "TN01",
     "14 Larkspur Close, Turnbridge",
     "TB1 4LX", "Rear door forced, jewellery box and laptop taken.", "PC4127", "INV",
     date(2026, 1, 4), "98/104233K"),
    ("CR/2026/000102", "THFV", date(2026, 1, 9), time(23, 40), "TC02",
     "88 Station Approach, Turnbridge",
     "TB2 5SA", "Nearside window smashed, sat-nav removed from dashboard.", "PC3309", "REC",
     date(2026, 1, 10), "98/125561J"),
    ("CR/2026/000103", "TOMV", date(2026, 1, 17), None, "TC02", "88 Station Approach, Turnbridge",
     "TB2 5SA", "Grey Nissan taken from residents' car park overnight.", "PC3309", "INV",
     date(2026, 1, 18), "98/125561J"),
    ("CR/2026/000104", "ASLT", date(2026, 1, 24), time(22, 5), "TS02",
     "The Lantern Inn, Wharf Street, Turnbridge",
     "TB3 9WS", "Victim punched outside the public house, cut above the eye.", "PS2210", "INV",
     date(2026, 1, 24), "98/133872Q"),
    ("CR/2026/000105", "CRDM", date(2026, 2, 2), time(1, 30), "TC01", "Turnbridge Market Square",
     "TB2 2MS", "Two market stall canopies slashed.", "PC4127", "NFA",
     date(2026, 2, 2), None),
    ("CR/2026/000106", "SHOP", date(2026, 2, 6), time(15, 20), "TC01", "Turnbridge Market Square",
     "TB2 2MS", "Cosmetics worth 40 pounds taken from a stall, suspect ran towards the station.",
     "PC5518", "CLD", date(2026, 2, 6), None),
    ("CR/2026/000107", "BURG", date(2026, 2, 11), None, "TS01", "52 Quarry Lane, Turnbridge",
     "TB3 2QL", "Shed broken into, power tools taken.", "PC5518", "REC",
     date(2026, 2, 12), "98/084419Z"),
    ("CR/2026/000108", "ROBB", date(2026, 2, 14), time(19, 45), "TS02",
     "112 Riverside Walk, Turnbridge",
     "TB3 6RW", "Phone snatched from victim by a cyclist.", "DC0912", "INV",
     date(2026, 2, 14), "98/136620Y"),
    ("CR/2026/000109", "DRUG", date(2026, 2, 20), time(21, 10), "TN02",
     "Unit 4, Thornbury Trading Estate, Turnbridge",
     "TB1 9TE", "Small quantity of cannabis found during a stop search.", "PC3309", "CLD",
     date(2026, 2, 20), None),
    ("CR/2026/000110", "TOMV", date(2026, 3, 1), None, "TN02",
     "Unit 4, Thornbury Trading Estate, Turnbridge",
     "TB1 9TE", "White Ford Transit taken from the yard.", "PC4127", "REC",
     date(2026, 3, 2), "98/122459R"),
)

#: seeded MERLIN records are MER/2026/000001..000008; the first one created gets this number
FIRST_NEW_MERLIN_NUMBER = 9


def _utc(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# MERLIN: records of missing persons and of children and adults at risk. Several subjects are
# PNC persons (pnc_id set), so a search across PNC and MERLIN can merge them.
# record_id, type, risk, status, surname, forenames, born on, pnc_id, last seen at,
# last seen location, circumstances, linked refs, officer, reported at
MERLIN_RECORDS: tuple[
    tuple[str, str, str, str, str, str, date, str | None, datetime | None, str | None, str,
          tuple[str, ...], str, datetime], ...
] = (
    ("MER/2026/000001", "MISSING", "HIGH", "OPEN", "Quillfeather", "Ophelia Rose",
     date(1994, 11, 23), "98/120577D", _utc(2026, 3, 6, 21, 40), "Hollowmead Rise, Turnbridge",
     "Left home after an argument without her medication; phone switched off.",
     ("MER/2026/000006",), "PC4127", _utc(2026, 3, 7, 8, 5)),
    ("MER/2026/000002", "MISSING", "CRITICAL", "OPEN", "Lindqvist-Hart", "Saoirse",
     date(2003, 5, 21), "98/140306T", _utc(2026, 3, 8, 23, 15), "Turnbridge Market Square",
     "Did not return from a night out; last seen getting into a grey hatchback.",
     ("CR/2026/000105", "CR/2026/000106"), "DC0912", _utc(2026, 3, 9, 6, 30)),
    ("MER/2026/000003", "CHILD_AT_RISK", "HIGH", "OPEN", "Pemberthy", "Alfie",
     date(2013, 6, 2), None, None, None,
     "Referred by his school: repeated absences and unexplained injuries.",
     ("CR/2026/000104", "MER/2026/000004", "MER/2026/000002"), "DC0912",
     _utc(2026, 2, 27, 14, 20)),
    ("MER/2026/000004", "ADULT_AT_RISK", "HIGH", "OPEN", "Golightly", "Rufus Edmund",
     date(1965, 9, 30), "98/091207X", None, None,
     "Told a neighbour he saw no way forward; known to the crisis team.",
     ("CR/2026/000102",), "PC5518", _utc(2026, 3, 1, 10, 45)),
    ("MER/2026/000005", "MISSING", "LOW", "FOUND", "Marchbank", "Tobias",
     date(2001, 1, 30), "98/131190H", _utc(2026, 2, 14, 18, 0), "Station Approach, Turnbridge",
     "Missed a family birthday; found safe at a friend's flat the next day.",
     (), "PC3309", _utc(2026, 2, 15, 9, 10)),
    ("MER/2026/000006", "CHILD_AT_RISK", "MEDIUM", "OPEN", "Quillfeather", "Juniper",
     date(2016, 4, 9), None, None, None,
     "Cared for by an older sister who is now reported missing.",
     ("MER/2026/000001",), "PC4127", _utc(2026, 3, 7, 8, 40)),
    ("MER/2026/000007", "ADULT_AT_RISK", "LOW", "CLOSED", "Ashgrove", "Winifred May",
     date(1949, 12, 25), "98/087345L", _utc(2026, 1, 20, 16, 30), "Old Tannery Yard, Turnbridge",
     "Found wandering at dusk, confused; now supported by a care package.",
     (), "PCSO9001", _utc(2026, 1, 20, 19, 5)),
    ("MER/2026/000008", "MISSING", "MEDIUM", "OPEN", "Thistlewood", "Marjorie Anne",
     date(1961, 3, 14), "98/104233K", _utc(2026, 3, 9, 11, 0), None,
     "Walked out of a day centre; has early-stage dementia.",
     ("CR/2026/000101",), "PC5518", _utc(2026, 3, 9, 12, 25)),
)
