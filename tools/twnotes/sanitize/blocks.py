"""HTML blocks: each cleaned and written back over its own lines, container prefixes
kept; an element opened in one block and closed in a later one cleaned as one structure."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from typing import Final

from markdown_it.token import Token

from twnotes import markup, pages
from twnotes.sanitize.edits import Edit, markers
from twnotes.sanitize.fragment import clean_fragment

# HTML block start condition 6 (goldmark's tag list): a line opening with one of these tags
# starts a block that runs to the next blank line, whatever else the line holds.
BLOCK_START: Final = markup.BLOCK_NAMES
_BLOCK_START_RE: Final = re.compile(r"</?([A-Za-z][A-Za-z0-9-]*)(?:[ \t/>]|$)")
_MARKER_BLOCK_RE: Final = re.compile(r"<(?:script|pre|style|textarea)(?:[ \t>]|$)|<!|<\?", re.I)
@dataclasses.dataclass(frozen=True)
class _Block:
    """An html_block token's raw HTML and where it stands: lines [first, stop) of the file,
    each line's container prefix (indentation, `> `, list marker) kept apart."""

    first: int
    stop: int
    level: int
    prefixes: tuple[str, ...]
    fragment: str


def _block(page: pages.Page, lines: pages.Lines, token: Token) -> _Block:
    assert token.map is not None
    first, stop = token.map
    body = token.content.removesuffix("\n").split("\n")
    prefixes: list[str] = []
    for offset, content in enumerate(body):
        source = lines.content(first + offset)
        if not source.endswith(content):
            raise pages.PageError(page.path, first + offset + 1,
                                  "raw HTML inside a tab-indented container: expand the "
                                  "tabs to spaces so it can be rewritten")
        prefixes.append(source[:len(source) - len(content)])
    fragment = "\n".join(body)
    for opening, closing in _MARKER_ENDS:
        match = opening.match(fragment)
        if match and not closing.search(fragment):
            raise pages.PageError(page.path, first + 1, f"{match.group()} is never closed: "
                                  "everything after it would be hidden")
    return _Block(first, stop, token.level, tuple(prefixes), fragment)


# Blocks that end at a marker (CommonMark kinds 1-5), by how they start: left open, they
# run to the end of the document (or of their container).
_MARKER_ENDS: Final = tuple((re.compile(a, re.I), re.compile(b, re.I)) for a, b in (
    (r"<!--", r"-->"), (r"<\?", r"\?>"), (r"<!\[CDATA\[", r"\]\]>"), (r"<![A-Z]", r">"),
    (r"<(script|pre|style|textarea)(?=[\s>]|$)", r"</(script|pre|style|textarea)>")))
# A processing instruction: the browser reads `<?` as a comment that ends at the first
# `>`, so `<?php if ($a > 1) ?>` would leave ` 1) ?>` as text; it goes whole.
_PI_RE: Final = re.compile(r"<\?.*?\?>", re.DOTALL)
# A tag still open at the end of a block (`<div id="x"` and no `>`): the browser would
# read the page that follows as its attributes; its `<` is escaped so the text shows.
_UNTERMINATED_RE: Final = re.compile(r"<(?=[A-Za-z/])[^<>]*\Z")


def _block_edits(page: pages.Page, lines: pages.Lines, tokens: Sequence[Token]) -> list[Edit]:
    """Edits for the page's HTML blocks. An element opened in one block and closed in a
    later one (Markdown between, as `<details>` is written) is cleaned as one structure."""
    blocks = [_block(page, lines, t) for t in tokens if t.type == "html_block"]
    edits: list[Edit] = []
    index = 0
    while index < len(blocks):
        block = blocks[index]
        unterminated = _UNTERMINATED_RE.search(block.fragment)
        if unterminated:
            edits.append(_escape_lt(lines, block, unterminated.start()))
            index += 1
            continue
        group = _joint_group(page, lines, blocks, index)
        if group is None:
            edit = _rewrite(page, lines, [block], clean_fragment(block.fragment))
            edits.extend([edit] if edit else [])
            index += 1
            continue
        members, pieces = group
        for run, piece in zip(members, pieces, strict=True):
            edit = _rewrite(page, lines, run, piece)
            edits.extend([edit] if edit else [])
        index += sum(len(run) for run in members)
    return edits


def _escape_lt(lines: pages.Lines, block: _Block, at: int) -> Edit:
    line = block.first + block.fragment.count("\n", 0, at)
    column = at - (block.fragment.rfind("\n", 0, at) + 1)
    start = lines.start(line) + len(block.prefixes[line - block.first]) + column
    return Edit(start, start + 1, "&lt;", line + 1)


