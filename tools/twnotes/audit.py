"""Audit the built site: nothing on a page can run unless a layout put it there.

Defence in depth behind `sanitize` and `enforce`: it reads only built HTML (public/),
parsed with html5lib as a browser parses it, so a hole anywhere upstream (a note, a
shortcode, a render hook, a Hugo upgrade) shows up here. A layout's script is known by
what a note cannot copy into a working script of its own: its hash. Every page carries a
Content-Security-Policy <meta> as the first element of <head>; an inline script runs only
if the sha256 (384, 512) of its text is one of that policy's hash sources, and an
external one must be a file of the site whose bytes match its `integrity` attribute. No
script at all may sit inside the page content (`.tw-content`), and no element anywhere
may carry an event handler or a script URL, which the policy stops in a browser too.

Speed: html5lib's tree construction (the HTML standard's algorithm, so the tree is the
browser's) builds into a bare node class below instead of a bs4 soup, which halves the
parse: the audit reads element names, attributes and ancestry, and text only of scripts.
Large sites are spread over worker processes (util.parallel_map).
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import hashlib
import posixpath
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final, TextIO
from urllib.parse import unquote, urlsplit

import html5lib
from html5lib.treebuilders import base as treebuilder_base

from twnotes import policy, util
from twnotes.util import per_thread

CONTENT_CLASS: Final = "tw-content"
CSP: Final = "content-security-policy"
NO_POLICY: Final = "no Content-Security-Policy <meta> as the first element of <head>"
# Hash sources a policy may name, and the hashlib name of each.
HASHES: Final = {"sha256": "sha256", "sha384": "sha384", "sha512": "sha512"}
# The only sources script-src may list: the site's own files, hashes, Pagefind's wasm.
_SCRIPT_SOURCE_RE: Final = re.compile(
    r"'self'|'none'|'wasm-unsafe-eval'|'sha(?:256|384|512)-[A-Za-z0-9+/_-]+={0,2}'")
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
        self.script: list[str] = []  # a script's text, the one text the audit reads

    def appendChild(self, node: _Node) -> None:
        self.childNodes.append(node)
        node.parent = self

    def insertText(self, data: str, insertBefore: _Node | None = None) -> None:
        self.text = True
        if self.name == "script":
            self.script.append(data)

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


_parser: Final = per_thread(lambda: html5lib.HTMLParser(tree=_TreeBuilder))


def _parse(text: str) -> _Node:
    """The page's document node; one html5lib parser per thread (it resets on each parse)."""
    document: _Node = _parser().parse(text)
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


def _head(document: _Node) -> _Node | None:
    for html in document.childNodes:
        if html.element and html.name == "html":
            return next((c for c in html.childNodes if c.element and c.name == "head"), None)
    return None


def _policy(document: _Node) -> tuple[list[str], frozenset[str]]:
    """What is wrong with the page's Content-Security-Policy, and its script hash sources.

    The policy that counts is a <meta http-equiv> that is the first element of <head>
    (html5lib moves nothing else there from a note: <head> closes before any content).
    As a browser does, the first of a repeated directive wins, and script-src falls back
    to default-src.
    """
    head = _head(document)
    first = next((c for c in head.childNodes if c.element), None) if head else None
    if (first is None or first.name != "meta"
            or first.attributes.get("http-equiv", "").strip().lower() != CSP):
        return [NO_POLICY], frozenset()
    directives: dict[str, list[str]] = {}
    for part in first.attributes.get("content", "").split(";"):
        words = part.split()
        if words:
            directives.setdefault(words[0].lower(), words[1:])
    problems: list[str] = []
    script = directives.get("script-src", directives.get("default-src"))
    if script is None:
        problems.append("the Content-Security-Policy has no script-src")
    problems += [f"the Content-Security-Policy's script-src allows {source}"
                 for source in script or () if not _SCRIPT_SOURCE_RE.fullmatch(source)]
    problems += [f"the Content-Security-Policy does not set {name} 'none'"
                 for name in ("object-src", "base-uri") if directives.get(name) != ["'none'"]]
    if "form-action" not in directives:
        problems.append("the Content-Security-Policy has no form-action")
    hashes = frozenset(source.strip("'") for source in script or ()
                       if source.startswith("'sha"))
    return problems, hashes


