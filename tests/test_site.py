"""The built site: a clean build, every page kind, and the note carried over in full."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path

import pytest
from bs4 import BeautifulSoup, Tag
from markdown_it import MarkdownIt

from conftest import ROOT, BuiltSite, build_site, copy_site_sources

SEED = ROOT / "tests" / "data" / "seed-original.md"
NOTE_URL = "notes/twisted/"
ERRATA = tomllib.loads((ROOT / "data" / "errata.toml").read_text(encoding="utf-8"))["fix"]


def squash(text: str) -> str:
    """Compare text without whitespace: line breaks and CJK spacing differ by design."""
    return re.sub(r"\s+", "", text)


def corrected(text: str) -> str:
    for fix in ERRATA:
        text = text.replace(fix["original"], fix["corrected"])
    return text


@dataclasses.dataclass(frozen=True)
class SeedLine:
    """One text line of the original note and the kind of block it stands in."""

    kind: str  # "heading", "item" (a list item of one line), "item-line", "paragraph"
    text: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.text}"


def seed_lines() -> list[SeedLine]:
    """Every line of the original note's Markdown, markup stripped, raw HTML excluded."""
    body = SEED.read_text(encoding="utf-8").split("+++", 2)[2]
    md = MarkdownIt("commonmark")
    found: list[SeedLine] = []
    open_items = 0
    previous = ""
    for token in md.parse(body):
        open_items += {"list_item_open": 1, "list_item_close": -1}.get(token.type, 0)
        if token.type == "inline":
            text = "".join(
                "\n" if child.type in ("softbreak", "hardbreak") else child.content
                for child in token.children or []
                if child.type in ("text", "code_inline", "softbreak", "hardbreak")
            )
            lines = [line.strip() for line in text.splitlines() if line.strip()]
            if previous == "heading_open":
                kind = "heading"
            elif open_items:
                kind = "item" if len(lines) == 1 else "item-line"
            else:
                kind = "paragraph"
            found.extend(SeedLine(kind, line) for line in lines)
        previous = token.type
    return found


def own_text(item: Tag) -> str:
    """A list item's own words: without nested lists, code, notes or other blocks in it."""
    copy = BeautifulSoup(str(item), "html5lib").li
    assert copy is not None
    for block in copy.find_all(["ul", "ol", "aside", "div", "pre", "table", "details"]):
        block.decompose()
    return squash(copy.get_text())


def content_of(html: str) -> Tag:
    soup = BeautifulSoup(html, "html5lib")
    content = soup.select_one(".tw-content")
    assert content is not None, "note page has no .tw-content"
    for anchor in content.select(".tw-anchor"):
        anchor.decompose()
    return content


@pytest.fixture(scope="module")
def note(built_site: BuiltSite) -> Tag:
    return content_of(built_site.page(NOTE_URL))


def warnings_in(log: str) -> list[str]:
    return [line for line in log.splitlines() if re.match(r"(WARN|ERROR)", line)]


def test_build_prints_no_warning(built_site: BuiltSite) -> None:
    assert warnings_in(built_site.log) == []


def test_a_warning_would_be_seen(tmp_path: Path) -> None:
    # Guards the test above: the build's log must carry Hugo's WARN lines (--quiet hides them).
    source = copy_site_sources(tmp_path / "src")
    config = source / "config.toml"
    config.write_text(config.read_text(encoding="utf-8").replace("locale = ", "languageCode = "),
                      encoding="utf-8")
    log = build_site(tmp_path / "public", source=source).log
    assert any("languageCode" in line for line in warnings_in(log))


@pytest.mark.parametrize("line", seed_lines(), ids=str)
def test_every_line_of_the_original_is_on_the_page(note: Tag, line: SeedLine) -> None:
    # Each line must stand in a block of its own kind, whole: a deleted list item such as
    # "poll" is missed even though "epoll" and "pollreactor" are still on the page.
    want = squash(corrected(line.text))
    if line.kind == "heading":
        assert want in {squash(h.get_text()) for h in note.find_all(re.compile(r"^h[1-6]$"))}
    elif line.kind == "item":
        assert want in {own_text(li) for li in note.find_all("li")}
    elif line.kind == "item-line":
        assert any(want in squash(li.get_text()) for li in note.find_all("li"))
    else:
        assert any(want in squash(p.get_text()) for p in note.find_all("p"))


