"""Enforce the policy on what Hugo emitted: every note region of the built site, cleaned again.

`sanitize` cleans the raw HTML it finds in the Markdown, but Hugo renders with goldmark,
and two parsers never agree on every edge. So the layouts delimit every region of a built
page whose HTML comes from a note (layouts/_partials/region-mark.html) with HTML comments
that hold a per-build random token from HUGO_TW_REGION_TOKEN, which no note can know:

    <!--#tw:TOKEN:block--> … <!--#tw:TOKEN:/block-->    a note's HTML in a block context
    <!--#tw:TOKEN:inline--> … <!--#tw:TOKEN:/inline-->  a note's HTML inside a paragraph
    <!--#tw:TOKEN:layout--> … <!--#tw:TOKEN:/layout-->  a render hook's or shortcode's own
                                                         markup inside a note region
    <!--#tw:TOKEN:page-->                                once a page: delimited by this build

Each note region is cleaned with the one policy (`sanitize.clean_fragment`, `rendered`:
goldmark's own attributes, such as a footnote's class and role, are its to keep), its layout
islands standing aside as placeholders (their markup is not the note's, but the note
regions inside them are cleaned too); then the delimiters go and the page is written back
whole. The delimiters are found as exact strings, not by parsing: whatever a note does to
the HTML around them (an unclosed comment, a `<script>` left open) cannot hide one, and a
region's bytes are replaced whole when they change.

What counts as a change: the minifier writes the same tree in other bytes than the
cleaner (unquoted attributes, omitted end tags), so a region that the cleaner rewrites is
compared with its cleaned form as the trees html5lib builds from both, in the context the
cleaner uses. Equal trees: the region stays byte for byte as Hugo wrote it. Otherwise the
cleaned form replaces it and the change is reported (`page: removed <script>`): the source
sanitiser should have caught it, so `make test` fails on it.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import html
import os
import re
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Final, TextIO
from xml.sax.saxutils import escape as xml_escape

import html5lib

from twnotes import sanitize, util
from twnotes.util import per_thread

TOKEN_ENV: Final = "HUGO_TW_REGION_TOKEN"
_TOKEN_RE: Final = re.compile(r"[0-9a-f]{32,128}")
NOTE_KINDS: Final = frozenset({"block", "inline"})
LAYOUT: Final = "layout"


@dataclasses.dataclass(frozen=True)
class Change:
    """Something a note region held that the policy removes: a bug of the source scan."""

    page: str
    what: str

    def __str__(self) -> str:
        return f"{self.page}: {self.what}"


class DelimiterError(ValueError):
    """A delimiter missing, repeated, unbalanced or nested where it cannot be."""

    def __init__(self, page: str, reason: str) -> None:
        super().__init__(f"{page}: {reason}")
        self.page = page
        self.reason = reason


@dataclasses.dataclass
class _Region:
    kind: str
    outer_start: int  # where the opening delimiter starts
    start: int  # where the content starts
    end: int = -1  # where the content ends (the closing delimiter starts)
    outer_end: int = -1  # where the closing delimiter ends
    children: list[_Region] = dataclasses.field(default_factory=list)


@functools.lru_cache(maxsize=8)
def _marks(token: str) -> re.Pattern[str]:
    return re.compile(rf"<!--#tw:{token}:(/?)(block|inline|layout|page)-->")


def _where(text: str, offset: int) -> str:
    line = text.count("\n", 0, offset) + 1
    column = offset - text.rfind("\n", 0, offset)
    return f"line {line}, column {column}"


def find_regions(text: str, token: str, page: str) -> list[_Region]:
    """The page's top-level regions, each with its nested ones; DelimiterError if malformed.

    A page carries its `page` delimiter exactly once. Note and layout regions alternate:
    a note region holds layout islands, a layout island holds note regions; a note region
    straight inside a note region (or an island in an island) means a layout delimits
    wrongly, and an island outside any note region is the layout's anyway (allowed).
    """
    top: list[_Region] = []
    stack: list[_Region] = []
    stamp: int | None = None

    def fail(reason: str, offset: int) -> DelimiterError:
        return DelimiterError(page, f"{reason} ({_where(text, offset)})")

    for mark in _marks(token).finditer(text):
        closing, kind = mark.group(1) == "/", mark.group(2)
        if kind == "page":
            if stamp is not None:
                raise fail(f"page delimiter repeated (first at {_where(text, stamp)})",
                           mark.start())
            stamp = mark.start()
        elif not closing:
            if stack and (stack[-1].kind == LAYOUT) == (kind == LAYOUT):
                hint = (" (a shortcode expanded inside a code block?)" if kind == LAYOUT
                        else "")
                raise fail(f"{kind} region opened inside a {stack[-1].kind} region{hint}",
                           mark.start())
            region = _Region(kind, mark.start(), mark.end())
            (stack[-1].children if stack else top).append(region)
            stack.append(region)
        elif not stack:
            raise fail(f"{kind} region closed but never opened", mark.start())
        else:
            region = stack.pop()
            if region.kind != kind:
                raise fail(f"{kind} delimiter closes the {region.kind} region opened at "
                           f"{_where(text, region.outer_start)}", mark.start())
            region.end, region.outer_end = mark.start(), mark.end()
    if stack:
        raise fail(f"{stack[-1].kind} region never closed", stack[-1].outer_start)
    if stamp is None:
        raise DelimiterError(page, f"no page delimiter: not built with this {TOKEN_ENV}")
    return top


# --------------------------------------------------------------------------- comparing


_parser: Final = per_thread(lambda: html5lib.HTMLParser(
    tree=html5lib.getTreeBuilder("etree"), namespaceHTMLElements=False))
_WALKER: Final = html5lib.getTreeWalker("etree")
_TABLE_RE: Final = re.compile(r"<table", re.IGNORECASE)

# One event of the tree a parse builds: ("<", name, attributes, namespace) for an element,
# (">", name) for its end, ("text", data) for merged text, ("!", data) for a comment.
_Event = tuple[Any, ...]


def _events(fragment: str, inline: bool) -> list[_Event]:
    """The tree html5lib builds for `fragment` where the cleaner parses it, as events.

    The context is the cleaner's: inside a <div>, after an opened <p> when inline, and as
    a whole document body when it has two tables (see sanitize._parse).
    """
    parser = _parser()
    markup = ("<p>" if inline else "") + fragment
    if len(_TABLE_RE.findall(markup)) < 2:
        tree = parser.parseFragment(markup, container="div")
    else:
        tree = parser.parse("<!DOCTYPE html><body>" + markup)
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
        if kind in ("StartTag", "EmptyTag"):
            attrs = tuple(sorted((f"{ns}:{name}" if ns else name, value)
                                 for (ns, name), value in token["data"].items()))
            events.append(("<", token["name"], attrs, token["namespace"] or ""))
            if kind == "EmptyTag":
                events.append((">", token["name"]))
        elif kind == "EndTag":
            events.append((">", token["name"]))
        elif kind == "Comment":
            events.append(("!", token["data"]))
    if text:
        events.append(("text", "".join(text)))
    return events


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
_VOID: Final = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
                          "meta", "param", "source", "track", "wbr"})
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
        elif tag.group(2).lower() not in _VOID and not tag.group().endswith("/>"):
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


# --------------------------------------------------------------------------- pages


def _placeholder(token: str, index: int) -> str:
    # An element the policy keeps as written, and one no note can spell (the token).
    return f'<span title="tw-island-{token}-{index}"></span>'


@dataclasses.dataclass
class _Page:
    text: str
    token: str
    name: str
    xml: bool
    changes: list[Change] = dataclasses.field(default_factory=list)

    def render(self, start: int, end: int, regions: Sequence[_Region]) -> str:
        """text[start:end] without delimiters, each note region in it cleaned."""
        out: list[str] = []
        pos = start
        for region in regions:
            out.append(self.text[pos:region.outer_start])
            if region.kind == LAYOUT:
                out.append(self.render(region.start, region.end, region.children))
            else:
                out.append(self.note(region))
            pos = region.outer_end
        out.append(self.text[pos:end])
        return "".join(out)

    def note(self, region: _Region) -> str:
        islands = [self.render(child.start, child.end, child.children)
                   for child in region.children]
        parts: list[str] = []
        pos = region.start
        for index, child in enumerate(region.children):
            parts += [self.text[pos:child.outer_start], _placeholder(self.token, index)]
            pos = child.outer_end
        parts.append(self.text[pos:region.end])
        source = "".join(parts)
        fragment = html.unescape(source) if self.xml else source
        result, removed = check_fragment(fragment, inline=region.kind == "inline")
        if removed is None:
            result = source
        else:
            if self.xml:
                result = xml_escape(result)
            lost = [i for i in range(len(islands)) if _placeholder(self.token, i) not in result]
            if lost:
                removed += f" (and {len(lost)} piece(s) of the layout's markup it swallowed)"
            self.changes.append(Change(self.name, removed))
        for index, island in enumerate(islands):
            result = result.replace(_placeholder(self.token, index), island)
        return result


def enforce_text(text: str, token: str, page: str, *, xml: bool = False,
                 ) -> tuple[str, list[Change]]:
    """The page with every note region cleaned and every delimiter gone, and the changes.

    `xml`: the page is a feed, whose regions hold HTML escaped as XML text; they are
    unescaped to be checked and escaped again when cleaned. DelimiterError if malformed.
    """
    regions = find_regions(text, token, page)
    state = _Page(text, token, page, xml)
    marks = _marks(token)
    out = state.render(0, len(text), regions)
    # The page delimiter (and any delimiter a region's cleaning left) goes too.
    return marks.sub("", out), state.changes


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What enforcing one file gave: its changes, or the delimiter error that stopped it."""

    page: str
    changes: tuple[Change, ...] = ()
    error: str | None = None


