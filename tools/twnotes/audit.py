"""Audit the built site: nothing on a page can run unless a layout put it there.

Defence in depth behind `sanitize`: it reads only built HTML (public/), parsed with
html5lib as a browser parses it, so a hole anywhere upstream (a note, a shortcode, a
render hook, a Hugo upgrade) shows up here. The convention with the layouts: every
<script> they emit carries `data-tw-layout` and sits outside the page content
(`.tw-content`); any other script is a finding.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Final, TextIO

from bs4 import BeautifulSoup
from bs4.element import Tag

from twnotes import policy

LAYOUT_MARK: Final = "data-tw-layout"
CONTENT_CLASS: Final = "tw-content"
# Attributes whose value a browser follows or loads as a URL.
URL_ATTRS: Final = frozenset({
    "href", "src", "action", "formaction", "xlink:href", "data", "poster", "background",
    "ping", "cite", "codebase", "manifest", "lowsrc", "dynsrc",
})
SRCSET_ATTRS: Final = frozenset({"srcset", "imagesrcset"})
FORBIDDEN_TAGS: Final = {
    "object": "<object> embeds a plugin or document",
    "embed": "<embed> embeds a plugin or document",
    "base": "<base> rewrites every relative URL on the page",
    "applet": "<applet> runs a plugin",
}


@dataclasses.dataclass(frozen=True)
class Finding:
    """One thing on one page that could run code the layouts did not intend."""

    page: str
    reason: str

    def __str__(self) -> str:
        return f"{self.page}: {self.reason}"


def _in_content(tag: Tag) -> bool:
    return any(CONTENT_CLASS in str(parent.get("class") or "").split()
               for parent in tag.parents if isinstance(parent, Tag))


def _srcset_urls(value: str) -> Iterator[str]:
    for candidate in value.split(","):
        parts = candidate.split()
        if parts:
            yield parts[0]


def audit_html(text: str, page: str) -> list[Finding]:
    """Findings for one built page (its path relative to the site root names it)."""
    soup = BeautifulSoup(text, "html5lib", multi_valued_attributes=None)
    findings: list[Finding] = []

    def found(reason: str) -> None:
        findings.append(Finding(page, reason))

    for tag in soup.find_all(True):
        name = tag.name
        if name == "script":
            if LAYOUT_MARK not in tag.attrs:
                found(f"<script> without {LAYOUT_MARK} (not put there by a layout)")
            elif _in_content(tag):
                found("<script> inside the page content")
        if name in FORBIDDEN_TAGS:
            found(FORBIDDEN_TAGS[name])
        if name == "iframe" and "srcdoc" in tag.attrs:
            found("<iframe srcdoc> holds a document of its own")
        if name == "meta" and str(tag.get("http-equiv", "")).strip().lower() == "refresh":
            found("<meta http-equiv=refresh> redirects the page")
        for attr, raw in tag.attrs.items():
            value = raw if isinstance(raw, str) else " ".join(raw)
            key = attr.lower()
            if key.startswith("on"):
                found(f"<{name}> has an event handler attribute {attr}")
                continue
            urls = ([value] if key in URL_ATTRS
                    else list(_srcset_urls(value)) if key in SRCSET_ATTRS else [])
            if any(policy.is_dangerous_url(url) for url in urls):
                found(f"<{name} {attr}> has a script URL {_short(value)!r}")
    return findings


def _short(value: str) -> str:
    value = re.sub(r"\s+", " ", value)
    return value if len(value) <= 60 else value[:57] + "..."


def audit_site(root: Path) -> Iterator[Finding]:
    """Findings for every HTML page under the built site's root, in path order."""
    for path in sorted(root.rglob("*.html")):
        if path.is_file():
            page = path.relative_to(root).as_posix()
            yield from audit_html(path.read_text(encoding="utf-8", errors="replace"), page)


def run(root: Path, out: TextIO, err: TextIO) -> int:
    """`twnotes audit`: 0 clean, 1 findings (one `page: reason` line each), 2 no site."""
    if not root.is_dir():
        print(f"{root}: no built site here (run hugo first)", file=err)
        return 2
    count = 0
    for finding in audit_site(root):
        print(finding, file=out)
        count += 1
    if count:
        print(f"{count} finding(s) in {root}", file=err)
        return 1
    return 0
