"""The page's Content-Security-Policy: the <meta> first in <head>, its problems, its hashes."""

from __future__ import annotations

import re
from typing import Final

from twnotes.audit.tree import Node

CSP: Final = "content-security-policy"
NO_POLICY: Final = "no Content-Security-Policy <meta> as the first element of <head>"
# The only sources script-src may list: the site's own files, hashes, Pagefind's wasm.
_SCRIPT_SOURCE_RE: Final = re.compile(
    r"'self'|'none'|'wasm-unsafe-eval'|'sha(?:256|384|512)-[A-Za-z0-9+/_-]+={0,2}'")


def head_of(document: Node) -> Node | None:
    """The document's <head> (html5lib always makes one for a page)."""
    for html in document.childNodes:
        if html.element and html.name == "html":
            return next((c for c in html.childNodes if c.element and c.name == "head"), None)
    return None


def _policy_meta(document: Node) -> Node | None:
    """The <meta http-equiv> policy if it is the first element of <head> (else None).

    html5lib moves nothing else there from a note: <head> closes before any content.
    """
    head = head_of(document)
    first = next((c for c in head.childNodes if c.element), None) if head else None
    if (first is None or first.name != "meta"
            or first.attributes.get("http-equiv", "").strip().lower() != CSP):
        return None
    return first


def _directives(content: str) -> dict[str, list[str]]:
    """Directive name -> sources; as a browser does, the first of a repeated one wins."""
    directives: dict[str, list[str]] = {}
    for part in content.split(";"):
        words = part.split()
        if words:
            directives.setdefault(words[0].lower(), words[1:])
    return directives


def _problems(directives: dict[str, list[str]], script: list[str] | None) -> list[str]:
    problems: list[str] = []
    if script is None:
        problems.append("the Content-Security-Policy has no script-src")
    problems += [f"the Content-Security-Policy's script-src allows {source}"
                 for source in script or () if not _SCRIPT_SOURCE_RE.fullmatch(source)]
    problems += [f"the Content-Security-Policy does not set {name} 'none'"
                 for name in ("object-src", "base-uri") if directives.get(name) != ["'none'"]]
    if "form-action" not in directives:
        problems.append("the Content-Security-Policy has no form-action")
    return problems


def page_policy(document: Node) -> tuple[list[str], frozenset[str]]:
    """What is wrong with the page's Content-Security-Policy, and its script hash sources.

    script-src falls back to default-src, as in a browser.
    """
    meta = _policy_meta(document)
    if meta is None:
        return [NO_POLICY], frozenset()
    directives = _directives(meta.attributes.get("content", ""))
    script = directives.get("script-src", directives.get("default-src"))
    hashes = frozenset(source.strip("'") for source in script or ()
                       if source.startswith("'sha"))
    return _problems(directives, script), hashes