def enforce_file(root: Path, token: str, path: Path) -> Outcome:
    """Enforce one file of the site and write it back (a worker's unit of work).

    A feed or sitemap without any delimiter is not a page of the layouts and is left
    alone; every HTML page must carry its page delimiter.
    """
    page = path.relative_to(root).as_posix()
    xml = path.suffix == ".xml"
    raw = path.read_bytes()
    text = raw.decode("utf-8", errors="surrogateescape")
    if xml and f"<!--#tw:{token}:" not in text:
        return Outcome(page)
    try:
        cleaned, changes = enforce_text(text, token, page, xml=xml)
    except DelimiterError as exc:
        return Outcome(page, error=exc.reason)
    data = cleaned.encode("utf-8", errors="surrogateescape")
    if data != raw:
        # Not fsynced: a built site that a crash cuts short is built again; the rename
        # still writes each page whole or not at all (fsync cost 7 s for 1,000 pages).
        util.atomic_write(path, data, durable=False)
    return Outcome(page, tuple(changes))


def site_files(root: Path) -> list[Path]:
    """The built pages and feeds, in path order."""
    return sorted(path for pattern in ("*.html", "*.xml") for path in root.rglob(pattern)
                  if path.is_file())


def enforce_site(root: Path, token: str, jobs: int = 0,
                 files: list[Path] | None = None) -> Iterator[Outcome]:
    """Outcomes for every page and feed under root, in path order (jobs: util.parallel_map)."""
    if files is None:
        files = site_files(root)
    yield from util.parallel_map(functools.partial(enforce_file, root, token), files, jobs)


