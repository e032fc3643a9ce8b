"""`twnotes sanitize`: files in place (many over worker processes), --check, --diff, stdin."""

from __future__ import annotations

import dataclasses
import difflib
import functools
import shlex
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TextIO

from twnotes import pages, util
from twnotes.sanitize.document import sanitize_page
from twnotes.sanitize.edits import Result
from twnotes.sanitize.fragment import clean_fragment


@dataclasses.dataclass(frozen=True)
class FileOutcome:
    """One file's fate: a result, or the bad-input message that left it untouched."""

    path: Path
    result: Result | None = None
    error: str | None = None


def sanitize_file(path: Path, write: bool) -> FileOutcome:
    try:
        page = pages.read_page(path)
        result = sanitize_page(page)
        if write and result.changed:
            util.atomic_write(path, result.cleaned.encode("utf-8"))
    except pages.PageError as exc:
        return FileOutcome(path, error=str(exc))
    except OSError as exc:
        return FileOutcome(path, error=f"{path}:1: {exc.strerror or exc}")
    return FileOutcome(path, result=result)


def sanitize_paths(paths: Sequence[Path], write: bool, jobs: int = 0) -> Iterator[
        FileOutcome | pages.Skipped]:
    """Sanitise every page under `paths`; many files are spread over worker processes."""
    found = list(pages.find_pages(paths))
    files = [p for p in found if isinstance(p, Path)]
    yield from (s for s in found if isinstance(s, pages.Skipped))
    yield from util.parallel_map(functools.partial(sanitize_file, write=write), files, jobs)


# --------------------------------------------------------------------------- commands


def _bad(outcome: FileOutcome | pages.Skipped) -> str | None:
    """The bad-input message of one outcome (a path that is not a page, a refusal)."""
    if isinstance(outcome, pages.Skipped):
        return f"{outcome.path}: {outcome.reason}"
    return outcome.error


def _report(path: Path, result: Result, *, write: bool, diff: bool, out: TextIO,
            err: TextIO) -> None:
    """One changed page: a `file:line: what` line per change, and the diff if asked."""
    verb = "raw HTML rewritten" if write else "raw HTML is not clean"
    for line, what in result.changes:
        print(f"{path}:{line}: {verb}: {what}", file=err)
    if diff:
        out.writelines(difflib.unified_diff(
            result.original.splitlines(keepends=True),
            result.cleaned.splitlines(keepends=True),
            fromfile=str(path), tofile=str(path)))


def run(paths: Sequence[Path], *, check: bool, diff: bool, jobs: int,
        out: TextIO, err: TextIO) -> int:
    """`twnotes sanitize`: 0 clean or rewritten, 1 (--check) would change, 2 bad input."""
    bad = would_change = 0
    write = not (check or diff)
    fix: list[str] = []
    for outcome in sanitize_paths(paths, write, jobs):
        message = _bad(outcome)
        if message is not None:
            print(message, file=err)
            bad += 1
            continue
        assert isinstance(outcome, FileOutcome)
        if outcome.result is None or not outcome.result.changed:
            continue
        _report(outcome.path, outcome.result, write=write, diff=diff, out=out, err=err)
        fix += [] if write else [str(outcome.path)]
        would_change += 1
    if fix and check:
        print(f"fix: twnotes sanitize {' '.join(shlex.quote(p) for p in fix)}", file=err)
    if bad:
        return 2
    return 1 if check and would_change else 0


def run_stdin(data: bytes, out: TextIO, err: TextIO, *, check: bool = False) -> int:
    """`twnotes sanitize -`: one fragment in, the clean fragment out.

    With `check`, nothing is written to `out`: exit 1 when cleaning would change the
    fragment, 0 when it is clean already (as --check does for files).
    """
    try:
        text = pages.decode(Path("<stdin>"), data)
    except pages.PageError as exc:
        print(exc, file=err)
        return 2
    fragment = text.replace("\r\n", "\n").replace("\r", "\n")
    cleaned = clean_fragment(fragment)
    if check:
        if cleaned == fragment:
            return 0
        print("<stdin>: raw HTML is not clean", file=err)
        return 1
    out.write(cleaned)
    return 0
