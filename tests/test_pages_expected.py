"""pages, against values written out by hand: the line table, front matter limits, the
walk's refusals, the non-blocking open and the token walk (survivors of `make mutation`).

Every expected value here is a literal (offsets counted on the text in the test), never
one recomputed with pages itself.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from pathlib import Path

import pytest

from twnotes import pages

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no os.mkfifo here")


def lines_of(text: str) -> pages.Lines:
    return pages.Lines(pages.parse_page_text(Path("p.md"), text))


# --------------------------------------------------------------------------- the line table


def test_the_line_table_of_mixed_endings() -> None:
    #        a b \r \n c d \r e \n
    # offset 0 1 2  3  4 5 6  7 8
    lines = lines_of("ab\r\ncd\re\n")
    assert lines.starts == [0, 4, 7]
    assert len(lines) == 3
    assert [lines.start(i) for i in range(4)] == [0, 4, 7, 9]
    assert [lines.end(i) for i in range(3)] == [2, 6, 8]
    assert [lines.content(i) for i in range(3)] == ["ab", "cd", "e"]
    assert [lines.ending(i) for i in range(4)] == ["\r\n", "\r", "\n", ""]
    assert [lines.line_of(o) for o in range(9)] == [1, 1, 1, 1, 2, 2, 2, 3, 3]


def test_the_last_line_without_an_ending() -> None:
    lines = lines_of("x\nyz")
    assert lines.starts == [0, 2]
    assert (lines.end(1), lines.content(1), lines.ending(1)) == (4, "yz", "")
    assert lines.start(2) == 4


def test_a_bom_is_skipped_on_the_first_line_only() -> None:
    # \ufeff a \n b c: the BOM is one character, at offset 0.
    lines = lines_of("\ufeffa\nbc\n")
    assert lines.bom == 1
    assert lines.starts == [0, 3]
    assert [lines.start(i) for i in range(2)] == [1, 3]
    assert [lines.content(i) for i in range(2)] == ["a", "bc"]
    assert lines_of("a\n").bom == 0


def test_lines_of_equal_length() -> None:
    # Offsets 0, 2, 4: each start is the previous one plus the length of its line.
    assert lines_of("a\nb\nc\n").starts == [0, 2, 4]
    assert lines_of("ab\ncd\nef\ngh").starts == [0, 3, 6, 9]


def test_a_long_page_ends_at_its_last_line() -> None:
    # Past 256 lines (where CPython stops sharing int objects) the offsets still hold.
    lines = lines_of("ab\n" * 299 + "cd")
    assert len(lines) == 300
    assert (lines.start(299), lines.end(299), lines.content(299)) == (897, 899, "cd")
    assert (lines.end(298), lines.ending(298), lines.line_of(898)) == (896, "\n", 300)


def test_a_page_is_frozen() -> None:
    page = pages.parse_page_text(Path("p.md"), "x\n")
    with pytest.raises(dataclasses.FrozenInstanceError):
        page.text = "y\n"  # type: ignore[misc]


def test_blank_lines_and_an_empty_text() -> None:
    lines = lines_of("\n\r\n\r")
    assert lines.starts == [0, 1, 3]
    assert [lines.end(i) for i in range(3)] == [0, 1, 3]
    assert [lines.ending(i) for i in range(3)] == ["\n", "\r\n", "\r"]
    empty = lines_of("")
    assert (len(empty), empty.start(0), empty.end(0), empty.content(0)) == (1, 0, 0, "")
    assert empty.ending(1) == ""


# ----------------------------------------------------------------------------- front matter


@pytest.mark.parametrize(("text", "line", "reason"), [
    ("\n\n---\ntitle: t\n", 3, "front matter opened with '---' is never closed"),
    ("\n---\ntitle: t\n", 2, "front matter opened with '---' is never closed"),
    ("\n\n\n+++\n", 4, "front matter opened with '+++' is never closed"),
    ("\n \n+++\na = 1\n", 3, "front matter opened with '+++' is never closed"),
    ("\n+++ a\n+++\n", 2, "text after the opening +++ of the front matter"),
    ("---\na: 1\nb: 2\n--- x\n", 4, "text after the closing --- of the front matter: "
     "Hugo renders it as page body; move it to the next line"),
])
def test_a_bad_opening_after_blank_lines_names_the_fence_line(
        text: str, line: int, reason: str) -> None:
    with pytest.raises(pages.PageError) as error:
        pages.front_matter_length(Path("p.md"), text)
    assert (error.value.line, error.value.reason) == (line, reason)


@pytest.mark.parametrize(("text", "source"), [
    ('+++\na = 1\n+++\nbody\n', "\n\n\nbody\n"),
    ('\ufeff---\na: 1\n---\r\nbody\r\n', "\n\n\nbody\r\n"),
    ("\ufeffbody\n", "body\n"),
    ("body\r", "body\r"),
])
def test_markdown_sees_the_front_matter_blanked(text: str, source: str) -> None:
    assert pages.parse_page_text(Path("p.md"), text).markdown_source() == source


def test_page_errors_print_one_line_each_in_line_order() -> None:
    errors = pages.PageErrors([pages.PageError("p.md", 9, "b"), pages.PageError("p.md", 3, "a")])
    assert str(errors) == "p.md:3: a\np.md:9: b"
    assert (errors.path, errors.line, errors.reason) == (Path("p.md"), 3, "a")
    assert str(pages.PageError("q.md", 2, "c")) == "q.md:2: c"


# --------------------------------------------------------------------------------- the walk


def test_a_broken_or_looping_symlink_root_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "broken.md").symlink_to(tmp_path / "nowhere.md")
    (tmp_path / "loop.md").symlink_to(tmp_path / "loop.md")
    found = list(pages.find_pages([tmp_path / "broken.md", tmp_path / "loop.md"]))
    assert found == [pages.Skipped(tmp_path / "broken.md", "broken or looping symlink"),
                     pages.Skipped(tmp_path / "loop.md", "broken or looping symlink")]


def test_links_below_a_root(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("x\n", encoding="utf-8")
    (tmp_path / "b.md").symlink_to("a.md")  # the same page again: found once
    (tmp_path / "c.md").symlink_to("gone.md")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "o.md").write_text("x\n", encoding="utf-8")
    (tmp_path / "link").symlink_to("other", target_is_directory=True)
    assert list(pages.find_pages([tmp_path])) == [
        pages.Skipped(tmp_path / "link", "symlinked directory not followed"),
        tmp_path / "a.md",
        pages.Skipped(tmp_path / "c.md", "broken or looping symlink"),
        tmp_path / "other" / "o.md",
    ]


def test_a_path_gone_is_not_a_regular_file(tmp_path: Path) -> None:
    assert pages._is_regular(tmp_path / "gone.md") is False
    assert pages._is_regular(tmp_path) is False
    (tmp_path / "p.md").write_text("x\n", encoding="utf-8")
    assert pages._is_regular(tmp_path / "p.md") is True


def test_roots_given_by_name(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x\n", encoding="utf-8")
    (tmp_path / "x.md").mkdir()
    (tmp_path / "x.md" / "inner.md").write_text("x\n", encoding="utf-8")
    assert list(pages.find_pages([tmp_path / "notes.txt", tmp_path / "x.md"])) == [
        tmp_path / "notes.txt",  # a file named on the command line is read whatever its name
        pages.Skipped(tmp_path / "x.md", "is a directory, not a page"),
    ]


@needs_fifo
def test_read_page_opens_without_blocking_if_the_path_changes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The path is a regular file when stat looks and a FIFO when it is opened: only the
    # non-blocking open and the check on the open handle keep read_page from hanging.
    fifo, regular = tmp_path / "pipe.md", tmp_path / "r.md"
    os.mkfifo(fifo)
    regular.write_text("x\n", encoding="utf-8")
    real_stat = Path.stat
    monkeypatch.setattr(Path, "stat", lambda self, **kw: real_stat(
        regular if self == fifo else self, **kw))
    errors: list[tuple[int, str]] = []

    def read() -> None:
        try:
            pages.read_page(fifo)
        except pages.PageError as exc:
            errors.append((exc.line, exc.reason))

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    thread.join(5)
    blocked = thread.is_alive()
    if blocked:  # a writer lets the blocked open return, so no thread is left behind
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        thread.join(10)
    assert not blocked, "read_page blocked opening a FIFO"
    assert errors == [(1, "not a regular file")]


# ------------------------------------------------------------------------------- the tokens


def test_walk_yields_children_after_their_parent() -> None:
    page = pages.parse_page_text(Path("p.md"), "a *b*\n\n- c\n")
    assert [t.type for t in pages.walk(pages.tokens(page))] == [
        "paragraph_open", "inline", "text", "em_open", "text", "em_close", "paragraph_close",
        "bullet_list_open", "list_item_open", "paragraph_open", "inline", "text",
        "paragraph_close", "list_item_close", "bullet_list_close"]


def test_a_parser_without_settings_or_text() -> None:
    # Neither given: the site's defaults, nothing narrowed away.
    tokens = pages.markdown().parse("a[^1]\n\n[^1]: note\n")
    assert [t.type for t in tokens][:4] == [
        "paragraph_open", "inline", "paragraph_close", "footnote_block_open"]


def test_a_file_gone_is_refused_with_the_system_reason(tmp_path: Path) -> None:
    with pytest.raises(pages.PageError) as error:
        pages.read_page(tmp_path / "gone.md")
    assert (error.value.line, error.value.reason) == (1, "No such file or directory")
