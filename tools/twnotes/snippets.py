"""Pages -> Snippets -> Results: every fenced Python block of the notes runs as a test.

A *snippet* is one fenced block (```` ```python ````, also `py`, `python3`), found with
markdown-it-py's tokens; its fence attributes use Hugo's own syntax (```` ```python
{stop_after=1} ````) so Hugo renders the page unchanged. An ```` ```output ```` fence right after
it is its expected stdout. A *case* is what runs as one program: a snippet, or a chain of
snippets joined with `continues=true`. `runner` runs each case in isolation; this module knows
Markdown and turns outcomes into one *result* per snippet.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import platform
import re
from collections.abc import Iterable, Sequence
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from twnotes import config, pages, util
from twnotes import normalise as normalise_
from twnotes.attributes import AttributeSyntaxError, read_info
from twnotes.attributes import parse_info as parse_info  # re-exported
from twnotes.config import Settings
from twnotes.pages import Page, PageError
from twnotes.runner import Outcome, Program, Runner, Segment
from twnotes.verdicts import Result as Result  # re-exported: callers judge through here too
from twnotes.verdicts import failure_text, skipped, summary
from twnotes.verdicts import judge as judge
from twnotes.verdicts import normalise as normalise

PYTHON_LANGUAGES = frozenset({"python", "py", "python3"})
OUTPUT_LANGUAGE = "output"
DEFAULT_TIMEOUT = config.DEFAULT_TIMEOUT
OUR_KEYS = frozenset({"test", "timeout", "stop_after", "raises", "continues", "allow",
                      "ellipsis", "setup"})
ALLOW = ("errors", "deprecations")  # allow="errors": logged error/critical events pass
SETUP_KINDS = ("hidden", "collapsed")
SETUP_KEYS = frozenset({"setup", "timeout", "allow"})  # what a setup block may carry
# Keys Hugo itself understands on a code fence: passed to the highlighter (.Options) or
# rendered as the block's class and id. Case-insensitive, as in Hugo.
HUGO_KEYS = frozenset(k.lower() for k in (
    "anchorLineNos", "guessSyntax", "hl_Lines", "hl_inline", "lineAnchors", "lineNos",
    "lineNoStart", "lineNumbersInTable", "noClasses", "nohl", "style", "tabWidth",
    "class", "id",
))
CACHE_VERSION = 2


# ---------------------------------------------------------------------------- fence attributes


@dataclasses.dataclass(frozen=True)
class Options:
    """The fence attributes that steer a run (see README, 代码片段测试)."""

    skip: bool = False
    timeout: float = DEFAULT_TIMEOUT
    stop_after: float | None = None
    raises: str | None = None
    continues: bool = False
    allow: tuple[str, ...] = ()  # of ALLOW: what Twisted reports that does not fail it
    ellipsis: bool | None = None  # `...` in the expected output; None: the site's setting
    setup: str | None = None  # "hidden" or "collapsed": runs before the next block, no verdict


def _number(key: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ValueError(f"{key} must be a positive number of seconds, not {value!r}")
    return float(value)


def _allow(value: object) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if (not isinstance(items, list) or not items
            or not all(isinstance(v, str) and v in ALLOW for v in items)):
        raise ValueError(f'allow must be "errors", "deprecations" or a list of them, '
                         f"not {value!r}")
    return tuple(sorted(set(items)))


def _flag(key: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{key} must be true or false, not {value!r}")
    return value


def options_from(attrs: dict[str, object], settings: Settings = config.DEFAULTS) -> Options:
    """Validate our keys; ValueError names the first problem. Hugo's own keys, and the keys
    the site's render hooks read (`fence_keys`), pass through without affecting a run."""
    passthrough = {k.lower() for k in settings.fence_keys} | HUGO_KEYS
    unknown = sorted(k for k in attrs if k not in OUR_KEYS and k.lower() not in passthrough)
    if unknown:
        raise ValueError(f"unknown fence attribute {unknown[0]!r} "
                         f"(known: {', '.join(sorted(OUR_KEYS))}, and Hugo's highlighting keys"
                         f"{' and fence_keys of [tool.twnotes]' if settings.fence_keys else ''})")
    test = attrs.get("test")
    if test is not None and test != "skip":
        raise ValueError(f'test must be "skip", not {test!r}')
    timeout = _number("timeout", attrs["timeout"]) if "timeout" in attrs else settings.timeout
    stop_after = _number("stop_after", attrs["stop_after"]) if "stop_after" in attrs else None
    if stop_after is not None and stop_after >= timeout:
        raise ValueError(f"stop_after ({stop_after:g}) must be less than timeout ({timeout:g})")
    raises = attrs.get("raises")
    if raises is not None and (not isinstance(raises, str)
                               or not re.fullmatch(r"[A-Za-z_][\w.]*", raises)):
        raise ValueError(f'raises must be an exception name like "ValueError", not {raises!r}')
    setup = attrs.get("setup")
    if setup is not None:
        if setup not in SETUP_KINDS:
            raise ValueError(f'setup must be "hidden" or "collapsed", not {setup!r}')
        clash = sorted(k for k in attrs if k in OUR_KEYS - SETUP_KEYS)
        if clash:
            raise ValueError(f"{clash[0]} cannot be used on a setup block (it has no verdict "
                             "of its own: put it on the block the setup comes before)")
    return Options(
        skip=test == "skip", timeout=timeout, stop_after=stop_after, raises=raises,
        continues=_flag("continues", attrs.get("continues", False)),
        allow=_allow(attrs["allow"]) if "allow" in attrs else (),
        ellipsis=_flag("ellipsis", attrs["ellipsis"]) if "ellipsis" in attrs else None,
        setup=str(setup) if setup is not None else None)


