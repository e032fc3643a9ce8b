"""Promises of pages, snippets and the runner that a mutation run found nothing checking.

Each test names the behaviour it pins with a literal expected value (a mutant of the code,
e.g. the default timeout 10 made 5, fails it). Written against the public names of
twnotes.pages, twnotes.snippets and twnotes.runner only.
"""

from __future__ import annotations

import dataclasses
import os
import re
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from twnotes import pages, util
from twnotes.runner import Outcome, Program, Runner
from twnotes.runner.preload import REACTOR_BASE
from twnotes.snippets import Cache, chain, config, extract, options_from, run_cases

FRONT = '+++\ntitle = "t"\n+++\n\n'


# ------------------------------------------------------------------------------- pages


@pytest.mark.parametrize(("text", "lines"), [
    ("a\rb\r", ["a\r", "b\r"]),
    ("a\r\nb\nc", ["a\r\n", "b\n", "c"]),
    ("a\n\rb", ["a\n", "\r", "b"]),
    ("a\u2028b\x0cc\n", ["a\u2028b\x0cc\n"]),
    ("", []),
    ("\n\n", ["\n", "\n"]),
])
def test_lines_end_at_crlf_cr_and_lf_only(text: str, lines: list[str]) -> None:
    assert pages.split_lines(text) == lines


@pytest.mark.parametrize(("text", "length"), [
    ('+++\ntitle = "t"\n+++\nbody\n', 3),
    ("---\ntitle: t\n---\nbody\n", 3),
    ("\n  \n---\ntitle: t\ntags: [a]\n---\n", 6),
    ("\ufeff---\ntitle: t\n---\n", 3),
    ("---\r\ntitle: t\r\n---\r\n", 3),
    ("---\rtitle: t\r---\r", 3),
    ("# no front matter\n---\n", 0),
    ("", 0),
    ("+++\na = 1\n---\n+++\n", 4),  # the other fence does not close it
])
def test_front_matter_toml_and_yaml(text: str, length: int) -> None:
    assert pages.front_matter_length(Path("p.md"), text) == length


def test_yaml_front_matter_is_not_markdown(tmp_path: Path) -> None:
    path = tmp_path / "p.md"
    path.write_text("---\ntitle: t\n---\n\n```python\nprint(1)\n```\n", encoding="utf-8")
    page = pages.read_page(path)
    assert page.front_matter_lines == 3
    # No thematic break or setext heading made of the fences: the first token is the fence.
    assert [t.type for t in pages.tokens(page)] == ["fence"]
    [snippet] = extract(page)
    assert snippet.line == 5


@pytest.mark.parametrize(("text", "line", "reason"), [
    ("---\ntitle: t\n", 1, "front matter opened with '---' is never closed"),
    ("+++ x\n+++\n", 1, "text after the opening +++ of the front matter"),
    ("---\na: 1\n--- x\n", 3, "text after the closing --- of the front matter"),
])
def test_bad_front_matter_names_its_line(text: str, line: int, reason: str) -> None:
    with pytest.raises(pages.PageError) as error:
        pages.front_matter_length(Path("p.md"), text)
    assert error.value.line == line and error.value.reason.startswith(reason)


