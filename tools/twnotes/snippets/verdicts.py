"""Outcomes -> Results: the verdict of each snippet of a case, and how a failure is shown.

Pure functions over what `runner` reported (an Outcome) and what the page asks for (the
Case's snippets and their options): which block ended the program, what Twisted logged in
which block, whose output differs. Bounded texts for every face (terminal, pytest, JSON).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from twnotes.runner import Outcome
from twnotes.snippets import config
from twnotes.snippets import normalise as normalise_
from twnotes.snippets.config import Settings

if TYPE_CHECKING:
    from twnotes.snippets.cases import Case
    from twnotes.snippets.extract import Snippet

JSON_STDOUT_LIMIT = 20_000  # characters of output kept per snippet in the JSON for the page
JSON_STDERR_LIMIT = 20_000  # of stderr: the end is kept (where a traceback is)
# What a failure shows of the output (terminal, pytest report): a flood is often one huge
# line, so lines are cut as well as counted, and the whole is capped.
TAIL_LINES = 15
TAIL_LINE_CHARS = 300
TAIL_CHARS = 4_000
DIFF_LINES = 20

Status = Literal["passed", "failed", "skipped"]


@dataclasses.dataclass(frozen=True)
class Result:
    """One snippet's verdict. `where` is the line a failure points at (exception, output)."""

    file: str
    line: int
    status: Status
    duration_s: float
    stdout: str  # what it printed, after the site's normalisers
    message: str = ""
    where: int = 0
    detail: str = ""  # tail of stderr (else of the output), for the terminal
    cached: bool = False
    output_mismatch_only: bool = False
    code_sha256: str = ""  # Snippet.code_sha256: which code this result is about
    stderr: str = ""  # what it wrote to stderr (its setup blocks' too)
    expected: str | None = None  # its ```output fence, if any (the page labels a failure's parts)

    def to_json(self) -> dict[str, Any]:
        data = {"file": self.file, "line": self.line, "status": self.status,
                "duration_s": round(self.duration_s, 4),
                "stdout": _clip(self.stdout, JSON_STDOUT_LIMIT, "head"),
                "stderr": _clip(self.stderr, JSON_STDERR_LIMIT, "tail"),
                "message": self.message, "code_sha256": self.code_sha256}
        if self.expected is not None:
            data["expected"] = _clip(self.expected, JSON_STDOUT_LIMIT, "head")
        return data


def _clip(text: str, limit: int, keep: Literal["head", "tail"]) -> str:
    if len(text) <= limit:
        return text
    if keep == "head":
        return text[:limit] + "\n… (truncated)\n"
    return "… (truncated)\n" + text[-limit:]


def _last_line_in(stderr: str, filename: str) -> int | None:
    """The line of the innermost traceback frame (or syntax error) in the snippet's file."""
    lines = re.findall(rf'File "{re.escape(filename)}", line ([0-9]+)', stderr)
    return int(lines[-1]) if lines else None


def _cut(line: str) -> str:
    if len(line) <= TAIL_LINE_CHARS:
        return line
    return f"{line[:TAIL_LINE_CHARS]} … ({len(line) - TAIL_LINE_CHARS:,} more characters)"


def _bounded(lines: Sequence[str], keep: Literal["first", "last"]) -> list[str]:
    """Each line cut to TAIL_LINE_CHARS, then whole lines dropped (from the far end of what is
    kept) until the text fits in TAIL_CHARS."""
    kept = [_cut(line) for line in lines]
    size = sum(len(line) + 1 for line in kept)
    while kept and size > TAIL_CHARS:
        size -= len(kept.pop(0 if keep == "last" else -1)) + 1
    return kept


def _tail(text: str, lines: int = TAIL_LINES) -> str:
    """The last lines of the output, bounded in characters too (see TAIL_CHARS)."""
    return "\n".join(_bounded(text.rstrip("\n").splitlines()[-lines:], "last"))


def _exception_matches(expected: str, actual: str | None) -> bool:
    if actual is None:
        return False
    module, _, qualname = actual.rpartition(".")
    short = actual.split(".")[-1]
    return expected in (actual, qualname, short) or (
        module == "builtins" and expected == qualname)


