"""What Twisted reports fails a snippet, with real runs: unhandled Deferred errors collected
at GC, logged error/critical events, DeprecationWarning; `allow=` opts out; stderr is kept
(bounded) and shown with every failure."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from snippets_support import page

from twnotes import pages
from twnotes.runner import Runner
from twnotes.runner.preload import REACTOR_BASE
from twnotes.snippets import Cache, Result, chain, command, extract, run_cases


@pytest.fixture(scope="module")
def runner() -> Iterator[Runner]:
    with Runner(workers=2, extra_preload=REACTOR_BASE) as shared:  # whatever runs first
        yield shared


pytestmark = pytest.mark.usefixtures("snippet_dir")


def fence(code: str, attrs: str = "") -> str:
    return f"```python{' ' + attrs if attrs else ''}\n{code}\n```\n\n"


def results(runner: Runner, body: str) -> list[Result]:
    cases = chain(extract(pages.read_page(page(body))))
    return run_cases(cases, runner, Cache(None))


def cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = command([Path(a) for a in args if not a.startswith("-")],
                   json_path=Path("r.json"), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


UNHANDLED = "from twisted.internet import defer\nd = defer.fail(ValueError('boom'))\ndel d\n"


def test_a_deferred_collected_with_an_unhandled_failure_fails(runner: Runner) -> None:
    [result] = results(runner, fence(UNHANDLED + "print('still printed')"))
    assert result.status == "failed"
    assert result.message.startswith("Twisted logged a critical event: Unhandled error in "
                                     "Deferred")
    assert "ValueError: boom" in result.detail


def test_a_deferred_dropped_in_a_function_is_found_too(runner: Runner) -> None:
    code = ("from twisted.internet import defer\n"
            "def work():\n    defer.fail(KeyError('lost'))\nwork()\n")
    [result] = results(runner, fence(code))
    assert result.status == "failed" and "Unhandled error in Deferred" in result.message


def test_a_deferred_in_a_cycle_that_reached_the_oldest_generation_is_found_too(
        runner: Runner) -> None:
    """The final collection is a full one once the program's objects reach the oldest
    generation (a cycle that survived two full collections, then was dropped)."""
    code = ("import gc\nfrom twisted.internet import defer\n"
            "class Holder:\n    pass\n"
            "h = Holder()\nh.me = h\nh.d = defer.fail(KeyError('old'))\n"
            "gc.collect()\ngc.collect()\nassert h in gc.get_objects(generation=2)\ndel h\n")
    [result] = results(runner, fence(code))
    assert result.status == "failed" and "Unhandled error in Deferred" in result.message
    assert "KeyError: 'old'" in result.detail


def test_log_err_fails_and_points_at_the_line_of_the_traceback(runner: Runner) -> None:
    code = ("from twisted.python import log\n"
            "try:\n    1 / 0\nexcept ZeroDivisionError:\n    log.err(None, 'oops')\n")
    [result] = results(runner, fence(code))
    assert result.status == "failed"
    assert result.message.startswith("Twisted logged a critical event: oops")
    assert result.where == 8  # `1 / 0`, the line that raised


@pytest.mark.parametrize(("call", "status"), [
    ("log.error('bad {x}', x=1)", "failed"),
    ("log.critical('worse')", "failed"),
    ("log.failure('as failure', Failure(ValueError('v')))", "failed"),
    ("log.warn('only a warning')", "passed"),
    ("log.info('news')", "passed"),
])
def test_twisted_logger_levels_error_and_critical_fail(
        runner: Runner, call: str, status: str) -> None:
    code = ("from twisted.logger import Logger\nfrom twisted.python.failure import Failure\n"
            f"log = Logger()\n{call}\n")
    [result] = results(runner, fence(code))
    assert result.status == status, result.message


def test_deprecated_returnvalue_fails(runner: Runner) -> None:
    code = ("from twisted.internet import defer\n@defer.inlineCallbacks\ndef f():\n"
            "    yield defer.succeed(1)\n    defer.returnValue(2)\nf().addCallback(print)\n")
    [result] = results(runner, fence(code))
    assert result.status == "failed"
    assert "returnValue was deprecated" in result.detail


def test_a_deprecation_warning_is_an_error(runner: Runner) -> None:
    code = "import warnings\nwarnings.warn('old', DeprecationWarning)\nprint('not reached')\n"
    [result] = results(runner, fence(code))
    assert result.status == "failed"
    assert result.message.startswith("raised DeprecationWarning")
    assert result.where == 7 and result.stdout == ""


def test_a_process_the_snippet_starts_inherits_the_warning_policy(runner: Runner) -> None:
    code = ("import subprocess, sys\n"
            "child = subprocess.run([sys.executable, '-c', 'import warnings; "
            "warnings.warn(\"old\", DeprecationWarning)'], capture_output=True)\n"
            "print(child.returncode)\n")
    [result] = results(runner, fence(code) + "```output\n1\n```\n")
    assert result.status == "passed", result.message


@pytest.mark.parametrize(("attrs", "code"), [
    ('{allow="errors"}', UNHANDLED),
    ('{allow="errors"}', "from twisted.python import log\nlog.err(ValueError('shown'))\n"),
    ('{allow="deprecations"}', "import warnings\nwarnings.warn('old', DeprecationWarning)\n"),
    ('{allow=["errors", "deprecations"]}',
     "import warnings\nwarnings.warn('old', DeprecationWarning)\n" + UNHANDLED),
])
def test_allow_lets_a_snippet_show_these_on_purpose(
        runner: Runner, attrs: str, code: str) -> None:
    [result] = results(runner, fence(code, attrs))
    assert result.status == "passed", result.message


def test_allow_errors_does_not_allow_deprecations(runner: Runner) -> None:
    code = "import warnings\nwarnings.warn('old', DeprecationWarning)\n"
    [result] = results(runner, fence(code, '{allow="errors"}'))
    assert result.status == "failed"


@pytest.mark.parametrize("value", ['"everything"', "true", "[]", '["errors", "x"]'])
def test_a_bad_allow_value_is_bad_input(value: str) -> None:
    path = page(fence("print(1)", f"{{allow={value}}}"))
    code, out, err = cli(str(path))
    assert code == 2 and out == ""
    assert err.startswith("p.md:5: allow must be")


def test_in_a_chain_only_the_block_that_logged_fails(runner: Runner) -> None:
    body = (fence("from twisted.internet import defer\nprint('one')") + "```output\none\n```\n\n"
            + fence("defer.fail(ValueError('x'))\nprint('two')", "{continues=true}")
            + fence("print('three')", "{continues=true}") + "```output\nthree\n```\n")
    got = results(runner, body)
    assert [r.status for r in got] == ["passed", "failed", "passed"]
    assert "Unhandled error in Deferred" in got[1].message


def test_stderr_is_in_the_json_per_block_and_shown_with_an_output_failure() -> None:
    body = (fence("import sys\nprint('to stderr', file=sys.stderr)\nprint('a')")
            + "```output\nb\n```\n\n"
            + fence("import sys\nprint('second', file=sys.stderr)", "{continues=true}"))
    code, out, _ = cli(str(page(body)))
    assert code == 1
    assert out.splitlines()[:5] == [
        "p.md:11: output differs from the expected output:", "@@ -1 +1 @@", "-b", "+a",
        "    to stderr"]
    data = json.loads(Path("r.json").read_text(encoding="utf-8"))
    assert [s["stderr"] for s in data["snippets"]] == ["to stderr\n", "second\n"]


def test_a_github_annotation_carries_the_stderr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    body = fence("import sys\nprint('why', file=sys.stderr)\nprint(1)") + "```output\n2\n```\n"
    code, out, _ = cli(str(page(body)))
    assert code == 1
    [annotation] = [line for line in out.splitlines() if line.startswith("::error")]
    assert annotation.startswith("::error file=p.md,line=11::output differs")
    assert annotation.endswith("%0Awhy")


def test_outside_github_actions_a_failure_has_no_annotation() -> None:
    """(tests/conftest.py takes GITHUB_ACTIONS out of every test's environment.)"""
    code, out, _ = cli(str(page(fence("print(1)") + "```output\n2\n```\n")))
    assert code == 1 and "p.md:9: output differs" in out
    assert "::error" not in out


def test_the_json_keeps_the_end_of_a_long_stderr() -> None:
    code = ("import sys\nfor n in range(5000):\n    print(f'line {n:05}', file=sys.stderr)\n"
            "raise SystemExit(3)")
    assert cli(str(page(fence(code))))[0] == 1
    [entry] = json.loads(Path("r.json").read_text(encoding="utf-8"))["snippets"]
    assert len(entry["stderr"]) <= 20_100
    assert entry["stderr"].startswith("… (truncated)")
    assert entry["stderr"].endswith("line 04999\n")


def test_a_plain_snippet_does_not_get_twisted_imported() -> None:
    code = "import sys\nprint(sorted(m for m in sys.modules if m.startswith('twisted')))"
    with Runner(workers=1) as fresh:  # its servers preload what these programs import
        [result] = results(fresh, fence(code) + "```output\n[]\n```\n")
    assert result.status == "passed", result.message
