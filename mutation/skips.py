"""Which cosmic-ray mutants of a session do not run (marked skipped before `exec`).

- keep_a_sample: all but every `sample`-th (mutation/modules.toml), the same ones every run;
- annotations: inside a type annotation, never evaluated (`from __future__ import
  annotations`);
- invalid: not Python at all (a SyntaxError "killed" on import says nothing of the tests);
- equivalents: listed in mutation/equivalent.toml, each with the reason no behaviour can
  tell it from the original.

Skipped mutants are out of the denominator; `mutation.run` prints how many of each kind.
"""

from __future__ import annotations

import ast
import functools
import tomllib
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = Path("tools") / "twnotes"


def keep_a_sample(session: Path, stride: int, whole: frozenset[str] = frozenset()) -> None:
    """Mark all but every `stride`-th pending mutant skipped (the same ones every run); the
    mutants of the files in `whole` (paths from the repo root) are all kept."""
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkerOutcome, WorkResult

    with use_db(str(session), WorkDB.Mode.open) as db:
        items = sorted(db.pending_work_items, key=lambda item: item.job_id)
        # job ids are random; order by place in the source instead, then take the stride.
        items.sort(key=lambda item: (str(item.mutations[0].module_path),
                                     tuple(item.mutations[0].start_pos),
                                     item.mutations[0].operator_name,
                                     item.mutations[0].occurrence))
        for index, item in enumerate(items):
            if index % stride and str(item.mutations[0].module_path) not in whole:
                db.set_result(item.job_id, WorkResult(worker_outcome=WorkerOutcome.SKIPPED,
                                                       output="not in the sample"))


