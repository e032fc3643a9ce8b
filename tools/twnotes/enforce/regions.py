"""The delimiters the layouts write around note regions, found as exact strings, nested."""

from __future__ import annotations

import dataclasses
import functools
import re
from typing import Final

from twnotes import util

TOKEN_ENV: Final = "HUGO_TW_REGION_TOKEN"
NOTE_KINDS: Final = frozenset({"block", "inline"})
LAYOUT: Final = "layout"


class Change(util.PageReport):
    """Something a note region held that the policy removes: a bug of the source scan."""

    @property
    def what(self) -> str:
        return self.text


class DelimiterError(ValueError):
    """A delimiter missing, repeated, unbalanced or nested where it cannot be."""

    def __init__(self, page: str, reason: str) -> None:
        super().__init__(f"{page}: {reason}")
        self.page = page
        self.reason = reason


@dataclasses.dataclass
class Region:
    kind: str
    outer_start: int  # where the opening delimiter starts
    start: int  # where the content starts
    end: int = -1  # where the content ends (the closing delimiter starts)
    outer_end: int = -1  # where the closing delimiter ends
    children: list[Region] = dataclasses.field(default_factory=list)


@functools.lru_cache(maxsize=8)
def marks(token: str) -> re.Pattern[str]:
    return re.compile(rf"<!--#tw:{token}:(/?)(block|inline|layout|page)-->")


def _where(text: str, offset: int) -> str:
    line = text.count("\n", 0, offset) + 1
    column = offset - text.rfind("\n", 0, offset)
    return f"line {line}, column {column}"


def find_regions(text: str, token: str, page: str) -> list[Region]:
    """The page's top-level regions, each with its nested ones; DelimiterError if malformed.

    A page carries its `page` delimiter exactly once. Note and layout regions alternate:
    a note region holds layout islands, a layout island holds note regions; a note region
    straight inside a note region (or an island in an island) means a layout delimits
    wrongly, and an island outside any note region is the layout's anyway (allowed).
    """
    top: list[Region] = []
    stack: list[Region] = []
    stamp: int | None = None

    def fail(reason: str, offset: int) -> DelimiterError:
        return DelimiterError(page, f"{reason} ({_where(text, offset)})")

    for mark in marks(token).finditer(text):
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
            region = Region(kind, mark.start(), mark.end())
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
