"""A string that matches an XSD pattern, for example values that validate.

XSD patterns are a regex dialect of their own (implicitly anchored; `\\i`, `\\c`, `\\p{..}`,
character-class subtraction), so this walks the pattern itself instead of leaning on `re`. It
takes the first branch of every alternation and the fewest repetitions a quantifier allows, and
picks "nice" characters from classes (`1` for digits, `A`/`a` for letters), so `[0-9]{4}` gives
`1111` and a DD/MM/YYYY pattern gives `01/01/1111`, a real date.
"""

from __future__ import annotations

import re
import string

_PREFERRED = "1aA" + string.ascii_letters + string.digits + "-_ ./:@"
_ESCAPES = {
    "d": "1", "D": "a", "w": "a", "W": "-", "s": " ", "S": "a", "i": "a", "I": "1", "c": "a",
    "C": " ", "n": "\n", "r": "\r", "t": "\t",
}


class _Unsupported(Exception):
    pass


def pattern_example(pattern: str) -> str | None:
    """A string matching `pattern` (XSD regex), or None if the pattern is beyond this walker."""
    try:
        parser = _Parser(pattern)
        text = parser.alternation()
        if parser.pos != len(pattern):
            return None
    except (_Unsupported, IndexError):
        return None
    try:
        if re.fullmatch(pattern, text) is None:
            return None
    except re.error:
        pass  # an XSD-only construct: trust the walk
    return text


class _Parser:
    def __init__(self, pattern: str) -> None:
        self.text = pattern
        self.pos = 0

    def peek(self) -> str | None:
        return self.text[self.pos] if self.pos < len(self.text) else None

    def alternation(self) -> str:
        first = self.branch()
        while self.peek() == "|":
            self.pos += 1
            self.branch()  # parsed, not used: the first branch is the example
        return first

    def branch(self) -> str:
        out = []
        while self.peek() not in (None, "|", ")"):
            atom = self.atom()
            low = self.quantifier()
            out.append(atom * low)
        return "".join(out)

    def quantifier(self) -> int:
        char = self.peek()
        if char in ("?", "*"):
            self.pos += 1
            return 0
        if char == "+":
            self.pos += 1
            return 1
        if char == "{":
            end = self.text.index("}", self.pos)
            body = self.text[self.pos + 1:end]
            self.pos = end + 1
            return int(body.split(",")[0] or 0)
        return 1

    def atom(self) -> str:
        char = self.text[self.pos]
        if char == "(":
            self.pos += 1
            if self.text.startswith("?:", self.pos):
                self.pos += 2
            inner = self.alternation()
            if self.peek() != ")":
                raise _Unsupported("unclosed group")
            self.pos += 1
            return inner
        if char == "[":
            return self.char_class()
        if char == "\\":
            return self.escape()
        if char == ".":
            self.pos += 1
            return "a"
        if char in "^$":
            self.pos += 1
            return ""
        self.pos += 1
        return char

    def escape(self) -> str:
        self.pos += 1
        char = self.text[self.pos]
        self.pos += 1
        if char in ("p", "P"):
            end = self.text.index("}", self.pos)
            category = self.text[self.pos + 1:end]
            self.pos = end + 1
            if char == "P":
                return "1" if category.startswith("L") else "a"
            return {"Lu": "A", "Nd": "1", "N": "1"}.get(category, "a")
        return _ESCAPES.get(char, char)

    def char_class(self) -> str:
        """`[...]`: the first preferred character the class allows."""
        self.pos += 1
        negated = self.peek() == "^"
        if negated:
            self.pos += 1
        allowed: list[tuple[str, str]] = []
        named: list[str] = []
        first = True
        while True:
            char = self.text[self.pos]
            if char == "]" and not first:
                self.pos += 1
                break
            if char == "-" and self.text[self.pos + 1] == "[":  # subtraction: not followed
                depth = 0
                while True:
                    if self.text[self.pos] == "[":
                        depth += 1
                    elif self.text[self.pos] == "]":
                        depth -= 1
                        if depth == 0:
                            break
                    self.pos += 1
                self.pos += 1
                continue
            first = False
            if char == "\\":
                escaped = self.text[self.pos + 1]
                if escaped in _ESCAPES or escaped in "pP":
                    named.append(self.escape())
                    continue
                low = escaped
                self.pos += 2
            else:
                low = char
                self.pos += 1
            if self.peek() == "-" and self.text[self.pos + 1] != "]":
                self.pos += 1
                high = self.text[self.pos]
                if high == "\\":
                    high = self.text[self.pos + 1]
                    self.pos += 1
                self.pos += 1
                allowed.append((low, high))
            else:
                allowed.append((low, low))

        def inside(candidate: str) -> bool:
            return any(low <= candidate <= high for low, high in allowed) or candidate in named

        if negated:
            for candidate in _PREFERRED:
                if not inside(candidate):
                    return candidate
            raise _Unsupported("negated class excludes every usual character")
        for candidate in _PREFERRED:
            if inside(candidate):
                return candidate
        if named:
            return named[0]
        if allowed:
            return allowed[0][0]
        raise _Unsupported("empty class")