def _annotation_spans(path: Path) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """(start, end) of every type annotation: with `from __future__ import annotations`
    they are never evaluated, so a mutant inside one (`str | None` -> `str - None`) is
    equivalent to the original and no test could kill it."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    spans = []
    for node in ast.walk(tree):
        found: list[ast.expr | None] = []
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found.append(node.returns)
        elif isinstance(node, ast.arg | ast.AnnAssign):
            found.append(node.annotation)
        for ann in filter(None, found):
            spans.append(((ann.lineno, ann.col_offset),
                          (ann.end_lineno or ann.lineno, ann.end_col_offset or 0)))
    return spans


def annotations(session: Path, tree: Path) -> None:
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkerOutcome, WorkResult

    spans: dict[Path, list[tuple[tuple[int, int], tuple[int, int]]]] = {}
    with use_db(str(session), WorkDB.Mode.open) as db:
        for item in list(db.pending_work_items):
            mutation = item.mutations[0]
            path = tree / mutation.module_path
            if path not in spans:
                spans[path] = _annotation_spans(path)
            at = tuple(mutation.start_pos)
            if any(start <= at < end for start, end in spans[path]):
                db.set_result(item.job_id, WorkResult(worker_outcome=WorkerOutcome.SKIPPED,
                                                       output="in a type annotation"))


@functools.cache
def _source(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _compiles(tree: Path, mutation: Any) -> bool:
    import cosmic_ray.plugins
    from cosmic_ray.mutating import mutate_code

    path = tree / mutation.module_path
    operator = cosmic_ray.plugins.get_operator(mutation.operator_name)(**mutation.operator_args)
    mutated = mutate_code(_source(path), operator, mutation.occurrence)
    try:
        with warnings.catch_warnings():  # `x is "lit"` warns; it still compiles
            warnings.simplefilter("ignore", SyntaxWarning)
            compile(mutated or "", str(path), "exec", dont_inherit=True)
    except SyntaxError:
        return False
    return True


def invalid(session: Path, tree: Path) -> int:
    """Mark skipped the mutants that are not Python at all: cosmic-ray reads the bare `*`
    of keyword-only parameters as a product (`*, go` -> `-, go`), a SyntaxError that every
    test "kills" on import. Those say nothing of the tests; they leave the denominator."""
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkerOutcome, WorkResult

    skipped = 0
    with use_db(str(session), WorkDB.Mode.open) as db:
        for item in list(db.pending_work_items):
            if not _compiles(tree, item.mutations[0]):
                skipped += 1
                db.set_result(item.job_id, WorkResult(worker_outcome=WorkerOutcome.SKIPPED,
                                                       output="not valid Python"))
    return skipped


def load_equivalents() -> list[dict[str, str]]:
    table = tomllib.loads((ROOT / "mutation" / "equivalent.toml").read_text(encoding="utf-8"))
    return list(table.get("mutant", []))


def _mutated_line(source: str, mutation: Any) -> str:
    """The line of the mutant where the mutation starts, as cosmic-ray writes it."""
    import cosmic_ray.plugins
    from cosmic_ray.mutating import mutate_code

    operator = cosmic_ray.plugins.get_operator(mutation.operator_name)(**mutation.operator_args)
    mutated = mutate_code(source, operator, mutation.occurrence) or ""
    lines = mutated.splitlines()
    index = mutation.start_pos[0] - 1
    return lines[index] if index < len(lines) else ""


def _is(entry: dict[str, str], mutation: Any, line: str, source: str) -> bool:
    """The entry names this mutant: file, operator and line, and (if given) the line the
    mutant has instead (`new`), for a line with several mutants of one operator."""
    return (str(mutation.module_path) == str(PACKAGE / entry["file"])
            and mutation.operator_name.rsplit("/", 1)[-1] == entry["operator"]
            and line.strip() == entry["line"]
            and ("new" not in entry
                 or _mutated_line(source, mutation).split() == entry["new"].split()))


def equivalents(session: Path, tree: Path, module_path: str) -> int:
    """Mark the mutants of mutation/equivalent.toml skipped: no behaviour of the code can
    tell them from the original, so they are out of the denominator. An entry of this
    module's files that matches no mutant at all is stale (the code moved): the run stops."""
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkerOutcome, WorkResult

    entries = [e for e in load_equivalents()
               if str(PACKAGE / e["file"]).startswith(module_path)]
    matched: set[int] = set()
    skipped = 0
    sources: dict[Path, str] = {}
    with use_db(str(session), WorkDB.Mode.open) as db:
        pending = {item.job_id for item in db.pending_work_items}
        for item in list(db.work_items):
            mutation = item.mutations[0]
            path = tree / mutation.module_path
            if path not in sources:
                sources[path] = path.read_text(encoding="utf-8")
            line = sources[path].splitlines()[mutation.start_pos[0] - 1]
            for index, entry in enumerate(entries):
                if not _is(entry, mutation, line, sources[path]):
                    continue
                matched.add(index)
                if item.job_id in pending:
                    skipped += 1
                    db.set_result(item.job_id, WorkResult(
                        worker_outcome=WorkerOutcome.SKIPPED,
                        output=f"equivalent: {entry['reason']}"))
    stale = [e for i, e in enumerate(entries) if i not in matched]
    if stale:
        raise SystemExit(f"mutation/equivalent.toml: no mutant matches {stale[0]}")
    return skipped


def reopen_survivors(session: Path, tree: Path) -> int:
    """Drop the results of the survivors, and of the mutants that ran but do not compile
    (sessions from before `invalid`), so that `exec` runs them again; the count reopened."""
    from cosmic_ray.work_db import WorkDB, WorkResultStorage, use_db
    from cosmic_ray.work_item import TestOutcome, WorkerOutcome

    with use_db(str(session), WorkDB.Mode.open) as db:
        reopen = [item.job_id for item, result in db.completed_work_items
                  if result.worker_outcome != WorkerOutcome.SKIPPED
                  and (result.test_outcome == TestOutcome.SURVIVED
                       or not _compiles(tree, item.mutations[0]))]
        with db._session_maker.begin() as rows:
            rows.query(WorkResultStorage).filter(
                WorkResultStorage.job_id.in_(reopen)).delete()
    return len(reopen)