# ---------------------------------------------------------------------------- extraction


@dataclasses.dataclass(frozen=True)
class OutputFence:
    """Where the expected output sits in the file (0-based line indexes), for --update."""

    open_index: int
    close_index: int | None  # None when the fence runs to the end of the document
    indent: str


@dataclasses.dataclass(frozen=True)
class Snippet:
    """One fenced Python block of a page."""

    path: Path
    file: str  # as shown in messages and JSON: relative to the working directory, posix
    line: int  # 1-based line of the opening fence
    code: str
    options: Options
    info: str
    expected: str | None = None  # the output fence's content, if there is one
    output: OutputFence | None = None

    @property
    def code_line(self) -> int:
        return self.line + 1

    @property
    def id(self) -> str:
        return f"{self.file}::L{self.line}"

    @property
    def code_sha256(self) -> str:
        """The hash the page's render hook recomputes (`sha256` of Hugo's `.Inner`).

        A result is keyed by file and line, which go stale when an edit moves the blocks; the
        hook shows a result only if this hash matches too. Hugo's `.Inner` is the fence's
        content with the trailing newlines dropped and line ends as in the file (the hook
        turns CR LF into LF first); markdown-it has already normalised the line ends here.
        """
        return hashlib.sha256(self.code.rstrip("\r\n").encode("utf-8")).hexdigest()


def display_path(path: Path) -> str:
    """Relative to the working directory when inside it (content/notes/x.md), else as given."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _raw_info(page: Page, index: int, markup: str) -> str:
    """The info string as written: markdown-it unescapes it, Hugo's parser sees the raw text."""
    line = page.lines[index]
    at = line.find(markup)
    return line[at + len(markup):].strip() if at >= 0 else ""


def _language(info: str) -> str:
    words = info.partition("{")[0].split()
    return words[0].lower() if words else ""


def _next_block(tokens: list[Any], start: int) -> Any | None:
    """The next token that carries content (not a structural open/close)."""
    for token in tokens[start:]:
        if token.type in ("fence", "code_block", "inline", "html_block", "hr"):
            return token
    return None


def _output_fence(page: Page, token: Any) -> OutputFence:
    first, end = token.map
    line = page.lines[first]
    indent = line[: len(line) - len(line.lstrip(" \t"))]
    last = page.lines[end - 1].strip() if end - 1 > first else ""
    closed = last.startswith(token.markup[0] * len(token.markup)) and not last.strip(
        token.markup[0])
    return OutputFence(first, end - 1 if closed else None, indent)