def _digest(algorithm: str, data: bytes) -> str:
    return base64.b64encode(hashlib.new(HASHES[algorithm], data).digest()).decode("ascii")


@functools.lru_cache(maxsize=256)
def _file_digest(path: Path, algorithm: str) -> str:
    return _digest(algorithm, path.read_bytes())


def _site_file(root: Path, page: str, src: str) -> Path | None:
    """The file of the built site that a same-site script URL names, or None.

    A site published under a sub-path (baseURL /notes-site/) has its files at the root of
    public/: leading path segments are dropped until a file is found.
    """
    parts = urlsplit(src.strip())
    if parts.scheme or parts.netloc:
        return None
    path = unquote(parts.path)
    if not path.startswith("/"):
        path = posixpath.join(posixpath.dirname("/" + page), path)
    segments = [segment for segment in posixpath.normpath(path).split("/") if segment]
    for i in range(len(segments)):
        candidate = root.joinpath(*segments[i:])
        if candidate.is_file():
            return candidate
    return None


def _script_problem(node: _Node, hashes: frozenset[str], root: Path | None,
                    page: str) -> str | None:
    """Why a <script> is not one of the layouts' own, or None if it is.

    Inline: the hash of its text must be a hash source of the page's policy (a copy of a
    layout script's text is that layout script again). External: a file of the site whose
    digest is the one its `integrity` attribute names (with `root`; see audit_html).
    """
    src = node.attributes.get("src")
    if src is None:
        data = "".join(node.script).encode("utf-8", errors="surrogatepass")
        for source in hashes:
            algorithm, _, value = source.partition("-")
            if algorithm in HASHES and _digest(algorithm, data) == value:
                return None
        return (f"inline <script> not allowed by the page's Content-Security-Policy "
                f"(sha256-{_digest('sha256', data)})")
    parts = urlsplit(src.strip())
    file = None
    if not (parts.scheme or parts.netloc) and root is not None:
        file = _site_file(root, page, src)
    if parts.scheme or parts.netloc or (root is not None and file is None):
        return f"<script src> {_short(src)!r} is not a file of this site"
    for spec in node.attributes.get("integrity", "").split():
        algorithm, _, value = spec.partition("-")
        if algorithm in HASHES and (file is None or _file_digest(file, algorithm) == value):
            return None
    return f"<script src> {_short(src)!r} has no integrity matching the site's file"


def audit_html(text: str, page: str, root: Path | None = None, *,
               require_policy: bool = False) -> list[Finding]:
    """Findings for one built page (its path relative to the site root names it).

    `root` is the built site's folder, where an external script's file is read and checked
    against its integrity; without it, a same-site script with an integrity attribute
    passes (the browser refuses it if the bytes differ). A page without a policy allows
    no inline script; `require_policy` (every page of a built site) makes the missing
    policy a finding of its own.
    """
    findings: list[Finding] = []

    def found(reason: str) -> None:
        findings.append(Finding(page, reason))

    document = _parse(text)
    problems, hashes = _policy(document)
    for problem in problems:
        if require_policy or problem != NO_POLICY:
            found(problem)
    for node, in_content in _elements(document):
        name = node.name
        if name in _NAMED_CHECKS:
            if name == "script":
                not_ours = _script_problem(node, hashes, root, page)
                if not_ours is not None:
                    found(not_ours)
                if in_content:
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
    return audit_html(path.read_text(encoding="utf-8", errors="replace"), page, root,
                      require_policy=True)


def site_pages(root: Path) -> list[Path]:
    """The HTML files of the built site, in path order."""
    return [path for path in sorted(root.rglob("*.html")) if path.is_file()]


def audit_site(root: Path, jobs: int = 0, files: list[Path] | None = None) -> Iterator[Finding]:
    """Findings for every HTML page under the built site's root, in path order.

    `jobs` as util.parallel_map: 0 spreads a large site over all cores. Results come
    back in path order whatever the number of workers, so the output is the same.
    """
    if files is None:
        files = site_pages(root)
    for findings in util.parallel_map(functools.partial(audit_file, root), files, jobs):
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
