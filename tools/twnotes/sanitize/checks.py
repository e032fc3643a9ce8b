"""Refusals: Markdown that would put on the page what the sanitiser cannot clean."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

from markdown_it.token import Token

from twnotes import markup, pages, policy

SHORTCODE_IN_CODE: Final = ("shortcode inside code is expanded by Hugo; write {{</* … */>}} "
                            "to show it literally")


def _check_code_for_shortcodes(page: pages.Page, tokens: Sequence[Token],
                               words: Sequence[str]) -> list[pages.PageError]:
    """Refuse a shortcode call inside a code span, fenced or indented code block.

    Hugo expands shortcodes before goldmark sees the page, code or not, and puts their
    output into the code as it is: what reads as code is not. In the view the sanitiser
    scans, each call is a placeholder word, so a call in code is a word in code.
    """
    def first(content: str) -> int:
        return min((content.find(w) for w in words if w in content), default=-1)

    errors: list[pages.PageError] = []
    for token in tokens:
        if token.type in ("fence", "code_block") and token.map is not None:
            at = first(token.content)
            if at >= 0:
                line = token.map[0] + (1 if token.type == "fence" else 0)
                errors.append(pages.PageError(page.path, line + token.content.count(
                    "\n", 0, at) + 1, SHORTCODE_IN_CODE))
        elif token.type == "inline" and token.map is not None and any(
                c.type == "code_inline" and first(c.content) >= 0 for c in token.children or []):
            at = first(token.content)
            errors.append(pages.PageError(page.path, token.map[0] + token.content.count(
                "\n", 0, max(at, 0)) + 1, SHORTCODE_IN_CODE))
    return errors


# A goldmark attribute list (`{#id .class key=value}`), as config.toml enables for
# headings (at the end of the line) and blocks (a line of its own after the block).
_ATTRS: Final = r"\{[ \t]*(?:[#.][^\s{}]|[A-Za-z_:][\w.:-]*[ \t]*=)[^{}\n]*\}"
_HEADING_ATTRS_RE: Final = re.compile(_ATTRS + r"[ \t]*$")
_BLOCK_ATTRS_RE: Final = re.compile(r"^[ \t]*" + _ATTRS + r"[ \t]*$", re.MULTILINE)
_ATTR_ITEM_RE: Final = re.compile(
    r"#(?P<id>[^\s{}#.=\"'<>&]+)|\.(?P<cls>[A-Za-z_][\w-]*)|(?P<other>\S+)")
MARKDOWN_ATTRS: Final = ("Markdown attribute {item} is not allowed: only {{#id}} and {{.class}} "
                         "are (style, handlers and other keys go past the sanitiser; use raw "
                         "HTML, which is cleaned)")
LAYOUT_ID: Final = ("Markdown attribute {item} takes an id or class of the layout's own; "
                    "choose another")


def _attribute_problems(inside: str) -> list[str]:
    """What is wrong with one attribute list (its text between the braces)."""
    problems = []
    for item in _ATTR_ITEM_RE.finditer(inside):
        if item.group("other"):
            problems.append(MARKDOWN_ATTRS.format(item=repr(item.group())))
        elif (item.group("id") and policy.is_layout_id(item.group("id"))) or (
                item.group("cls") and policy.is_layout_class(item.group("cls"))):
            problems.append(LAYOUT_ID.format(item=repr(item.group())))
    return problems


def _attribute_lists(content: str, heading: bool, settings: markup.Markup,
                     ) -> list[re.Match[str]]:
    """The attribute lists goldmark reads in one inline token's text."""
    found: list[re.Match[str]] = []
    if heading and settings.heading_attributes:
        found += list(_HEADING_ATTRS_RE.finditer(content))
    if settings.block_attributes:
        found += [m for m in _BLOCK_ATTRS_RE.finditer(content)
                  if all(m.start() != f.start() for f in found)]
    return found


def _check_markdown_attributes(page: pages.Page, tokens: Sequence[Token]) -> list[pages.PageError]:
    """Refusals for goldmark attribute lists beyond the safe subset (`{#id .class}`).

    Goldmark writes them as they are (`<p id="tw-search" style=…>`): ids that take the
    layout's own, and the style and handlers the policy drops from raw HTML. markdown-it
    does not know the syntax, so a list shows up in the inline text of the heading, or
    as a line of the paragraph (or list item) it follows.
    """
    errors: list[pages.PageError] = []
    heading = False
    for token in tokens:
        if token.type == "heading_open":
            heading = True
        elif token.type == "inline" and token.map is not None and "{" in token.content:
            for match in _attribute_lists(token.content, heading, page.settings):
                line = token.map[0] + token.content.count("\n", 0, match.start()) + 1
                inside = match.group().strip().strip("{}")
                errors += [pages.PageError(page.path, line, problem)
                           for problem in _attribute_problems(inside)]
            heading = False
        else:
            heading = heading and token.type != "heading_close"
    return errors
