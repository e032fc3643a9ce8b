"""One glossary (data/glossary.toml) that the pages follow.

The glossary page lists every term with a link to the section that explains it, and on every
page of the site (home, notes, examples, the section lists) the first use of a term, in prose,
is written 中文（english）: 反应器（reactor）. Code (``reactor.run()``), included programs, link
texts (which name other pages) and headings (whose words are their ids) are not prose and keep
their own spelling. The pages the rule does not apply to are listed, with the reason, in the
data file.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path
from urllib.parse import unquote

import pytest
from bs4 import Tag
from test_examples_site import content_of, soup_of

from conftest import ROOT, BuiltSite

GLOSSARY = tomllib.loads((ROOT / "data" / "glossary.toml").read_text(encoding="utf-8"))
CONTENT = ROOT / "content"
EXEMPT = {entry["page"]: entry["reason"] for entry in GLOSSARY["exempt"]}


def content_path(source: Path) -> str:
    """A content file as relref names it: /notes/twisted.md."""
    return "/" + source.relative_to(CONTENT).as_posix()


def url_of(page: str) -> str:
    """The URL path a content file builds to (no `url` overrides among the checked pages)."""
    path = page.strip("/").removesuffix(".md").removesuffix("_index").rstrip("/")
    return path + "/" if path else ""


PAGES = sorted(
    content_path(source) for source in CONTENT.rglob("*.md")
    if content_path(source) not in EXEMPT
)


@dataclasses.dataclass(frozen=True)
class Term:
    term: str  # the Chinese name
    english: str
    page: str  # a content path, as relref takes it: /notes/twisted.md
    anchor: str  # the id of the heading that explains it

    @property
    def url(self) -> str:
        return "/" + self.page.strip("/").removesuffix(".md") + "/"

    @property
    def first_use(self) -> str:
        return f"{self.term}（{self.english}）"

    def english_pattern(self) -> str:
        """The English name, also in the plural (callbacks, factories), as a whole word."""
        name = re.escape(self.english)
        plural = name[:-1] + "(?:y|ies)" if name.endswith("y") else name + "s?"
        return rf"(?<![\w.]){plural}(?![\w])"


TERMS = [Term(**entry) for entry in GLOSSARY["term"]]


def test_terms_are_complete_and_unique() -> None:
    assert len(TERMS) >= 10
    for name in ("term", "english", "page", "anchor"):
        assert all(getattr(t, name) for t in TERMS), f"a term without {name}"
    assert len({t.term for t in TERMS}) == len(TERMS)
    assert len({t.english.lower() for t in TERMS}) == len(TERMS)


@pytest.mark.parametrize("term", TERMS, ids=lambda t: t.english)
def test_glossary_page_links_each_term_to_the_section_that_explains_it(
    built_site: BuiltSite, term: Term
) -> None:
    links = [a for a in content_of(built_site, "glossary/").find_all("a")
             if a.get_text() == term.first_use]
    assert len(links) == 1, f"the glossary page does not list {term.first_use} once"
    path, _, fragment = str(links[0]["href"]).partition("#")
    assert path == term.url
    assert unquote(fragment) == term.anchor
    target = soup_of(built_site.page(term.url.lstrip("/")))
    assert target.find(id=term.anchor) is not None, f"{term.url} has no #{term.anchor}"


def test_glossary_page_lists_nothing_but_the_terms(built_site: BuiltSite) -> None:
    rows = content_of(built_site, "glossary/").select("tbody tr")
    assert [row.find_all("td")[0].get_text() for row in rows] == [t.term for t in TERMS]


def prose_of(content: Tag) -> str:
    """The page's prose in reading order: no code, no included files, no link texts, no
    headings (a heading names its section, and its words are its id, which links and the
    glossary point to; the first use is in the text under it)."""
    for tag in content.select("code, pre, figure, a, h1, h2, h3, h4, h5, h6"):
        tag.decompose()
    return content.get_text()


def first_use(text: str, term: Term) -> int | None:
    """Where the term (either name) is first used, with longer terms that contain it masked."""
    for other in TERMS:
        if other is not term and term.term in other.term:
            text = text.replace(other.term, "\0" * len(other.term))
        if other is not term and term.english.lower() in other.english.lower():
            text = re.sub(other.english_pattern(), lambda m: "\0" * len(m[0]), text,
                          flags=re.IGNORECASE)
    found = [m.start() for m in (re.search(re.escape(term.term), text),
                                 re.search(term.english_pattern(), text, flags=re.IGNORECASE))
             if m is not None]
    return min(found, default=None)


def misused(text: str) -> list[str]:
    """Each term whose first use in ``text`` is not written 中文（english）."""
    wrong = []
    for term in TERMS:
        at = first_use(text, term)
        if at is not None and not text.startswith(term.first_use, at):
            wrong.append(f"{term.first_use}: first used as {text[at:at + 20]!r}")
    return wrong


def test_the_check_finds_a_first_use_in_one_name_only() -> None:
    assert misused("协议（protocol）与协议工厂（protocol factory）；之后写协议或 protocol") == []
    assert misused("两个 Protocols，然后是协议（protocol）") == [
        "协议（protocol）: first used as 'Protocols，然后是协议（prot'"]
    # 错误回调 contains 回调: a first use of errback is not one of callback.
    assert misused("错误回调（errback）之后，回调（callback）") == []


def test_the_rule_covers_every_page_but_the_listed_exemptions() -> None:
    # Guards the test below against a path mistake that would check nothing: the home page,
    # both section lists, the 13 notes and the 14 examples, at least.
    assert {"/_index.md", "/notes/_index.md", "/examples/_index.md", "/notes/twisted.md",
            "/examples/poetry.md"} <= set(PAGES)
    assert len([p for p in PAGES if p.startswith("/notes/")]) >= 14
    assert len([p for p in PAGES if p.startswith("/examples/")]) >= 15
    for page, reason in EXEMPT.items():
        assert (CONTENT / page.lstrip("/")).is_file(), f"exempt page {page} does not exist"
        assert len(reason) > 20, f"exempt page {page} gives no reason"


@pytest.mark.parametrize("page", PAGES)
def test_page_writes_the_first_use_of_each_term_in_both_names(
    built_site: BuiltSite, page: str
) -> None:
    prose = prose_of(content_of(built_site, url_of(page)))
    assert prose.strip(), f"{page} has no prose: is the URL right?"
    assert misused(prose) == []
