"""What flows out of the scan: edits over a page's bytes, the page's lines, a page's
result, and a few words for the maintainer on what an edit does."""

from __future__ import annotations

import dataclasses
import functools
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Final


def markers(taken: str, count: int) -> list[str]:
    """`count` distinct marker strings made of private-use characters absent from `taken`:
    they stand for the Markdown between pieces of HTML cleaned together."""
    for base in range(0xE000, 0xF8FF, 2):
        if chr(base) not in taken and chr(base + 1) not in taken:
            return [f"{chr(base)}{i}{chr(base + 1)}" for i in range(count)]
    raise ValueError("no free marker character")  # pragma: no cover - 3,000 tried


@dataclasses.dataclass(frozen=True)
class Edit:
    """Replace text[start:end] with `new`; `line` (1-based) is where it starts."""

    start: int
    end: int
    new: str
    line: int


_TAG_NAME_RE: Final = re.compile(r"<(/?)([A-Za-z][\w-]*)")
_ATTR_NAME_RE: Final = re.compile(r"""[\s/"']([^\s"'>/=]+)(?=\s*=|[\s/>])""")
_IN_TAG_RE: Final = re.compile(r"<[A-Za-z][^<>]*>?")  # a start tag, to read its attributes
_QUOTED_RE: Final = re.compile(r""""[^"]*"|'[^']*'""")


def _tags(text: str, end: str = "") -> Counter[str]:
    return Counter(m.group(2).lower() for m in _TAG_NAME_RE.finditer(text)
                   if m.group(1) == end)


def _attrs(text: str) -> Counter[str]:
    return Counter(a.lower() for tag in _IN_TAG_RE.findall(text)
                   for a in _ATTR_NAME_RE.findall(_QUOTED_RE.sub('""', re.sub(
                       r"^<[\w-]+", " ", tag))))


def _tag_words(old: str, new: str) -> list[str]:
    """Elements dropped, added, wrapped around and closed."""
    old_tags, new_tags = _tags(old), _tags(new)
    wrapped = new.startswith("<div>") and not old.lstrip().lower().startswith("<div")
    words = [f"drops <{t}>" for t in sorted(old_tags - new_tags)]
    words += [f"adds <{t}>" for t in sorted(new_tags - old_tags) if t != "div" or not wrapped]
    if "<div>" in new and not old_tags["div"] and new_tags["div"]:
        words.append("wraps it in <div> (an HTML block must start with a block tag)")
    words += [f"closes <{t}>" for t in sorted(
        _tags(new, "/") - _tags(old, "/") - (new_tags - old_tags))]
    return words


@functools.lru_cache(maxsize=4096)  # the same fix repeats, in a page and across pages
def describe_change(old: str, new: str) -> str:
    """What cleaning did to a piece of raw HTML, in a few words: `drops <script>, adds
    <tbody>, escapes &`. A summary for the maintainer; --diff shows the bytes."""
    words = _tag_words(old, new)
    words += [f"drops {a}" for a in sorted(_attrs(old) - _attrs(new))]
    words += [f"adds {a}" for a in sorted(_attrs(new) - _attrs(old))]
    if old.count("<!--") > new.count("<!--"):
        words.append("drops a comment")
    escaped = [c for c, ref in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"))
               if new.count(ref) > old.count(ref)]
    if escaped:
        words.append("escapes " + " ".join(escaped))
    return ", ".join(words) or "rewrites the HTML in its clean form (quotes, case, end tags)"


def apply_edits(text: str, edits: Sequence[Edit]) -> str:
    parts, last = [], 0
    for edit in edits:
        parts += [text[last:edit.start], edit.new]
        last = edit.end
    parts.append(text[last:])
    return "".join(parts)




@dataclasses.dataclass(frozen=True)
class Result:
    """What sanitising one page gives: the clean text and where it differs."""

    path: Path
    original: str
    cleaned: str
    lines: tuple[int, ...]
    # (line, what changes there), e.g. (12, "drops <script>, drops onclick").
    changes: tuple[tuple[int, str], ...] = ()

    @property
    def changed(self) -> bool:
        return self.cleaned != self.original
