"""Pages to snippets to results: extraction, attributes, verdicts, cache, --update, JSON, CLI."""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from conftest import ROOT
from twnotes import pages
from twnotes.runner import Outcome, Program, Runner
from twnotes.runner.preload import REACTOR_BASE
from twnotes.snippets import (
    Cache,
    Case,
    Result,
    chain,
    collect,
    command,
    extract,
    parse_info,
    run_cases,
    select,
)

DATA = ROOT / "tests" / "data" / "snippets"


@pytest.fixture(scope="module")
def runner() -> Iterator[Runner]:
    with Runner(workers=2, extra_preload=REACTOR_BASE) as shared:  # whatever runs first
        yield shared


pytestmark = pytest.mark.usefixtures("snippet_dir")


def page(name: str, body: str) -> Path:
    path = Path(name)
    path.write_text('+++\ntitle = "t"\n+++\n\n' + body, encoding="utf-8")
    return path


def cases_of(path: Path) -> list[Case]:
    return chain(extract(pages.read_page(path)))


def run(path: Path, runner: Runner, cache: Cache | None = None) -> list[Result]:
    return run_cases(cases_of(path), runner, cache or Cache(None))


def cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    from twnotes.cli import build_parser

    parsed = build_parser().parse_args(["snippets", *args])
    code = command(parsed.paths or [Path("content")], list_only=parsed.list,
                   update=parsed.update, json_path=parsed.json, pattern=parsed.pattern,
                   shard=parsed.shard, use_cache=not parsed.no_cache, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


# ---------------------------------------------------------------- extraction and attributes


def test_every_python_fence_is_found_with_its_line_and_expected_output() -> None:
    found = extract(pages.read_page(DATA / "mixed.md"))
    assert [(s.line, s.code.strip().splitlines()[0]) for s in found] == [
        (7, 'print("hello")'),
        (19, 'raise SystemExit("a skipped block never runs")'),
        (23, "1 / 0"),
        (27, "counter = 1"),
        (36, "counter += 1"),
    ]
    assert [s.expected for s in found] == ["hello\n", None, None, "1\n", "2\n"]


@pytest.mark.parametrize(("info", "expected"), [
    ('python {test="skip"}', ("python", {"test": "skip"})),
    ("python {stop_after=1, timeout=2.5}", ("python", {"stop_after": 1, "timeout": 2.5})),
    ("python{timeout=1e1}", ("python", {"timeout": 10})),
    ("py {continues=true .cls #anchor}", ("py", {"continues": True, "class": "cls",
                                                  "id": "anchor"})),
    ("python {hl_lines=[1, 3] linenos=true}", ("python", {"hl_lines": [1, 3],
                                                          "linenos": True})),
    ('python {raises="a\\"b"}', ("python", {"raises": 'a"b'})),
    ("python {x=1} trailing words", ("python", {"x": 1})),  # Hugo ignores the rest too
    ("python", ("python", {})),
])
def test_fence_attributes_are_read_as_hugo_reads_them(
        info: str, expected: tuple[str, dict[str, object]]) -> None:
    assert parse_info(info) == expected


@pytest.mark.parametrize("info", [
    "python {raises='ValueError'}", "python {x}", "python {x=}", "python { }",
    "python {x=1a}", "python {x=.5}", "python {x=1", "python {x=null}",
])
def test_attributes_hugo_refuses_are_refused(info: str) -> None:
    with pytest.raises(ValueError, match="bad fence attributes"):
        parse_info(info)


def test_an_unknown_attribute_is_an_error_naming_file_and_line() -> None:
    code, out, err = cli(str(DATA / "bad-attribute.md"))
    assert code == 2
    assert err.strip() == (f"{DATA / 'bad-attribute.md'}:9: unknown fence attribute "
                           "'stop_afterr' (known: allow, continues, ellipsis, raises, "
                           "setup, stop_after, test, timeout, and Hugo's highlighting keys)")
    assert out == ""  # bad input: nothing ran


def test_continues_without_a_block_before_it_is_an_error() -> None:
    path = page("p.md", "```python {continues=true}\nx = 1\n```\n")
    with pytest.raises(pages.PageError, match=r"p.md:5: continues=true"):
        cases_of(path)


# ---------------------------------------------------------------- verdicts, with real runs


def test_a_page_of_every_kind_gives_one_result_per_snippet(runner: Runner) -> None:
    results = run(DATA / "mixed.md", runner)
    assert [(r.line, r.status) for r in results] == [
        (7, "passed"), (19, "skipped"), (23, "passed"), (27, "passed"), (36, "passed")]
    assert [r.stdout for r in results] == ["hello\n", "", "", "1\n", "2\n"]


def test_wrong_output_fails_at_the_output_fence(runner: Runner) -> None:
    path = page("p.md", "```python\nprint('hi')\n```\n\n```output\nbye\n```\n")
    [result] = run(path, runner)
    assert result.status == "failed"
    assert result.where == 9
    assert "-bye" in result.message and "+hi" in result.message


def test_output_is_compared_without_line_end_or_trailing_space_differences(
        runner: Runner) -> None:
    path = Path("p.md")
    path.write_bytes(b'+++\r\ntitle = "t"\r\n+++\r\n\r\n```python\r\nprint("a  ")\r\n'
                     b'print("b")\r\n```\r\n\r\n```output\r\na\r\nb   \r\n\r\n```\r\n')
    [result] = run(path, runner)
    assert result.status == "passed", result.message


def test_an_exception_fails_at_its_file_and_line(runner: Runner) -> None:
    path = page("p.md", "Text.\n\n```python\nx = 0\nprint(1 / x)\n```\n")
    code, out, _ = cli(str(path))
    assert code == 1
    assert out.splitlines()[0] == "p.md:9: raised ZeroDivisionError"
    assert 'File "p.md", line 9, in <module>' in out  # the traceback tail is shown


def test_a_syntax_error_fails_at_its_line(runner: Runner) -> None:
    path = page("p.md", "```python\nok = 1\nif ok\n    pass\n```\n")
    [result] = run(path, runner)
    assert (result.status, result.where, result.message) == ("failed", 7, "raised SyntaxError")


def test_a_hanging_snippet_fails_as_timed_out(runner: Runner) -> None:
    path = page("p.md", "```python {timeout=0.5}\nimport time\ntime.sleep(30)\n```\n")
    [result] = run(path, runner)
    assert (result.status, result.message) == ("failed", "timed out after 0.5 s")


def test_stop_after_passes_a_reactor_that_runs_forever(runner: Runner) -> None:
    path = page("p.md", "```python {stop_after=0.3, timeout=5}\n"
                        "from twisted.internet import reactor\n"
                        "reactor.callWhenRunning(print, 'running')\n"
                        "reactor.run()\n```\n\n```output\nrunning\n```\n")
    [result] = run(path, runner)
    assert result.status == "passed", result.message


def test_skip_is_reported_and_not_run(runner: Runner) -> None:
    path = page("p.md", '```python {test="skip"}\nraise SystemExit(3)\n```\n')
    [result] = run(path, runner)
    assert (result.status, result.message) == ("skipped", 'test="skip"')


@pytest.mark.parametrize(("name", "code", "status", "message"), [
    ("ValueError", "raise ValueError('x')", "passed", ""),
    ("json.decoder.JSONDecodeError", "import json\njson.loads('{')", "passed", ""),
    ("ValueError", "print('fine')", "failed",
     "expected ValueError to be raised, but it exited with 0"),
    ("ValueError", "raise KeyError('x')", "failed", "expected ValueError, got KeyError"),
])
def test_raises_passes_only_on_that_exception(
        runner: Runner, name: str, code: str, status: str, message: str) -> None:
    path = page("p.md", f'```python {{raises="{name}"}}\n{code}\n```\n')
    [result] = run(path, runner)
    assert (result.status, result.message) == (status, message)


def test_a_continued_block_runs_in_the_same_program(runner: Runner) -> None:
    path = page("p.md", "```python\nimport os\npid = os.getpid()\nprint('a')\n```\n\n"
                        "```python {continues=true}\nprint('b', pid == os.getpid())\n```\n")
    cases = cases_of(path)
    assert len(cases) == 1 and len(cases[0].snippets) == 2
    results = run_cases(cases, runner, Cache(None))
    assert [(r.line, r.status, r.stdout) for r in results] == [
        (5, "passed", "a\n"), (11, "passed", "b True\n")]


def test_an_error_in_a_continued_block_points_at_that_block(runner: Runner) -> None:
    path = page("p.md", "```python\nx = 1\n```\n\n```python {continues=true}\nx.nope\n```\n")
    results = run(path, runner)
    assert [(r.status, r.where) for r in results] == [("passed", 5), ("failed", 10)]


# ---------------------------------------------------------------- cache


class CountingRunner(Runner):
    """A real runner that counts the programs it was asked to run."""

    def __init__(self) -> None:
        super().__init__(workers=1)
        self.programs = 0

    def run_all(self, programs: Sequence[Program]) -> list[Outcome]:
        self.programs += len(programs)
        return super().run_all(programs)


def test_an_unchanged_snippet_comes_from_the_cache_and_a_change_reruns_it(
        tmp_path: Path) -> None:
    cache = Cache(tmp_path / "c")
    body = "```python\nprint(41 + 1)\n```\n\n```output\n42\n```\n"
    with CountingRunner() as counting:
        first = run(page("p.md", body), counting, cache)
        second = run(page("p.md", "A new paragraph moves the block.\n\n" + body), counting, cache)
        assert counting.programs == 1
        assert (first[0].cached, second[0].cached) == (False, True)
        assert second[0].stdout == "42\n" and second[0].line == 7
        third = run(page("p.md", body.replace("42\n```\n", "42 \n\n```\n")), counting, cache)
        assert counting.programs == 2  # the expected output changed: run again
        assert third[0].status == "passed" and not third[0].cached
        run(page("p.md", body.replace("python", "python {timeout=9}")), counting, cache)
        assert counting.programs == 3  # an attribute changed: run again


def test_a_failure_is_never_cached(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "c")
    path = page("p.md", "```python\nraise SystemExit(1)\n```\n")
    with CountingRunner() as counting:
        run(path, counting, cache)
        run(path, counting, cache)
        assert counting.programs == 2


def test_an_emptied_or_cut_cache_entry_is_a_miss_and_runs_again(tmp_path: Path) -> None:
    """Cache entries are not fsynced: what a crash can leave (an empty or cut file) is read
    as a miss, the snippet runs again and its entry is written whole."""
    cache = Cache(tmp_path / "c")
    path = page("p.md", "```python\nprint(7)\n```\n\n```output\n7\n```\n")
    with CountingRunner() as counting:
        run(path, counting, cache)
        [entry] = list((tmp_path / "c").iterdir())
        whole = entry.read_bytes()
        for damaged in (b"", whole[: len(whole) // 2]):
            entry.write_bytes(damaged)
            [result] = run(path, counting, cache)
            assert (result.status, result.cached) == ("passed", False)
            assert json.loads(entry.read_bytes())["stdout"] == "7\n"  # whole again
        assert counting.programs == 3


def test_no_cache_forces_a_run() -> None:
    path = page("p.md", "```python\nprint(1)\n```\n")
    assert "(0 from cache)" in cli(str(path))[1]
    assert "(1 from cache)" in cli(str(path))[1]
    assert "(0 from cache)" in cli("--no-cache", str(path))[1]


# ---------------------------------------------------------------- the command


def test_update_rewrites_output_fences_and_keeps_the_rest_byte_for_byte() -> None:
    body = ("* item\n\n   ```python\n   print('one')\n   print()\n   print('three')\n   ```\n\n"
            "   ```output\n   stale\n   ```\n\n```python\nprint('no fence: none added')\n```\n"
            "\nEnd.\n")
    path = page("p.md", body)
    code, out, _ = cli("--update", str(path))
    assert code == 0, out
    assert "updated p.md" in out
    expected = body.replace("   stale\n", "   one\n\n   three\n")
    assert path.read_text(encoding="utf-8") == '+++\ntitle = "t"\n+++\n\n' + expected
    assert cli(str(path))[0] == 0


def test_update_leaves_a_crashing_snippet_alone() -> None:
    body = "```python\nprint('x')\nraise SystemExit(2)\n```\n\n```output\nold\n```\n"
    path = page("p.md", body)
    before = path.read_bytes()
    assert cli("--update", str(path))[0] == 1
    assert path.read_bytes() == before


def test_json_has_the_agreed_schema(tmp_path: Path) -> None:
    target = tmp_path / "out" / "snippets.json"
    code, _, _ = cli("--json", str(target), str(DATA / "mixed.md"))
    assert code == 0
    data = json.loads(target.read_text(encoding="utf-8"))
    assert set(data) == {"python", "twisted", "snippets"}
    assert isinstance(data["python"], str) and isinstance(data["twisted"], str)
    first = data["snippets"][0]
    # The fields, plus the hash the render hook matches against Hugo's .Inner, and
    # the output fence's text when the block has one (the page labels a failure's parts).
    assert set(first) == {"file", "line", "status", "duration_s", "stdout", "stderr",
                          "message", "code_sha256", "expected"}
    assert first["expected"] == "hello\n"
    assert first["code_sha256"] == hashlib.sha256(b'print("hello")').hexdigest()
    assert first["file"].endswith("tests/data/snippets/mixed.md")
    assert (first["line"], first["status"], first["stdout"]) == (7, "passed", "hello\n")
    assert isinstance(first["duration_s"], float)
    assert [s["status"] for s in data["snippets"]].count("skipped") == 1


def test_shards_split_the_cases_deterministically_and_completely() -> None:
    path = page("p.md", "".join(f"```python\nprint({n})\n```\n\n" for n in range(7)))
    cases = collect([path]).cases
    shards = [select(cases, shard=(i, 3)) for i in (1, 2, 3)]
    ids = [c.id for shard in shards for c in shard]
    assert sorted(ids) == sorted(c.id for c in cases) and len(set(ids)) == 7
    assert [len(s) for s in shards] == [3, 2, 2]
    assert [c.id for c in select(cases, shard=(2, 3))] == [c.id for c in shards[1]]


def test_shard_out_of_range_is_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    from twnotes.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["snippets", "--shard", "3/2"])
    assert exit_.value.code == 2
    assert "--shard wants I/N" in capsys.readouterr().err


def test_k_selects_by_id_and_list_runs_nothing() -> None:
    path = page("p.md", "```python\nraise SystemExit(1)\n```\n\n```python\nprint(2)\n```\n")
    code, out, _ = cli("--list", "-k", "p.md::L9", str(path))
    assert (code, out) == (0, "p.md::L9\tpython\n")
    assert cli("-k", "p.md::L9", str(path))[0] == 0  # the failing block at L5 is not selected


def test_a_missing_path_is_bad_input() -> None:
    code, _, err = cli("no-such-dir")
    assert code == 2 and "no-such-dir" in err


def test_github_actions_gets_error_annotations(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    path = page("p.md", "```python\nprint(1)\n```\n\n```output\n2\n```\n")
    code, out, _ = cli(str(path))
    assert code == 1
    assert "::error file=p.md,line=9::output differs from the expected output:%0A" in out


@pytest.mark.slow
def test_the_notes_snippets_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    # With the result cache `make snippets` fills (make test runs it first), so no snippet
    # runs twice: a passing run cached for the same code and versions counts as its pass,
    # and only what changed since runs here.
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("TWNOTES_CACHE_DIR", raising=False)
    code, out, _ = cli("content")
    assert code == 0, out
    assert re.search(r"^[1-9][0-9]* passed, 0 failed", out, re.MULTILINE), out


FLOODS = ("```python\nprint('x' * 2_000_000)\n```\n\n"  # one huge line, past the output limit
          "```python\nprint('y' * 300_000)\n```\n\n```output\nz\n```\n\n"  # a huge diff line
          "```python\nimport sys\nsys.stderr.write('e' * 50_000 + '\\n')\nraise SystemExit(3)\n"
          "```\n")


def test_a_flooding_snippet_prints_a_bounded_report() -> None:
    code, out, _ = cli(str(page("p.md", FLOODS)))
    assert code == 1
    reports = re.split(r"^(?=p\.md:[0-9]+: )", out, flags=re.MULTILINE)[1:]
    assert [r.split(":", 2)[1] for r in reports] == ["5", "13", "17"]
    for report in reports:
        assert len(report) <= 4_500, report[:200]
    assert "more characters" in out  # a cut line says so


def test_bad_paths_on_the_command_line_are_bad_input() -> None:
    Path("dir.md").mkdir()
    Path("dangling.md").symlink_to("nowhere.md")
    good = page("p.md", "```python\nprint(1)\n```\n")
    code, out, err = cli(str(good), "dir.md", "dangling.md", "missing.md")
    assert code == 2
    assert err.splitlines() == [
        "dir.md: is a directory, not a page",
        "dangling.md: broken or looping symlink",
        "missing.md: no such file or directory",
    ]
    assert out == ""  # bad input: nothing ran
