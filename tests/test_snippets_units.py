"""snippets' pure helpers against values written out by hand: where the cache lives, -k ids,
shards, and how long texts are cut for a failure or the JSON (survivors of `make mutation`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest

from twnotes import pages
from twnotes.runner import Outcome
from twnotes.snippets import (
    AttributeSyntaxError,
    Cache,
    OutputFence,
    Versions,
    chain,
    config,
    default_cache_dir,
    display_path,
    extract,
    id_matches,
    normalise,
    options_from,
    parse_shard,
    read_info,
    select,
    update,
    verdicts,
)

# ---------------------------------------------------------------------------- the cache


def test_the_cache_dir_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            ) -> None:
    monkeypatch.setenv("TWNOTES_CACHE_DIR", str(tmp_path / "mine"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "mine"
    monkeypatch.delenv("TWNOTES_CACHE_DIR")
    assert default_cache_dir() == tmp_path / "xdg" / "twnotes" / "snippets"


@pytest.mark.parametrize("marker", [".git", "config.toml"])
def test_the_cache_dir_in_the_site_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        marker: str) -> None:
    monkeypatch.delenv("TWNOTES_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    site = tmp_path / "site"
    (site / "content" / "notes").mkdir(parents=True)
    if marker == ".git":
        (site / ".git").mkdir()
    else:
        (site / "config.toml").write_text("", encoding="utf-8")
    monkeypatch.chdir(site / "content" / "notes")
    assert default_cache_dir() == site.resolve() / ".cache" / "twnotes" / "snippets"


def test_a_config_toml_folder_is_no_site_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              ) -> None:
    monkeypatch.delenv("TWNOTES_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    (tmp_path / "a" / "config.toml").mkdir(parents=True)  # a folder, not the file
    (tmp_path / "a" / "b").mkdir()
    monkeypatch.chdir(tmp_path / "a" / "b")
    found = default_cache_dir()
    assert found != tmp_path.resolve() / "a" / ".cache" / "twnotes" / "snippets"
    assert found.parts[-3:] == (".cache", "twnotes", "snippets")


def test_the_cache_keeps_one_json_file_per_key(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "c")
    outcome = Outcome(status="exited", returncode=0, stdout="hi\n", stderr="",
                      segments_stdout=("hi\n",), exception=None, interrupted=False,
                      truncated=False, leftover=False, duration_s=0.5, pid=7)
    assert cache.get("k1") is None
    cache.put("k1", outcome)
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == ["k1.json"]
    again = cache.get("k1")
    assert again == outcome
    (tmp_path / "c" / "k2.json").write_text("{not json", encoding="utf-8")
    assert cache.get("k2") is None
    assert Cache(None).get("k1") is None
    Cache(None).put("k1", outcome)  # no folder: nothing written, nothing raised


KEYED = ('+++\ntitle = "t"\n+++\n\n'
         '```python {setup="hidden", allow=["errors", "deprecations"], timeout=3}\nx = 1\n```\n\n'
         '```python {stop_after=1.5, raises="KeyError", ellipsis=true}\nprint(x)\n```\n\n'
         '```output\n1\n...\n```\n')


def test_a_cache_key_is_the_one_earlier_versions_made() -> None:
    """The key as written out by the tool before Options.as_dict replaced dataclasses.asdict:
    a cache filled before still answers."""
    [case] = chain(extract(pages.parse_page_text(Path("p.md"), KEYED)))
    assert case.cache_key(Versions("3.11.7", "26.10.0")) == (
        "3089394d4fe0fd63017ec2cf887799777c365e0ebc7d412f246820d8b61ab083")


# ------------------------------------------------------------------------------ -k, shards


ID = "content/notes/x.md::L42"


@pytest.mark.parametrize(("pattern", "snippet_id", "found"), [
    (ID, ID, True), ("notes/x.md::L42", ID, True), ("x.md::L42", ID, True),
    ("otes/x.md::L42", ID, False), ("x.md::L4", ID, False), ("x.md::L*", ID, True),
    ("*::L42", ID, True), ("*", ID, True), ("L42", ID, False),
    # A folder is only cut off before the `::`: nothing after it counts as a path.
    ("x", "a/b.md::L4/x", False), ("b.md::L4/x", "a/b.md::L4/x", True),
])
def test_which_ids_a_pattern_selects(pattern: str, snippet_id: str, found: bool) -> None:
    assert id_matches(pattern, snippet_id) is found


@pytest.mark.parametrize(("shard", "kept"), [
    ((1, 3), ["c0", "c3", "c6"]), ((2, 3), ["c1", "c4"]), ((3, 3), ["c2", "c5"]),
    ((1, 1), ["c0", "c1", "c2", "c3", "c4", "c5", "c6"]), ((2, 2), ["c1", "c3", "c5"]),
])
def test_a_shard_is_every_nth_case(shard: tuple[int, int], kept: list[str]) -> None:
    cases = cast(Any, [f"c{n}" for n in range(7)])
    assert select(cases, None, shard) == kept


@pytest.mark.parametrize(("text", "shard"), [("1/1", (1, 1)), ("2/3", (2, 3)),
                                             ("3/3", (3, 3)), ("10/12", (10, 12))])
def test_a_good_shard(text: str, shard: tuple[int, int]) -> None:
    assert parse_shard(text) == shard


@pytest.mark.parametrize("text", ["0/3", "4/3", "1/0", "1", "a/b", "-1/3", "1/3/5"])
def test_a_bad_shard(text: str) -> None:
    with pytest.raises(ValueError, match=r"^--shard wants I/N with 1 <= I <= N"):
        parse_shard(text)


# ----------------------------------------------------------------------- bounded texts


def test_clip_keeps_the_head_or_the_tail() -> None:
    assert verdicts._clip("abcdef", 6, "head") == "abcdef"
    assert verdicts._clip("abcdef", 4, "head") == "abcd\n… (truncated)\n"
    assert verdicts._clip("abcdef", 4, "tail") == "… (truncated)\ncdef"


def test_a_long_line_is_cut_with_a_count() -> None:
    assert verdicts._cut("x" * 300) == "x" * 300
    assert verdicts._cut("x" * 1301) == "x" * 300 + " … (1,001 more characters)"


def test_bounded_drops_whole_lines_from_the_far_end() -> None:
    # 15 lines of 300 characters: 15 * 301 = 4,515 > 4,000, so two go (13 * 301 = 3,913).
    lines = [str(n % 10) * 300 for n in range(15)]
    assert verdicts._bounded(lines, "first") == lines[:13]
    assert verdicts._bounded(lines, "last") == lines[2:]
    short = ["a", "b"]
    assert verdicts._bounded(short, "first") == ["a", "b"]
    # 13 * (299 + 1) + (99 + 1) = 4,000 characters with the newlines: kept whole; one more
    # character and the last line goes.
    assert verdicts._bounded(["y" * 299] * 13 + ["z" * 99], "first") == (
        ["y" * 299] * 13 + ["z" * 99])
    assert verdicts._bounded(["y" * 299] * 13 + ["z" * 100], "first") == ["y" * 299] * 13


def test_the_tail_is_the_last_fifteen_lines() -> None:
    text = "\n".join(f"line {n}" for n in range(40)) + "\n\n"
    assert verdicts._tail(text) == "\n".join(f"line {n}" for n in range(25, 40))


def test_the_line_of_the_innermost_frame_in_the_snippet() -> None:
    stderr = ('Traceback (most recent call last):\n  File "snippet.py", line 3, in <module>\n'
              '  File "/usr/lib/x.py", line 99, in f\n  File "snippet.py", line 12, in g\n'
              'ValueError\n')
    assert verdicts._last_line_in(stderr, "snippet.py") == 12
    assert verdicts._last_line_in(stderr, "other.py") is None


@pytest.mark.parametrize(("expected", "actual", "found"), [
    ("KeyError", "builtins.KeyError", True), ("builtins.KeyError", "builtins.KeyError", True),
    ("KeyError", "KeyError", True), ("Error", "a.b.Error", True), ("b.Error", "a.b.Error", False),
    ("a.b.Error", "a.b.Error", True), ("KeyError", None, False),
    ("KeyError", "x.ValueError", False),
])
def test_which_exception_names_match(expected: str, actual: str | None, found: bool) -> None:
    assert verdicts._exception_matches(expected, actual) is found


# ------------------------------------------------------------------------ output fences

FRONT = '+++\ntitle = "t"\n+++\n\n'  # lines 1-4 (indexes 0-3)


def _one(body: str) -> Any:
    [snippet] = extract(pages.parse_page_text(Path("p.md"), FRONT + body))
    return snippet


@pytest.mark.parametrize(("body", "line", "expected", "fence"), [
    # index 6 is the python fence (line 7); its output opens at index 10, closes at 12.
    ("- item\n\n  ```python\n  print(1)\n  ```\n\n  ```output\n  1\n  ```\n", 7, "1\n",
     OutputFence(10, 12, "  ")),
    ("```python\nprint(1)\n```\n\n```output\n1\n", 5, "1\n", OutputFence(8, None, "")),
    ("````python {timeout=3}\nprint(1)\n````\n````output\n1\n`````\n", 5, "1\n",
     OutputFence(7, 9, "")),
    ("```python\nprint(1)\n```\n```output\n```\n", 5, "", OutputFence(7, 8, "")),
    # A shorter closing fence closes nothing: the output runs to the end.
    ("```python\nprint(1)\n```\n\n~~~~output\n1\n~~~\n", 5, "1\n~~~\n",
     OutputFence(8, None, "")),
    ("```python\nprint(1)\n```\nsome text\n\n```output\n1\n```\n", 5, None, None),
])
def test_where_the_output_fence_is(body: str, line: int, expected: str | None,
                                   fence: OutputFence | None) -> None:
    snippet = _one(body)
    assert (snippet.line, snippet.code_line, snippet.id) == (line, line + 1, f"p.md::L{line}")
    assert (snippet.expected, snippet.output) == (expected, fence)


@pytest.mark.parametrize(("body", "info"), [
    ("```py {stop_after=1, timeout=2}\nx\n```\n", "py {stop_after=1, timeout=2}"),
    ("```  Python3  \nx\n```\n", "Python3"),
    ("  ~~~python {timeout=2}\nx\n  ~~~\n", "python {timeout=2}"),
])
def test_the_info_string_as_written(body: str, info: str) -> None:
    assert _one(body).info == info


def test_display_path_inside_and_outside_the_working_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "site" / "content").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "site")
    assert display_path(tmp_path / "site" / "content" / "x.md") == "content/x.md"
    assert display_path(Path("/elsewhere/y.md")) == "/elsewhere/y.md"


# ----------------------------------------------------------------- the attribute grammar


@pytest.mark.parametrize(("info", "attrs"), [
    ('python {r="a\\nb\\tc\\/d\\\\e\\qf\\"g"}', {"r": 'a\nb\tc/d\\e\\qf"g'}),
    ("python {}", {}),
    ("python {x=1,}", {"x": 1}),
    ("python {x=1 , y=2}", {"x": 1, "y": 2}),
    ("python {x=-1, y=+2.5, z=1., w=2e-1}", {"x": -1, "y": 2.5, "z": 1, "w": 0.2}),
    ("python {a=[], b=[\"x\", true, 3]}", {"a": [], "b": ["x", True, 3]}),
    ("python {x=nullable, y=false, z=word}", {"x": "nullable", "y": False, "z": "word"}),
    ("python {data:x.y-z=1}", {"data:x.y-z": 1}),
    ("python {\tx\t=\t1\t}", {"x": 1}),
])
def test_attribute_values(info: str, attrs: dict[str, object]) -> None:
    language, found, ignored = read_info(info)
    assert (language, found, ignored) == ("python", attrs, [])
    assert [type(v) for v in found.values()] == [type(v) for v in attrs.values()]


@pytest.mark.parametrize(("info", "reason"), [
    ('python {x="a\\', "unterminated string"),
    ('python {x="a', "unterminated string"),
    ("python {.}", "empty '.' shorthand"),
    ("python {x=[1 2]}", "expected ',' in array"),
    ("python {x=null}", "null is not supported"),
    ("python {x=1", "no closing '}'"),
    ("python {=1}", "expected a name at '=1}'"),
])
def test_attribute_syntax_errors(info: str, reason: str) -> None:
    with pytest.raises(AttributeSyntaxError) as error:
        read_info(info)
    assert str(error.value).endswith(reason)


def test_what_hugo_would_ignore_is_reported() -> None:
    assert read_info("python extra words {x=1, x=2} tail") == (
        "python", {"x": 2},
        ["text 'extra words' after the language is not read as attributes (write them in {…})",
         "text 'tail' after '}' is ignored", "attribute 'x' is given twice"])
    assert read_info("") == ("", {}, [])


@pytest.mark.parametrize(("text", "body"), [
    ("a\nb", ["  a\r\n", "  b\r\n"]), ("a\n\nb", ["  a\r\n", "\r\n", "  b\r\n"]), ("", []),
])
def test_an_output_fence_body(text: str, body: list[str]) -> None:
    assert update._fence_body(text, "  ", "\r\n") == body


@pytest.mark.parametrize("body", [
    "> python\n",  # a quote that says python is no fence
    "Text\n\n    python\n    print(1)\n",  # nor an indented code block
    "- python\n",
])
def test_only_fences_are_snippets(body: str) -> None:
    assert extract(pages.parse_page_text(Path("p.md"), FRONT + body)) == []


def test_only_an_output_fence_is_the_expected_output() -> None:
    snippet = _one("```python\nprint(1)\n```\n\n```js\n1\n```\n")
    assert (snippet.expected, snippet.output) == (None, None)


@pytest.mark.parametrize(("attrs", "problem"), [
    ({"timeout": -1}, "timeout must be a positive number of seconds, not -1"),
    ({"stop_after": -0.5}, "stop_after must be a positive number of seconds, not -0.5"),
    ({"test": "run"}, 'test must be "skip", not \'run\''),
])
def test_more_bad_options(attrs: dict[str, object], problem: str) -> None:
    with pytest.raises(ValueError) as error:
        options_from(attrs)
    assert str(error.value) == problem


def test_hugos_keys_pass_whatever_their_case() -> None:
    assert options_from({"LineNos": True, "hl_Lines": [1]}).timeout == 10.0


# --------------------------------------------------------------------------- wildcards

LINES_300 = "\n".join(f"l{n}" for n in range(300))


@pytest.mark.parametrize(("old", "actual", "new"), [
    ("a\n...", "", "..."),  # nothing printed: the `...` still fits, `a` is gone
    # Past 256 lines (where CPython stops sharing int objects): a last old line that no
    # longer matches is dropped, the rest kept as written.
    ("l0\n...\nl299\nzzz", LINES_300, "l0\n...\nl299"),
])
def test_keep_wildcards_edges(old: str, actual: str, new: str) -> None:
    assert normalise.keep_wildcards(old, actual) == new


@pytest.mark.parametrize(("old", "actual", "new"), [
    # New lines before, between and after the kept ones (the run's text where nothing old
    # matches).
    ("x\n...\ny", "new\nx\nmid\ny", "new\nx\n...\ny"),
    ("a\nb\n...\nc", "a\nz1\nb\nq\nq\nc\nz2", "a\nz1\nb\n...\nc\nz2"),
    ("h\n...\nt", "n1\nn2\nh\nm\nt\nn3\nn4", "n1\nn2\nh\n...\nt\nn3\nn4"),
    # A `...` that keeps more than 256 lines after it (ints no longer shared).
    ("...\n" + LINES_300, "new\n" + LINES_300, "...\n" + LINES_300),
])
def test_keep_wildcards_around_new_text(old: str, actual: str, new: str) -> None:
    assert normalise.keep_wildcards(old, actual) == new


def test_past_the_alignment_limit_the_runs_text_wins() -> None:
    lines = "\n".join(["a"] * 2000)  # (2002 old lines) x (2001 new) cells > ALIGN_LIMIT
    assert normalise.ALIGN_LIMIT < 2002 * 2001
    assert normalise.keep_wildcards("...\n" + lines, lines) == lines
    # Just within the limit the `...` is kept.
    small = "\n".join(["a"] * 1000)
    assert normalise.keep_wildcards("...\n" + small, small) == "...\n" + small


@pytest.mark.parametrize(("expected", "actual", "ok"), [
    ("a\n...\nc\n...\ne", "a\nb\nc\nd\ne", True),  # the middle run found after a skip
    ("a\n...\nc\n...\ne", "a\nb\nb\nb\nc\ne", True),
    ("a\n...\nc\n...\ne", "a\nb\nd\ne", False),
    ("a\n...\nc\nd\n...\ne", "a\nc\nx\nc\nd\ne", True),
    ("x\n...\ny\n...", "x", False),  # no line left for the middle run
    ("a\n...\na", "a", False),  # nor for the last run: one line cannot be both
    ("x\n...\ny\n...", "x\ny", True),
])
def test_a_middle_run_is_looked_for_further_on(expected: str, actual: str, ok: bool) -> None:
    assert normalise.matches(expected, actual, True) is ok


# ------------------------------------------------ survivors of the December 2026 mutation run


@pytest.mark.parametrize("value", [0, -1, True, "5", None])
def test_a_timeout_must_be_a_positive_number(value: object) -> None:
    with pytest.raises(config.ConfigError, match="timeout must be a positive number"):
        config.from_table({"timeout": value}, Path("."))


def test_a_fractional_timeout_is_kept() -> None:
    assert config.from_table({"timeout": 0.5}, Path(".")).timeout == 0.5


def test_of_two_unknown_keys_the_first_in_order_is_named() -> None:
    with pytest.raises(config.ConfigError, match=r"^unknown key 'alpha' \(known: "):
        config.from_table({"zeta": 1, "alpha": 2}, Path("."))


def test_of_two_stray_texts_on_a_fence_the_first_is_named() -> None:
    text = FRONT + "```python first {timeout=3} second\nprint(1)\n```\n"
    with pytest.raises(pages.PageError) as caught:
        extract(pages.parse_page_text(Path("p.md"), text))
    assert str(caught.value) == (
        "p.md:5: bad fence attributes 'python first {timeout=3} second': text 'first' after "
        "the language is not read as attributes (write them in {…})")


@pytest.mark.parametrize("blocks", [2, 3])
def test_a_segment_past_the_end_belongs_to_the_last_test(blocks: int) -> None:
    body = "".join("```python" + (" {continues=true}" if n else "") + f"\nprint({n})\n```\n\n"
                   for n in range(blocks))
    [case] = chain(extract(pages.parse_page_text(Path("p.md"), FRONT + body)))
    assert [case.owner(segment) for segment in (-1, 0, blocks - 1, blocks, 10)] == [
        0, 0, blocks - 1, blocks - 1, blocks - 1]
