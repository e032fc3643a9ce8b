"""`make mutation`: mutation testing of twnotes with cosmic-ray, on a copy of the tree.

cosmic-ray changes the source files in place, one mutant at a time, and the tests start
`python -m twnotes` in subprocesses too; so the mutants are made in a copy of the tracked
files (.cache/mutation/tree), imported from there through PYTHONPATH (ahead of the editable
install), and the working tree, other checkouts sharing the venv and a running `make test`
never see a mutant.

Two parts, one module at a time (the machine is shared):
- named: the mutants listed in mutation/named.toml (survivors of an earlier run) must
  each make their tests fail;
- cosmic-ray: every operator mutant of each module of mutation/modules.toml (or one in
  `sample`, a fixed stride), judged by that module's test files only. Left out of the
  denominator (mutation/skips.py): mutants in annotations, mutants that do not compile,
  and the equivalent ones of mutation/equivalent.toml (each with its reason).

    python -m mutation.run [--named-only | --no-named] [--survivors] [--whole FILE ...]
                           [MODULE ...]

prints killed/ran per module (each survivor as file:line operator: old -> new) and overall,
and exits 1 if a named mutant survives. `--survivors` re-judges only the last session's
survivors after tests were added (a kill stays a kill while the tests only grow).
`--whole FILE` (a file of a module, from tools/twnotes/, repeatable) runs every mutant of
that file, the rest of its module at the module's stride (new code, e.g. after a merge).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mutation import skips

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".cache" / "mutation"
TREE = WORK / "tree"
PACKAGE = Path("tools") / "twnotes"
BIN = Path(sys.executable).parent
# Seconds one mutant's tests may take before cosmic-ray counts it as killed (a hang): a
# multiple of what the unmutated tests took just before (the machine's load included), and
# at least TIMEOUT. A hang used to cost 120 s each.
TIMEOUT = 60.0
TIMEOUT_FACTOR = 3
# -x: the first failure kills the mutant; the tests marked slow (large inputs, property
# searches) would cost every mutant seconds for what the fast ones already see.
PYTEST = ["-x", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", "-m", "not slow"]


@dataclasses.dataclass(frozen=True)
class Module:
    name: str
    path: str
    tests: tuple[str, ...]
    sample: int


def load_modules() -> dict[str, Module]:
    table = tomllib.loads((ROOT / "mutation" / "modules.toml").read_text(encoding="utf-8"))
    return {name: Module(name, spec["path"], tuple(spec["tests"]), int(spec.get("sample", 1)))
            for name, spec in table["modules"].items()}


def copy_tree() -> None:
    """The tracked files as they are in the working tree (uncommitted edits included)."""
    if TREE.exists():
        shutil.rmtree(TREE)
    TREE.mkdir(parents=True)
    listed = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z"], capture_output=True,
                            check=True).stdout.decode().split("\0")
    for rel in filter(None, listed):
        source = ROOT / rel
        if source.is_file():
            (TREE / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, TREE / rel)


def environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(TREE / "tools")
    env["TWNOTES_CACHE_DIR"] = str(WORK / "snippet-cache")
    env.pop("TWNOTES_BUILT_SITE", None)
    return env


def pytest_command(tests: tuple[str, ...]) -> list[str]:
    return [str(BIN / "python"), "-m", "pytest", *PYTEST, *tests]


# ----------------------------------------------------------------------------- named mutants


def locate(file: str, old: str) -> Path:
    """The one file of the package holding `old`: `file` first, else anywhere (after a split
    moved the code, e.g. snippets.py into snippets/)."""
    first = TREE / PACKAGE / file
    if first.is_file() and first.read_text(encoding="utf-8").count(old) == 1:
        return first
    found = [p for p in sorted((TREE / PACKAGE).rglob("*.py"))
             if p.read_text(encoding="utf-8").count(old) == 1]
    if len(found) != 1:
        raise SystemExit(f"mutation/named.toml: {old!r} is in {len(found)} files of "
                         f"{PACKAGE} (want exactly one): update the entry")
    return found[0]


def baseline(tests: tuple[str, ...]) -> float:
    """The tests pass on the unmutated copy (and there are tests: pytest exits 5 when it
    collects none, which a mutation run would count as a kill), or no kill means anything.
    Returns the seconds they took."""
    command = shlex.split(shlex.join(pytest_command(tests)))  # as cosmic-ray will run it
    started = time.monotonic()
    proc = subprocess.run(command, cwd=TREE, env=environment(),
                          capture_output=True, text=True, timeout=600, check=False)
    if proc.returncode != 0 or " passed" not in proc.stdout:
        raise SystemExit(f"the tests fail without any mutant:\n{proc.stdout[-3000:]}")
    return time.monotonic() - started


def run_named() -> bool:
    mutants = tomllib.loads((ROOT / "mutation" / "named.toml").read_text(encoding="utf-8"))
    baseline(tuple(sorted({test for mutant in mutants["mutant"] for test in mutant["tests"]})))
    survived = []
    for mutant in mutants["mutant"]:
        path = locate(mutant["file"], mutant["old"])
        original = path.read_text(encoding="utf-8")
        path.write_text(original.replace(mutant["old"], mutant["new"]), encoding="utf-8")
        try:
            proc = subprocess.run(pytest_command(tuple(mutant["tests"])), cwd=TREE,
                                  env=environment(), capture_output=True, text=True,
                                  timeout=TIMEOUT, check=False)
            killed = proc.returncode != 0
        except subprocess.TimeoutExpired:
            killed = True
        finally:
            path.write_text(original, encoding="utf-8")
        print(f"  {'killed  ' if killed else 'SURVIVED'} {mutant['what']} "
              f"({path.relative_to(TREE / PACKAGE)})", flush=True)
        if not killed:
            survived.append(mutant["what"])
    print(f"named: {len(mutants['mutant']) - len(survived)}/{len(mutants['mutant'])} killed")
    return not survived


# ------------------------------------------------------------------------------- cosmic-ray


def config_for(module: Module, timeout: float) -> Path:
    config = WORK / f"{module.name}.toml"
    # cosmic-ray splits the command as a shell would: quoted, `-m "not slow"` stays one
    # argument (unquoted, pytest collected nothing, and "no tests ran" counted as a kill).
    command = shlex.join(pytest_command(module.tests))
    config.write_text(
        "[cosmic-ray]\n"
        f"module-path = {json.dumps(module.path)}\n"  # a JSON string is a TOML basic string
        f"timeout = {timeout:.0f}.0\n"
        "excluded-modules = []\n"
        f"test-command = {json.dumps(command)}\n\n"
        '[cosmic-ray.distributor]\nname = "local"\n', encoding="utf-8")
    return config


def _changed(diff: str | None) -> str:
    """The mutated line of a cosmic-ray diff: `old -> new`, stripped."""
    lines = (diff or "").splitlines()
    old = [x[1:].strip() for x in lines if x.startswith("-") and not x.startswith("---")]
    new = [x[1:].strip() for x in lines if x.startswith("+") and not x.startswith("+++")]
    return f"{' / '.join(old) or '?'} -> {' / '.join(new) or '?'}"


@dataclasses.dataclass(frozen=True)
class Tally:
    """What the mutants that ran came to: counts, and one line per survivor."""

    killed: int
    other: int  # incompetent: neither killed nor survived (cosmic-ray could not judge)
    survivors: tuple[str, ...]  # file:line operator: old -> new, in source order

    @property
    def survived(self) -> int:
        return len(self.survivors)

    @property
    def ran(self) -> int:
        return self.killed + self.survived + self.other


def _ran(session: Path) -> Iterator[tuple[Any, Any]]:
    """(work item, result) of every mutant that ran (the skipped ones left out)."""
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkerOutcome

    with use_db(str(session), WorkDB.Mode.open) as db:
        for item, result in db.completed_work_items:
            if result.worker_outcome != WorkerOutcome.SKIPPED:
                yield item, result


def tally(session: Path) -> Tally:
    """Counts and survivors of a session, in one pass over the mutants that ran."""
    from cosmic_ray.work_item import TestOutcome

    killed = other = 0
    rows = []
    for item, result in _ran(session):
        if result.test_outcome == TestOutcome.KILLED:
            killed += 1
        elif result.test_outcome == TestOutcome.SURVIVED:
            mutation = item.mutations[0]
            rows.append((str(mutation.module_path), mutation.start_pos[0],
                         f"{mutation.operator_name.rsplit('/', 1)[-1]}: {_changed(result.diff)}"))
        else:
            other += 1
    return Tally(killed, other,
                 tuple(f"  {path}:{line} {what}" for path, line, what in sorted(rows)))


def run_cosmic_ray(module: Module, again: bool = False,
                   whole: frozenset[str] = frozenset()) -> Tally:
    """All the module's mutants, a fresh session; `again`: only the survivors of the last
    session (and the mutants that do not compile) judged again, the others kept as they
    were: valid while the judging tests have only grown since that session."""
    timeout = max(TIMEOUT, TIMEOUT_FACTOR * baseline(module.tests))
    print(f"{module.name}: a mutant's tests time out after {timeout:.0f} s", flush=True)
    config = config_for(module, timeout)
    session = WORK / f"{module.name}.sqlite"
    cosmic = str(BIN / "cosmic-ray")
    if again and session.exists():
        print(f"{module.name}: {skips.reopen_survivors(session, TREE)} survivors judged again",
              flush=True)
    else:
        session.unlink(missing_ok=True)
        subprocess.run([cosmic, "init", str(config), str(session)], cwd=TREE,
                       env=environment(), check=True)
        skips.annotations(session, TREE)
        if module.sample > 1:
            skips.keep_a_sample(session, module.sample, whole)
    invalid = skips.invalid(session, TREE)
    equivalent = skips.equivalents(session, TREE, module.path)
    if invalid:
        print(f"{module.name}: {invalid} mutants that do not compile left out", flush=True)
    if equivalent:
        print(f"{module.name}: {equivalent} equivalent mutants left out "
              "(mutation/equivalent.toml)", flush=True)
    subprocess.run([cosmic, "exec", str(config), str(session)], cwd=TREE, env=environment(),
                   check=True)
    return tally(session)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mutation.run")
    parser.add_argument("--named-only", action="store_true")
    parser.add_argument("--no-named", action="store_true",
                        help="leave the named mutants out (re-running one module)")
    parser.add_argument("--survivors", action="store_true",
                        help="judge again only the last run's survivors (tests added since)")
    parser.add_argument("--whole", action="append", default=[], metavar="FILE",
                        help="every mutant of this file (from tools/twnotes/), not a sample")
    parser.add_argument("modules", nargs="*")
    args = parser.parse_args(argv)
    modules = load_modules()
    whole = frozenset(str(PACKAGE / name) for name in args.whole)
    missing = sorted(name for name in whole if not (ROOT / name).is_file())
    if missing:
        parser.error(f"--whole: no file {missing[0]}")
    unknown = [m for m in args.modules if m not in modules]
    if unknown:
        parser.error(f"unknown module {unknown[0]!r} (mutation/modules.toml has "
                     f"{', '.join(modules)})")
    WORK.mkdir(parents=True, exist_ok=True)
    copy_tree()
    ok = True
    if not args.no_named:
        print("named mutants (mutation/named.toml):", flush=True)
        ok = run_named()
    if args.named_only:
        return 0 if ok else 1
    rows = []
    total = Tally(0, 0, ())
    for name in args.modules or list(modules):
        module = modules[name]
        started = time.monotonic()
        result = run_cosmic_ray(module, again=args.survivors, whole=whole)
        share = result.killed / result.ran if result.ran else 0.0
        rows.append(f"{name:10} {result.killed:5}/{result.ran:<5} killed ({share:6.1%}), "
                    f"{result.survived} survived, {result.other} incompetent; "
                    f"sample 1/{module.sample}{' (--whole files: all)' if whole else ''}; "
                    f"{time.monotonic() - started:.0f} s")
        print(rows[-1], flush=True)
        print("\n".join(result.survivors), flush=True)
        total = Tally(total.killed + result.killed, total.other + result.other,
                      total.survivors + result.survivors)
    share = total.killed / total.ran if total.ran else 0.0
    rows.append(f"{'overall':10} {total.killed:5}/{total.ran:<5} killed ({share:6.1%})")
    print("\n".join(["", "module     killed/ran", *rows]))
    print(f"survivors: {BIN / 'cr-report'} --show-output {WORK}/MODULE.sqlite")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
