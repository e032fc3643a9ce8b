"""What flows out of the scan: edits over a page's bytes, the page's lines, a page's
result, and a few words for the maintainer on what an edit does."""

from __future__ import annotations

import bisect
import dataclasses
import functools
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from twnotes import pages

_LINE_END_RE: Final = re.compile(r"\r\n|\r|\n")


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


@functools.lru_cache(maxsize=4096)  # the same fix repeats, in a page and across pages
def describe_change(old: str, new: str) -> str:
    """What cleaning did to a piece of raw HTML, in a few words: `drops <script>, adds
    <tbody>, escapes &`. A summary for the maintainer; --diff shows the bytes."""
    def tags(text: str, end: str = "") -> Counter[str]:
        return Counter(m.group(2).lower() for m in _TAG_NAME_RE.finditer(text)
                       if m.group(1) == end)

    def attrs(text: str) -> Counter[str]:
        return Counter(a.lower() for tag in _IN_TAG_RE.findall(text)
                       for a in _ATTR_NAME_RE.findall(_QUOTED_RE.sub('""', re.sub(
                           r"^<[\w-]+", " ", tag))))

    words: list[str] = []
    old_tags, new_tags = tags(old), tags(new)
    words += [f"drops <{t}>" for t in sorted(old_tags - new_tags)]
    words += [f"adds <{t}>" for t in sorted(new_tags - old_tags) if t != "div" or not (
        new.startswith("<div>") and not old.lstrip().lower().startswith("<div"))]
    if "<div>" in new and not old_tags["div"] and new_tags["div"]:
        words.append("wraps it in <div> (an HTML block must start with a block tag)")
    words += [f"closes <{t}>" for t in sorted(
        tags(new, "/") - tags(old, "/") - (new_tags - old_tags))]
    words += [f"drops {a}" for a in sorted(attrs(old) - attrs(new))]
    words += [f"adds {a}" for a in sorted(attrs(new) - attrs(old))]
    if old.count("<!--") > new.count("<!--"):
        words.append("drops a comment")
    escaped = [c for c, ref in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"))
               if new.count(ref) > old.count(ref)]
    if escaped:
        words.append("escapes " + " ".join(escaped))
    return ", ".join(words) or "rewrites the HTML in its clean form (quotes, case, end tags)"


class _Lines:
    """The page's lines as markdown-it numbers them, with absolute offsets in the text."""

    def __init__(self, page: pages.Page) -> None:
        self.text = page.text
        self.starts = [0]
        self.starts.extend(m.end() for m in _LINE_END_RE.finditer(page.text))
        if self.starts[-1] == len(page.text) and len(self.starts) > 1:
            self.starts.pop()
        self.bom = 1 if page.has_bom else 0

    def __len__(self) -> int:
        return len(self.starts)

    def line_of(self, offset: int) -> int:
        """The 1-based line number holding `offset`."""
        return bisect.bisect_right(self.starts, offset)

    def start(self, index: int) -> int:
        """Offset of line `index` (0-based); after the BOM on the first line."""
        if index >= len(self.starts):
            return len(self.text)
        return self.starts[index] + (self.bom if index == 0 else 0)

    def end(self, index: int) -> int:
        """Offset of the first line ending character of line `index` (or end of text)."""
        nxt = self.starts[index + 1] if index + 1 < len(self.starts) else len(self.text)
        body = self.text[self.starts[index]:nxt]
        return nxt - (len(body) - len(body.rstrip("\r\n")))

    def content(self, index: int) -> str:
        return self.text[self.start(index):self.end(index)]

    def ending(self, index: int) -> str:
        return self.text[self.end(index):self.start(index + 1)] if index < len(self) else ""


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
