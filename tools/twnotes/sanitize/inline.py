"""Inline HTML: the pieces of one paragraph cleaned together, so tags pair up across
them, and written back at their own columns."""

from __future__ import annotations

import dataclasses
import html
import re
from collections.abc import Sequence

from markdown_it.token import Token

from twnotes import pages
from twnotes.sanitize.edits import Edit, markers
from twnotes.sanitize.fragment import clean_fragment


@dataclasses.dataclass(frozen=True)
class _Piece:
    offset: int
    html: str


class _InlineMap:
    """Maps offsets in an inline token's content to offsets in the page text."""

    def __init__(self, lines: pages.Lines, token: Token, content: str, cursor: dict[int, int],
                 in_table: bool) -> None:
        assert token.map is not None
        self.rows: list[tuple[int, int, str, str]] = []  # (content start, abs col, text, src)
        position = 0
        for index, part in enumerate(content.split("\n")):
            line = token.map[0] + index
            source = lines.content(line)
            if in_table:
                wanted = part.replace("|", "\\|")
                col = source.find(wanted, cursor.get(line, 0))
                if col < 0:
                    col = source.find(part, cursor.get(line, 0))
                    wanted = part
                cursor[line] = max(col, 0) + len(wanted)
            else:
                wanted = part
                col = source.rfind(part)
            if col < 0:
                raise LookupError(line)
            self.rows.append((position, lines.start(line) + col, part, wanted))
            position += len(part) + 1

    def position(self, offset: int) -> int:
        for start, absolute, part, wanted in reversed(self.rows):
            if offset >= start:
                column = offset - start
                if wanted != part:  # `\|` in a table cell is one character in content
                    column += part[:column].count("|")
                return absolute + column
        raise LookupError(offset)


def _balanced(pieces: Sequence[_Piece]) -> tuple[list[str], str] | None:
    """Clean the pieces of one inline token together, so tags pair up across them.

    Each piece is followed by a marker standing for the Markdown after it; the cleaned
    fragment is cut at the markers. Returns the new pieces and the closing tags still owed
    at the end of the paragraph, or None when the parser moved a marker.
    """
    marks = markers("".join(p.html for p in pieces), len(pieces))
    fragment = "".join(p.html + m for p, m in zip(pieces, marks, strict=True))
    cleaned = clean_fragment(fragment, inline=True)
    out: list[str] = []
    rest = cleaned
    for mark in marks:
        head, found, rest = rest.partition(mark)
        if not found:
            return None
        out.append(head)
    if any(mark in rest for mark in marks):
        return None
    return out, rest


def _inline_skeleton(page: pages.Page, content: str) -> tuple[list[str], list[tuple[str, str]]]:
    """The html pieces and the other (non-text) tokens markdown-it sees in `content`."""
    html_pieces: list[str] = []
    others: list[tuple[str, str]] = []
    for child in pages.markdown(page.settings, content).parseInline(content)[0].children or []:
        if child.type == "html_inline":
            html_pieces.append(child.content)
        elif child.type != "text":
            others.append((child.type, str(child.attrs) + child.content))
    return html_pieces, others


def _escaped_piece(piece: str) -> str:
    """A piece of HTML shown as literal text: entity-escaped, Markdown punctuation escaped."""
    text = html.escape(piece.replace("\n", " "), quote=False)
    return re.sub(r"([!-%'-/:=?@\[-`{-~])", r"\\\1", text)


def _choose(page: pages.Page, content: str, pieces: Sequence[_Piece],
            plan: tuple[list[str], str] | None) -> tuple[list[str], str] | None:
    """The rewrite of the pieces (and the closing tags owed at the end) that leaves the
    Markdown around them as it was: the cleaned pieces, else the pieces shown as text."""
    # (new pieces, closing tags owed, the raw HTML markdown-it must then see)
    candidates: list[tuple[list[str], str, list[str]]] = []
    if plan is not None:
        candidates.append((*plan, [x for x in [*plan[0], plan[1]] if x]))
    # Fallback: show the pieces as text (when cleaning would glue text into new tags).
    candidates.append(([_escaped_piece(p.html) for p in pieces], "", []))
    old_skeleton = _inline_skeleton(page, content)[1]
    for new_pieces, tail, wanted in candidates:
        rebuilt, last = [], 0
        for piece, new in zip(pieces, new_pieces, strict=True):
            rebuilt += [content[last:piece.offset], new]
            last = piece.offset + len(piece.html)
        rebuilt += [content[last:], tail]
        html_now, skeleton = _inline_skeleton(page, "".join(rebuilt))
        if skeleton == old_skeleton and "".join(html_now) == "".join(wanted):
            return new_pieces, tail
    return None


def _placed(page: pages.Page, lines: pages.Lines, where: _InlineMap, pieces: Sequence[_Piece],
            chosen: tuple[list[str], str], content: str) -> list[Edit]:
    """The chosen rewrite as edits at the pieces' own offsets (LookupError: not found)."""
    edits = []
    for piece, new in zip(pieces, chosen[0], strict=True):
        start, end = where.position(piece.offset), where.position(
            piece.offset + len(piece.html))
        first_line, last_line = piece.html.split("\n")[0], piece.html.split("\n")[-1]
        if not (page.text.startswith(first_line, start)
                and page.text.endswith(last_line, 0, end)):
            raise LookupError(piece.offset)
        if new != piece.html:
            edits.append(Edit(start, end, new, lines.line_of(start)))
    if chosen[1]:
        end = where.position(len(content))
        edits.append(Edit(end, end, chosen[1], lines.line_of(end)))
    return edits


def _inline_edits(page: pages.Page, lines: pages.Lines, token: Token,
                  cursor: dict[int, int], in_table: bool) -> list[Edit]:
    # (A plugin's own html_inline tokens, such as a task list's checkbox, carry no offset:
    # they are not in the source.)
    pieces = [_Piece(int(child.meta["offset"]), child.content)
              for child in token.children or []
              if child.type == "html_inline" and "offset" in child.meta]
    if not pieces:
        return []
    plan = _balanced(pieces)
    if plan is not None and plan == ([p.html for p in pieces], ""):
        return []
    chosen = _choose(page, token.content, pieces, plan)
    line = (token.map[0] if token.map else 0) + 1
    if chosen is None:
        raise pages.PageError(page.path, line, "raw HTML here cannot be rewritten without "
                              "changing the Markdown around it; edit it by hand")
    try:
        where = _InlineMap(lines, token, token.content, cursor, in_table)
        return _placed(page, lines, where, pieces, chosen, token.content)
    except LookupError:
        raise pages.PageError(page.path, line, "cannot locate the raw HTML of this "
                              "paragraph in the source; edit it by hand") from None
