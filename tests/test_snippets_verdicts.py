"""snippets' verdicts from made-up outcomes: no process runs, so each way a program can end
is judged exactly, against messages written out by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from twnotes import pages
from twnotes.runner import Outcome
from twnotes.snippets import Case, chain, extract, failure_text, judge, summary

FRONT = '+++\ntitle = "t"\n+++\n\n'  # lines 1-4


def case_of(body: str) -> Case:
    [case] = chain(extract(pages.parse_page_text(Path("p.md"), FRONT + body)))
    return case


def outcome(**changes: Any) -> Outcome:
    fields: dict[str, Any] = {
        "status": "exited", "returncode": 0, "stdout": "", "stderr": "", "segments_stdout": (),
        "exception": None, "interrupted": False, "truncated": False, "leftover": False,
        "duration_s": 0.25, "pid": 1}
    fields.update(changes)
    return Outcome(**fields)


ONE = "```python {timeout=3}\nprint(1)\n```\n"  # the fence on line 5
TWO = ONE + "\n```python {continues=true}\nprint(2)\n```\n"  # the second on line 9


def verdicts(case: Case, out: Outcome) -> list[tuple[str, str, int]]:
    return [(r.status, r.message, r.where) for r in judge(case, out)]


@pytest.mark.parametrize(("changes", "message"), [
    ({"status": "error", "message": "boom"}, "could not run: boom"),
    ({"status": "timed_out"}, "timed out after 3 s"),
    ({"status": "output_limit"}, "printed more than the output limit; stopped"),
    ({"leftover": True}, "a process of the snippet could not be killed"),
    ({"returncode": 3}, "exited with code 3"),
    ({"exception": "builtins.ValueError", "returncode": 1}, "raised ValueError"),
    ({"exception": "builtins.DeprecationWarning", "returncode": 1},
     'raised DeprecationWarning (DeprecationWarning is an error in snippets; '
     'allow="deprecations" on the fence shows one on purpose)'),
])
def test_how_a_program_ended(changes: dict[str, Any], message: str) -> None:
    assert verdicts(case_of(ONE), outcome(**changes)) == [("failed", message, 5)]


def test_a_clean_exit_passes() -> None:
    assert verdicts(case_of(ONE), outcome(segments_stdout=("1\n",))) == [("passed", "", 5)]


def test_a_timeout_after_sigint_says_so() -> None:
    case = case_of("```python {stop_after=1, timeout=4}\nimport time\ntime.sleep(9)\n```\n")
    out = outcome(status="timed_out", interrupted=True, returncode=None)
    assert verdicts(case, out) == [("failed", "timed out after 4 s (SIGINT sent after 1 s)", 5)]
    out = outcome(interrupted=True, returncode=1)
    assert verdicts(case, out) == [
        ("failed", "did not exit cleanly after SIGINT (stop_after=1): exit code 1", 5)]


def test_the_line_of_the_exception_is_the_one_pointed_at() -> None:
    stderr = 'Traceback (most recent call last):\n  File "p.md", line 6, in <module>\nKeyError\n'
    out = outcome(exception="builtins.KeyError", returncode=1, stderr=stderr,
                  segments_stderr=(stderr,))
    [result] = judge(case_of(ONE), out)
    assert (result.status, result.message, result.where) == ("failed", "raised KeyError", 6)
    assert result.detail == stderr.rstrip("\n")
    assert failure_text(result) == "p.md:6: raised KeyError\n    " + "\n    ".join(
        stderr.rstrip("\n").splitlines())


@pytest.mark.parametrize(("changes", "verdict"), [
    ({"exception": "builtins.KeyError", "returncode": 1}, ("passed", "", 5)),
    ({"exception": "builtins.ValueError", "returncode": 1},
     ("failed", "expected KeyError, got ValueError", 5)),
    ({}, ("failed", "expected KeyError to be raised, but it exited with 0", 5)),
])
def test_raises(changes: dict[str, Any], verdict: tuple[str, str, int]) -> None:
    case = case_of('```python {raises="KeyError"}\n{}["k"]\n```\n')
    assert verdicts(case, outcome(**changes)) == [verdict]


def test_the_block_that_ended_a_chain_fails_and_the_next_is_skipped() -> None:
    out = outcome(exception="builtins.ValueError", returncode=1, segment=0,
                  segments_stdout=("1\n",))
    assert verdicts(case_of(TWO), out) == [
        ("failed", "raised ValueError", 5),
        ("skipped", "not run: the program ended in the block at line 5", 9)]


def test_a_syntax_error_in_a_later_block_means_nothing_ran() -> None:
    out = outcome(exception="builtins.SyntaxError", returncode=1, segment=1,
                  compile_failed=True)
    assert verdicts(case_of(TWO), out) == [
        ("skipped", "not run: the program ended in the block at line 9", 5),
        ("failed", "raised SyntaxError", 9)]


def test_a_block_before_the_failure_is_judged_by_its_own_output() -> None:
    body = ("```python\nprint(1)\n```\n\n```output\n1\n```\n\n"
            "```python {continues=true}\nraise ValueError\n```\n")
    good = outcome(exception="builtins.ValueError", returncode=1, segment=1,
                   segments_stdout=("1\n", ""))
    assert [r.status for r in judge(case_of(body), good)] == ["passed", "failed"]
    bad = outcome(exception="builtins.ValueError", returncode=1, segment=1,
                  segments_stdout=("2\n", ""))
    first, second = judge(case_of(body), bad)
    # The output fence opens on line 9: a mismatch points there.
    assert (first.status, first.where, first.output_mismatch_only) == ("failed", 9, True)
    assert first.message == "output differs from the expected output:\n@@ -1 +1 @@\n-1\n+2"
    assert (second.status, second.message) == ("failed", "raised ValueError")


@pytest.mark.parametrize(("level", "message"), [
    ("error", 'Twisted logged an error event: boom (allow="errors" on the fence shows one '
              "on purpose)"),
    ("critical", 'Twisted logged a critical event: boom (allow="errors" on the fence shows '
                 "one on purpose)"),
])
def test_what_twisted_logged_fails_its_block(level: str, message: str) -> None:
    out = outcome(segments_stdout=("1\n", "2\n"),
                  findings=({"segment": 1, "level": level, "text": "boom\nmore"},))
    assert verdicts(case_of(TWO), out) == [("passed", "", 5), ("failed", message, 9)]


def test_the_summary_counts_each_status() -> None:
    case = case_of(TWO)
    failed = judge(case, outcome(exception="builtins.ValueError", returncode=1, segment=0))
    passed = judge(case, outcome(segments_stdout=("1\n", "2\n")), cached=True)
    assert summary([*failed, *passed]) == "2 passed, 1 failed, 1 skipped (2 from cache)"
    assert summary([]) == "0 passed, 0 failed, 0 skipped (0 from cache)"


def test_raises_is_the_last_blocks() -> None:
    case = case_of('```python\nx = 1\n```\n\n```python {raises="KeyError", continues=true}\n'
                   '{}["k"]\n```\n')
    out = outcome(exception="builtins.KeyError", returncode=1, segment=1,
                  segments_stdout=("", ""))
    assert verdicts(case, out) == [("passed", "", 5), ("passed", "", 9)]
    early = outcome(exception="builtins.KeyError", returncode=1, segment=0)
    assert verdicts(case, early) == [
        ("failed", "raised KeyError", 5),
        ("skipped", "not run: the program ended in the block at line 5", 9)]


def test_a_segment_past_the_last_block_counts_as_the_last() -> None:
    out = outcome(exception="builtins.ValueError", returncode=1, segment=7)
    assert verdicts(case_of(ONE), out) == [("failed", "raised ValueError", 5)]
    assert verdicts(case_of(TWO), out) == [("passed", "", 5), ("failed", "raised ValueError", 9)]
    case = case_of('```python {raises="KeyError"}\n{}["k"]\n```\n')
    assert verdicts(case, outcome(exception="builtins.KeyError", returncode=1, segment=7)) == [
        ("passed", "", 5)]


def test_an_output_diff_shows_twenty_lines_at_most() -> None:
    body = ("```python\nprint(1)\n```\n\n```output\n"
            + "".join(f"e{n}\n" for n in range(30)) + "```\n")
    out = outcome(segments_stdout=("".join(f"a{n}\n" for n in range(30)),))
    [result] = judge(case_of(body), out)
    lines = result.message.splitlines()
    assert lines[:3] == ["output differs from the expected output:", "@@ -1,30 +1,30 @@", "-e0"]
    assert len(lines) == 1 + 20 and lines[-1] == "-e18"


def test_raises_is_met_in_the_last_block_of_a_chain_of_three() -> None:
    body = ("```python\nx = 1\n```\n\n```python {continues=true}\ny = 2\n```\n\n"
            '```python {continues=true, raises="ValueError"}\nraise ValueError\n```\n')
    out = outcome(exception="builtins.ValueError", returncode=1, segment=2,
                  segments_stdout=("", "", ""))
    assert [r.status for r in judge(case_of(body), out)] == ["passed"] * 3
    early = outcome(exception="builtins.ValueError", returncode=1, segment=1,
                    segments_stdout=("", ""))
    assert [r.status for r in judge(case_of(body), early)] == ["passed", "failed", "skipped"]
