"""`--update`: expected output blocks rewritten from what the snippets printed."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from twnotes import pages, util
from twnotes.snippets import config
from twnotes.snippets import normalise as normalise_
from twnotes.snippets.cache import Cache
from twnotes.snippets.cases import Case, chain, versions
from twnotes.snippets.config import Settings
from twnotes.snippets.extract import Snippet, display_path, extract
from twnotes.snippets.running import Ran
from twnotes.snippets.verdicts import Result, judge


def _fence_body(text: str, indent: str, newline: str) -> list[str]:
    if not text:
        return []
    return [(indent + line if line else "") + newline for line in text.split("\n")]


def new_expectation(snippet: Snippet, result: Result, settings: Settings) -> str | None:
    """What --update writes into the snippet's output block, or None to leave it.

    The run's output after the site's normalisers; where `...` wildcards are on, every line
    the author wrote that still matches (wildcards included) is kept as written.
    """
    actual = normalise_.apply(settings.normalisers, result.stdout)
    expected = normalise_.clean(snippet.expected or "")
    if normalise_.apply(settings.normalisers, expected) == actual:
        return None
    wildcards = settings.ellipsis if snippet.options.ellipsis is None else \
        snippet.options.ellipsis
    if wildcards:
        if normalise_.matches(normalise_.apply(settings.normalisers, expected), actual, True):
            return None
        return normalise_.keep_wildcards(expected, actual)
    return actual


def _usable(snippet: Snippet, result: Result | None) -> bool:
    """Whether the result may become the snippet's expectation: it has an output block and
    ran to a clean end (a crash's output is not an expectation)."""
    return not (snippet.output is None or result is None or result.status == "skipped"
                or (result.status == "failed" and not result.output_mismatch_only))


def _rewrite_page(path: Path, items: Sequence[tuple[Snippet, str]]) -> None:
    """Write each new expectation into its fence, from the bottom of the page up."""
    lines = pages.read_page(path).lines
    for snippet, text in sorted(items, key=lambda item: -item[0].line):
        fence = snippet.output
        assert fence is not None
        if fence.close_index is None:
            continue  # an unclosed fence runs to the end of the page: leave it alone
        newline = "\r\n" if lines[fence.open_index].endswith("\r\n") else "\n"
        lines[fence.open_index + 1: fence.close_index] = _fence_body(
            text, fence.indent, newline)
    util.atomic_write(path, "".join(lines).encode("utf-8"))


def update_outputs(cases: Sequence[Case], results: Sequence[Result],
                   settings: Settings = config.DEFAULTS) -> list[Path]:
    """Rewrite each existing output fence from what its snippet printed; pages changed.

    Only snippets that ran to a clean end are used. No fence is added where there is none:
    the author decides where output is shown. Edits go from the bottom of each page up,
    so earlier line indexes stay valid.
    """
    by_id = {(r.file, r.line): r for r in results}
    edits: dict[Path, list[tuple[Snippet, str]]] = {}
    for snippet in (s for case in cases for s in case.snippets):
        result = by_id.get((snippet.file, snippet.line))
        if result is not None and _usable(snippet, result):
            text = new_expectation(snippet, result, settings)
            if text is not None:
                edits.setdefault(snippet.path, []).append((snippet, text))
    for path, items in edits.items():
        _rewrite_page(path, items)
    return list(edits)


def rejudge_updated(runs: Sequence[Ran], changed: Sequence[Path], cache_: Cache,
                    settings: Settings) -> list[Ran]:
    """After --update: the cases of the rewritten pages as they now read (their lines moved),
    judged against the same outcomes, and stored in the cache when they pass, so the next
    run reruns nothing that --update just recorded."""
    ver = versions()
    fresh: dict[str, list[Case]] = {}
    for path in changed:
        page_cases = chain(extract(pages.read_page(path), settings))
        fresh[display_path(path)] = page_cases
    position: dict[str, int] = {}
    out = []
    for ran in runs:
        file = ran.case.first.file
        if file not in fresh or ran.outcome is None:
            out.append(ran)
            continue
        index = position[file] = position.get(file, -1) + 1
        new_case = fresh[file][index]
        results = judge(new_case, ran.outcome, cached=ran.results[0].cached, settings=settings)
        if all(r.status == "passed" for r in results):
            cache_.put(new_case.cache_key(ver, settings), ran.outcome)
        out.append(Ran(new_case, results, ran.outcome))
    return out