class _Stop(NamedTuple):
    """What ended the program early (or wrongly): the segment at fault, why, and where.

    (This and _Verdict are private records: a NamedTuple is defined in a fifth of the time
    a frozen dataclass takes, on every run's way to its first program.)"""

    segment: int
    message: str
    at: int | None = None
    ran_before: bool = True  # False when nothing ran at all (a syntax error)


def _cut_short(case: Case, outcome: Outcome, seg: int) -> _Stop | None:
    """The runner ended the program (could not start it, a timeout, too much output, a
    process that would not die), whatever the program itself did."""
    if outcome.status == "error":
        return _Stop(seg, f"could not run: {outcome.message}")
    if outcome.status == "timed_out":
        extra = (f" (SIGINT sent after {case.last.options.stop_after:g} s)"
                 if outcome.interrupted else "")
        return _Stop(seg, f"timed out after {case.timeout:g} s{extra}")
    if outcome.status == "output_limit":
        return _Stop(seg, "printed more than the output limit; stopped")
    if outcome.leftover:
        return _Stop(seg, "a process of the snippet could not be killed")
    return None


def _stop(case: Case, outcome: Outcome) -> _Stop | None:
    """Why the program as a whole failed, if it did; None when it ended as it should."""
    last = case.last.options
    seg = min(outcome.segment, len(case.blocks) - 1)
    short = _cut_short(case, outcome, seg)
    if short is not None:
        return short
    end = len(case.blocks) - 1
    if last.raises is not None and seg == end and _exception_matches(last.raises,
                                                                     outcome.exception):
        return None
    if outcome.exception is not None:
        name = outcome.exception.removeprefix("builtins.")
        at = _last_line_in(outcome.stderr, case.first.file)
        if last.raises is not None and seg == end:
            return _Stop(seg, f"expected {last.raises}, got {name}", at)
        hint = (' (DeprecationWarning is an error in snippets; allow="deprecations" on the '
                "fence shows one on purpose)") if name == "DeprecationWarning" else ""
        return _Stop(seg, f"raised {name}{hint}", at,
                     ran_before=not outcome.compile_failed)
    if last.raises is not None:
        return _Stop(end, f"expected {last.raises} to be raised, but it exited with "
                          f"{outcome.returncode}")
    if outcome.returncode == 0:
        return None
    if outcome.interrupted:
        return _Stop(seg, f"did not exit cleanly after SIGINT (stop_after={last.stop_after:g})"
                          f": exit code {outcome.returncode}")
    return _Stop(seg, f"exited with code {outcome.returncode}")


def _finding(finding: dict[str, Any], filename: str) -> tuple[str, int | None, str]:
    """A logged error/critical event as (message, line to point at, full text)."""
    text = str(finding.get("text", ""))
    level = str(finding.get("level", "error"))
    article = "an" if level == "error" else "a"
    first = text.strip().splitlines()[0] if text.strip() else "(no text)"
    return (f"Twisted logged {article} {level} event: {_cut(first)} "
            f'(allow="errors" on the fence shows one on purpose)',
            _last_line_in(text, filename), text)


def _output_problem(snippet: Snippet, stdout: str, settings: Settings) -> str:
    """Empty when the snippet printed what its output block expects (or has none)."""
    if snippet.expected is None:
        return ""
    subs = settings.normalisers
    expected, actual = normalise_.apply(subs, snippet.expected), normalise_.apply(subs, stdout)
    wildcards = settings.ellipsis if snippet.options.ellipsis is None else \
        snippet.options.ellipsis
    if normalise_.matches(expected, actual, wildcards):
        return ""
    import difflib  # only for a failure to show: most runs never need it

    diff = difflib.unified_diff(expected.splitlines(), actual.splitlines(),
                                "expected", "actual", lineterm="", n=1)
    return "output differs from the expected output:\n" + "\n".join(
        _bounded(list(diff)[2:2 + DIFF_LINES], "first"))


def _substitute(settings: Settings, text: str) -> str:
    for pattern, replacement in settings.normalisers:
        text = pattern.sub(replacement, text)
    return text


def _findings_by_block(case: Case, outcome: Outcome) -> dict[int, tuple[str, int | None, str]]:
    """Per test block, what Twisted logged: the first finding's message, every one's text."""
    found: dict[int, tuple[str, int | None, str]] = {}
    for finding in outcome.findings:
        owner = case.owner(int(finding.get("segment", 0)))
        message, at, text = _finding(finding, case.first.file)
        if owner in found:
            message, first_at, first_text = found[owner]
            at, text = first_at or at, f"{first_text}\n{text}"
        found[owner] = (message, at, text)
    return found


