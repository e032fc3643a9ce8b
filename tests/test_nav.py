"""Site navigation in the built HTML: the sidebar on every page (curriculum order, examples
grouped, the current page marked, sections collapsible), prev / next in that same order on
every note and example, the tags page with counts, and the three-state theme's markup."""

from __future__ import annotations

import functools
import re
import tomllib
from pathlib import Path
from urllib.parse import unquote

import pytest
from bs4 import BeautifulSoup, Tag

from conftest import ROOT, BuiltSite, build_site, copy_site_sources

SECTIONS = ("notes", "examples")  # by their _index.md weight: 1, 2


def front(path: Path) -> dict[str, object]:
    text = path.read_text(encoding="utf-8")
    return tomllib.loads(text.split("+++", 2)[1])


def reading_order() -> list[tuple[str, str, str]]:
    """(URL path, title, group) of every note, then every example, by front matter weight."""
    order = []
    for section in SECTIONS:
        pages = [p for p in (ROOT / "content" / section).glob("*.md") if p.name != "_index.md"]
        pages.sort(key=lambda p: int(front(p)["weight"]))  # type: ignore[call-overload]
        order += [(f"/{section}/{p.stem}/", str(front(p)["title"]), str(front(p).get("group", "")))
                  for p in pages]
    return order


ORDER = reading_order()


def soup(site: BuiltSite, url: str) -> BeautifulSoup:
    """The built page's tree, parsed once per worker: the tests here only read it (the
    sidebar test and the pager test of one page share the parse)."""
    return _parsed(site.public, url)


@functools.cache
def _parsed(public: Path, url: str) -> BeautifulSoup:
    return BeautifulSoup(BuiltSite(public, "").page(url.lstrip("/")), "html5lib")


def sidebar(page: BeautifulSoup) -> Tag:
    found = page.select("details.tw-sidebar > nav.tw-sidebar-nav")
    assert len(found) == 1, f"{len(found)} sidebars"
    return found[0]


def test_the_order_under_test_covers_every_note_and_example() -> None:
    assert len([u for u, _, _ in ORDER if u.startswith("/notes/")]) >= 10
    assert len([u for u, _, _ in ORDER if u.startswith("/examples/")]) >= 10
    assert ORDER[0][0] == "/notes/twisted/"  # weight 5: the original note comes first


@pytest.mark.parametrize("url", ["/", "/tags/", "/glossary/"])
def test_every_page_has_the_sidebar_in_reading_order(built_site: BuiltSite, url: str) -> None:
    nav = sidebar(soup(built_site, url))
    links = [(a["href"], a.get_text()) for a in nav.select("li > a")]
    assert links == [(u, t) for u, t, _ in ORDER]


@pytest.mark.parametrize("url", ["/notes/", ORDER[0][0], ORDER[-1][0]])
def test_a_page_in_a_section_lists_it_and_links_the_others(built_site: BuiltSite, url: str) -> None:
    section = url.split("/")[1]
    nav = sidebar(soup(built_site, url))
    links = [(a["href"], a.get_text()) for a in nav.select("li > a")]
    assert links == [(u, t) for u, t, _ in ORDER if u.startswith(f"/{section}/")]
    others = [a["href"] for a in nav.select(".tw-side-other > a")]
    assert others == [f"/{s}/" for s in SECTIONS if s != section]


def test_examples_are_grouped_as_their_front_matter_says(built_site: BuiltSite) -> None:
    nav = sidebar(soup(built_site, "/"))
    groups = {g.select_one("span").get_text(): [a["href"] for a in g.select("a")]
              for g in nav.select("li.tw-side-group")}
    expected: dict[str, list[str]] = {}
    for url, _, group in ORDER:
        if group:
            expected.setdefault(group, []).append(url)
    assert len(expected) >= 3 and groups == expected
    assert all(url.startswith("/examples/") for urls in groups.values() for url in urls)


@pytest.mark.parametrize(("url", "_title", "_group"), ORDER)
def test_each_page_marks_itself_and_opens_its_section(
    built_site: BuiltSite, url: str, _title: str, _group: str,
) -> None:
    nav = sidebar(soup(built_site, url))
    current = nav.select("a[aria-current]")
    assert [(a["href"], a["aria-current"]) for a in current] == [(url, "page")]
    sections = nav.select("details.tw-side-section")
    assert len(sections) == 1 and sections[0].has_attr("open")
    assert current[0].find_parent("details") is sections[0]


@pytest.mark.parametrize("url", ["/", "/tags/", "/tags/twisted/", "/glossary/"])
def test_pages_outside_the_sections_open_every_section_and_mark_no_page(
    built_site: BuiltSite, url: str,
) -> None:
    nav = sidebar(soup(built_site, url))
    assert all(s.has_attr("open") for s in nav.select("details.tw-side-section"))
    assert not nav.select("[aria-current]")


@pytest.mark.parametrize("index", range(len(ORDER)))
def test_prev_and_next_follow_the_sidebar_order(built_site: BuiltSite, index: int) -> None:
    url = ORDER[index][0]
    pagers = soup(built_site, url).select("nav.tw-pager")
    assert len(pagers) == 1, f"{url}: {len(pagers)} pagers"
    prev, next_ = pagers[0].select_one("a[rel=prev]"), pagers[0].select_one("a[rel=next]")
    want_prev = ORDER[index - 1] if index > 0 else None
    want_next = ORDER[index + 1] if index + 1 < len(ORDER) else None
    assert (prev and (prev["href"], prev.get_text())) == (
        want_prev and (want_prev[0], "上一篇" + want_prev[1]))
    assert (next_ and (next_["href"], next_.get_text())) == (
        want_next and (want_next[0], "下一篇" + want_next[1]))


