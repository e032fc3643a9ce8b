"""Cleaning one HTML fragment against the policy: parse as a browser does, serialise what
the allow-list keeps, check that the result parses back to the same tree."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from bs4.element import Comment, NavigableString, PageElement, Tag

from twnotes import policy
from twnotes.sanitize.fast import _already_clean
from twnotes.sanitize.html5 import (
    _BLANK_LINE_RE,
    MAX_DEPTH,
    NEWLINE_EATERS,
    VOID,
    XHTML_NS,
    _parse,
    _text_only,
)

MAX_ROUNDS: Final = 3
# A processing instruction: the browser reads `<?` as a comment that ends at the first
# `>`, so `<?php if ($a > 1) ?>` would leave ` 1) ?>` as text; it goes whole.
_PI_RE: Final = re.compile(r"<\?.*?\?>", re.DOTALL)

def _escape_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escape_attr(value: str) -> str:
    return (_escape_text(value).replace('"', "&quot;").replace("\n", "&#10;")
            .replace("\t", "&#9;"))


def _clean_attrs(tag: Tag, rendered: bool) -> list[tuple[str, str]]:
    return policy.clean_attrs(tag.name, (
        (key, raw if isinstance(raw, str) else " ".join(raw)) for key, raw in tag.attrs.items()),
        rendered=rendered)


def _string(node: NavigableString, *, clean: bool, source: str) -> str | None:
    """How a string node is written: text escaped, a comment kept when it is safe and was
    written as one in `source` (what the parser turns into a comment, `<!x>`, `</ x>`,
    is dropped); None when it goes."""
    if type(node) is NavigableString:
        return _escape_text(str(node))
    if not clean or (type(node) is Comment and policy.is_safe_comment(node)
                     and f"<!--{node}-->" in source):
        return f"<!--{node}-->"
    return None  # CDATA, doctype, PI, or a comment that goes


def _put_string(out: list[str], node: NavigableString, after_newline_eater: bool,
                clean: bool, source: str) -> bool:
    """Write a string node; whether the next text still follows a newline eater (a <pre>
    whose first newline the parser drops: one more is written to keep it)."""
    written = _string(node, clean=clean, source=source)
    if after_newline_eater and type(node) is NavigableString and node.startswith("\n"):
        out.append("\n")
    if written:
        out.append(written)
        return False
    return after_newline_eater


def _tag(node: Tag, *, clean: bool, allowed: frozenset[str], depth: int,
         rendered: bool) -> tuple[str, list[tuple[str, str]]] | bool:
    """The name and attributes a tag is written with; False: it goes with its content;
    True: it goes, its content stays (unwrapped)."""
    name = node.name
    if not clean:
        if node.namespace not in (None, XHTML_NS):
            name = f"{node.prefix or 'ns'}:{name}"
        return name, [(k, v if isinstance(v, str) else " ".join(v))
                      for k, v in node.attrs.items()]
    if node.namespace not in (None, XHTML_NS) or name in policy.DROP_WHOLE:
        return False
    if name not in allowed or depth > MAX_DEPTH:
        return True
    return name, _clean_attrs(node, rendered) if node.attrs else []


def _emit(nodes: Iterable[PageElement], *, inline: bool, clean: bool, source: str = "",
          rendered: bool = False) -> str:
    """Serialise nodes; with `clean`, apply the policy on the way (one pass, no recursion).

    Without `clean` everything is written as parsed: that is the round-trip check.
    """
    allowed = policy.INLINE_TAGS if inline else policy.BLOCK_TAGS
    out: list[str] = []
    # Work items: a node with its depth, or a closing tag already rendered.
    stack: list[tuple[PageElement, int] | str] = [(n, 1) for n in reversed(list(nodes))]
    after_newline_eater = False
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
            after_newline_eater = False
            continue
        node, depth = item
        if isinstance(node, NavigableString):
            after_newline_eater = _put_string(out, node, after_newline_eater, clean, source)
            continue
        if not isinstance(node, Tag):
            continue
        tag = _tag(node, clean=clean, allowed=allowed, depth=depth, rendered=rendered)
        if tag is True:
            stack.extend((child, depth) for child in reversed(node.contents))
        if isinstance(tag, bool):
            continue
        name, attrs = tag
        written = "".join(f' {k}="{_escape_attr(v)}"' for k, v in attrs)
        out.append(f"<{name}{written}>")
        after_newline_eater = name in NEWLINE_EATERS
        if name not in VOID:
            stack.append(f"</{name}>")
            stack.extend((child, depth + 1) for child in reversed(node.contents))
    # A blank line would end an HTML block in Markdown: keep the newline as a reference.
    return _BLANK_LINE_RE.sub("&#10;", "".join(out))


# Notes repeat their fragments (the same table, the same link), and every rewritten page
# is checked again, so results are kept: each clean output is also known to be its own
# clean form (the round-trip check below, and the idempotence property test).
_CACHE: dict[tuple[str, bool, bool], str] = {}
_CACHE_LIMIT: Final = 20_000


def clean_fragment(fragment: str, *, inline: bool = False, rendered: bool = False) -> str:
    """The fragment with everything outside the allow-list removed, well formed.

    The result parses back (html5lib, same context) to exactly the tree it was written
    from, which is what defeats mutation XSS, and cleaning it again changes nothing.
    `rendered`: the fragment is goldmark's output for a note (a region of the built page),
    which may also carry Markdown's own attributes (policy.clean_attrs).
    """
    key = (fragment, inline, rendered)
    cached = _CACHE.get(key)
    if cached is None:
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.clear()
        cached = _CACHE[key] = _clean_uncached(fragment, inline, rendered=rendered)
        _CACHE[(cached, inline, rendered)] = cached
    return cached


def clean_fragment_uncached(fragment: str, *, inline: bool = False) -> str:
    """clean_fragment without the cache (benchmarks time the cleaning itself)."""
    return _clean_uncached(fragment, inline)



def _clean_uncached(fragment: str, inline: bool, *, fast: bool = True,
                    rendered: bool = False) -> str:
    """Clean by parsing; `fast=False` never takes the already-clean shortcut (tests)."""
    if fast and _already_clean(fragment, inline, rendered):
        return fragment
    current = _PI_RE.sub("", fragment) if "<?" in fragment else fragment
    for _ in range(MAX_ROUNDS):
        cleaned = _emit(_parse(current, inline), inline=inline, clean=True, source=current,
                        rendered=rendered)
        if cleaned == current:
            return cleaned
        # The round trip: what we write must parse back to what we wrote. Output that
        # passes _already_clean does (that check implies it), without a second parse.
        if ((fast and _already_clean(cleaned, inline, rendered))
                or _emit(_parse(cleaned, inline), inline=inline, clean=False) == cleaned):
            return cleaned
        current = cleaned
    # Still not stable: keep only the text, which is always stable.
    text = _text_only(_parse(current, inline))
    return _BLANK_LINE_RE.sub("&#10;", _escape_text(text))
