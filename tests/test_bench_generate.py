"""The benchmark's page generator makes pages worth timing: the sanitiser has work on every
page, every snippet runs and passes against its expected output, and Hugo builds them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import ROOT, build_site
from twnotes import pages, sanitize, snippets

sys.path.insert(0, str(ROOT))  # bench/ is a folder of the repository, not an installed package
from bench import generate

KINDS = len(generate.SNIPPETS)


def test_every_generated_page_is_flagged_where_its_raw_html_is() -> None:
    for n in range(KINDS):
        text = generate.page(n)
        result = sanitize.sanitize_text(text, Path(f"note-{n}.md"))
        flagged = {text.splitlines()[line - 1] for line in result.lines}
        assert any(line.startswith("<li>") for line in flagged), flagged
        assert any(line.startswith("<table>") for line in flagged), flagged
        assert any("<a href=" in line for line in flagged), flagged
        assert "<ul><li>" in result.cleaned and " &amp; " in result.cleaned
        assert sanitize.sanitize_text(result.cleaned).changed is False


def test_pages_differ_so_no_cache_can_shortcut_the_work() -> None:
    assert len({generate.page(n) for n in range(20)}) == 20


def test_snippets_per_page_are_python_fences_with_expected_output(tmp_path: Path) -> None:
    path = tmp_path / "page.md"
    path.write_text(generate.page(7, snippets=3), encoding="utf-8")
    found = snippets.extract(pages.read_page(path))
    assert len(found) == 3
    assert all(s.output is not None and s.expected for s in found)


def test_generated_snippets_run_and_match_their_output(tmp_path: Path) -> None:
    site = generate.write_site(tmp_path / "site", KINDS)  # one page of each snippet kind
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("twnotes")), "snippets", "--no-cache", "content"],
        cwd=site, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"{KINDS} passed, 0 failed" in proc.stdout


def test_generated_site_builds_without_warnings(tmp_path: Path) -> None:
    site = generate.write_site(tmp_path / "site", 3)
    built = build_site(tmp_path / "public", source=site)
    assert "WARN" not in built.log and "ERROR" not in built.log, built.log
    html = built.page("notes/note-00002/")
    assert "基准笔记 2" in html

