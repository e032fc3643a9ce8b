"""The code-block render hook: test results on the page, and no claim without them."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from bs4 import BeautifulSoup, Tag

from conftest import ROOT, build_site, copy_site_sources
from twnotes import pages
from twnotes.snippets import extract

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


def code_hash() -> str:
    """The sha256 of the note's first Python block as `twnotes snippets` computes it."""
    first = extract(pages.read_page(ROOT / NOTE))[0]
    assert first.line == python_line()
    return first.code_sha256


def note_result(**fields: object) -> dict[str, object]:
    """A result for the note's first Python block, right line and right code unless told."""
    result: dict[str, object] = {
        "file": NOTE, "line": python_line(), "status": "passed", "duration_s": 1.0,
        "stdout": "", "message": "", "code_sha256": code_hash()}
    result.update(fields)
    return result


def code_blocks(tmp_path: Path, results: list[dict[str, object]] | None) -> list[Tag]:
    source = site_copy(tmp_path / "src", results)
    site = build_site(tmp_path / "public", source=source)
    assert [line for line in site.log.splitlines() if line.startswith(("WARN", "ERROR"))] == []
    soup = BeautifulSoup(site.page(NOTE_URL), "html5lib")
    return soup.select(".tw-content .tw-code")


def test_a_passed_snippet_shows_a_badge_with_versions_and_its_output(tmp_path: Path) -> None:
    [block] = code_blocks(tmp_path, [note_result(stdout="<out> & more\n")])
    assert block.select_one(".highlight pre code") is not None
    status = block.select_one(".tw-code-status.tw-code-passed")
    assert status is not None
    assert "Python 3.99.1" in status.get_text() and "Twisted 99.1.0" in status.get_text()
    output = block.select_one("details.tw-code-output samp")
    assert output is not None and output.get_text() == "<out> & more\n"  # escaped, not markup


def test_a_failed_snippet_shows_why_opened(tmp_path: Path) -> None:
    result = note_result(status="failed", message="raised ValueError")
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
    [block] = code_blocks(tmp_path, [note_result(line=python_line() + 1)])
    assert block.select(".tw-code-status") == []


def test_a_stale_result_for_other_code_on_the_same_line_is_not_shown(tmp_path: Path) -> None:
    # After an edit moves blocks, a result keyed by line alone would badge the wrong code.
    other = hashlib.sha256(b"print('another block')").hexdigest()
    [block] = code_blocks(tmp_path, [note_result(code_sha256=other),
                                     note_result(line=python_line() + 8)])
    assert block.select(".tw-code-status, .tw-code-output") == []


def test_a_result_without_a_code_hash_is_not_shown(tmp_path: Path) -> None:
    result = note_result()
    del result["code_sha256"]  # written before results carried one: cannot be trusted
    [block] = code_blocks(tmp_path, [result])
    assert block.select(".tw-code-status, .tw-code-output") == []


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


def test_the_hook_and_the_runner_hash_the_same_code(tmp_path: Path) -> None:
    """Hugo's .Inner drops the trailing newlines and keeps CRLF; the hash agrees anyway."""
    source = site_copy(tmp_path / "src", None)
    extra = source / "content" / "notes" / "extra.md"
    extra.write_bytes(
        b'+++\r\ntitle = "x"\r\n+++\r\n\r\n```python\r\nprint(1)\r\nprint(2)\r\n```\r\n\r\n'
        b"- item\r\n\r\n   ```py {timeout=2}\r\n   x = 1\r\n\r\n     y = 2  \r\n\r\n\r\n   ```\r\n"
        b"\r\n```python\r\n```\r\n")
    snippets = extract(pages.read_page(extra))
    assert len(snippets) == 3
    results = [{"file": "content/notes/extra.md", "line": s.line, "status": "passed",
                "duration_s": 0.1, "stdout": "", "message": "",
                "code_sha256": s.code_sha256} for s in snippets]
    (source / "data" / "generated").mkdir(parents=True)
    (source / "data" / "generated" / "snippets.json").write_text(
        json.dumps({"python": "3", "twisted": "2", "snippets": results}), encoding="utf-8")
    site = build_site(tmp_path / "public", source=source)
    soup = BeautifulSoup(site.page("notes/extra/"), "html5lib")
    assert len(soup.select(".tw-content .tw-code .tw-code-passed")) == 3


def test_stderr_is_shown_under_the_output_collapsed(tmp_path: Path) -> None:
    [block] = code_blocks(tmp_path, [note_result(stdout="out\n", stderr="<warn> & why\n")])
    stderr = block.select_one("details.tw-code-stderr")
    assert stderr is not None and not stderr.has_attr("open")
    samp = stderr.select_one("samp")
    assert samp is not None and samp.get_text() == "<warn> & why\n"  # escaped, not markup
    output = block.select_one("details.tw-code-output:not(.tw-code-stderr)")
    assert output is not None
    assert block.select("details").index(output) < block.select("details").index(stderr)


def test_without_stderr_there_is_no_stderr_block(tmp_path: Path) -> None:
    [block] = code_blocks(tmp_path, [note_result(stdout="out\n", stderr="")])
    assert block.select(".tw-code-stderr") == []


def test_setup_blocks_are_hidden_or_collapsed(tmp_path: Path) -> None:
    source = site_copy(tmp_path / "src", None)
    (source / "content" / "notes" / "extra.md").write_text(
        '+++\ntitle = "x"\n+++\n\n```python {setup="hidden"}\nSECRET_SETUP = 1\n```\n\n'
        '```python {setup="collapsed"}\nshown_setup = 2\n```\n\n```python\nprint(3)\n```\n',
        encoding="utf-8")
    site = build_site(tmp_path / "public", source=source)
    html = site.page("notes/extra/")
    assert "SECRET_SETUP" not in html
    soup = BeautifulSoup(html, "html5lib")
    [setup] = soup.select(".tw-content details.tw-code-setup")
    assert not setup.has_attr("open") and "shown_setup" in setup.get_text()
    assert len(soup.select(".tw-content .tw-code")) == 2  # the collapsed setup and print(3)
