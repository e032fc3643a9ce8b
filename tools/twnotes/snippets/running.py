"""Cases -> Results: each case run (or taken from the cache) and judged."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from twnotes.runner import Outcome, Runner
from twnotes.snippets import config
from twnotes.snippets.cache import Cache
from twnotes.snippets.cases import Case, versions
from twnotes.snippets.config import Settings
from twnotes.snippets.verdicts import Result, judge, skipped


@dataclasses.dataclass(frozen=True)
class Ran:
    """One case after a run: its results, and the outcome they were judged from."""

    case: Case
    results: list[Result]
    outcome: Outcome | None  # None when skipped


def run(cases: Sequence[Case], runner: Runner, cache_: Cache,
        settings: Settings = config.DEFAULTS) -> list[Ran]:
    """Every case, in order; a case whose passing run is cached is not run again.

    Without a cache (--no-cache) no case is keyed: hashing every case would only delay the
    first program."""
    ver = versions() if cache_.enabled else None
    done: dict[int, Ran] = {}
    to_run: list[tuple[int, Case, str | None]] = []
    for n, case in enumerate(cases):
        if case.skip:
            done[n] = Ran(case, skipped(case), None)
            continue
        key = None if ver is None else case.cache_key(ver, settings)
        hit = None if key is None else cache_.get(key)
        if hit is not None:
            done[n] = Ran(case, judge(case, hit, cached=True, settings=settings), hit)
        else:
            to_run.append((n, case, key))
    outcomes = runner.run_all([case.program() for _, case, _ in to_run]) if to_run else []
    for (n, case, key), outcome in zip(to_run, outcomes, strict=True):
        results = judge(case, outcome, settings=settings)
        done[n] = Ran(case, results, outcome)
        if key is not None and all(r.status == "passed" for r in results):
            cache_.put(key, outcome)
    return [done[n] for n in range(len(cases))]


def run_cases(cases: Sequence[Case], runner: Runner, cache_: Cache,
              settings: Settings = config.DEFAULTS) -> list[Result]:
    """Results for every snippet of the cases, in their order; cached passes are not rerun."""
    return [r for ran in run(cases, runner, cache_, settings) for r in ran.results]
