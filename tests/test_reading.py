"""Reading features in the built HTML: breadcrumbs, prev/next, edit link, last modified,
reading time, OpenGraph, the print stylesheet, and the site files (RSS, sitemap, robots, 404).

Most checks use a small fixture site (the real config, layouts and assets, with pages whose
text is known) so each figure can be asserted exactly; the git date uses the real site.
"""

from __future__ import annotations

import math
import re
import subprocess
import tomllib
from urllib.parse import unquote

import pytest
from bs4 import BeautifulSoup, Tag

from conftest import ROOT, BuiltSite, build_site, copy_site_sources

CONFIG = tomllib.loads((ROOT / "config.toml").read_text(encoding="utf-8"))
REPO, BRANCH = CONFIG["params"]["repo"], CONFIG["params"]["branch"]
BASE = CONFIG["baseURL"]

HEADING = "小节"
HAN_CHARS = 1000  # with the heading's 2: 2.505 minutes at 400 per minute
LATIN_WORDS = 80  # 0.4 minutes at 200 per minute
CODE_WORDS = 2000  # 10 minutes if code were counted

PAGE_TWO = f"""+++
title = "第二页"
date = 2020-01-02T00:00:00Z
lastmod = 2024-05-06T07:08:09Z
weight = 2
tags = ["测试"]
description = "第二页的描述。"
+++

## {HEADING}

{"读书" * (HAN_CHARS // 2)}

{" ".join(["word"] * LATIN_WORDS)}

```text
{" ".join(["code"] * CODE_WORDS)}
```
"""


def plain_page(title: str, weight: int) -> str:
    front = f'title = "{title}"\ndate = 2020-01-01T00:00:00Z\nweight = {weight}'
    return f"+++\n{front}\n+++\n\n正文。\n"


@pytest.fixture(scope="module")
def fixture_site(tmp_path_factory: pytest.TempPathFactory) -> BuiltSite:
    """A copy of the site's machinery with a three-page section of known text (outside git)."""
    source = tmp_path_factory.mktemp("reading-src")
    copy_site_sources(source, content=False)
    book = source / "content" / "book"
    book.mkdir(parents=True)
    (source / "content" / "_index.md").write_text('+++\ntitle = "首页"\n+++\n', encoding="utf-8")
    (book / "_index.md").write_text('+++\ntitle = "书"\n+++\n', encoding="utf-8")
    (book / "one.md").write_text(plain_page("第一页", 1), encoding="utf-8")
    (book / "two.md").write_text(PAGE_TWO, encoding="utf-8")
    (book / "three.md").write_text(plain_page("第三页", 3), encoding="utf-8")
    return build_site(tmp_path_factory.mktemp("reading-out") / "public", source=source)


def soup_of(site: BuiltSite, url: str) -> BeautifulSoup:
    return BeautifulSoup(site.page(url), "html5lib")


def one(soup: BeautifulSoup | Tag, selector: str) -> Tag:
    found = soup.select(selector)
    assert len(found) == 1, f"{selector}: {len(found)} matches"
    return found[0]


def test_fixture_build_is_clean(fixture_site: BuiltSite) -> None:
    assert not re.search(r"^(WARN|ERROR)", fixture_site.log, re.M), fixture_site.log


def test_breadcrumbs_lead_from_home_to_the_page(fixture_site: BuiltSite) -> None:
    links = one(soup_of(fixture_site, "book/two/"), "nav.tw-breadcrumbs").select("a")
    assert [(a.get_text(), a["href"]) for a in links] == [
        ("首页", "/"), ("书", "/book/"), ("第二页", "/book/two/")]
    assert links[-1].get("aria-current") == "page"


@pytest.mark.parametrize(("url", "prev", "next_"), [
    ("book/one/", None, "/book/two/"),
    ("book/two/", "/book/one/", "/book/three/"),
    ("book/three/", "/book/two/", None),
])
def test_pager_follows_the_section_order(
    fixture_site: BuiltSite, url: str, prev: str | None, next_: str | None,
) -> None:
    pager = one(soup_of(fixture_site, url), "nav.tw-pager")
    found_prev, found_next = pager.select_one("a[rel=prev]"), pager.select_one("a[rel=next]")
    assert (found_prev and found_prev["href"]) == prev
    assert (found_next and found_next["href"]) == next_


def test_edit_link_points_at_the_source_file(fixture_site: BuiltSite) -> None:
    edit = one(soup_of(fixture_site, "book/two/"), "a.tw-edit")
    assert edit["href"] == f"{REPO}/edit/{BRANCH}/content/book/two.md"


def test_lastmod_falls_back_to_front_matter_outside_git(fixture_site: BuiltSite) -> None:
    lastmod = one(soup_of(fixture_site, "book/two/"), "time.tw-lastmod")
    assert str(lastmod["datetime"]).startswith("2024-05-06T07:08:09")
    assert "2024-05-06" in lastmod.get_text()


