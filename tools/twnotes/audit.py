"""Audit the built site: nothing on a page can run unless a layout put it there.

Defence in depth behind `sanitize`: it reads only built HTML (public/), parsed with
html5lib as a browser parses it, so a hole anywhere upstream (a note, a shortcode, a
render hook, a Hugo upgrade) shows up here. The convention with the layouts: every
<script> they emit carries `data-tw-layout` and sits outside the page content
(`.tw-content`); any other script is a finding.

Speed: html5lib's tree construction (the HTML standard's algorithm, so the tree is the
browser's) builds into a bare node class below instead of a bs4 soup, which halves the
parse: the audit reads element names, attributes and ancestry, never text. Large sites are
spread over worker processes (pages.parallel_map).
"""

from __future__ import annotations

import dataclasses
import functools
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final, TextIO

import html5lib
from html5lib.treebuilders import base as treebuilder_base

from twnotes import pages, policy

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


# --------------------------------------------------------------------------- parse tree


class _Node(treebuilder_base.Node):
    """An element, comment or doctype as html5lib's tree construction places it.

    Only what the audit reads is kept: name, namespace, attributes (html5lib's own dict:
    plain names, or (prefix, local name, namespace) for adjusted foreign attributes such
    as xlink:href) and children. Text is not kept, only whether there was some
    (hasContent decides whether a newline after <pre> is dropped).
    """

    def __init__(self, name: str, namespace: str | None = None, element: bool = True) -> None:
        self.name = name
        self.namespace = namespace
        self.nameTuple = (namespace, name)
        self.element = element
        self.parent: _Node | None = None
        self.value = None
        self.attributes: dict[Any, str] = {}
        self.childNodes: list[_Node] = []
        self._flags: list[str] = []
        self.text = False

    def appendChild(self, node: _Node) -> None:
        self.childNodes.append(node)
        node.parent = self

    def insertText(self, data: str, insertBefore: _Node | None = None) -> None:
        self.text = True

    def insertBefore(self, node: _Node, refNode: _Node) -> None:
        self.childNodes.insert(self.childNodes.index(refNode), node)
        node.parent = self

    def removeChild(self, node: _Node) -> None:
        self.childNodes.remove(node)
        node.parent = None

    def reparentChildren(self, newParent: _Node) -> None:
        for child in self.childNodes:
            newParent.appendChild(child)
        self.childNodes = []

    def cloneNode(self) -> _Node:  # type: ignore[override]  # (the stub says None)
        clone = _Node(self.name, self.namespace, self.element)
        clone.attributes = dict(self.attributes)
        return clone

    def hasContent(self) -> bool:  # type: ignore[override]  # (the stub says None)
        return bool(self.childNodes) or self.text


def _document() -> _Node:
    return _Node("#document", element=False)


def _comment(data: str) -> _Node:
    return _Node("#comment", element=False)


def _doctype(name: str, publicId: str | None, systemId: str | None) -> _Node:
    return _Node("#doctype", element=False)


class _TreeBuilder(treebuilder_base.TreeBuilder):
    documentClass = staticmethod(_document)
    elementClass = _Node
    commentClass = staticmethod(_comment)
    doctypeClass = staticmethod(_doctype)
    fragmentClass = staticmethod(_document)


class _Parsers(threading.local):
    parser: html5lib.HTMLParser | None = None


_PARSERS = _Parsers()


def _parse(text: str) -> _Node:
    """The page's document node; one html5lib parser per thread (it resets on each parse)."""
    parser = _PARSERS.parser
    if parser is None:
        parser = _PARSERS.parser = html5lib.HTMLParser(tree=_TreeBuilder)
    document: _Node = parser.parse(text)
    return document


def _attr_name(key: str | tuple[str | None, str, str]) -> str:
    """An attribute's name as written: `xlink:href` for html5lib's adjusted foreign ones."""
    if isinstance(key, str):
        return key
    prefix, local, _namespace = key
    return f"{prefix}:{local}" if prefix else local


def _attrs(node: _Node) -> list[tuple[str, str]]:
    # Plain names first, adjusted foreign names after, in parse order within each (the
    # order bs4 gave them, which this audit used before; it fixes the order of findings).
    items = node.attributes.items()
    return ([(key, value) for key, value in items if isinstance(key, str)]
            + [(_attr_name(key), value) for key, value in items if not isinstance(key, str)])