_JOINT_LIMIT: Final = 50


def _leaves_open(fragment: str, mark: str) -> bool | None:
    """Whether cleaning `fragment` closes elements it left open (None: it loses `mark`)."""
    cleaned = clean_fragment(fragment + mark)
    if mark not in cleaned:
        return None
    return not cleaned.endswith(mark)


def _joint_group(page: pages.Page, lines: pages.Lines, blocks: Sequence[_Block],
                 index: int) -> tuple[list[list[_Block]], list[str]] | None:
    """Blocks from `index` on that together close what the first leaves open.

    They are cleaned as one fragment, with a marker standing for the Markdown between
    two blocks (blocks with only blank lines between them are merged into one). Returns
    the runs of blocks (each run becomes one block) and their cleaned pieces, or None
    when the first block is complete on its own or no later block completes it.
    """
    first = blocks[index]
    if clean_fragment(first.fragment) == first.fragment:  # clean, so complete (the common case)
        return None
    taken = "".join(b.fragment for b in blocks[index:index + _JOINT_LIMIT])
    marks = markers(taken, _JOINT_LIMIT + 1)
    if _leaves_open(first.fragment, marks[-1]) is not True:
        return None
    runs: list[list[_Block]] = [[first]]
    joint = first.fragment
    for block in blocks[index + 1:index + _JOINT_LIMIT]:
        if block.level != first.level or _UNTERMINATED_RE.search(block.fragment):
            return None
        gap = "".join(lines.content(i) for i in range(runs[-1][-1].stop, block.first))
        if gap.strip():
            joint += marks[len(runs) - 1]
            runs.append([block])
        else:
            joint += "\n"
            runs[-1].append(block)
        joint += block.fragment
        if _leaves_open(joint, marks[-1]) is False:
            pieces = _cut(clean_fragment(joint), marks[:len(runs) - 1])
            return (runs, pieces) if pieces is not None else None
    return None


def _cut(cleaned: str, marks: Sequence[str]) -> list[str] | None:
    """The cleaned joint fragment cut at its markers, one piece a run; None when a marker
    went missing or a piece would not start an HTML block of its own."""
    pieces: list[str] = []
    for mark in marks:
        head, found, cleaned = cleaned.partition(mark)
        if not found:
            return None
        pieces.append(head)
    pieces.append(cleaned)
    if any(not _starts_block(p) for p in pieces if p.strip()):
        return None
    return pieces


def _starts_block(cleaned: str) -> bool:
    match = _BLOCK_START_RE.match(cleaned)
    return bool(match and match.group(1).lower() in BLOCK_START)


def _new_lines(lines: pages.Lines, run: Sequence[_Block], cleaned: str,
               prefixes: Sequence[str]) -> list[str]:
    """The lines `cleaned` is written as, each behind its container prefix."""
    head = prefixes[0]
    # Continuation lines keep the container's indentation: list markers become spaces.
    cont = prefixes[1] if len(prefixes) > 1 else re.sub(r"[^>\s]", " ", head)
    if not cleaned.strip():
        return [head.rstrip()]
    if not _starts_block(cleaned):
        cleaned = f"<div>{cleaned}</div>"
    out = cleaned.split("\n")
    new_lines = [head + out[0]] + [cont + line for line in out[1:]]
    # A marker-ended block may be followed directly by Markdown; the rewritten block ends
    # only at a blank line, so give it one.
    stop = run[-1].stop
    if (_MARKER_BLOCK_RE.match(run[-1].fragment) and stop < len(lines)
            and lines.content(stop).strip()):
        new_lines.append(cont.rstrip())
    return new_lines


def _rewrite(page: pages.Page, lines: pages.Lines, run: Sequence[_Block], cleaned: str,
             ) -> Edit | None:
    """The edit that writes `cleaned` over the lines of `run` (one block, or blocks with
    only blank lines between them), keeping the container prefixes."""
    first, stop = run[0].first, run[-1].stop
    if len(run) == 1 and cleaned == run[0].fragment:
        return None
    prefixes = [p for block in run for p in block.prefixes]
    eol = lines.ending(first) or "\n"
    new = eol.join(_new_lines(lines, run, cleaned, prefixes)) + lines.ending(stop - 1)
    end = lines.start(stop) if stop < len(lines) else len(page.text)
    if page.text[lines.start(first):end] == new:
        return None
    return Edit(lines.start(first), end, new, first + 1)
