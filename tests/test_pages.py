"""pages: the shared floor's file handling (symlinks, FIFOs) that every command relies on."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from twnotes import pages, util

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no os.mkfifo here")


def test_atomic_write_through_a_symlink_keeps_the_link(tmp_path: Path) -> None:
    target = tmp_path / "real" / "page.md"
    target.parent.mkdir()
    target.write_bytes(b"old")
    link = tmp_path / "link.md"
    link.symlink_to(target)
    util.atomic_write(link, b"new")
    assert link.is_symlink()
    assert os.readlink(link) == str(target)
    assert target.read_bytes() == b"new"
    assert sorted(p.name for p in target.parent.iterdir()) == ["page.md"]


def test_atomic_write_through_a_relative_symlink(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_bytes(b"old")
    (tmp_path / "b.md").symlink_to("a.md")
    util.atomic_write(tmp_path / "b.md", b"new")
    assert (tmp_path / "b.md").is_symlink()
    assert (tmp_path / "a.md").read_bytes() == b"new"


def test_sanitize_cleans_the_target_of_a_symlinked_page(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.md"
    target.write_text("<b onclick=x>t</b>\n", encoding="utf-8")
    content = tmp_path / "content"
    content.mkdir()
    (content / "page.md").symlink_to(target)
    proc = subprocess.run([sys.executable, "-m", "twnotes", "sanitize", str(content)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert (content / "page.md").is_symlink()
    assert target.read_text(encoding="utf-8") == "<b>t</b>\n"


@needs_fifo
def test_find_pages_reports_a_fifo_as_skipped(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.md")
    (tmp_path / "ok.md").write_text("x\n", encoding="utf-8")
    found = list(pages.find_pages([tmp_path]))
    assert found == [tmp_path / "ok.md", pages.Skipped(tmp_path / "pipe.md", "not a regular file")]
    assert list(pages.find_pages([tmp_path / "pipe.md"])) == [
        pages.Skipped(tmp_path / "pipe.md", "not a regular file")]


@needs_fifo
def test_read_page_refuses_a_fifo_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.md"
    os.mkfifo(fifo)
    # In a child process: if read_page opened the FIFO to read, it would block forever.
    code = ("import sys; from pathlib import Path; from twnotes import pages\n"
            "try:\n    pages.read_page(Path(sys.argv[1]))\n"
            "except pages.PageError as exc:\n    print(exc)\n")
    proc = subprocess.run([sys.executable, "-c", code, str(fifo)], capture_output=True,
                          text=True, timeout=30, check=False)
    assert proc.stdout.strip() == f"{fifo}:1: not a regular file"


@needs_fifo
@pytest.mark.parametrize("check", [[], ["--check"]])
def test_sanitize_reports_a_fifo_and_goes_on(tmp_path: Path, check: list[str]) -> None:
    os.mkfifo(tmp_path / "pipe.md")
    (tmp_path / "ok.md").write_text("<b onclick=x>t</b>\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "twnotes", "sanitize", *check, str(tmp_path)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 2, proc.stderr
    assert f"{tmp_path / 'pipe.md'}: not a regular file" in proc.stderr
    assert f"{tmp_path / 'ok.md'}:1: raw HTML" in proc.stderr


@needs_fifo
def test_snippets_does_not_hang_on_a_fifo(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.md")
    (tmp_path / "ok.md").write_text("```python\nprint(1)\n```\n", encoding="utf-8")
    # The bound is the timeout: before, reading the FIFO blocked for ever.
    proc = subprocess.run([sys.executable, "-m", "twnotes", "snippets", "--list", str(tmp_path)],
                          capture_output=True, text=True, timeout=60, check=False)
    # Bad input on the command line: exit 2, naming the FIFO (whether the other page is
    # listed too is snippets' own choice; the FIFO must be reported either way).
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"{tmp_path / 'pipe.md'}: not a regular file" in proc.stderr.splitlines()


def test_lines_split_where_markdown_it_counts_them(tmp_path: Path) -> None:
    # U+2028 and a form feed are line breaks to str.splitlines, not to markdown-it: the
    # page's line list must keep markdown-it's numbering or fences are looked up wrongly.
    text = '+++\ntitle = "t"\n+++\n\n说明\u2028文字\x0c续\r\n\n```python\nprint(1)\n```\n'
    page = pages.parse_page_text(tmp_path / "p.md", text)
    fence = next(t for t in pages.tokens(page) if t.type == "fence")
    assert fence.map is not None
    assert page.lines[fence.map[0]] == "```python\n"
    assert "".join(page.lines) == text


def test_snippets_found_after_a_line_separator_in_prose(tmp_path: Path) -> None:
    from twnotes.snippets import extract

    text = '+++\ntitle = "t"\n+++\n\n说明\u2028文字\n\n```python\nprint(1)\n```\n'
    [snippet] = extract(pages.parse_page_text(tmp_path / "p.md", text))
    assert snippet.line == 7


def test_read_page_reports_an_unreadable_file_as_bad_input(tmp_path: Path) -> None:
    with pytest.raises(pages.PageError) as error:
        pages.read_page(tmp_path / "gone.md")
    assert error.value.line == 1 and "gone.md" in str(error.value)
