"""The code-block render hook: test results on the page, and no claim without them."""

from __future__ import annotations

import json
from pathlib import Path

from bs4 import BeautifulSoup, Tag

from conftest import ROOT, build_site, copy_site_sources

NOTE = "content/notes/twisted.md"
NOTE_URL = "notes/twisted/"
def site_copy(dest: Path, results: list[dict[str, object]] | None) -> Path:
    """The site's sources without generated data, plus the given results if any."""
    copy_site_sources(dest)
    if results is not None:
        generated = dest / "data" / "generated"
        generated.mkdir(parents=True)
        report = {"python": "3.99.1", "twisted": "99.1.0", "snippets": results}
        (generated / "snippets.json").write_text(json.dumps(report), encoding="utf-8")
    return dest


def python_line() -> int:
    """The opening fence line of the note's first Python block, read from the note itself."""
    lines = (ROOT / NOTE).read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if line.strip().startswith("```python"))


def code_blocks(tmp_path: Path, results: list[dict[str, object]] | None) -> list[Tag]:
    source = site_copy(tmp_path / "src", results)
    site = build_site(tmp_path / "public", source=source)
    assert [line for line in site.log.splitlines() if line.startswith(("WARN", "ERROR"))] == []
    soup = BeautifulSoup(site.page(NOTE_URL), "html5lib")
    return soup.select(".tw-content .tw-code")


def test_a_passed_snippet_shows_a_badge_with_versions_and_its_output(tmp_path: Path) -> None:
    result = {"file": NOTE, "line": python_line(), "status": "passed", "duration_s": 1.0,
              "stdout": "<out> & more\n", "message": ""}
    [block] = code_blocks(tmp_path, [result])
    assert block.select_one(".highlight pre code") is not None
    status = block.select_one(".tw-code-status.tw-code-passed")
    assert status is not None
    assert "Python 3.99.1" in status.get_text() and "Twisted 99.1.0" in status.get_text()
    output = block.select_one("details.tw-code-output samp")
    assert output is not None and output.get_text() == "<out> & more\n"  # escaped, not markup


def test_a_failed_snippet_shows_why_opened(tmp_path: Path) -> None:
    result = {"file": NOTE, "line": python_line(), "status": "failed", "duration_s": 1.0,
              "stdout": "", "message": "raised ValueError"}
    [block] = code_blocks(tmp_path, [result])
    details = block.select_one("details.tw-code-output")
    assert details is not None and details.has_attr("open")
    assert "raised ValueError" in details.get_text()
    assert block.select_one(".tw-code-failed") is not None


def test_without_results_the_page_builds_and_claims_nothing(tmp_path: Path) -> None:
    [block] = code_blocks(tmp_path, None)
    assert block.select_one(".highlight pre code") is not None
    assert block.select(".tw-code-status, .tw-code-output") == []


def test_a_result_for_another_line_is_not_shown(tmp_path: Path) -> None:
    result = {"file": NOTE, "line": python_line() + 1, "status": "passed", "duration_s": 1.0,
              "stdout": "", "message": ""}
    [block] = code_blocks(tmp_path, [result])
    assert block.select(".tw-code-status") == []


def test_other_languages_render_as_plain_highlighted_blocks(tmp_path: Path) -> None:
    source = site_copy(tmp_path / "src", None)
    (source / "content" / "notes" / "extra.md").write_text(
        '+++\ntitle = "x"\n+++\n\n```sh\necho hi\n```\n\n```output\nhi\n```\n',
        encoding="utf-8")
    site = build_site(tmp_path / "public", source=source)
    soup = BeautifulSoup(site.page("notes/extra/"), "html5lib")
    blocks = soup.select(".tw-content .tw-code")
    # Both have the structure the copy button relies on, even the one Chroma has no lexer for.
    texts = [code.get_text().strip() for b in blocks for code in b.select(".highlight pre code")]
    assert texts == ["echo hi", "hi"]
    assert soup.select(".tw-code-status") == []
