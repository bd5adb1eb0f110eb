"""A short, readable rendering of an element for a report: `<pnc:person><pnc:pncId>98/1...`.

Names use the diff's prefixes and no namespace declarations are written, so it reads like the
paths beside it. It is for people, not for parsing; long subtrees are cut at `LIMIT` characters.
"""

from __future__ import annotations

from lxml import etree

from ._content import content
from ._paths import PathNamer

LIMIT = 200
_ELLIPSIS = "…"


def render(element: etree._Element, namer: PathNamer, limit: int = LIMIT) -> str:
    """A leaf's text as is; otherwise compact XML without declarations, cut at `limit`."""
    children, text = content(element)
    if not children and isinstance(text, str):
        return text
    out: list[str] = []
    size = [0]
    _write(element, namer, out, size, limit)
    rendered = "".join(out)
    return rendered if len(rendered) <= limit else rendered[:limit] + _ELLIPSIS


def _write(
    element: etree._Element, namer: PathNamer, out: list[str], size: list[int], limit: int
) -> None:
    if size[0] > limit:
        return
    name = namer.name(element)
    attributes = "".join(
        f' {namer.attribute_name(element, key)}="{value}"' for key, value in element.items()
    )
    children, text = content(element)
    runs = [text] if isinstance(text, str) else list(text)
    if not children and not "".join(runs):
        piece = f"<{name}{attributes}/>"
        out.append(piece)
        size[0] += len(piece)
        return
    opening = f"<{name}{attributes}>" + (runs[0] if isinstance(text, str) else "")
    out.append(opening)
    size[0] += len(opening)
    for child in children:
        _write(child, namer, out, size, limit)
    if not isinstance(text, str) and runs:
        out.append(" ".join(runs))
    out.append(f"</{name}>")
    size[0] += len(name) + 3
