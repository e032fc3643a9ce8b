"""A page as goldmark meets it: the outer document with shortcode placeholders, the inner
texts declared Markdown as documents of their own; every edit mapped to the file's bytes."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

from twnotes import pages, shortcodes
from twnotes.sanitize.blocks import _block_edits
from twnotes.sanitize.checks import _check_code_for_shortcodes, _check_markdown_attributes
from twnotes.sanitize.edits import Edit, Result, apply_edits, describe_change
from twnotes.sanitize.fragment import MAX_ROUNDS
from twnotes.sanitize.inline import _inline_edits


def find_edits(page: pages.Page) -> list[Edit]:
    """Every rewrite that makes the page's raw HTML clean, in file order.

    The page is scanned as goldmark meets it: shortcode calls replaced by placeholders
    (shortcodes.view), and the inner content of each shortcode declared Markdown scanned
    as a document of its own; edits are mapped back to the file's own offsets.
    """
    if "<" not in page.text and "{" not in page.text:
        return []
    lines = pages.Lines(page)
    return sorted(_document_edits(page, lines, page.text, lines.start(page.front_matter_lines),
                                  0), key=lambda e: e.start)


def _document_edits(page: pages.Page, lines: pages.Lines, text: str, start: int,
                    base: int) -> list[Edit]:
    """Edits for `text`, which stands at file offset `base` (the page, or an inner text).

    An edit of the outer document that covers a call (raw HTML around a shortcode) writes
    the call back with its inner text already cleaned; the inner text's own edits stand
    alone only for calls no outer edit covers.
    """
    try:
        view = shortcodes.view(text, start, page.settings.shortcode_dirs)
    except shortcodes.ShortcodeError as exc:
        raise pages.PageError(page.path, lines.line_of(base + exc.offset), exc.reason) from None
    inner_edits = [_inner_edits(page, lines, text, call, base) for call in view.calls]
    calls = [apply_edits(text[c.start:c.end], [dataclasses.replace(
        e, start=e.start - base - c.start, end=e.end - base - c.start) for e in edits])
        for c, edits in zip(view.calls, inner_edits, strict=True)]
    doc = (dataclasses.replace(page, text=view.text) if base == 0
           else pages.Page(page.path, view.text, 0))
    covered: set[int] = set()
    edits: list[Edit] = []
    try:
        for edit in _scan(doc, [view.placeholder(i) for i in range(len(view.calls))]):
            begin = base + view.to_source(edit.start)
            end = base + view.to_source(edit.end, end=True)
            edits.append(Edit(begin, end, view.restore(edit.new, edit.start, edit.end, calls),
                              lines.line_of(begin)))
            covered.update(view.covered(edit.start, edit.end))
    except pages.PageError as exc:
        pages.raise_all([pages.PageError(page.path, lines.line_of(
            base + view.source_offset_of_line(e.line)), e.reason)
            for e in getattr(exc, "errors", [exc])])
    except shortcodes.ShortcodeError as exc:
        raise pages.PageError(page.path, lines.line_of(base + exc.offset), exc.reason) from None
    for index, own in enumerate(inner_edits):
        if index not in covered:
            edits += own
    return edits


def _inner_edits(page: pages.Page, lines: pages.Lines, text: str, call: shortcodes.Call,
                 base: int) -> list[Edit]:
    """Edits of a call's inner text, declared Markdown: a document of its own, trimmed as
    the shortcode trims it (file offsets)."""
    if call.inner is None:
        return []
    inner = text[call.inner[0]:call.inner[1]]
    lead = len(inner) - len(inner.lstrip())
    return sorted(_document_edits(page, lines, inner.strip(), 0, base + call.inner[0] + lead),
                  key=lambda e: e.start)


def _scan(page: pages.Page, words: Sequence[str]) -> list[Edit]:
    """The edits for one document as markdown-it sees it (offsets in page.text)."""
    tokens = pages.tokens(page)
    deep = pages.too_deep(tokens)
    if deep is not None:
        raise pages.PageError(page.path, (deep.map[0] if deep.map else 0) + 1,
                              f"Markdown nested {pages.MAX_NESTING} levels deep: the "
                              "sanitiser cannot see inside it; flatten it")
    errors = _check_code_for_shortcodes(page, tokens, words) if words else []
    if "{" in page.text:
        errors += _check_markdown_attributes(page, tokens)
    pages.raise_all(errors)
    lines = pages.Lines(page)
    edits: list[Edit] = []
    cursor: dict[int, int] = {}
    in_table = False
    for token in tokens:
        if token.type in ("td_open", "th_open"):
            in_table = True
        elif token.type in ("td_close", "th_close"):
            in_table = False
        if token.type == "inline" and "<" in token.content:
            edits.extend(_inline_edits(page, lines, token, cursor, in_table))
    return edits + _block_edits(page, lines, tokens)


def sanitize_page(page: pages.Page) -> Result:
    """The page with clean raw HTML; rewrites until nothing changes, a few rounds at most."""
    current = page
    changed_lines: list[int] = []
    changes: list[tuple[int, str]] = []
    for _ in range(MAX_ROUNDS + 1):
        edits = find_edits(current)
        if not edits:
            return Result(page.path, page.text, current.text, tuple(sorted(set(changed_lines))),
                          tuple(changes))
        if current is page:
            changed_lines.extend(e.line for e in edits)
            changes.extend((e.line, describe_change(page.text[e.start:e.end], e.new))
                           for e in edits)
        current = dataclasses.replace(current, text=apply_edits(current.text, edits))
    raise pages.PageError(page.path, changed_lines[0] if changed_lines else 1,
                          "raw HTML does not settle into a clean form; edit it by hand")


def sanitize_text(text: str, path: Path = Path("<text>")) -> Result:
    return sanitize_page(pages.parse_page_text(path, text))