def extract(page: Page, settings: Settings = config.DEFAULTS) -> list[Snippet]:
    """Every Python block of the page, in order; PageError on bad attributes.

    On a Python fence, anything Hugo would read differently from what the author likely
    meant is bad input too: a key given twice, words outside the braces.
    """
    tokens = pages.tokens(page)
    file = display_path(page.path)
    found: list[Snippet] = []
    for index, token in enumerate(tokens):
        if token.type != "fence" or token.map is None:
            continue
        line = token.map[0] + 1
        info = _raw_info(page, token.map[0], token.markup)
        python = _language(info) in PYTHON_LANGUAGES
        if not python:
            continue
        try:
            _, attrs, ignored = read_info(info)
            if ignored:
                raise ValueError(f"bad fence attributes {info!r}: {ignored[0]}")
            options = options_from(attrs, settings)
        except (AttributeSyntaxError, ValueError) as exc:
            raise PageError(file, line, str(exc)) from None
        after = _next_block(tokens, index + 1)
        expected = output = None
        if (after is not None and after.type == "fence" and after.map is not None
                and _language(after.info) == OUTPUT_LANGUAGE):
            if options.setup is not None:
                raise PageError(file, after.map[0] + 1, "a setup block has no output of its "
                                "own: put the output block after the block it sets up")
            expected, output = after.content, _output_fence(page, after)
        found.append(Snippet(page.path, file, line, token.content, options, info,
                             expected, output))
    return found


