"""The access audit trail (issue 11): one append-only line per request that reaches personal data.

Every SOAP request the proxy reads (readable or not, refused threats included; WSDL GETs and
other bodiless requests excepted) gets one JSON line: when (UTC), its request id, who asked
(the caller's own id, and whether it was verified), which operation, which route answered and
how, the HTTP status, and a keyed hash (HMAC-SHA256 under the audit key) of each subject
identifier the request named. Never a raw value: with the key, an investigator can find every
access to one person (`turnout audit who-accessed`); without it, the trail names nobody.

Separate from recordings: its own directory (0700), files (0600), key and retention, and
written whatever the recording settings. Off unless turnout.yaml has an `audit:` section.
Layer: may import soap and config; the proxy hosts and the CLI use it.
"""

from ._hash import AuditKey, combine, load_key, normalise
from ._identifiers import DEFAULT_COMBINED, DEFAULT_NAMES, MAX_PER_REQUEST, Found, IdentifierFinder
from ._line import (
    FORMAT,
    OFFICER_HEADER,
    REQUEST_ID_HEADER,
    WSSE_NS,
    Subject,
    access_line,
    answered_by,
    request_id_for,
    safe_notes,
    subject_of,
)
from ._query import Access, by_subject, kinds_of, read_lines, search_terms, who_accessed
from ._query import Found as Matches
from ._record import Audit, open_audit
from ._trail import AuditTrail, day_file, day_files, prune

__all__ = [
    "Access", "Audit", "AuditKey", "AuditTrail", "DEFAULT_COMBINED", "DEFAULT_NAMES", "FORMAT",
    "Found", "IdentifierFinder", "MAX_PER_REQUEST", "Matches", "OFFICER_HEADER",
    "REQUEST_ID_HEADER", "Subject", "WSSE_NS", "access_line", "answered_by", "by_subject",
    "combine", "day_file", "day_files", "kinds_of", "load_key", "normalise", "open_audit",
    "prune", "read_lines", "request_id_for", "safe_notes", "search_terms", "subject_of",
    "who_accessed",
]
