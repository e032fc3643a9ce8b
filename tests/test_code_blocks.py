"""Code blocks and callouts in the built HTML: the toolbar (language, title), Hugo's lineNos
and hl_lines, long blocks collapsed behind a control that works without JS, a failed
snippet's parts labelled; GitHub-style alerts through the blockquote render hook; the
errata table's scroll box. Browser-side behaviour is in tests/browser/test_code_blocks.py.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from bs4 import BeautifulSoup, Tag

from conftest import (
    ROOT,
    BuiltSite,
    build_site,
    copy_site_sources,
    hugo_binary,
    twnotes_in_process,
)

LONG = 40  # lines of the long block on the fixture page (the hook collapses more than 30)

PAGE = (
    '+++\ntitle = "x"\ndate = "2026-11-28T10:00:00+08:00"\n+++\n\n'
    '```python {title="a <b> & c.py" lineNos=true hl_lines=[2]}\nx = 1\ny = 2\nz = 3\n```\n\n'
    "```sh\necho hi\n```\n\n"
    "```output\nhi\n```\n\n"
    "```text\n" + "".join(f"line {n}\n" for n in range(1, LONG + 1)) + "```\n\n"
    "```text\n" + "".join(f"short {n}\n" for n in range(1, 31)) + "```\n\n"
    "> a plain quote\n\n"
    "> [!NOTE]\n> note text\n\n"
    "> [!TIP]\n> tip text\n\n"
    "> [!IMPORTANT]\n> important text\n\n"
    "> [!WARNING]\n> warning text\n\n"
    "> [!CAUTION]\n> caution text\n\n"
    "> [!note] 自己的 **标题**\n> body under a title\n\n"
    "> [!TIP]-\n> folded closed\n\n"
    "> [!TIP]+\n> folded open\n\n"
    "> [!NOTE]\n> first paragraph\n>\n> second paragraph\n\n"
    "```x<i>y\nz\n```\n"  # a language no lexer knows: its name, escaped
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> BuiltSite:
    """The site's sources plus the fixture page, built and enforced as `make build` does."""
    tmp = tmp_path_factory.mktemp("code-blocks")
    source = copy_site_sources(tmp / "src")
    (source / "content" / "notes" / "zz-fixture.md").write_text(PAGE, encoding="utf-8")
    built = build_site(tmp / "public", source=source, enforce=True)
    assert [ln for ln in built.log.splitlines() if ln.startswith(("WARN", "ERROR"))] == []
    return built


@pytest.fixture(scope="module")
def content(site: BuiltSite) -> Tag:
    soup = BeautifulSoup(site.page("notes/zz-fixture/"), "html5lib")
    found = soup.select_one(".tw-content")
    assert found is not None
    return found


def blocks(content: Tag) -> list[Tag]:
    return content.select("div.tw-code")


def test_the_fixture_site_passes_enforce(site: BuiltSite) -> None:
    # The hooks' own markup sits in layout islands, the note's text in note regions.
    assert site.enforce_code == 0, site.enforce_log


def test_every_block_has_a_toolbar_with_its_language(content: Tag) -> None:
    labels = [b.select_one(":scope > .tw-code-bar .tw-code-lang") for b in blocks(content)]
    assert [lab.get_text() if lab else None for lab in labels] == [
        "Python", "Shell", "输出", "文本", "文本", "X<I>Y"]
    assert [b.select(".tw-code-bar i") for b in blocks(content)][-1] == []
    for block in blocks(content):  # the toolbar comes before the code
        assert block.find(True) is block.select_one(":scope > .tw-code-bar")


def test_a_title_shows_in_the_toolbar_escaped(content: Tag) -> None:
    title = blocks(content)[0].select_one(".tw-code-bar .tw-code-title")
    assert title is not None and title.get_text() == "a <b> & c.py"
    assert [b.select_one(".tw-code-title") for b in blocks(content)[1:]] == [None] * 5


def test_line_numbers_and_a_highlighted_line(content: Tag) -> None:
    first = blocks(content)[0]
    assert first.select(".lntable") == [], "line numbers belong inside the one <pre>"
    assert [ln.get_text() for ln in first.select("pre code .ln")] == ["1", "2", "3"]
    lines = first.select("pre code > .line")
    assert [("hl" in (line.get("class") or [])) for line in lines] == [False, True, False]
    # Without lineNos no numbers, and nothing highlighted without hl_lines.
    assert blocks(content)[1].select(".ln, .hl") == []


