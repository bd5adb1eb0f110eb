"""Names a scaffold proposes: JSON names, file names, paths, and guesses from names and docs.

Every guess here is a proposal a person confirms: the mapping file marks each with a TODO.
"""

from __future__ import annotations

import re

_WORDS = re.compile(r"[A-Z]+(?=[A-Z][a-z0-9]|\b|_|$)|[A-Z]?[a-z0-9]+|[A-Z]+")
#: operation names that read: proposed as GET (when the request is flat)
_READ = re.compile(
    r"^(get|search|find|list|query|lookup|look_?up|resolve|check|read|fetch|retrieve|"
    r"enquir|inquir|is|has|echo|say|greet|validate)|(enquiry|inquiry|lookup|search|status)$",
    re.IGNORECASE,
)
#: operation names that change state: proposed as `writes: true`
_WRITE = re.compile(
    r"^(create|add|insert|update|set|delete|remove|submit|save|raise|cancel|register|put|"
    r"post|send|store|assign|close|open|approve|reject|book|issue|amend|modify|record)",
    re.IGNORECASE,
)
_DATE_TOKENS = re.compile(
    r"(?:YYYY|YY|DD|MM|HH|hh|mm|SS|ss)(?:[/\-.: T]?(?:YYYY|YY|DD|MM|HH|hh|mm|SS|ss))+"
)


def words(name: str) -> list[str]:
    return [w for w in _WORDS.findall(name.replace("-", "_")) if w]


def camel(name: str) -> str:
    """`PersonEnquiryResponse` -> `personEnquiryResponse`, `URL_path` -> `urlPath`."""
    parts = words(name) or ["value"]
    first = parts[0].lower()
    rest = "".join(p[:1].upper() + p[1:].lower() if p.isupper() else p[:1].upper() + p[1:]
                   for p in parts[1:])
    result = first + rest
    return result if result[:1].isalpha() else f"f{result}"


def snake(name: str) -> str:
    return "_".join(w.lower() for w in words(name)) or "operation"


def kebab(name: str) -> str:
    return "-".join(w.lower() for w in words(name)) or "operation"


def unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate = f"{name}{n}"
        n += 1
    taken.add(candidate)
    return candidate


def looks_like_read(operation: str) -> bool:
    return bool(_READ.search(operation)) and not looks_like_write(operation)


def looks_like_write(operation: str) -> bool:
    return bool(_WRITE.search(operation))


def date_format(documentation: str | None) -> str | None:
    """A strftime format from a type's documentation (`DD/MM/YYYY` -> `%d/%m/%Y`), or None."""
    if not documentation:
        return None
    match = _DATE_TOKENS.search(documentation)
    if match is None:
        return None
    text, out, position, previous = match.group(0), [], 0, ""
    tokens = re.finditer(r"YYYY|YY|DD|MM|HH|hh|mm|SS|ss|[/\-.: T]", text)
    for token in tokens:
        value = token.group(0)
        if value == "MM":
            out.append("%M" if previous in ("HH", "hh") else "%m")
        else:
            out.append({"YYYY": "%Y", "YY": "%y", "DD": "%d", "HH": "%H", "hh": "%H",
                        "mm": "%M", "SS": "%S", "ss": "%S"}.get(value, value))
        if value.strip(" /-.:T"):
            previous = value
        position = token.end()
    del position
    fmt = "".join(out)
    return fmt if "%" in fmt else None


def service_name(path: str | None, fallback: str) -> str:
    """`/pnc` -> `pnc`; the last path segment, lower-case, else the WSDL service's name."""
    segments = [s for s in (path or "").split("/") if s]
    base = segments[-1] if segments else fallback
    name = re.sub(r"[^a-z0-9]+", "-", base.lower()).strip("-")
    if not name:
        name = re.sub(r"[^a-z0-9]+", "-", fallback.lower()).strip("-") or "service"
    return name