def _streams(case: Case, outcome: Outcome) -> tuple[list[str], list[str]]:
    """Each test block's stdout (its own segment's) and stderr (its setup blocks' too)."""
    stdouts: list[str] = [""] * len(case.snippets)
    stderrs: list[str] = [""] * len(case.snippets)
    for seg, block in enumerate(case.blocks):
        owner = case.owner(seg)
        if block.options.setup is None and seg < len(outcome.segments_stdout):
            stdouts[owner] = outcome.segments_stdout[seg]
        if seg < len(outcome.segments_stderr):
            stderrs[owner] += outcome.segments_stderr[seg]
    return stdouts, stderrs


class _Verdict(NamedTuple):
    """One test block's verdict before it becomes a Result."""

    status: Status
    message: str = ""
    at: int | None = None
    mismatch: bool = False
    logged: str = ""


def _verdict(case: Case, n: int, stop: _Stop | None, found: dict[int, tuple[str, int | None,
             str]], stdout: str, settings: Settings) -> _Verdict:
    """Test block `n`'s verdict: skipped after the block that ended the program, that
    block's failure, what Twisted logged in it, its output, or passed."""
    snippet = case.snippets[n]
    owner = case.owner(stop.segment) if stop is not None else None
    if stop is not None and owner is not None and (
            n > owner or (n < owner and not stop.ran_before)):
        culprit = case.snippets[owner]
        return _Verdict("skipped", f"not run: the program ended in the block at line "
                                   f"{culprit.line}")
    if stop is not None and n == owner:
        return _Verdict("failed", stop.message, stop.at)
    if n in found:
        message, at, logged = found[n]
        return _Verdict("failed", message, at, logged=logged)
    if problem := _output_problem(snippet, stdout, settings):
        at = snippet.output.open_index + 1 if snippet.output else snippet.line
        return _Verdict("failed", problem, at, mismatch=True)
    return _Verdict("passed")


def judge(case: Case, outcome: Outcome, cached: bool = False,
          settings: Settings = config.DEFAULTS) -> list[Result]:
    """One result per snippet of the case, each on its own merits.

    The block that ended the program carries that failure; a block before it passes or
    fails by its own output; a block after it never ran (skipped, saying why). A block
    during which Twisted logged an error fails with it. Setup blocks have no result: what
    they print or raise belongs to the block they come before.
    """
    stop = _stop(case, outcome)
    found = _findings_by_block(case, outcome)
    stdouts, stderrs = _streams(case, outcome)
    results = []
    for n, snippet in enumerate(case.snippets):
        verdict = _verdict(case, n, stop, found, stdouts[n], settings)
        stderr = stderrs[n]
        detail = ""
        if verdict.status == "failed":
            # stderr, where a traceback is; else what Twisted logged; else the output.
            detail = (_tail(stderr) if stderr.strip() else _tail(verdict.logged)
                      if verdict.logged else "" if verdict.mismatch else _tail(stdouts[n]))
        results.append(Result(
            snippet.file, snippet.line, verdict.status, outcome.duration_s,
            _substitute(settings, stdouts[n]), verdict.message, verdict.at or snippet.line,
            detail, cached, verdict.mismatch, snippet.code_sha256, stderr, snippet.expected))
    return results


def skipped(case: Case) -> list[Result]:
    return [Result(s.file, s.line, "skipped", 0.0, "", 'test="skip"', s.line,
                   code_sha256=s.code_sha256) for s in case.snippets]


def failure_text(result: Result) -> str:
    """`file:line: reason`, then the stderr (or output) tail, indented: what every face shows."""
    text = f"{result.file}:{result.where or result.line}: {result.message}"
    if result.detail:
        text += "\n" + "\n".join(f"    {line}" for line in result.detail.splitlines())
    return text


def summary(results: Sequence[Result]) -> str:
    counts = {s: sum(r.status == s for r in results) for s in ("passed", "failed", "skipped")}
    cached = sum(r.cached for r in results)
    return (f"{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} "
            f"skipped ({cached} from cache)")
