"""Redaction by value: a value hidden anywhere in an exchange is hidden wherever else it appears.

Rules name fields; values travel. The surname a `body:` rule hides in the request comes back in
the bus's Fault text, in a translator's error message, in the JSON call's path, in the URL the
client used, in a note. So every value a rule hides (and every credential) is collected, and
then looked for in every string of the exchange: the request target, every header, every text,
attribute, comment and processing instruction of every body, every string of the JSON calls and
replies, errors, diff paths and values, notes.

A value is found in any spelling the exchange can hold it in:
- any case (`THISTLEWOOD` for `Thistlewood`);
- its separators spelled differently or left out (`TB19XKF` for `TB19 XKF`, `30\\09\\1965`, as
  `repr` doubles a backslash, for `30\09\1965`), including as escapes: `%20`, `\u0020`,
  `&#32;`, `\n`;
- its letters escaped: URL percent-encoding, JSON and `repr` escapes, XML character
  references (`Zo%C3%AB`, `Zo\u00eb`, `Zo\xeb`, `Zo&#235;` for `Zoë`); XML bodies are searched
  after parsing, so entities are already resolved there;
- a date in each of the formats the pseudonymiser knows (`14/03/1961`, `1961-03-14`,
  `19610314`).
It is matched as a whole word: not inside a longer run of letters or digits.

What replaces it is the token its field got, spelled like the occurrence: the pseudonymiser
keeps runs of letters and digits apart, so each run of the occurrence takes the matching run of
the token, in the occurrence's case, and its separators stay as they are (`TB19XKF` becomes
`AL93VHU` where `TB19 XKF` became `AL93 VHU`): the same person keeps one token, and a
translator replayed on the pseudonymised request still builds the recorded call. Where the
token has another shape (the fixed `REDACTED`), the whole occurrence becomes the token.

Values of fewer than three letters and digits are not looked for elsewhere: `M`, `Y`, `98`
appear in every message, and hiding each of them would hide nothing but meaning.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache, partial
from typing import NamedTuple

from ._pseudonym import format_date, parse_date

#: runs of letters, runs of digits: the pseudonymiser's own units
_RUN = re.compile(r"[^\W\d_]+|\d+")
#: the fewest letters and digits a value needs to be looked for beyond its own field
MIN_PROPAGATED = 3

# One unit of a separator: a character that is no letter or digit, or an escape of one.
_SEP_UNIT = (
    r"(?:%[0-9a-f]{2}|\\u[0-9a-f]{4}|\\x[0-9a-f]{2}|&#?[0-9a-z]+;|\\[nrt]|[\W_])"
)
_SEP = _SEP_UNIT + "{0,8}"
# Not inside a word; an escape just before (`%20Smith`, `\nSmith`) is no part of the word.
# Checked on the text around a match, not in each value's regex (compiling is the cost).
_ESCAPE_BEFORE = re.compile(r"(?:%[0-9a-f]{2}|\\u[0-9a-f]{4}|\\x[0-9a-f]{2}|\\[nrt])$", re.IGNORECASE)
_DATETIME_AFTER = re.compile(r"T\d")  # a date of birth may be a datetime's first half

_DATE_FORMATS = (
    (re.compile(r"\d{2}/\d{2}/\d{4}"), "%d/%m/%Y"),
    (re.compile(r"\d{4}-\d{2}-\d{2}"), "%Y-%m-%d"),
    (re.compile(r"\d{8}"), "%Y%m%d"),
)


#: from the first letter or digit to the last: `[^\W_]` is `_RUN`'s two classes together
_CORE = re.compile(r"[^\W_](?:.*[^\W_])?", re.DOTALL)


def core(text: str) -> str:
    """`text` from its first letter or digit to its last ('' when it has none)."""
    match = _CORE.search(text)
    return match.group() if match else ""


def _char(c: str) -> str:
    """A regex for one letter or digit, in any escaping a message may hold it in."""
    if c.isascii():
        return re.escape(c)
    forms = {re.escape(c)}
    for variant in {c, c.lower(), c.upper()}:
        if len(variant) != 1:
            continue
        point = ord(variant)
        forms.add("".join(f"%{byte:02x}" for byte in variant.encode("utf-8")))
        forms.add(rf"\\u{point:04x}" if point <= 0xFFFF else rf"\\U{point:08x}")
        if point < 256:
            forms.add(rf"\\x{point:02x}")
        forms.add(f"&#0*{point};")
        forms.add(f"&#x0*{point:x};")
    return "(?:" + "|".join(sorted(forms, key=len, reverse=True)) + ")"


def _pattern(value: str, capture: bool, shape_only: bool = False) -> str:
    """The regex of `value` (a core): its runs, with any separator where it has one. With
    `shape_only`, each run is any run of its class and length (one regex for every value of
    that shape; the runs found are then looked up)."""
    pieces = []
    runs = list(_RUN.finditer(value))
    for index, run in enumerate(runs):
        if index and runs[index - 1].end() < run.start():
            pieces.append(_SEP)
        text = run.group()
        if shape_only:
            body = f"[0-9]{{{len(text)}}}" if text.isdigit() else f"[A-Za-z]{{{len(text)}}}"
        else:
            body = "".join(_char(c) for c in text)
        pieces.append(f"({body})" if capture else f"(?:{body})")
    return "".join(pieces)


Shape = tuple[tuple[bool, int, bool], ...]


class _Analysis(NamedTuple):
    """What `add` needs to know of a value, worked out once per value (`_analyse`)."""

    runs: tuple[str, ...]
    #: (digits?, length, separator before?) of each run, for a value of ASCII letters and
    #: digits only; None for any other (it gets a regex of its own)
    shape: Shape | None
    pieces: tuple[str, ...]  # `_pieces`
    letters: int  # letters and digits in all
    lowered: tuple[str, ...]  # the runs, lower-cased
    lengths: tuple[int, ...]  # of the runs
    digits: tuple[bool, ...]  # whether each run is digits (`str.isdigit`)


@lru_cache(maxsize=4096)
def _analyse(value: str) -> _Analysis:
    """`value`'s runs, shape and pieces (the same values come back in every exchange: an
    officer, a vehicle)."""
    runs: list[str] = []
    shape: list[tuple[bool, int, bool]] | None = []
    end = -1
    for match in _RUN.finditer(value):
        run = match.group()
        if shape is not None:
            if run.isascii():
                shape.append((run.isdigit(), len(run), end != -1 and end < match.start()))
            else:
                shape = None
        runs.append(run)
        end = match.end()
    lengths = tuple(map(len, runs))
    return _Analysis(tuple(runs), None if shape is None else tuple(shape), _pieces(value),
                     sum(lengths), tuple(map(str.lower, runs)), lengths,
                     tuple(map(str.isdigit, runs)))


def _boundaries(text: str, start: int, end: int, date: bool) -> bool:
    """Whether text[start:end] is a whole word: no letter or digit just before (but an escape
    may end there) or just after (but a datetime's `T12:00`, for a date)."""
    if start and text[start - 1].isalnum() and not _ESCAPE_BEFORE.search(text, max(0, start - 6), start):
        return False
    if end < len(text) and text[end].isalnum():
        return date and _DATETIME_AFTER.match(text, end) is not None
    return True


def _is_date(value: str) -> date | None:
    for pattern, fmt in _DATE_FORMATS:
        if pattern.fullmatch(value):
            return parse_date(value, fmt)  # as `strptime` reads it
    return None


@dataclass(slots=True)
class _Hidden:
    value: str
    token: str
    #: the token's runs, when it has the value's shape (else the whole token replaces)
    runs: tuple[str, ...] | None
    date: bool
    #: the value's runs of ASCII letters and of ASCII digits, lower-cased, longest first: a
    #: text that holds the value holds each of them too, in any spelling (escapes touch only
    #: the other characters). The first is the value's anchor.
    pieces: tuple[str, ...]
    #: see `_analyse`
    shape: Shape | None


def _shape(value: _Analysis, token: str) -> tuple[str, ...] | None:
    """The token's runs when each is as long as the value's and of its kind (letters or
    digits), else None."""
    if token == "REDACTED":
        return None
    token_runs = _RUN.findall(token)
    if len(value.runs) != len(token_runs) or tuple(map(len, token_runs)) != value.lengths \
            or tuple(map(str.isdigit, token_runs)) != value.digits:
        return None
    return tuple(token_runs)


def _recase(token_run: str, seen: str) -> str:
    if len(seen) != len(token_run):
        return token_run
    return "".join(
        t.upper() if s.isupper() else t.lower() if s.islower() else t
        for t, s in zip(token_run, seen, strict=True)
    )


_ASCII_RUN = re.compile(r"[A-Za-z]+|[0-9]+")
#: past this many hidden values, `could_occur` gathers a text's runs once instead of
#: searching the text for each value
_MANY_VALUES = 64
#: an escape's letters or digits can run into a value's (`%20Smith`, `\xebBront`): the keys of a
#: text include each run without its first few characters
_ESCAPE_REACH = 4


def _pieces(value: str) -> tuple[str, ...]:
    runs = {run.lower() for run in _ASCII_RUN.findall(value)}
    # longest first, digits before letters of the same length (`Flat 12` names a flat among
    # many), so the anchor is the piece fewest other values share
    return tuple(sorted(runs, key=lambda run: (-len(run), not run.isdigit(), run)))


#: past this many characters, `could_occur` searches each value by its own regex
_LARGE = 8 * 1024
#: past this many places a piece is in a text, it is taken for one of its keys unlooked
_FINDS = 64


def _is_key(text: str, lowered: str, piece: str) -> bool:
    """Whether `piece` (lower-case ASCII letters, or digits) is in `_keys(text)`: the end of a
    run of ASCII letters (or digits) of `text`, after at most `_ESCAPE_REACH` of its first
    characters. `lowered` is `text.lower()`, of the same length (so at the same places); it
    is searched, `text` tells the runs. True, unlooked, for a piece found very often."""
    kind = _DIGIT_CHARS if piece[0].isdigit() else _LETTER_CHARS
    size = len(piece)
    start = lowered.find(piece)
    finds = 0
    while start != -1:
        end = start + size
        if text[start:end].isascii() and (end == len(text) or text[end] not in kind):
            before = start
            while before > 0 and start - before <= _ESCAPE_REACH and text[before - 1] in kind:
                before -= 1
            if start - before <= _ESCAPE_REACH:
                return True
        finds += 1
        if finds >= _FINDS:
            return True
        start = lowered.find(piece, start + 1)
    return False


_DIGIT_CHARS = frozenset("0123456789")
_LETTER_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _keys(text: str) -> set[str]:
    keys: set[str] = set()
    for run in _ASCII_RUN.findall(text):
        run = run.lower()
        for start in range(min(len(run), _ESCAPE_REACH + 1)):
            keys.add(run[start:])
    return keys


@lru_cache(maxsize=4096)
def _regex(value: str) -> re.Pattern[str]:
    """`value` in any spelling, a group for each of its runs (values with other letters)."""
    return re.compile(_pattern(value, capture=True), re.IGNORECASE)


@lru_cache(maxsize=1024)
def _shape_regex(value: str) -> re.Pattern[str]:
    """Any value shaped like `value` (ASCII letters and digits), a group for each run."""
    return re.compile(_pattern(value, capture=True, shape_only=True), re.IGNORECASE)


def _runs_key(match: re.Match[str]) -> tuple[str, ...]:
    return tuple(group.lower() for group in match.groups())


def _replace_all(
    regex: re.Pattern[str], text: str, accept: Callable[[re.Match[str]], str | None]
) -> str:
    """`text` with each match `accept` gives a replacement for replaced; a match it refuses
    is skipped one character on, so a whole word starting inside it is still found."""
    out, last, pos = [], 0, 0
    while (match := regex.search(text, pos)) is not None:
        replacement = accept(match)
        if replacement is None:
            pos = match.start() + 1
            continue
        out.append(text[last : match.start()])
        out.append(replacement)
        last = pos = match.end() if match.end() > match.start() else match.end() + 1
    if not out:
        return text
    out.append(text[last:])
    return "".join(out)


class ValueHider:
    """The values hidden so far in one exchange, and `hide(text)` to hide them in any text.

    `variant(value)` gives the token of another spelling of a hidden value (a date in another
    format); the redactor passes its replacement. A text is searched only for the values whose
    every run of ASCII letters and digits it holds (looked up by the longest), so an exchange
    with thousands of hidden values (a long list of people) costs a few set lookups per run of
    each text, not a search for every value.
    """

    def __init__(self, variant: Callable[[str], str] | None = None) -> None:
        self._variant = variant
        self._hidden: dict[str, _Hidden] = {}
        self._by_anchor: dict[str, list[_Hidden]] = {}
        self._unanchored: list[_Hidden] = []
        #: values of ASCII letters and digits, by shape, then by their runs (lower-cased)
        self._shapes: dict[tuple[tuple[bool, int, bool], ...], dict[tuple[str, ...], _Hidden]] = {}

    def __bool__(self) -> bool:
        return bool(self._hidden)

    def add(self, value: str, token: str) -> None:
        """Hide `value` as `token` wherever else it appears (both whole, as the field held it)."""
        value = core(value)
        if value.casefold() in self._hidden:
            return  # and so are its other spellings: they were added with it
        day = _is_date(value)
        self._add(value, core(token) or token.strip(), day is not None)
        if day is not None and self._variant is not None:
            for _, fmt in _DATE_FORMATS:
                spelled = format_date(day, fmt)
                if spelled.casefold() not in self._hidden:
                    self._add(spelled, core(self._variant(spelled)), True)

    def _add(self, value: str, token: str, date: bool) -> None:
        analysis = _analyse(value)
        if analysis.letters < MIN_PROPAGATED:
            return
        key = value.casefold()
        if key in self._hidden or not token:
            return
        shape = analysis.shape
        hidden = _Hidden(value, token, _shape(analysis, token), date, analysis.pieces, shape)
        self._hidden[key] = hidden
        if shape is not None:
            self._shapes.setdefault(shape, {}).setdefault(analysis.lowered, hidden)
        if hidden.pieces:
            self._by_anchor.setdefault(hidden.pieces[0], []).append(hidden)
        else:
            self._unanchored.append(hidden)

    def might_hide(self, text: str) -> bool:
        """False when `hide` would change no part of `text`, a join of several texts (the
        headers of an exchange): `hide` searches a text only for values each of whose pieces
        is in it, lower-cased, and a piece in a part is in the join."""
        if not self._hidden:
            return False
        if self._unanchored or len(self._hidden) > _MANY_VALUES:
            return True
        return bool(self._in_text(text.lower()))

    def _in_text(self, lowered: str) -> list[_Hidden]:
        """The values each of whose pieces is in `lowered` (each anchor looked for once)."""
        return [hidden for anchor, hiddens in self._by_anchor.items() if anchor in lowered
                for hidden in hiddens
                if len(hidden.pieces) == 1 or all(piece in lowered for piece in hidden.pieces[1:])]

    def values(self) -> list[str]:
        return [hidden.value for hidden in self._hidden.values()]

    def could_occur(self, text: str) -> bool:
        """False when `hide` would change nothing in any part of `text`: a quick look at a
        whole document (as text) before many calls of `hide` on its parts. A value is looked
        for only when all its runs of ASCII letters and digits are in the text (in any case)
        as `hide` needs them in a part (each the end of a run, `_keys`), and then as `hide`
        looks for it, whole words only; a part's text is in the document's as it is, or with
        a separator escaped (`&amp;`), which the search allows as well, and each run of a part
        is a run of the document (an escape begins with `&` and ends with `;`).

        In a document over 8 KB a value is searched for by its own regex, not its shape's
        (every date of a long history has a date's shape): compiling one costs 30-600 µs,
        scanning for a shape up to 50 µs per KB. Its own regex finds wherever the shape's finds
        it (the same pattern with the letters fixed, tried in the same order)."""
        if self._unanchored:
            return True
        if not self._hidden:
            return False
        lowered = text.lower()
        if len(self._hidden) > _MANY_VALUES:  # one pass over the text, not one per value
            keys = _keys(lowered)
            candidates = [hidden for hidden in self._hidden.values()
                          if all(piece in keys for piece in hidden.pieces)]
        else:
            candidates = self._in_text(lowered)
            if candidates and len(lowered) == len(text):  # each character lower-cased alone
                candidates = [hidden for hidden in candidates
                              if all(_is_key(text, lowered, piece) for piece in hidden.pieces)]
        own = len(text) > _LARGE
        for hidden in candidates:  # searched as `hide` searches: one regex per shape
            shape = hidden.shape
            if shape is None or own:
                regex, by_runs = _regex(hidden.value), None
            else:
                regex, by_runs = _shape_regex(hidden.value), self._shapes[shape]
            pos = 0
            while (match := regex.search(text, pos)) is not None:
                found = hidden if by_runs is None else by_runs.get(_runs_key(match))
                if found is not None and _boundaries(text, match.start(), match.end(), found.date):
                    return True
                pos = match.start() + 1
        return False

    def hide(self, text: str) -> str:
        """`text` with every hidden value in it replaced by its token."""
        if not self._hidden or not text:
            return text
        if not self.might_hide(text):  # most texts hold no hidden value
            return text
        keys = _keys(text)
        found = {
            id(h): h for key in keys for h in self._by_anchor.get(key, ())
            if all(piece in keys for piece in h.pieces)
        }
        for hidden in self._unanchored:
            found[id(hidden)] = hidden
        # longest first: "Marjorie Anne" before "Marjorie"; one search per shape of value
        done: set[object] = set()
        for hidden in sorted(found.values(), key=lambda h: len(h.value), reverse=True):
            shape = hidden.shape
            if shape is None:
                text = _replace_all(_regex(hidden.value), text, partial(self._accept_value, hidden))
            elif shape not in done:
                done.add(shape)
                text = _replace_all(_shape_regex(hidden.value), text,
                                    partial(self._accept_shape, self._shapes[shape]))
        return text

    def _accept_value(self, hidden: _Hidden, match: re.Match[str]) -> str | None:
        return self._accept(match, hidden)

    def _accept_shape(self, by_runs: dict[tuple[str, ...], _Hidden], match: re.Match[str]) -> str | None:
        return self._accept(match, by_runs.get(_runs_key(match)))

    def _accept(self, match: re.Match[str], hidden: _Hidden | None) -> str | None:
        if hidden is None or not _boundaries(match.string, match.start(), match.end(), hidden.date):
            return None
        return _replacement(hidden, match)

    def hide_bytes(self, data: bytes) -> bytes:
        """The same over bytes of unknown text encoding (UTF-8, else one byte per character)."""
        if not self._hidden or not data:
            return data
        try:
            return self.hide(data.decode("utf-8")).encode("utf-8")
        except UnicodeDecodeError:
            return self.hide(data.decode("latin-1")).encode("latin-1", "replace")


def _replacement(hidden: _Hidden, match: re.Match[str]) -> str:
    """The token, spelled like the occurrence: each run of it takes the token's run, in the
    occurrence's case; separators and escapes between runs stay as they are."""
    if hidden.runs is None:
        return hidden.token
    seen = match.group()
    base = match.start()
    out, last = [], 0
    for index, token_run in enumerate(hidden.runs, start=1):
        start, end = match.span(index)
        out.append(seen[last : start - base])
        out.append(_recase(token_run, match.group(index)))
        last = end - base
    out.append(seen[last:])
    return "".join(out)
