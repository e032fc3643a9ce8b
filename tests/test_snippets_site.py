"""The code-block render hook: test results on the page, and no claim without them."""

from __future__ import annotations

import functools
import hashlib
import json
import shutil
from pathlib import Path

import pytest
from bs4 import BeautifulSoup, Tag

from conftest import ROOT, BuiltSite, build_site, copy_site_sources
from twnotes import pages
from twnotes.snippets import extract

NOTE = "content/notes/twisted.md"
NOTE_URL = "notes/twisted/"


def write_results(source: Path, results: list[dict[str, object]]) -> None:
    """The results file `twnotes snippets --json` would write, with made-up versions."""
    generated = source / "data" / "generated"
    generated.mkdir(parents=True)
    report = {"python": "3.99.1", "twisted": "99.1.0", "snippets": results}
    (generated / "snippets.json").write_text(json.dumps(report), encoding="utf-8")


@functools.cache
def python_line() -> int:
    """The opening fence line of the note's first Python block, read from the note itself."""
    lines = (ROOT / NOTE).read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if line.strip().startswith("```python"))


@functools.cache
def code_hash() -> str:
    """The sha256 of the note's first Python block as `twnotes snippets` computes it."""
    first = extract(pages.read_page(ROOT / NOTE))[0]
    assert first.line == python_line()
    return first.code_sha256


def note_result(case: str, **fields: object) -> dict[str, object]:
    """A result for the first Python block of the note's copy `case`, right line and right
    code unless told."""
    result: dict[str, object] = {
        "file": f"content/notes/{case}.md", "line": python_line(), "status": "passed",
        "duration_s": 1.0, "stdout": "", "message": "", "code_sha256": code_hash()}
    result.update(fields)
    return result


# One build for the module: each case is a copy of the note under its own name with its own
# results (the hook matches a result by file, line and code hash), plus pages of their own.
OTHER_CODE = hashlib.sha256(b"print('another block')").hexdigest()
CASES: dict[str, list[dict[str, object]]] = {
    "passed": [note_result("passed", stdout="<out> & more\n")],
    "failed": [note_result("failed", status="failed", message="raised ValueError")],
    "failure-parts": [note_result(
        "failure-parts", status="failed", stdout="got <this>\n", stderr="Traceback & more\n",
        expected="wanted", message="output differs from the expected output")],
    "no-result": [],
    "other-line": [note_result("other-line", line=python_line() + 1)],
    # After an edit moves blocks, a result keyed by line alone would badge the wrong code.
    "stale": [note_result("stale", code_sha256=OTHER_CODE),
              note_result("stale", line=python_line() + 8)],
    # Written before results carried a code hash: cannot be trusted.
    "no-hash": [{k: v for k, v in note_result("no-hash").items() if k != "code_sha256"}],
    "stderr": [note_result("stderr", stdout="out\n", stderr="<warn> & why\n")],
    "no-stderr": [note_result("no-stderr", stdout="out\n", stderr="")],
}
LANGUAGES = '+++\ntitle = "x"\n+++\n\n```sh\necho hi\n```\n\n```output\nhi\n```\n'
CRLF = (b'+++\r\ntitle = "x"\r\n+++\r\n\r\n```python\r\nprint(1)\r\nprint(2)\r\n```\r\n\r\n'
        b"- item\r\n\r\n   ```py {timeout=2}\r\n   x = 1\r\n\r\n     y = 2  \r\n\r\n\r\n   ```\r\n"
        b"\r\n```python\r\n```\r\n")
SETUP = ('+++\ntitle = "x"\n+++\n\n```python {setup="hidden"}\nSECRET_SETUP = 1\n```\n\n'
         '```python {setup="collapsed"}\nshown_setup = 2\n```\n\n```python\nprint(3)\n```\n')


def crlf_results(page: Path) -> list[dict[str, object]]:
    snippets = extract(pages.read_page(page))
    assert len(snippets) == 3
    return [note_result("crlf", line=s.line, code_sha256=s.code_sha256, duration_s=0.1)
            for s in snippets]


def built_without_warnings(source: Path, dest: Path) -> BuiltSite:
    site = build_site(dest, source=source)
    assert [line for line in site.log.splitlines() if line.startswith(("WARN", "ERROR"))] == []
    return site


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> BuiltSite:
    root = tmp_path_factory.mktemp("snippet-cases")
    notes = root / "src" / "content" / "notes"
    copy_site_sources(root / "src")
    for case in CASES:
        shutil.copyfile(ROOT / NOTE, notes / f"{case}.md")
    (notes / "languages.md").write_text(LANGUAGES, encoding="utf-8")
    (notes / "crlf.md").write_bytes(CRLF)
    (notes / "setup.md").write_text(SETUP, encoding="utf-8")
    results = [result for found in CASES.values() for result in found]
    write_results(root / "src", [*results, *crlf_results(notes / "crlf.md")])
    return built_without_warnings(root / "src", root / "public")


def note_blocks(site: BuiltSite, note: str = NOTE_URL) -> list[Tag]:
    soup = BeautifulSoup(site.page(note), "html5lib")
    return soup.select(".tw-content .tw-code")


def first_block(site: BuiltSite, case: str) -> Tag:
    """The code block of the note's copy `case` (the note has one; its results are for it)."""
    [block] = note_blocks(site, f"notes/{case}/")
    return block


