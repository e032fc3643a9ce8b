"""One built page's findings: scripts not the layouts' own, handlers, script URLs, plugins."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from twnotes import policy, util
from twnotes.audit import tree
from twnotes.audit.csp import NO_POLICY, head_of, page_policy
from twnotes.audit.scripts import script_problem, short

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
# Element names with a check of their own (besides the attribute checks every element gets).
_NAMED_CHECKS: Final = frozenset({"script", "iframe", "meta", *FORBIDDEN_TAGS})
# A refresh's content: a delay, then the address (`0; url=/a/`, quotes optional).
_REFRESH_RE: Final = re.compile(
    r"\s*\d+(?:\.\d*)?\s*[;,]\s*url\s*=\s*(['\"]?)(?P<url>[^'\"]*)\1\s*", re.IGNORECASE)


class Finding(util.PageReport):
    """One thing on one page that could run code the layouts did not intend."""

    @property
    def reason(self) -> str:
        return self.text


def _srcset_urls(value: str) -> Iterator[str]:
    for candidate in value.split(","):
        parts = candidate.split()
        if parts:
            yield parts[0]


def _element_problems(node: tree.Node, in_content: bool, hashes: frozenset[str],
                      root: Path | None, page: str) -> Iterator[str]:
    """What the element itself is (a script, a plugin, a redirect), not its attributes."""
    name = node.name
    if name == "script":
        not_ours = script_problem(node, hashes, root, page)
        if not_ours is not None:
            yield not_ours
        if in_content:
            yield "<script> inside the page content"
    if name in FORBIDDEN_TAGS:
        yield FORBIDDEN_TAGS[name]
    if name == "iframe" and "srcdoc" in node.attributes:
        yield "<iframe srcdoc> holds a document of its own"
    if _is_refresh(node):
        yield "<meta http-equiv=refresh> redirects the page"


def _is_refresh(node: tree.Node) -> bool:
    return node.name == "meta" and node.attributes.get(
        "http-equiv", "").strip().lower() == "refresh"


def _alias_redirect(document: tree.Node) -> tree.Node | None:
    """The refresh of a page Hugo writes at a front-matter alias (layouts/alias.html).

    That page sends the reader on to its own canonical address: a refresh in <head> whose
    address is exactly the href of the <link rel=canonical> there, and not a script URL.
    A note's HTML cannot reach <head>; any other refresh stays a finding.
    """
    head = head_of(document)
    children = [child for child in head.childNodes if child.element] if head else []
    canonical = next((child.attributes.get("href") for child in children
                      if child.name == "link"
                      and "canonical" in child.attributes.get("rel", "").lower().split()), None)
    for child in children:
        match = _REFRESH_RE.fullmatch(child.attributes.get("content", "")) if _is_refresh(
            child) else None
        if (match and canonical and match["url"] == canonical
                and not policy.is_dangerous_url(canonical)):
            return child
    return None


def _is_dangerous(key: str, value: str) -> bool:
    if key in URL_ATTRS:
        return policy.is_dangerous_url(value)
    if key in SRCSET_ATTRS:
        return any(policy.is_dangerous_url(url) for url in _srcset_urls(value))
    return False


def _attribute_problems(node: tree.Node) -> Iterator[str]:
    """Event handlers and script URLs, in the element's attribute order."""
    for attr, value in tree.attrs(node):
        key = attr.lower()
        if key.startswith("on"):
            yield f"<{node.name}> has an event handler attribute {attr}"
        elif _is_dangerous(key, value):
            yield f"<{node.name} {attr}> has a script URL {short(value)!r}"


def audit_html(text: str, page: str, root: Path | None = None, *,
               require_policy: bool = False) -> list[Finding]:
    """Findings for one built page (its path relative to the site root names it).

    `root` is the built site's folder, where an external script's file is read and checked
    against its integrity; without it, a same-site script with an integrity attribute
    passes (the browser refuses it if the bytes differ). A page without a policy allows
    no inline script; `require_policy` (every page of a built site) makes the missing
    policy a finding of its own.
    """
    document = tree.parse(text)
    problems, hashes = page_policy(document)
    reasons = [p for p in problems if require_policy or p != NO_POLICY]
    alias = _alias_redirect(document)
    for node, in_content in tree.elements(document):
        if node.name in _NAMED_CHECKS and node is not alias:
            reasons += _element_problems(node, in_content, hashes, root, page)
        if node.attributes:
            reasons += _attribute_problems(node)
    return [Finding(page, reason) for reason in reasons]
