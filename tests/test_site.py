"""The built site: a clean build, every page kind, and the note carried over in full."""

from __future__ import annotations

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


def seed_text_lines() -> list[str]:
    """Every line of the original note's Markdown, markup stripped, raw HTML excluded."""
    body = SEED.read_text(encoding="utf-8").split("+++", 2)[2]
    md = MarkdownIt("commonmark")
    lines: list[str] = []
    for token in md.parse(body):
        if token.type != "inline":
            continue
        text = "".join(
            "\n" if child.type in ("softbreak", "hardbreak") else child.content
            for child in token.children or []
            if child.type in ("text", "code_inline", "softbreak", "hardbreak")
        )
        lines.extend(line.strip() for line in text.splitlines() if line.strip())
    return lines


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


@pytest.mark.parametrize("line", seed_text_lines())
def test_every_line_of_the_original_is_on_the_page(note: Tag, line: str) -> None:
    assert squash(corrected(line)) in squash(note.get_text())


def test_seed_scan_sees_the_whole_note() -> None:
    # Guards the fidelity test itself: a scan that found nothing would pass vacuously.
    lines = seed_text_lines()
    assert len(lines) > 40
    assert any("buildProtocol" in line for line in lines)


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
    assert str(sheet.get("integrity", "")).startswith("sha384-")


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


