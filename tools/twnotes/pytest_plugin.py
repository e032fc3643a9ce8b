"""pytest plugin: the pages' Python snippets as test items (`content/notes/x.md::L42`).

Registered through the `pytest11` entry point, so a plain `pytest` from the repository root
collects them next to the unit tests, and xdist, `-k` and `--junitxml` work as for any test.
Only Markdown files under the `twnotes_snippet_paths` ini setting (default `content`) are
collected, so Markdown fixtures elsewhere in the tree are left alone. Runs go through the same
isolated runner as `twnotes snippets`, without the cache: under pytest a test always runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from twnotes import pages
from twnotes.runner import Runner
from twnotes.snippets import Case, Result, chain, collect, extract, judge, parse_shard, select

RUNNER_KEY = pytest.StashKey[Runner]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("twnotes_snippet_paths", type="paths", default=[],
                  help="folders whose Markdown snippets are collected (default: content)")
    parser.addoption("--snippets-shard", metavar="I/N", default=None,
                     help="run only shard I of N of the snippets, the same ones as "
                          "`twnotes snippets --shard I/N` (CI splits them over a matrix)")


def _roots(config: pytest.Config) -> list[Path]:
    configured: list[Path] = config.getini("twnotes_snippet_paths")
    return [p.resolve() for p in configured] or [config.rootpath / "content"]


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix not in pages.CONTENT_SUFFIXES:
        return None
    resolved = file_path.resolve()
    if not any(resolved.is_relative_to(root) for root in _roots(parent.config)):
        return None
    file: SnippetFile = SnippetFile.from_parent(parent, path=file_path)
    return file


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """--snippets-shard: keep the shard's snippets, chosen by the command's own selection.

    The partition is computed over the command's case order (not pytest's collection order,
    which differs between files and folders), so the JUnit XML of shard I reports exactly the
    snippets that `twnotes snippets --shard I/N` put in that shard's results JSON.
    """
    text = config.getoption("--snippets-shard")
    if text is None:
        return
    try:
        shard = parse_shard(text)
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    chosen = {case.id for case in select(collect(_roots(config)).cases, shard=shard)}
    keep = [i for i in items if not isinstance(i, SnippetItem) or i.case.id in chosen]
    dropped = [i for i in items if isinstance(i, SnippetItem) and i.case.id not in chosen]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


def _runner(config: pytest.Config) -> Runner:
    runner = config.stash.get(RUNNER_KEY, None)
    if runner is None:
        runner = config.stash[RUNNER_KEY] = Runner(workers=1)
    return runner


def pytest_unconfigure(config: pytest.Config) -> None:
    runner = config.stash.get(RUNNER_KEY, None)
    if runner is not None:
        runner.close()


class SnippetFile(pytest.File):
    def collect(self) -> list[pytest.Item]:
        try:
            cases = chain(extract(pages.read_page(self.path)))
        except pages.PageError as exc:
            raise self.CollectError(str(exc)) from None
        return [SnippetItem.from_parent(self, name=f"L{case.first.line}", case=case)
                for case in cases]


class SnippetFailure(Exception):
    def __init__(self, result: Result) -> None:
        super().__init__(result.message)
        self.result = result


class SnippetItem(pytest.Item):
    def __init__(self, *, case: Case, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case
        if case.skip:
            self.add_marker(pytest.mark.skip(reason='test="skip" on the fence'))

    def runtest(self) -> None:
        outcome = _runner(self.config).run(self.case.program())
        for result in judge(self.case, outcome):
            if result.status == "failed":
                raise SnippetFailure(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str:
        if isinstance(excinfo.value, SnippetFailure):
            result = excinfo.value.result
            text = f"{result.file}:{result.where or result.line}: {result.message}"
            return f"{text}\n{result.detail}" if result.detail else text
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.case.first.line - 1, self.case.id