def _elements(document: _Node) -> Iterator[tuple[_Node, bool]]:
    """Every element in document order, and whether it sits inside the page content."""
    stack: list[tuple[_Node, bool]] = [(document, False)]
    while stack:
        node, inside = stack.pop()
        if node.element:
            yield node, inside
            if not inside:
                inside = CONTENT_CLASS in node.attributes.get("class", "").split()
        stack.extend((child, inside) for child in reversed(node.childNodes))


# --------------------------------------------------------------------------- checks


def _srcset_urls(value: str) -> Iterator[str]:
    for candidate in value.split(","):
        parts = candidate.split()
        if parts:
            yield parts[0]


def audit_html(text: str, page: str) -> list[Finding]:
    """Findings for one built page (its path relative to the site root names it)."""
    findings: list[Finding] = []

    def found(reason: str) -> None:
        findings.append(Finding(page, reason))

    for node, in_content in _elements(_parse(text)):
        name = node.name
        if name in _NAMED_CHECKS:
            if name == "script":
                if LAYOUT_MARK not in node.attributes:
                    found(f"<script> without {LAYOUT_MARK} (not put there by a layout)")
                elif in_content:
                    found("<script> inside the page content")
            if name in FORBIDDEN_TAGS:
                found(FORBIDDEN_TAGS[name])
            if name == "iframe" and "srcdoc" in node.attributes:
                found("<iframe srcdoc> holds a document of its own")
            if (name == "meta"
                    and node.attributes.get("http-equiv", "").strip().lower() == "refresh"):
                found("<meta http-equiv=refresh> redirects the page")
        if not node.attributes:
            continue
        for attr, value in _attrs(node):
            key = attr.lower()
            if key.startswith("on"):
                found(f"<{name}> has an event handler attribute {attr}")
                continue
            if key in URL_ATTRS:
                dangerous = policy.is_dangerous_url(value)
            elif key in SRCSET_ATTRS:
                dangerous = any(policy.is_dangerous_url(url) for url in _srcset_urls(value))
            else:
                continue
            if dangerous:
                found(f"<{name} {attr}> has a script URL {_short(value)!r}")
    return findings


# Element names with a check of their own (besides the attribute checks every element gets).
_NAMED_CHECKS: Final = frozenset({"script", "iframe", "meta", *FORBIDDEN_TAGS})
_SPACES: Final = re.compile(r"\s+")


def _short(value: str) -> str:
    value = _SPACES.sub(" ", value)
    return value if len(value) <= 60 else value[:57] + "..."


# --------------------------------------------------------------------------- site


def audit_file(root: Path, path: Path) -> list[Finding]:
    """Findings for one file of the site (a worker's unit of work)."""
    page = path.relative_to(root).as_posix()
    return audit_html(path.read_text(encoding="utf-8", errors="replace"), page)


def site_pages(root: Path) -> list[Path]:
    """The HTML files of the built site, in path order."""
    return [path for path in sorted(root.rglob("*.html")) if path.is_file()]


def audit_site(root: Path, jobs: int = 0, files: list[Path] | None = None) -> Iterator[Finding]:
    """Findings for every HTML page under the built site's root, in path order.

    `jobs` as pages.parallel_map: 0 spreads a large site over all cores. Results come
    back in path order whatever the number of workers, so the output is the same.
    """
    if files is None:
        files = site_pages(root)
    for findings in pages.parallel_map(functools.partial(audit_file, root), files, jobs):
        yield from findings


def run(root: Path, out: TextIO, err: TextIO, jobs: int = 0) -> int:
    """`twnotes audit`: 0 clean, 1 findings (one `page: reason` line each), 2 no site.

    A folder without any HTML page is "no site" too: auditing nothing must not pass.
    """
    if not root.is_dir():
        print(f"{root}: no built site here (run hugo first)", file=err)
        return 2
    files = site_pages(root)
    if not files:
        print(f"{root}: no HTML pages here, nothing to audit (run hugo first)", file=err)
        return 2
    count = 0
    for finding in audit_site(root, jobs, files):
        print(finding, file=out)
        count += 1
    if count:
        print(f"{count} finding(s) in {root}", file=err)
        return 1
    return 0