def test_seed_scan_sees_the_whole_note() -> None:
    # Guards the fidelity test itself: a scan that found nothing would pass vacuously.
    lines = seed_lines()
    assert len(lines) > 40
    assert {line.kind for line in lines} == {"heading", "item", "item-line", "paragraph"}
    assert SeedLine("item", "poll") in lines
    assert any("buildProtocol" in line.text for line in lines)


@pytest.mark.parametrize("fix", ERRATA, ids=lambda f: f["original"][:16])
def test_each_correction_keeps_original_wording(note: Tag, fix: dict[str, str]) -> None:
    errata = note.select_one("table.tw-errata")
    assert errata is not None
    assert fix["original"] in errata.get_text()
    assert squash(fix["corrected"]) in squash(note.get_text())


def test_every_link_of_the_original_is_a_link(note: Tag) -> None:
    hrefs = {a.get("href") for a in note.find_all("a")}
    for url in ("http://www.elias.cn/Python/PyConcurrency", "http://blog.csdn.net/yueguanghaidao/"):
        assert url in hrefs


def test_stray_list_item_is_rendered(note: Tag) -> None:
    assert any(li.get_text(strip=True) == "aaaaa" for li in note.find_all("li"))


def test_table_with_bare_ampersands_is_rendered(note: Tag) -> None:
    tables = [t for t in note.find_all("table") if "tw-errata" not in (t.get("class") or [])]
    assert [td.get_text() for td in tables[0].find_all("td")] == ["&", "&"]


def test_raw_link_is_rendered(note: Tag) -> None:
    link = note.find("a", href="http://www.w3school.com.cn")
    assert link is not None and link.get_text() == "This is a link"


def test_reactor_code_is_a_highlighted_python_block(note: Tag) -> None:
    block = note.select_one("div.highlight pre.chroma code[data-lang=python]")
    assert block is not None
    assert "from twisted.internet import pollreactor" in block.get_text()
    assert block.select("span.kn"), "keywords are not highlighted with CSS classes"


@pytest.mark.parametrize(
    "path", ["index.html", "notes/twisted/index.html", "404.html", "index.xml", "sitemap.xml",
             "robots.txt", "notes/index.html", "tags/index.html"],
)
def test_page_kinds_exist(built_site: BuiltSite, path: str) -> None:
    assert (built_site.public / path).stat().st_size > 0


def test_html_is_chinese_and_styles_are_fingerprinted(built_site: BuiltSite) -> None:
    soup = BeautifulSoup(built_site.page(NOTE_URL), "html5lib")
    assert soup.html is not None and soup.html.get("lang") == "zh-CN"
    sheet = soup.find("link", rel="stylesheet")
    assert sheet is not None
    assert re.search(r"\.min\.[0-9a-f]{64,}\.css$", str(sheet["href"]))
    assert str(sheet.get("integrity", "")).startswith("sha256-")


def test_note_keeps_front_matter(built_site: BuiltSite) -> None:
    soup = BeautifulSoup(built_site.page(NOTE_URL), "html5lib")
    assert soup.select_one("article h1").get_text() == "Twisted学习笔记"  # type: ignore[union-attr]
    assert soup.find("time", datetime="2016-02-27T22:17:23+08:00") is not None


def test_feed_and_sitemap_list_the_note(built_site: BuiltSite) -> None:
    assert "/notes/twisted/" in (built_site.public / "sitemap.xml").read_text(encoding="utf-8")
    assert "Twisted学习笔记" in (built_site.public / "index.xml").read_text(encoding="utf-8")


def test_home_introduces_the_site_in_chinese(built_site: BuiltSite) -> None:
    home = BeautifulSoup(built_site.page(""), "html5lib")
    assert "学习笔记" in home.get_text()
    assert home.find("a", href=re.compile(r"notes/twisted/$")) is not None