def test_the_walk_is_sorted_and_skips_what_is_not_a_page(tmp_path: Path) -> None:
    # Created in an order that is neither sorted nor reversed, so os.walk's own order
    # (directory order) is unlikely to pass by chance.
    for rel in ("m/z.md", "b.md", "m/a.md", "a/y.markdown", "c.md", "a/x.md", "notes.txt",
                "m/b.md"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x\n", encoding="utf-8")
    (tmp_path / "d.md").mkdir()
    found = list(pages.find_pages([tmp_path]))
    paths = [str(p.relative_to(tmp_path)) for p in found if isinstance(p, Path)]
    assert paths == ["b.md", "c.md", "a/x.md", "a/y.markdown", "m/a.md", "m/b.md", "m/z.md"]
    skipped = [(s.path.name, s.reason) for s in found if isinstance(s, pages.Skipped)]
    assert skipped == [("d.md", "is a directory, not a page")]


def test_a_page_given_twice_is_found_once(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    page.write_text("x\n", encoding="utf-8")
    assert list(pages.find_pages([page, tmp_path, page])) == [page]


def test_a_missing_path_is_skipped_with_a_reason(tmp_path: Path) -> None:
    [skipped] = list(pages.find_pages([tmp_path / "gone"]))
    assert isinstance(skipped, pages.Skipped)
    assert skipped.reason == "no such file or directory"


@pytest.mark.parametrize("mode", [0o600, 0o755, 0o640])
def test_atomic_write_keeps_the_file_mode(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "p.md"
    path.write_bytes(b"old")
    os.chmod(path, mode)
    util.atomic_write(path, b"new")
    assert path.read_bytes() == b"new"
    assert stat.S_IMODE(path.stat().st_mode) == mode
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.md"]  # no temp file left


def test_atomic_write_through_a_symlink_keeps_the_link(tmp_path: Path) -> None:
    target = tmp_path / "real.md"
    target.write_bytes(b"old")
    link = tmp_path / "link.md"
    link.symlink_to(target)
    util.atomic_write(link, b"new", durable=False)
    assert link.is_symlink() and target.read_bytes() == b"new"


def test_parallel_map_keeps_the_order() -> None:
    items = list(range(50))
    assert list(util.parallel_map(str, items, jobs=2)) == [str(i) for i in items]
    assert list(util.parallel_map(str, items, jobs=1)) == [str(i) for i in items]


@pytest.mark.parametrize(("raw", "line", "reason"), [
    (b"a\nb\n\xff", 3, "invalid UTF-8 at byte 4"),
    (b"\xfe", 1, "invalid UTF-8 at byte 0"),
    (b"a\nb\x00", 2, "NUL byte in text"),
    (b"\x00", 1, "NUL byte in text"),
    (b"a\n\xff", 2, "invalid UTF-8 at byte 2"),
    (b"a\nb\nc\n\xff", 4, "invalid UTF-8 at byte 6"),
    (b"\n\x00", 2, "NUL byte in text"),
])
def test_undecodable_bytes_name_their_line(raw: bytes, line: int, reason: str) -> None:
    with pytest.raises(pages.PageError) as error:
        pages.decode(Path("p.md"), raw)
    assert (error.value.line, error.value.reason) == (line, reason)


def test_one_refusal_is_raised_as_itself_several_together() -> None:
    one = pages.PageError("p.md", 3, "x")
    with pytest.raises(pages.PageError) as error:
        pages.raise_all([one])
    assert error.value is one
    with pytest.raises(pages.PageErrors) as errors:
        pages.raise_all([pages.PageError("p.md", 9, "b"), one])
    assert [e.line for e in errors.value.errors] == [3, 9]
    pages.raise_all([])  # nothing to raise


def test_too_deep_is_the_first_token_at_the_nesting_limit() -> None:
    from markdown_it.token import Token

    def at(level: int) -> Token:
        token = Token("paragraph_open", "p", 1)
        token.level = level
        return token

    limit = pages.MAX_NESTING
    shallow, edge, deeper = at(limit - 2), at(limit - 1), at(limit)
    assert pages.too_deep([shallow]) is None
    assert pages.too_deep([shallow, edge, deeper]) is edge
    assert pages.too_deep([deeper, edge]) is deeper


def _pid(_: int) -> int:
    return os.getpid()


def test_parallel_map_uses_workers_only_for_many_items_or_when_asked() -> None:
    me = os.getpid()
    few = list(range(199))  # the documented bar is 200 files
    assert set(util.parallel_map(_pid, few)) == {me}  # jobs=0: this process below the bar
    assert set(util.parallel_map(_pid, few, jobs=1)) == {me}
    # 1 or less: this process, even for many items
    assert set(util.parallel_map(_pid, list(range(300)), jobs=-1)) == {me}
    assert me not in set(util.parallel_map(_pid, few, jobs=2))
    if (os.cpu_count() or 1) > 1:
        for count in (200, 201):
            assert me not in set(util.parallel_map(_pid, list(range(count))))


def test_parallel_map_with_fewer_items_than_chunks_keeps_them_all() -> None:
    assert list(util.parallel_map(str, [1, 2, 3], jobs=2)) == ["1", "2", "3"]
    assert list(util.parallel_map(str, range(8), jobs=4)) == [str(i) for i in range(8)]


def test_atomic_write_is_durable_unless_told_otherwise(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd))[1])
    util.atomic_write(tmp_path / "a", b"1")
    assert len(synced) == 1
    util.atomic_write(tmp_path / "b", b"2", durable=False)
    assert len(synced) == 1
    assert (tmp_path / "a").read_bytes() == b"1" and (tmp_path / "b").read_bytes() == b"2"


def test_a_page_report_prints_as_page_colon_text_and_is_a_value() -> None:
    report = util.PageReport("notes/index.html", "removed <script>")
    assert str(report) == "notes/index.html: removed <script>"
    assert report == util.PageReport("notes/index.html", "removed <script>")
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.text = "x"  # type: ignore[misc]


# ------------------------------------------------------------------------- fence options


def test_the_default_timeout_is_ten_seconds() -> None:
    assert config.DEFAULT_TIMEOUT == 10.0
    assert options_from({}).timeout == 10.0
    assert config.Settings().timeout == 10.0


@pytest.mark.parametrize(("attrs", "problem"), [
    ({"stop_after": 2, "timeout": 2}, "stop_after (2) must be less than timeout (2)"),
    ({"stop_after": 3, "timeout": 2}, "stop_after (3) must be less than timeout (2)"),
    ({"stop_after": 10}, "stop_after (10) must be less than timeout (10)"),
    ({"timeout": 0}, "timeout must be a positive number of seconds, not 0"),
    ({"timeout": True}, "timeout must be a positive number of seconds, not True"),
    ({"raises": "1Bad"}, 'raises must be an exception name like "ValueError"'),
])
def test_bad_options_are_refused(attrs: dict[str, object], problem: str) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(problem)):
        options_from(attrs)