def test_a_passed_snippet_shows_a_badge_with_versions_and_its_output(cases: BuiltSite) -> None:
    block = first_block(cases, "passed")
    assert block.select_one(".highlight pre code") is not None
    status = block.select_one(".tw-code-status.tw-code-passed")
    assert status is not None
    assert "Python 3.99.1" in status.get_text() and "Twisted 99.1.0" in status.get_text()
    output = block.select_one("details.tw-code-output samp")
    assert output is not None and output.get_text() == "<out> & more\n"  # escaped, not markup


def test_a_failed_snippet_shows_why_opened(cases: BuiltSite) -> None:
    block = first_block(cases, "failed")
    details = block.select_one("details.tw-code-output")
    assert details is not None and details.has_attr("open")
    assert "raised ValueError" in details.get_text()
    assert block.select_one(".tw-code-failed") is not None


def test_a_note_without_results_claims_nothing(cases: BuiltSite) -> None:
    block = first_block(cases, "no-result")  # while the other copies show theirs
    assert block.select_one(".highlight pre code") is not None
    assert block.select(".tw-code-status, .tw-code-output") == []


def test_without_results_the_page_builds_and_claims_nothing(tmp_path: Path) -> None:
    # No data/generated at all, as in a fresh clone served by a plain `hugo server`.
    site = built_without_warnings(copy_site_sources(tmp_path / "src"), tmp_path / "public")
    [block] = note_blocks(site)
    assert block.select_one(".highlight pre code") is not None
    assert block.select(".tw-code-status, .tw-code-output") == []


def test_a_result_for_another_line_is_not_shown(cases: BuiltSite) -> None:
    assert first_block(cases, "other-line").select(".tw-code-status") == []


def test_a_stale_result_for_other_code_on_the_same_line_is_not_shown(cases: BuiltSite) -> None:
    block = first_block(cases, "stale")
    assert block.select(".tw-code-status, .tw-code-output") == []


def test_a_result_without_a_code_hash_is_not_shown(cases: BuiltSite) -> None:
    block = first_block(cases, "no-hash")
    assert block.select(".tw-code-status, .tw-code-output") == []


def test_other_languages_render_as_plain_highlighted_blocks(cases: BuiltSite) -> None:
    soup = BeautifulSoup(cases.page("notes/languages/"), "html5lib")
    blocks = soup.select(".tw-content .tw-code")
    # Both have the structure the copy button relies on, even the one Chroma has no lexer for.
    texts = [code.get_text().strip() for b in blocks for code in b.select(".highlight pre code")]
    assert texts == ["echo hi", "hi"]
    assert soup.select(".tw-code-status") == []


def test_the_hook_and_the_runner_hash_the_same_code(cases: BuiltSite) -> None:
    """Hugo's .Inner drops the trailing newlines and keeps CRLF; the hash agrees anyway."""
    soup = BeautifulSoup(cases.page("notes/crlf/"), "html5lib")
    assert len(soup.select(".tw-content .tw-code .tw-code-passed")) == 3


def test_stderr_is_shown_under_the_output_collapsed(cases: BuiltSite) -> None:
    block = first_block(cases, "stderr")
    stderr = block.select_one("details.tw-code-stderr")
    assert stderr is not None and not stderr.has_attr("open")
    samp = stderr.select_one("samp")
    assert samp is not None and samp.get_text() == "<warn> & why\n"  # escaped, not markup
    output = block.select_one("details.tw-code-output:not(.tw-code-stderr)")
    assert output is not None
    assert block.select("details").index(output) < block.select("details").index(stderr)


def test_without_stderr_there_is_no_stderr_block(cases: BuiltSite) -> None:
    block = first_block(cases, "no-stderr")
    assert block.select_one(".tw-code-output") is not None  # the output is there
    assert block.select(".tw-code-stderr") == []


def test_setup_blocks_are_hidden_or_collapsed(cases: BuiltSite) -> None:
    html = cases.page("notes/setup/")
    assert "SECRET_SETUP" not in html
    soup = BeautifulSoup(html, "html5lib")
    [setup] = soup.select(".tw-content details.tw-code-setup")
    assert not setup.has_attr("open") and "shown_setup" in setup.get_text()
    assert len(soup.select(".tw-content .tw-code")) == 2  # the collapsed setup and print(3)


def test_a_failed_snippet_labels_why_expected_actual_and_stderr(cases: BuiltSite) -> None:
    block = first_block(cases, "failure-parts")
    panel = block.select_one("details.tw-code-output.tw-code-failure")
    assert panel is not None and panel.has_attr("open")
    parts = {p.select_one(".tw-code-label").get_text(): p.select_one("pre").get_text()
             for p in panel.select(".tw-code-part")}
    assert parts == {"失败原因": "output differs from the expected output",
                     "预期输出": "wanted", "实际输出": "got <this>\n",
                     "标准错误输出": "Traceback & more\n"}


def test_a_failure_without_output_says_so(cases: BuiltSite) -> None:
    block = first_block(cases, "failed")  # failed with a message, no output
    actual = block.select_one(".tw-code-part-actual")
    assert actual is not None and "没有输出" in actual.get_text()
    assert block.select(".tw-code-part-expected, .tw-code-part-stderr") == []