@dataclasses.dataclass(frozen=True)
class Case:
    """What runs as one program: its blocks in page order (setup blocks among them), each
    one segment of the program; every block that is not setup gets its own verdict."""

    blocks: tuple[Snippet, ...]

    @property
    def snippets(self) -> tuple[Snippet, ...]:
        """The blocks that are tests (setup blocks are part of the next one's program)."""
        return tuple(s for s in self.blocks if s.options.setup is None)

    @property
    def first(self) -> Snippet:
        return self.snippets[0]

    @property
    def id(self) -> str:
        return self.first.id

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.snippets)

    @property
    def skip(self) -> bool:
        return any(s.options.skip for s in self.blocks)

    @property
    def timeout(self) -> float:
        return max(s.options.timeout for s in self.blocks)

    @property
    def last(self) -> Snippet:
        return self.blocks[-1]

    def owner(self, segment: int) -> int:
        """The index in `snippets` of the test a segment belongs to (a setup block belongs
        to the block after it)."""
        segment = min(max(segment, 0), len(self.blocks) - 1)
        return sum(1 for s in self.blocks[:segment] if s.options.setup is None)

    def program(self) -> Program:
        return Program(
            segments=tuple(Segment(s.code, s.code_line, "errors" in s.options.allow,
                                   "deprecations" in s.options.allow) for s in self.blocks),
            filename=self.first.file, timeout=self.timeout,
            stop_after=self.last.options.stop_after,
        )

    def cache_key(self, versions: Versions, settings: Settings = config.DEFAULTS) -> str:
        blob = json.dumps({
            "v": CACHE_VERSION, "python": versions.python, "twisted": versions.twisted,
            "snippets": [[s.code, dataclasses.asdict(s.options), s.expected]
                         for s in self.blocks],
            "ellipsis": settings.ellipsis,
            "normalisers": [[p.pattern, r] for p, r in settings.normalisers],
        }, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()


def chain(snippets: Sequence[Snippet]) -> list[Case]:
    """Group one page's snippets into cases; PageError where a chain cannot work.

    A setup block joins the program of the block after it (and is shown hidden or collapsed
    on the page); `continues=true` joins a block to the program before it.
    """
    groups: list[list[Snippet]] = []
    pending: list[Snippet] = []  # setup blocks waiting for their block
    for snippet in snippets:
        if snippet.options.setup is not None:
            pending.append(snippet)
            continue
        if snippet.options.continues:
            if not groups:
                raise PageError(snippet.file, snippet.line,
                                "continues=true but there is no Python block before it")
            previous = groups[-1][-1]
            for key in ("raises", "stop_after"):
                if getattr(previous.options, key) is not None:
                    raise PageError(previous.file, previous.line,
                                    f"{key} is allowed only on the last block of a continued "
                                    f"program (line {snippet.line} continues it)")
            groups[-1] += [*pending, snippet]
        else:
            groups.append([*pending, snippet])
        pending = []
    if pending:
        raise PageError(pending[0].file, pending[0].line,
                        "a setup block needs a Python block after it on the page")
    return [Case(tuple(group)) for group in groups]


@dataclasses.dataclass(frozen=True)
class Collected:
    cases: list[Case]
    errors: list[str]  # `file:line: reason` for bad input


def collect(paths: Iterable[Path], settings: Settings = config.DEFAULTS) -> Collected:
    """Cases from every page under the paths, in file and line order.

    A path that is not a page (missing, a dangling symlink, a directory named x.md, a
    symlinked directory met in the walk) is bad input, `path: reason`, as in `twnotes
    sanitize`: silently running fewer snippets than asked would pass for a clean run.
    """
    cases: list[Case] = []
    errors: list[str] = []
    for found in pages.find_pages(paths):
        if isinstance(found, pages.Skipped):
            errors.append(f"{found.path}: {found.reason}")
            continue
        try:
            cases.extend(chain(extract(pages.read_page(found), settings)))
        except PageError as exc:
            errors.append(str(exc))
    return Collected(cases, errors)


def id_matches(pattern: str, snippet_id: str) -> bool:
    """-k: the whole id (`content/notes/x.md::L42`), or the id from any folder of its path on
    (`x.md::L42`, `notes/x.md::L42`); `*` is the only wildcard, matching any text."""
    rx = re.compile(".*".join(re.escape(part) for part in pattern.split("*")), re.DOTALL)
    tails = [snippet_id] + [snippet_id[n + 1:] for n, char in enumerate(snippet_id)
                            if char == "/" and "::" in snippet_id[n + 1:]]
    return any(rx.fullmatch(tail) for tail in tails)


def select(cases: Sequence[Case], patterns: Sequence[str] | str | None = None,
           shard: tuple[int, int] | None = None) -> list[Case]:
    """Keep the cases with a block whose id matches a -k pattern (a chain runs whole), then
    shard I of N (1-based, round robin over cases)."""
    if isinstance(patterns, str):
        patterns = [patterns]
    chosen = [c for c in cases if not patterns
              or any(id_matches(p, i) for p in patterns for i in c.ids)]
    if shard is not None:
        index, count = shard
        chosen = [c for n, c in enumerate(chosen) if n % count == index - 1]
    return chosen


def parse_shard(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"([0-9]+)/([0-9]+)", text)
    if not match or not 1 <= int(match.group(1)) <= int(match.group(2)):
        raise ValueError(f"--shard wants I/N with 1 <= I <= N, not {text!r}")
    return int(match.group(1)), int(match.group(2))


# ---------------------------------------------------------------------------- judging


@dataclasses.dataclass(frozen=True)
class Versions:
    python: str
    twisted: str


@cache
def versions() -> Versions:
    """Read from metadata: importing Twisted here would cost a third of a second."""
    try:
        twisted = metadata.version("Twisted")
    except metadata.PackageNotFoundError:
        twisted = "not installed"
    return Versions(platform.python_version(), twisted)


# ---------------------------------------------------------------------------- cache


def default_cache_dir() -> Path:
    """$TWNOTES_CACHE_DIR, else $XDG_CACHE_HOME/twnotes, else .cache/twnotes in the repo root."""
    if env := os.environ.get("TWNOTES_CACHE_DIR"):
        return Path(env)
    if env := os.environ.get("XDG_CACHE_HOME"):
        return Path(env) / "twnotes" / "snippets"
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / ".git").exists() or (folder / "config.toml").is_file():
            return folder / ".cache" / "twnotes" / "snippets"
    return here / ".cache" / "twnotes" / "snippets"