def test_tags_page_counts_the_pages_of_each_tag(built_site: BuiltSite) -> None:
    tags = soup(built_site, "/tags/").select("ul.tw-terms > li > a")
    assert len(tags) >= 10
    for a in tags:
        count = int(a.select_one(".tw-count").get_text())
        listed = soup(built_site, unquote(a["href"])).select("ul.tw-list > li > a")
        assert len(listed) == count, f"{a['href']}: {len(listed)} pages listed, count {count}"
    counts = [int(a.select_one(".tw-count").get_text()) for a in tags]
    assert counts == sorted(counts, reverse=True)


def test_no_list_repeats_the_site_description(built_site: BuiltSite) -> None:
    site_description = tomllib.loads((ROOT / "config.toml").read_text(encoding="utf-8"))[
        "params"]["description"]
    for url in ["/tags/", "/tags/twisted/", "/notes/", "/examples/", "/"]:
        page = soup(built_site, url)
        texts = [p.get_text() for p in page.select("main p")]
        assert site_description not in texts, url


def test_a_tag_page_describes_itself(built_site: BuiltSite) -> None:
    page = soup(built_site, "/tags/twisted/")
    description = page.select_one("meta[name=description]")["content"]
    count = len(page.select("ul.tw-list > li"))
    assert description == f"标签“Twisted”下的 {count} 篇页面。"


def test_html_has_no_theme_until_the_bootstrap_sets_one(built_site: BuiltSite) -> None:
    """With JS off the stylesheet follows the system (prefers-color-scheme) and hides the toggle."""
    html = built_site.page("notes/twisted/")
    assert re.search(r"<html[^>]*>", html).group(0).find("data-theme") == -1  # type: ignore[union-attr]
    css_href = BeautifulSoup(html, "html5lib").select_one("link[rel=stylesheet]")["href"]
    css = (built_site.public / css_href.lstrip("/")).read_text(encoding="utf-8")
    assert ":root:not([data-theme]) .tw-theme-toggle{display:none}" in css
    assert "@media(prefers-color-scheme:dark){:root:not([data-theme]){" in css
    assert "light-dark(" in css


def test_a_long_section_lists_its_first_pages_and_links_to_the_rest(tmp_path: Path) -> None:
    """The sidebar and the home page stay the same size as a section grows (navLimit)."""
    source = copy_site_sources(tmp_path / "src", content=False)
    book = source / "content" / "book"
    book.mkdir(parents=True)
    (source / "content" / "_index.md").write_text('+++\ntitle = "首页"\n+++\n', encoding="utf-8")
    (book / "_index.md").write_text('+++\ntitle = "书"\n+++\n', encoding="utf-8")
    for n in range(60):
        (book / f"p{n:02d}.md").write_text(
            f'+++\ntitle = "第 {n} 页"\nweight = {n + 1}\n+++\n\n正文。\n', encoding="utf-8")
    built = build_site(tmp_path / "public", source=source)
    nav = sidebar(BeautifulSoup(built.page("book/p05/"), "html5lib"))
    assert len(nav.select("li > a")) == 50
    assert nav.select_one(".tw-side-more a")["href"] == "/book/"
    assert nav.select_one("a[aria-current]")["href"] == "/book/p05/"
    last = BeautifulSoup(built.page("book/p59/"), "html5lib")
    assert not sidebar(last).select("a[aria-current]")  # beyond the limit: not listed
    assert last.select_one("nav.tw-pager a[rel=prev]")["href"] == "/book/p58/"
    home = BeautifulSoup(built.page(""), "html5lib")
    assert len(home.select("ul.tw-list > li")) == 50
    assert home.select_one(".tw-more a").get_text() == "全部 60 篇"


# The layouts that may walk site.Sections (it walks the whole content tree on every call):
# each runs once per build or once per section, never once per page.
SITE_WIDE = {"_partials/nav/sections.html", "_partials/nav/tree.html", "_partials/nav/order.html",
             "_partials/header.html", "_partials/search-params.html", "home.html"}


def test_site_sections_is_walked_only_by_layouts_that_run_once() -> None:
    layouts = ROOT / "layouts"
    texts = {p.relative_to(layouts).as_posix(): p.read_text(encoding="utf-8")
             for p in layouts.rglob("*.*")}
    code = {name: re.sub(r"\{\{-?\s*/\*.*?\*/\s*-?\}\}", "", text, flags=re.S)
            for name, text in texts.items()}
    assert {name for name, text in code.items() if "site.Sections" in text} == SITE_WIDE
    # The partials among them are only ever called through partialCached.
    for name in SITE_WIDE - {"home.html"}:
        partial = name.removeprefix("_partials/")
        plain = [f for f, text in code.items() if re.search(rf'\bpartial\s+"{partial}"', text)]
        cached = [f for f, text in code.items()
                  if re.search(rf'\bpartialCached\s+"{partial}"', text)]
        assert plain == [] and cached, (partial, plain, cached)