def test_a_long_block_is_collapsed_behind_a_control_that_needs_no_script(content: Tag) -> None:
    long, short = blocks(content)[3], blocks(content)[4]
    assert "tw-code-long" in long["class"]
    more = long.select_one(":scope > details.tw-code-more")
    assert more is not None and not more.has_attr("open")
    summary = more.select_one("summary")
    assert summary is not None and f"展开全部 {LONG} 行" in summary.get_text()
    # All the code is in the page (copy, find-in-page): the control only changes its height.
    assert long.select_one("pre code").get_text().count("line ") == LONG
    assert "tw-code-long" not in short["class"] and short.select("details") == []


def test_example_programs_are_figures_whose_caption_is_the_toolbar(site: BuiltSite) -> None:
    soup = BeautifulSoup(site.page("examples/poetry/"), "html5lib")
    figures = soup.select(".tw-content figure.tw-example")
    assert figures
    for figure in figures:
        assert "tw-code" in figure["class"]
        caption = figure.select_one(":scope > figcaption.tw-code-bar")
        assert caption is not None and caption.select_one("code") is not None
        lines = figure.select_one("pre code").get_text().rstrip("\n").count("\n") + 1
        more = figure.select_one(":scope > details.tw-code-more")
        assert (more is not None) == (lines > 30), caption.get_text()


def test_alerts_are_callouts_titled_in_chinese(content: Tag) -> None:
    alerts = content.select(".tw-alert")
    kinds = [next(c for c in a["class"] if c.startswith("tw-alert-")) for a in alerts]
    assert kinds[:5] == ["tw-alert-note", "tw-alert-tip", "tw-alert-important",
                         "tw-alert-warning", "tw-alert-caution"]
    titles = [a.select_one(".tw-alert-title").get_text(strip=True) for a in alerts[:5]]
    assert titles == ["说明", "提示", "重要", "警告", "当心"]
    for alert, word in zip(alerts[:5], ["note", "tip", "important", "warning", "caution"],
                           strict=True):
        assert alert.get("role") == "note"
        assert alert.select_one(".tw-alert-body").get_text(strip=True) == f"{word} text"


def test_an_alert_keeps_the_authors_title_and_markup(content: Tag) -> None:
    alert = content.select(".tw-alert")[5]
    title = alert.select_one(".tw-alert-title")
    assert title is not None and title.get_text(strip=True) == "自己的标题"
    assert title.select_one("strong") is not None
    assert alert.select_one(".tw-alert-body").get_text(strip=True) == "body under a title"


def test_a_marker_alone_on_its_line_leaves_the_next_line_in_the_text(content: Tag) -> None:
    # goldmark's cjk line breaks would otherwise make "first paragraph" the title.
    alert = content.select(".tw-alert")[8]
    assert alert.select_one(".tw-alert-title").get_text(strip=True) == "说明"
    assert [p.get_text() for p in alert.select(".tw-alert-body p")] == [
        "first paragraph", "second paragraph"]


def test_a_signed_alert_folds(content: Tag) -> None:
    closed, opened = content.select("details.tw-alert")
    assert not closed.has_attr("open") and opened.has_attr("open")
    assert closed.select_one("summary.tw-alert-title").get_text(strip=True) == "提示"
    assert "folded closed" in closed.get_text() and "folded open" in opened.get_text()


def test_a_plain_blockquote_stays_a_blockquote(content: Tag) -> None:
    quotes = [q for q in content.select("blockquote") if not q.find_parent(class_="tw-alert")]
    assert [q.get_text(strip=True) for q in quotes] == ["a plain quote"]


def test_an_unknown_alert_type_fails_the_build(tmp_path: Path) -> None:
    source = copy_site_sources(tmp_path / "src")
    (source / "content" / "notes" / "zz-bad.md").write_text(
        '+++\ntitle = "bad"\n+++\n\n> [!DANGER]\n> no such type\n', encoding="utf-8")
    proc = subprocess.run(
        [str(hugo_binary()), "--source", str(source), "--destination", str(tmp_path / "out"),
         "--logLevel", "warn", "--cacheDir", str(tmp_path / "cache")],
        capture_output=True, text=True, timeout=300, check=False,
        env={"HUGO_ENABLEGITINFO": "false", "PATH": "/usr/bin:/bin"})
    assert proc.returncode != 0
    assert "unknown alert type [!DANGER]" in proc.stderr + proc.stdout
    assert "zz-bad.md" in proc.stderr + proc.stdout