def token_from(value: str | None) -> str | None:
    """The region token given, or the one in HUGO_TW_REGION_TOKEN; None if neither is valid."""
    token = value if value is not None else os.environ.get(TOKEN_ENV, "")
    return token if _TOKEN_RE.fullmatch(token) else None


def run(root: Path, token: str | None, out: TextIO = sys.stdout, err: TextIO = sys.stderr,
        jobs: int = 0) -> int:
    """`twnotes enforce`: 0 nothing to clean, 1 changes (`page: what`), 2 bad delimiters or input.

    Every page is written back without its delimiters; a page with a delimiter error is
    left as it is (the build has failed: build again).
    """
    if token is None:
        print(f"twnotes enforce: no region token: set {TOKEN_ENV} (or --token) to the "
              "32 to 128 hex digits the site was built with", file=err)
        return 2
    if not root.is_dir():
        print(f"{root}: no built site here (run hugo first)", file=err)
        return 2
    files = site_files(root)
    if not any(path.suffix == ".html" for path in files):
        print(f"{root}: no HTML pages here, nothing to enforce (run hugo first)", file=err)
        return 2
    changes = errors = 0
    for outcome in enforce_site(root, token, jobs, files):
        if outcome.error is not None:
            print(f"{outcome.page}: {outcome.error}", file=err)
            errors += 1
        for change in outcome.changes:
            print(change, file=out)
            changes += 1
    if errors:
        print(f"{errors} page(s) with bad region delimiters in {root}", file=err)
        return 2
    if changes:
        print(f"{changes} region(s) cleaned in {root}: the source sanitiser missed them "
              "(twnotes sanitize should have fixed the Markdown)", file=err)
        return 1
    return 0