def test_stop_after_just_under_the_timeout_is_accepted() -> None:
    options = options_from({"stop_after": 1.5, "timeout": 2})
    assert (options.stop_after, options.timeout) == (1.5, 2.0)


def cases_of(tmp_path: Path, body: str) -> list:  # type: ignore[type-arg]
    path = tmp_path / "p.md"
    path.write_text(FRONT + body, encoding="utf-8")
    return chain(extract(pages.read_page(path)))


def test_a_chain_runs_with_its_longest_timeout(tmp_path: Path) -> None:
    body = ("```python {timeout=3}\nx = 1\n```\n\n"
            "```python {timeout=7, continues=true}\ny = 2\n```\n\n"
            "```python {timeout=5, continues=true}\nprint(x + y)\n```\n")
    [case] = cases_of(tmp_path, body)
    assert case.timeout == 7.0
    assert case.program().timeout == 7.0


def test_a_chain_interrupts_after_its_last_blocks_stop_after(tmp_path: Path) -> None:
    body = ("```python\nx = 1\n```\n\n"
            "```python {stop_after=2, timeout=4, continues=true}\nprint(x)\n```\n")
    [case] = cases_of(tmp_path, body)
    assert case.program().stop_after == 2.0


# ------------------------------------------------------------------------------ verdicts


@pytest.fixture(scope="module")
def runner() -> Iterator[Runner]:
    with Runner(workers=1, extra_preload=REACTOR_BASE) as shared:
        yield shared


@pytest.mark.parametrize(("raises", "passed"), [
    ("ConnectionRefusedError", True),
    ("twisted.internet.error.ConnectionRefusedError", True),
    ("error.ConnectionRefusedError", False),
    ("ValueError", False),
])
def test_raises_matches_the_short_or_the_qualified_name(
        tmp_path: Path, runner: Runner, raises: str, passed: bool) -> None:
    body = (f'```python {{raises="{raises}"}}\n'
            "from twisted.internet import error\nraise error.ConnectionRefusedError()\n```\n")
    [result] = run_cases(cases_of(tmp_path, body), runner, Cache(None))
    assert (result.status == "passed") is passed, result


def test_raises_matches_a_builtin_by_its_plain_or_qualified_name(
        tmp_path: Path, runner: Runner) -> None:
    body = ('```python {raises="KeyError"}\n{}["k"]\n```\n\n'
            '```python {raises="builtins.KeyError"}\n{}["k"]\n```\n')
    results = run_cases(cases_of(tmp_path, body), runner, Cache(None))
    assert [r.status for r in results] == ["passed", "passed"]


class _Leaky:
    """A runner whose every program leaves a process behind that could not be killed."""

    def __init__(self, real: Runner) -> None:
        self.real = real

    def run_all(self, programs: Sequence[Program]) -> list[Outcome]:
        return [dataclasses.replace(o, leftover=True) for o in self.real.run_all(programs)]


def test_a_process_left_behind_fails_the_snippet(tmp_path: Path, runner: Runner) -> None:
    body = "```python\nprint(1)\n```\n\n```output\n1\n```\n"
    [clean] = run_cases(cases_of(tmp_path, body), runner, Cache(None))
    assert clean.status == "passed"
    [leaky] = run_cases(cases_of(tmp_path, body), _Leaky(runner), Cache(None))  # type: ignore[arg-type]
    assert leaky.status == "failed"
    assert "could not be killed" in leaky.message
