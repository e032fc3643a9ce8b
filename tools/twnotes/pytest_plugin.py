"""pytest plugin: the pages' Python snippets as test items (`content/notes/x.md::L42`).

Registered through the `pytest11` entry point, so a plain `pytest` from the repository root
collects them next to the unit tests, and xdist, `-k` and `--junitxml` work as for any test.
Only Markdown files under the `twnotes_snippet_paths` ini setting (default `content`) are
collected, so Markdown fixtures elsewhere in the tree are left alone (without that setting:
the `content` folders of `[tool.twnotes]`). Runs go through the same isolated runner as
`twnotes snippets`, without the cache: under pytest a test always runs.

One item per block, as the command counts them: the blocks of a `continues` chain are one
program, run once (by whichever of its items runs first in this process) and judged per block.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from twnotes import pages
from twnotes.runner import Outcome, Runner
from twnotes.snippets import Case, chain, collect, config, extract, parse_shard, select
from twnotes.snippets.verdicts import Result, failure_text, judge

RUNNER_KEY = pytest.StashKey[Runner]()
SETTINGS_KEY = pytest.StashKey[config.Settings]()
OUTCOMES_KEY = pytest.StashKey[dict[str, Outcome]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("twnotes_snippet_paths", type="paths", default=[],
                  help="folders whose Markdown snippets are collected (default: content)")
    parser.addoption("--snippets-shard", metavar="I/N", default=None,
                     help="run only shard I of N of the snippets, the same ones as "
                          "`twnotes snippets --shard I/N` (CI splits them over a matrix)")


def _settings(pytest_config: pytest.Config) -> config.Settings:
    settings = pytest_config.stash.get(SETTINGS_KEY, None)
    if settings is None:
        try:
            settings = config.load(pytest_config.rootpath)
        except config.ConfigError as exc:
            raise pytest.UsageError(str(exc)) from None
        pytest_config.stash[SETTINGS_KEY] = settings
    return settings


def _roots(pytest_config: pytest.Config) -> list[Path]:
    configured: list[Path] = pytest_config.getini("twnotes_snippet_paths")
    return [p.resolve() for p in configured] or [
        p.resolve() for p in _settings(pytest_config).content_paths()]


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix not in pages.CONTENT_SUFFIXES:
        return None
    resolved = file_path.resolve()
    if not any(resolved.is_relative_to(root) for root in _roots(parent.config)):
        return None
    file: SnippetFile = SnippetFile.from_parent(parent, path=file_path)
    return file


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The servers preload what all the collected snippets import; then --snippets-shard."""
    cases = {i.case.id: i.case for i in items if isinstance(i, SnippetItem)}
    if cases:
        _runner(config).plan([case.program() for case in cases.values()])
    _shard(config, items)


def _shard(config: pytest.Config, items: list[pytest.Item]) -> None:
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
    chosen = {case.id for case in select(collect(_roots(config), _settings(config)).cases,
                                         shard=shard)}
    keep = [i for i in items if not isinstance(i, SnippetItem) or i.case.id in chosen]
    dropped = [i for i in items if isinstance(i, SnippetItem) and i.case.id not in chosen]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


def _runner(config: pytest.Config) -> Runner:
    runner = config.stash.get(RUNNER_KEY, None)
    if runner is None:
        runner = config.stash[RUNNER_KEY] = Runner(
            workers=1, extra_preload=_settings(config).preload)
    return runner


def pytest_unconfigure(config: pytest.Config) -> None:
    runner = config.stash.get(RUNNER_KEY, None)
    if runner is not None:
        runner.close()


class SnippetFile(pytest.File):
    def collect(self) -> list[pytest.Item]:
        try:
            cases = chain(extract(pages.read_page(self.path), _settings(self.config)))
        except pages.PageError as exc:
            raise self.CollectError(str(exc)) from None
        return [SnippetItem.from_parent(self, name=f"L{snippet.line}", case=case, index=n)
                for case in cases for n, snippet in enumerate(case.snippets)]


class SnippetFailure(Exception):
    def __init__(self, result: Result) -> None:
        super().__init__(result.message)
        self.result = result


class SnippetItem(pytest.Item):
    def __init__(self, *, case: Case, index: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case
        self.index = index
        if case.skip:
            self.add_marker(pytest.mark.skip(reason='test="skip" on the fence'))

    def _outcome(self) -> Outcome:
        """The chain's one run in this process (its first item to run starts it)."""
        outcomes = self.config.stash.setdefault(OUTCOMES_KEY, {})
        if self.case.id not in outcomes:
            outcomes[self.case.id] = _runner(self.config).run(self.case.program())
        return outcomes[self.case.id]

    def runtest(self) -> None:
        results = judge(self.case, self._outcome(), settings=_settings(self.config))
        result = results[self.index]
        if result.status == "skipped":
            pytest.skip(result.message)
        if result.status == "failed":
            raise SnippetFailure(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str:
        if isinstance(excinfo.value, SnippetFailure):
            return failure_text(excinfo.value.result)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        snippet = self.case.snippets[self.index]
        return self.path, snippet.line - 1, snippet.id
