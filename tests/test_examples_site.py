"""The example pages on the built site, and the links between them and the note."""

from __future__ import annotations

import os
import re
import subprocess
from collections import Counter
from pathlib import Path
from urllib.parse import unquote

import pytest
from bs4 import BeautifulSoup, Tag

from conftest import ROOT, BuiltSite, build_site, copy_site_sources, hugo_binary

CONTENT = ROOT / "content" / "examples"
PAGES = sorted(p.stem for p in CONTENT.glob("*.md") if p.name != "_index.md")
NOTE_URL = "notes/twisted/"
# Every section of the note that teaches something, by heading id.
NOTE_SECTIONS = ["网络编程", "twisted特点", "reactor", "transports", "protocols",
                 "protocol-factories", "failure"]


def soup_of(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html5lib")


def content_of(site: BuiltSite, url: str) -> Tag:
    content = soup_of(site.page(url)).select_one(".tw-content")
    assert content is not None, f"{url} has no .tw-content"
    return content


def figures(content: Tag) -> dict[str, str]:
    """Included file (examples/…) -> the text shown for it."""
    shown: dict[str, str] = {}
    for figure in content.select("figure.tw-example"):
        path = figure.select_one("figcaption code")
        code = figure.select_one("pre code")
        assert path is not None and code is not None
        shown[path.get_text()] = code.get_text()
    return shown


def test_there_is_a_page_for_every_example() -> None:
    assert len(PAGES) >= 14


@pytest.mark.parametrize("page", PAGES)
def test_page_shows_the_files_exactly_as_they_are(built_site: BuiltSite, page: str) -> None:
    shown = figures(content_of(built_site, f"examples/{page}/"))
    assert any(p.endswith(".py") for p in shown), "no program on the page"
    assert any(p.startswith("examples/output/") for p in shown), "no output on the page"
    for path, text in shown.items():
        assert text == (ROOT / path).read_text(encoding="utf-8"), path


@pytest.mark.parametrize("page", PAGES)
def test_page_includes_each_file_once(page: str) -> None:
    text = (CONTENT / f"{page}.md").read_text(encoding="utf-8")
    counts = Counter(re.findall(r'\{\{<\s*example\s+"([^"]+)"', text))
    assert counts and max(counts.values()) == 1


@pytest.mark.parametrize("page", PAGES)
def test_page_links_back_to_an_existing_section_of_the_note(
    built_site: BuiltSite, page: str
) -> None:
    note = soup_of(built_site.page(NOTE_URL))
    ids = {tag.get("id") for tag in note.find_all(id=True)}
    links = [str(a["href"]) for a in content_of(built_site, f"examples/{page}/").find_all("a")
             if str(a.get("href", "")).startswith("/notes/twisted/#")]
    assert links, "no link to the note"
    for href in links:
        assert unquote(href.split("#", 1)[1]) in ids, href


@pytest.mark.parametrize("section", NOTE_SECTIONS)
def test_each_section_of_the_note_links_to_its_examples(
    built_site: BuiltSite, section: str
) -> None:
    content = content_of(built_site, NOTE_URL)
    heading = content.find(id=section)
    assert heading is not None, section
    links: list[str] = []
    for sibling in heading.find_next_siblings():
        if sibling.name in ("h1", "h2"):
            break
        links += [str(a["href"]) for a in sibling.find_all("a")]
    targets = [href for href in links if href.startswith("/examples/")]
    assert targets, f"section {section} links to no example"
    for href in targets:
        assert (built_site.public / href.strip("/") / "index.html").is_file(), href


@pytest.mark.parametrize(
    "phrase",
    ["默认的 reactor 已经是 epoll", "调用 reactor.run() 的那个线程里",
     "只在 reactor 空闲时成立", "重新抛出的是原来的异常对象"],
)
def test_note_has_the_supplements(built_site: BuiltSite, phrase: str) -> None:
    content = content_of(built_site, NOTE_URL)
    asides = content.select("aside.tw-supplement")
    texts = [re.sub(r"\s+", " ", aside.get_text()) for aside in asides]
    assert any(phrase in text for text in texts)
    assert all(text.startswith("补充") for text in texts)


def test_section_page_lists_every_example(built_site: BuiltSite) -> None:
    html = soup_of(built_site.page("examples/"))
    hrefs = {str(a["href"]) for a in html.find_all("a")}
    assert {f"/examples/{page}/" for page in PAGES} <= hrefs


def test_missing_example_file_fails_the_build_naming_the_page(tmp_path: Path) -> None:
    site = copy_site_sources(tmp_path / "src")
    page = site / "content" / "examples" / "broken.md"
    page.write_text('+++\ntitle = "broken"\n+++\n\ntext\n\n{{< example "nope.py" >}}\n',
                    encoding="utf-8")
    proc = subprocess.run(
        [str(hugo_binary()), "--source", str(site), "--destination", str(tmp_path / "out"),
         "--logLevel", "error", "--cacheDir", str(tmp_path / "cache")],
        capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "HUGO_ENABLEGITINFO": "false"},  # the copy is not a git checkout
    )
    assert proc.returncode != 0
    log = proc.stdout + proc.stderr
    assert "examples/nope.py does not exist" in log
    assert re.search(r"broken\.md:7:\d+", log), log


def test_links_work_under_a_sub_path(tmp_path: Path) -> None:
    site = build_site(tmp_path / "public", "--baseURL", "https://example.org/sub/")
    content = content_of(site, NOTE_URL)
    example_links = [str(a["href"]) for a in content.find_all("a")
                     if "/examples/" in str(a.get("href", ""))]
    assert example_links and all(h.startswith("/sub/examples/") for h in example_links)
    page = content_of(site, "examples/poetry/")
    assert any(str(a["href"]).startswith("/sub/notes/twisted/#") for a in page.find_all("a"))