def test_reading_time_counts_chinese_and_skips_code(fixture_site: BuiltSite) -> None:
    text = one(soup_of(fixture_site, "book/two/"), ".tw-reading-time").get_text()
    minutes = math.ceil((HAN_CHARS + len(HEADING)) / 400 + LATIN_WORDS / 200)  # 3; code: 13
    assert re.search(rf"\b{minutes}\b", text), text


def test_reading_time_is_at_least_one_minute(fixture_site: BuiltSite) -> None:
    text = one(soup_of(fixture_site, "book/one/"), ".tw-reading-time").get_text()
    assert re.search(r"\b1\b", text), text


def test_tags_link_to_their_taxonomy_page(fixture_site: BuiltSite) -> None:
    tag = one(soup_of(fixture_site, "book/two/"), ".tw-tags a")
    assert tag.get_text() == "测试"
    assert (fixture_site.public / unquote(str(tag["href"])).lstrip("/") / "index.html").is_file()


def test_opengraph_describes_the_page(fixture_site: BuiltSite) -> None:
    soup = soup_of(fixture_site, "book/two/")
    og = {str(m["property"]): str(m["content"]) for m in soup.select("meta[property]")}
    assert og["og:title"] == "第二页"
    assert og["og:description"] == "第二页的描述。"
    assert og["og:type"] == "article"
    assert og["og:url"] == f"{BASE}book/two/"
    assert og["og:locale"] == "zh_CN"
    assert og["article:modified_time"].startswith("2024-05-06")
    home = {str(m["property"]): str(m["content"]) for m in soup_of(fixture_site, "").select(
        "meta[property]")}
    assert home["og:type"] == "website" and home["og:url"] == BASE


def test_stylesheet_has_print_rules(fixture_site: BuiltSite) -> None:
    href = str(one(soup_of(fixture_site, "book/two/"), "link[rel=stylesheet]")["href"])
    css = (fixture_site.public / href.lstrip("/")).read_text(encoding="utf-8")
    start = css.index("@media print")
    depth, end = 0, start
    for end in range(css.index("{", start), len(css)):
        depth += {"{": 1, "}": -1}.get(css[end], 0)
        if depth == 0:
            break
    print_css = css[start:end]
    hidden = re.search(r"([^{}]*)\{display:none", print_css)
    assert hidden and all(s in hidden.group(1) for s in (".tw-toc", ".tw-header", ".tw-copy"))
    assert "attr(href)" in print_css


def test_toc_and_theme_toggle_are_on_the_page(fixture_site: BuiltSite) -> None:
    soup = soup_of(fixture_site, "book/two/")
    assert one(soup, ".tw-toc").select_one(f"a[href='#{HEADING}']")
    toggle = one(soup, "button.tw-theme-toggle")
    # Without JS the label says "follow the system"; site.js keeps it in step with the choice.
    assert toggle.get("aria-label") == toggle["data-label-system"]
    assert toggle["data-label-light"] and toggle["data-label-dark"]


def test_lastmod_of_the_note_comes_from_git(built_site: BuiltSite) -> None:
    note = ROOT / "content" / "notes" / "twisted.md"
    proc = subprocess.run(["git", "-C", str(ROOT), "log", "-1", "--format=%cI", "--",
                           str(note)], capture_output=True, text=True, check=False)
    if proc.returncode != 0 or not proc.stdout.strip():
        pytest.skip(f"no git history for {note}: lastmod falls back to the date")
    git_day = proc.stdout.strip()[:10]
    lastmod = one(BeautifulSoup(built_site.page("notes/twisted/"), "html5lib"), "time.tw-lastmod")
    assert str(lastmod["datetime"])[:10] == git_day


@pytest.mark.parametrize("path", ["index.xml", "sitemap.xml", "robots.txt", "404.html",
                                  "tags/index.html", "search/index.html"])
def test_site_files_exist(built_site: BuiltSite, path: str) -> None:
    assert (built_site.public / path).stat().st_size > 0


def test_robots_points_at_the_sitemap(built_site: BuiltSite) -> None:
    robots = (built_site.public / "robots.txt").read_text(encoding="utf-8")
    assert re.search(r"^Sitemap: \S+sitemap\.xml$", robots, re.M), robots


def test_search_page_mounts_pagefind_and_header_form_works_without_js(
    built_site: BuiltSite,
) -> None:
    soup = BeautifulSoup(built_site.page("search/"), "html5lib")
    assert one(soup, "#tw-search")
    form = one(BeautifulSoup(built_site.page("notes/twisted/"), "html5lib"),
               "form.tw-search-form[role=search]")
    assert form["action"] == "/search/" and str(form.get("method", "get")).lower() == "get"
    assert one(form, "input[name=q]")
