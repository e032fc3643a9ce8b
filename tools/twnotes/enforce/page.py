"""One page: every note region cleaned (its layout islands standing aside), delimiters gone."""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Sequence
from xml.sax.saxutils import escape as xml_escape

from twnotes.enforce.compare import check_fragment
from twnotes.enforce.regions import LAYOUT, Change, Region, find_regions, marks


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

    def render(self, start: int, end: int, regions: Sequence[Region]) -> str:
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

    def note(self, region: Region) -> str:
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
    out = state.render(0, len(text), regions)
    # The page delimiter (and any delimiter a region's cleaning left) goes too.
    return marks(token).sub("", out), state.changes
