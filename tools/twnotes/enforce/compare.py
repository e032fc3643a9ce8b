"""Is a note region clean: its tree, as html5lib builds it where the cleaner parses, compared
with the tree of its clean form (the minifier writes the same tree in other bytes)."""

from __future__ import annotations

import collections
import re
from collections.abc import Iterator, Sequence
from typing import Any, Final

import html5lib

from twnotes import sanitize
from twnotes.sanitize.html5 import VOID, parse_in_context
from twnotes.util import per_thread

_parser: Final = per_thread(lambda: html5lib.HTMLParser(
    tree=html5lib.getTreeBuilder("etree"), namespaceHTMLElements=False))
_WALKER: Final = html5lib.getTreeWalker("etree")

# One event of the tree a parse builds: ("<", name, attributes, namespace) for an element,
# (">", name) for its end, ("text", data) for merged text, ("!", data) for a comment.
_Event = tuple[Any, ...]


def _events(fragment: str, inline: bool) -> list[_Event]:
    """The tree html5lib builds for `fragment` where the cleaner parses it, as events
    (html5.parse_in_context: the same context and the same two routes)."""
    tree, _ = parse_in_context(_parser(), fragment, inline)
    events: list[_Event] = []
    text: list[str] = []
    for token in _WALKER(tree):
        kind = token["type"]
        if kind in ("Characters", "SpaceCharacters"):
            text.append(token["data"])
            continue
        if text:
            events.append(("text", "".join(text)))
            text.clear()
        events += _token_events(kind, token)
    if text:
        events.append(("text", "".join(text)))
    return events


def _token_events(kind: str, token: dict[str, Any]) -> list[_Event]:
    """The events of one walker token that is not text."""
    if kind in ("StartTag", "EmptyTag"):
        attrs = tuple(sorted((f"{ns}:{name}" if ns else name, value)
                             for (ns, name), value in token["data"].items()))
        start: _Event = ("<", token["name"], attrs, token["namespace"] or "")
        return [start, (">", token["name"])] if kind == "EmptyTag" else [start]
    if kind == "EndTag":
        return [(">", token["name"])]
    if kind == "Comment":
        return [("!", token["data"])]
    return []


def _short(value: str, limit: int = 40) -> str:
    value = " ".join(value.split())
    return value if len(value) <= limit else value[:limit - 3] + "..."


def _features(events: Sequence[_Event]) -> collections.Counter[str]:
    """What a tree holds, as the words a report names: elements, attributes, comments."""
    found: collections.Counter[str] = collections.Counter()
    for event in events:
        if event[0] == "<":
            name, attrs = event[1], event[2]
            found[f"<{name}>"] += 1
            for key, value in attrs:
                found[f'<{name} {key}="{_short(value)}">'] += 1
        elif event[0] == "!":
            found["a comment"] += 1
    return found


def _removed(before: Sequence[_Event], after: Sequence[_Event]) -> str:
    gone = _features(before) - _features(after)
    if not gone:
        return "rewrote the HTML structure (nothing removed)"
    # Elements first, then attributes and comments, each in name order.
    return "removed " + ", ".join(sorted(gone, key=lambda word: (" " in word, word)))


# Appended to both sides of a comparison: a fragment that ends inside a tag, a comment or
# raw text, or leaves an element (or a formatting element to reopen) open, changes where
# the probe lands, so "the same tree" also means "what follows is parsed as it would be
# after the clean form" (a tag cut off at the end is dropped by the parser otherwise,
# and the page's next bytes would complete it).
_PROBE: Final = '<span title="twnotes-probe"></span>'
_TAG_RE: Final = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)[^>]*>")


def _pieces(fragment: str) -> Iterator[str]:
    """The fragment cut where its top-level elements seem to end (a tag count, no parse).

    Only a proposal: each piece is checked on its own and must prove that it ends where a
    fresh fragment begins (clean form, or the probe), so a wrong cut costs a whole-region
    check, never a wrong verdict. A minified page differs from the clean form in a few
    places; checked piece by piece, only those pieces take the cleaner's slow path.
    """
    depth, start = 0, 0
    for tag in _TAG_RE.finditer(fragment):
        if tag.group(1):
            depth -= 1
            if depth <= 0:
                depth = 0
                yield fragment[start:tag.end()]
                start = tag.end()
        elif tag.group(2).lower() not in VOID and not tag.group().endswith("/>"):
            depth += 1
    if start < len(fragment):
        yield fragment[start:]


def _same_tree(fragment: str, cleaned: str, inline: bool) -> bool:
    return _events(fragment + _PROBE, inline) == _events(cleaned + _PROBE, inline)


# An `&` before a space, `<` or `&` is a literal `&` in text and in attribute values,
# which is where the clean form can have one; the minifier writes `&amp;` so. (Not at the
# end of a piece: what follows it on the page is not known here.)
_BARE_AMP: Final = re.compile(r"&(?=[\s<&])")


def _piece_is_clean(piece: str, inline: bool) -> bool:
    """True if the browser builds from `piece` the tree of a clean fragment.

    The minifier's commonest rewrite (`&amp;` to `&`) is spelled back first: when that
    makes the piece its own clean form, the rewrite sat in text or attribute values
    (the clean form has nothing else), where both spellings are the same character, so
    the cleaner's fast path decides without a parse.
    """
    spelled = _BARE_AMP.sub("&amp;", piece) if "&" in piece else piece
    cleaned = sanitize.clean_fragment(spelled, inline=inline, rendered=True)
    return cleaned == spelled or _same_tree(piece, cleaned, inline)


def check_fragment(fragment: str, *, inline: bool = False) -> tuple[str, str | None]:
    """(what the region should hold, what was removed or None) for one note fragment.

    Clean already (every piece is its own clean form, or the tree of its clean form): the
    fragment itself and None. Otherwise the cleaned fragment and what went.
    """
    if all(_piece_is_clean(piece, inline) for piece in _pieces(fragment)):
        return fragment, None
    cleaned = sanitize.clean_fragment(fragment, inline=inline, rendered=True)
    before, after = _events(fragment + _PROBE, inline), _events(cleaned + _PROBE, inline)
    if before == after:
        return fragment, None
    return cleaned, _removed(before, after)