def sanitize_check(path: Path) -> subprocess.CompletedProcess[str]:
    return twnotes_in_process("sanitize", "--check", str(path), cwd=ROOT)


def test_the_sanitiser_reads_alerts_as_blockquotes(tmp_path: Path) -> None:
    clean = tmp_path / "clean.md"
    clean.write_text(PAGE + "\n> [!WARNING]\n> <kbd>Ctrl</kbd>+<kbd>C</kbd> 停止\n",
                     encoding="utf-8")
    proc = sanitize_check(clean)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    dirty = tmp_path / "dirty.md"
    dirty.write_text("# t\n\n> [!CAUTION]\n> text\n> <img src=x onerror=alert(1)>\n",
                     encoding="utf-8")
    proc = sanitize_check(dirty)
    assert proc.returncode == 1
    assert f"{dirty}:5:" in proc.stdout + proc.stderr


def test_title_and_highlighting_keys_do_not_trouble_the_snippet_runner(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    page.write_text('```python {title="demo.py" lineNos=true hl_lines=[1]}\nprint(1)\n```\n',
                    encoding="utf-8")
    proc = twnotes_in_process("snippets", "--list", str(page), cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    page.write_text('```python {titel="demo.py"}\nprint(1)\n```\n', encoding="utf-8")
    proc = twnotes_in_process("snippets", "--list", str(page), cwd=ROOT)
    assert proc.returncode == 2 and "titel" in proc.stdout + proc.stderr


def test_the_results_carry_the_expected_output(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    page.write_text("```python\nprint('actual')\n```\n\n```output\nexpected\n```\n\n"
                    "```python\nprint(2)\n```\n", encoding="utf-8")
    out = tmp_path / "r.json"
    proc = subprocess.run(
        [sys.executable, "-m", "twnotes", "snippets", "--no-cache", "--json", str(out),
         str(page)], capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    first, second = json.loads(out.read_text(encoding="utf-8"))["snippets"]
    assert first["status"] == "failed" and first["expected"] == "expected\n"
    assert first["stdout"] == "actual\n"
    assert "expected" not in second  # no output fence: nothing was expected


def test_the_errata_table_scrolls_in_a_labelled_focusable_box(built_site: BuiltSite) -> None:
    soup = BeautifulSoup(built_site.page("notes/twisted/"), "html5lib")
    box = soup.select_one(".tw-content .tw-errata-scroll")
    assert box is not None
    assert box.get("tabindex") == "0" and box.get("role") == "region" and box.get("aria-label")
    table = box.select_one(":scope > table.tw-errata")
    assert table is not None and table.select("del") and table.select("ins")


@pytest.fixture(scope="module")
def delimited(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """The fixture page as Hugo wrote it with the region delimiters (not enforced)."""
    tmp = tmp_path_factory.mktemp("code-blocks-delimited")
    source = copy_site_sources(tmp / "src")
    (source / "content" / "notes" / "zz-fixture.md").write_text(PAGE, encoding="utf-8")
    built = build_site(tmp / "public", source=source, delimit=True, minify=False)
    return built.page("notes/zz-fixture/"), built.token


def test_an_alerts_frame_is_the_layouts_and_its_text_the_notes(
    delimited: tuple[str, str]
) -> None:
    html, token = delimited

    def mark(kind: str) -> str:
        return re.escape(f"<!--#tw:{token}:{kind}-->")

    plain = re.compile(
        mark("layout") + r'\s*<div class="tw-alert tw-alert-note" role="note">'
        r'<p class="tw-alert-title"><span class="tw-alert-icon" aria-hidden="true"></span>说明</p>'
        r'\s*<div class="tw-alert-body">' + mark("block") + r"\s*<p>note text</p>\s*"
        + mark("/block") + r"</div>\s*</div>\s*" + mark("/layout"))
    assert plain.search(html), "the NOTE alert is not a layout island around a note region"
    titled = re.compile(r'<p class="tw-alert-title"><span class="tw-alert-icon" '
                        r'aria-hidden="true"></span>' + mark("inline")
                        + r"自己的 <strong>标题</strong>" + mark("/inline") + "</p>")
    assert titled.search(html), "an author's alert title is not in a note region of its own"
    # A plain blockquote is the note's own HTML: in the note's region, not in an island.
    quote = re.search(r"<blockquote>\s*<p>a plain quote</p>\s*</blockquote>", html)
    assert quote is not None
    before = re.findall(rf"<!--#tw:{token}:(/?\w+)-->", html[:quote.start()])
    assert before[-1] in ("block", "/layout"), before[-3:]
