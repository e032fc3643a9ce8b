"""`twnotes snippets`: collect, select, run, update, report; exit codes as pytest's."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from twnotes.runner import Runner
from twnotes.snippets import config
from twnotes.snippets.cache import Cache, default_cache_dir
from twnotes.snippets.cases import Case, Collected, collect, select
from twnotes.snippets.config import Settings
from twnotes.snippets.extract import display_path
from twnotes.snippets.report import merge_results, write_json
from twnotes.snippets.running import Ran, run
from twnotes.snippets.update import rejudge_updated, update_outputs
from twnotes.snippets.verdicts import Result, failure_text, summary


def _annotation(result: Result) -> str:
    """A GitHub Actions error annotation (message escaped as the runner expects)."""
    body = result.message + (f"\n{result.detail}" if result.detail else "")
    text = body.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return f"::error file={result.file},line={result.where or result.line}::{text}"


def _print_failure(result: Result, out: Any) -> None:
    print(failure_text(result), file=out)
    if os.environ.get("GITHUB_ACTIONS") == "true":
        print(_annotation(result), file=out)


def command(paths: Sequence[Path] | None = None, *, list_only: bool = False,
            update: bool = False, json_path: Path | None = None,
            pattern: Sequence[str] | str | None = None, shard: tuple[int, int] | None = None,
            use_cache: bool = True, jobs: int | None = None, out: Any = None,
            err: Any = None, settings: Settings | None = None,
            runner: Runner | None = None) -> int:
    """`twnotes snippets`: 0 all passed, 1 a failure, 2 bad input (nothing run then),
    5 when -k selects nothing (as pytest does when no test is selected).

    `runner`: one started early by the caller (its servers spawned already); closed here."""
    import sys
    import time

    out = out or sys.stdout
    err = err or sys.stderr
    started = time.monotonic()
    with runner or Runner(workers=jobs) as runner:
        try:
            settings = settings or config.load()
        except config.ConfigError as exc:
            print(exc, file=err)
            return 2
        runner.extra_preload = tuple(settings.preload)
        if not list_only:
            runner.prestart()  # the servers' interpreter starts while the pages are read
        return _command(runner, paths, settings, list_only=list_only, update=update,
                        json_path=json_path, pattern=pattern, shard=shard,
                        use_cache=use_cache, out=out, err=err, started=started)


def _select(collected: Collected, pattern: Sequence[str] | str | None,
            shard: tuple[int, int] | None, err: Any) -> list[Case] | None:
    """The cases -k and --shard choose; None (said on `err`) when -k matches nothing."""
    patterns = [pattern] if isinstance(pattern, str) else list(pattern or [])
    cases = select(collected.cases, patterns, shard)
    if patterns and not select(collected.cases, patterns):
        print(f"no snippet selected by -k {' -k '.join(patterns)} (ids are file::Lline as "
              "--list shows them; `*` matches any text)", file=err)
        return None
    return cases


def _update(runs: list[Ran], cache_: Cache, settings: Settings, out: Any) -> tuple[
        list[Ran], bool]:
    """--update: rewrite the output blocks, judge again; and whether a page changed."""
    changed = update_outputs([r.case for r in runs], [x for r in runs for x in r.results],
                             settings)
    for path in changed:
        print(f"updated {display_path(path)}", file=out)
    return rejudge_updated(runs, changed, cache_, settings), bool(changed)


def _report(results: list[Result], json_path: Path | None, settings: Settings,
            cases: list[Case], out: Any, started: float) -> int:
    import time

    if json_path is not None:
        write_json(json_path, results)
    elif (target := settings.results_path()) is not None:
        merge_results(target, results, cases)
    for result in results:
        if result.status == "failed":
            _print_failure(result, out)
    print(f"{summary(results)} in {time.monotonic() - started:.2f} s", file=out)
    return 1 if any(r.status == "failed" for r in results) else 0


def _command(runner: Runner, paths: Sequence[Path] | None, settings: Settings, *,
             list_only: bool, update: bool, json_path: Path | None,
             pattern: Sequence[str] | str | None, shard: tuple[int, int] | None,
             use_cache: bool, out: Any, err: Any, started: float) -> int:
    roots = list(paths or settings.content_paths())
    collected = collect(roots, settings)
    print(*collected.errors, sep="\n", file=err, end="\n" if collected.errors else "")
    if collected.errors:
        return 2
    cases = _select(collected, pattern, shard, err)
    if cases is None:
        return 5
    if list_only:
        print(*(f"{s.id}\t{s.info}\n" for case in cases for s in case.snippets), sep="",
              end="", file=out)
        return 0
    cache_ = Cache(default_cache_dir() if use_cache else None)
    runs = run(cases, runner, cache_, settings)
    if update:
        runs, changed = _update(runs, cache_, settings, out)
        if changed:
            collected = collect(roots, settings)
    return _report([x for r in runs for x in r.results], json_path, settings,
                   collected.cases, out, started)