class Cache:
    """Passed runs only, one small JSON file per key: a failure is always run again."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder

    def get(self, key: str) -> Outcome | None:
        if self.folder is None:
            return None
        try:
            data = json.loads((self.folder / f"{key}.json").read_text(encoding="utf-8"))
            return Outcome.from_json(data)
        except (OSError, ValueError, TypeError, KeyError):
            return None

    def put(self, key: str, outcome: Outcome) -> None:
        if self.folder is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        util.atomic_write(self.folder / f"{key}.json", json.dumps(outcome.to_json()).encode())


# ---------------------------------------------------------------------------- running


@dataclasses.dataclass(frozen=True)
class Ran:
    """One case after a run: its results, and the outcome they were judged from."""

    case: Case
    results: list[Result]
    outcome: Outcome | None  # None when skipped


def run(cases: Sequence[Case], runner: Runner, cache_: Cache,
        settings: Settings = config.DEFAULTS) -> list[Ran]:
    """Every case, in order; a case whose passing run is cached is not run again."""
    ver = versions()
    done: dict[int, Ran] = {}
    to_run: list[tuple[int, Case, str]] = []
    for n, case in enumerate(cases):
        if case.skip:
            done[n] = Ran(case, skipped(case), None)
            continue
        key = case.cache_key(ver, settings)
        hit = cache_.get(key)
        if hit is not None:
            done[n] = Ran(case, judge(case, hit, cached=True, settings=settings), hit)
        else:
            to_run.append((n, case, key))
    outcomes = runner.run_all([case.program() for _, case, _ in to_run]) if to_run else []
    for (n, case, key), outcome in zip(to_run, outcomes, strict=True):
        results = judge(case, outcome, settings=settings)
        done[n] = Ran(case, results, outcome)
        if all(r.status == "passed" for r in results):
            cache_.put(key, outcome)
    return [done[n] for n in range(len(cases))]


def run_cases(cases: Sequence[Case], runner: Runner, cache_: Cache,
              settings: Settings = config.DEFAULTS) -> list[Result]:
    """Results for every snippet of the cases, in their order; cached passes are not rerun."""
    return [r for ran in run(cases, runner, cache_, settings) for r in ran.results]


def report_json(results: Sequence[Result]) -> dict[str, Any]:
    ver = versions()
    return {"python": ver.python, "twisted": ver.twisted,
            "snippets": [r.to_json() for r in results]}


def write_json(path: Path, results: Sequence[Result]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps(report_json(results), ensure_ascii=False, indent=1) + "\n"
    util.atomic_write(path, data.encode("utf-8"))


def merge_results(path: Path, results: Sequence[Result], current: Sequence[Case]) -> None:
    """Update the page results file with this run's results, keeping the others that are
    still right: an entry of a page this run read stays only while a block with that line
    and code is still there; an entry of a page that no longer exists goes."""
    known = {(s.file, s.line): s.code_sha256 for c in current for s in c.snippets}
    read_files = {file for file, _ in known}
    fresh = {(r.file, r.line) for r in results}
    kept: list[dict[str, Any]] = []
    with contextlib.suppress(OSError, ValueError, TypeError, AttributeError):
        for entry in json.loads(path.read_text(encoding="utf-8")).get("snippets", []):
            where = (entry["file"], entry["line"])
            if where in fresh:
                continue
            if entry["file"] in read_files:
                if known.get(where) == entry.get("code_sha256"):
                    kept.append(entry)
            elif Path(entry["file"]).is_file():
                kept.append(entry)
    entries = kept + [r.to_json() for r in results]
    entries.sort(key=lambda e: (e["file"], e["line"]))
    ver = versions()
    data = json.dumps({"python": ver.python, "twisted": ver.twisted, "snippets": entries},
                      ensure_ascii=False, indent=1) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    util.atomic_write(path, data.encode("utf-8"))


# ---------------------------------------------------------------------------- --update


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


def update_outputs(cases: Sequence[Case], results: Sequence[Result],
                   settings: Settings = config.DEFAULTS) -> list[Path]:
    """Rewrite each existing output fence from what its snippet printed; pages changed.

    Only snippets that ran to a clean end are used (a crash's output is not an expectation).
    No fence is added where there is none: the author decides where output is shown.
    Edits go from the bottom of each page up, so earlier line indexes stay valid.
    """
    by_id = {(r.file, r.line): r for r in results}
    edits: dict[Path, list[tuple[Snippet, str]]] = {}
    for case in cases:
        for snippet in case.snippets:
            result = by_id.get((snippet.file, snippet.line))
            if (snippet.output is None or result is None or result.status == "skipped"
                    or (result.status == "failed" and not result.output_mismatch_only)):
                continue
            text = new_expectation(snippet, result, settings)
            if text is not None:
                edits.setdefault(snippet.path, []).append((snippet, text))
    changed = []
    for path, items in edits.items():
        page = pages.read_page(path)
        lines = page.lines
        for snippet, text in sorted(items, key=lambda item: -item[0].line):
            fence = snippet.output
            assert fence is not None
            if fence.close_index is None:
                continue  # an unclosed fence runs to the end of the page: leave it alone
            opening = lines[fence.open_index]
            newline = "\r\n" if opening.endswith("\r\n") else "\n"
            lines[fence.open_index + 1: fence.close_index] = _fence_body(
                text, fence.indent, newline)
        util.atomic_write(path, "".join(lines).encode("utf-8"))
        changed.append(path)
    return changed


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


# ---------------------------------------------------------------------------- the command


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
            err: Any = None, settings: Settings | None = None) -> int:
    """`twnotes snippets`: 0 all passed, 1 a failure, 2 bad input (nothing run then),
    5 when -k selects nothing (as pytest does when no test is selected)."""
    import sys
    import time

    out = out or sys.stdout
    err = err or sys.stderr
    started = time.monotonic()
    try:
        settings = settings or config.load()
    except config.ConfigError as exc:
        print(exc, file=err)
        return 2
    with Runner(workers=jobs, extra_preload=settings.preload) as runner:
        if not list_only:
            runner.prestart()  # the servers' interpreter starts while the pages are read
        return _command(runner, paths, settings, list_only=list_only, update=update,
                        json_path=json_path, pattern=pattern, shard=shard,
                        use_cache=use_cache, out=out, err=err, started=started)


def _command(runner: Runner, paths: Sequence[Path] | None, settings: Settings, *,
             list_only: bool, update: bool, json_path: Path | None,
             pattern: Sequence[str] | str | None, shard: tuple[int, int] | None,
             use_cache: bool, out: Any, err: Any, started: float) -> int:
    import time

    collected = collect(paths or settings.content_paths(), settings)
    if collected.errors:
        for error in collected.errors:
            print(error, file=err)
        return 2
    patterns = [pattern] if isinstance(pattern, str) else list(pattern or [])
    cases = select(collected.cases, patterns, shard)
    if patterns and not select(collected.cases, patterns):
        print(f"no snippet selected by -k {' -k '.join(patterns)} (ids are file::Lline as "
              "--list shows them; `*` matches any text)", file=err)
        return 5
    if list_only:
        for case in cases:
            for snippet in case.snippets:
                print(f"{snippet.id}\t{snippet.info}", file=out)
        return 0
    cache_ = Cache(default_cache_dir() if use_cache else None)
    runs = run(cases, runner, cache_, settings)
    if update:
        changed = update_outputs([r.case for r in runs],
                                 [x for r in runs for x in r.results], settings)
        for path in changed:
            print(f"updated {display_path(path)}", file=out)
        runs = rejudge_updated(runs, changed, cache_, settings)
        if changed:
            collected = collect(paths or settings.content_paths(), settings)
    results = [x for r in runs for x in r.results]
    if json_path is not None:
        write_json(json_path, results)
    elif (target := settings.results_path()) is not None:
        merge_results(target, results, collected.cases)
    for result in results:
        if result.status == "failed":
            _print_failure(result, out)
    print(f"{summary(results)} in {time.monotonic() - started:.2f} s", file=out)
    return 1 if any(r.status == "failed" for r in results) else 0
