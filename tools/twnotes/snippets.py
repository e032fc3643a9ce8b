"""Pages -> Snippets -> Results: every fenced Python block of the notes runs as a test.

A *snippet* is one fenced block (```` ```python ````, also `py`, `python3`), found with
markdown-it-py's tokens; its fence attributes use Hugo's own syntax (```` ```python
{stop_after=1} ````) so Hugo renders the page unchanged. An ```` ```output ```` fence right after
it is its expected stdout. A *case* is what runs as one program: a snippet, or a chain of
snippets joined with `continues=true`. `runner` runs each case in isolation; this module knows
Markdown and turns outcomes into one *result* per snippet.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import os
import platform
import re
from collections.abc import Iterable, Sequence
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

from twnotes import pages
from twnotes.pages import Page, PageError
from twnotes.runner import Outcome, Program, Runner, Segment

PYTHON_LANGUAGES = frozenset({"python", "py", "python3"})
OUTPUT_LANGUAGE = "output"
DEFAULT_TIMEOUT = 10.0
OUR_KEYS = frozenset({"test", "timeout", "stop_after", "raises", "continues"})
# Keys Hugo itself understands on a code fence: passed to the highlighter (.Options) or
# rendered as the block's class and id. Case-insensitive, as in Hugo.
HUGO_KEYS = frozenset(k.lower() for k in (
    "anchorLineNos", "guessSyntax", "hl_Lines", "hl_inline", "lineAnchors", "lineNos",
    "lineNoStart", "lineNumbersInTable", "noClasses", "nohl", "style", "tabWidth",
    "class", "id",
))
JSON_STDOUT_LIMIT = 20_000  # characters of output kept per snippet in the JSON for the page
# What a failure shows of the output (terminal, pytest report): a flood is often one huge
# line, so lines are cut as well as counted, and the whole is capped.
TAIL_LINES = 15
TAIL_LINE_CHARS = 300
TAIL_CHARS = 4_000
DIFF_LINES = 20
CACHE_VERSION = 1

Status = Literal["passed", "failed", "skipped"]


# ---------------------------------------------------------------------------- fence attributes


class AttributeSyntaxError(ValueError):
    pass


_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?")
_NAME = re.compile(r"[A-Za-z_:][A-Za-z0-9_:.\-]*")
_SHORTHAND = re.compile(r"[A-Za-z0-9_:.\-]+")
_ESCAPES = {'"': '"', "/": "/", "\\": "\\", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


class _AttributeParser:
    """Goldmark's attribute grammar, as Hugo applies it to a fence's `{...}`.

    Values: "double-quoted" strings with JSON-like escapes, numbers, true/false, [arrays], and
    bare words. What Hugo refuses (single quotes, `{x}`, `{x=}`, `{ }`) is refused here too, so a
    page that passes this check also builds.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, what: str) -> AttributeSyntaxError:
        return AttributeSyntaxError(f"bad fence attributes {self.text!r}: {what}")

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def skip_spaces(self) -> None:
        while self.peek() in (" ", "\t"):
            self.pos += 1

    def parse(self) -> dict[str, object]:
        if self.peek() != "{":
            raise self.fail("expected '{'")
        self.pos += 1
        if self.peek() == "}":
            self.pos += 1
            return {}
        attrs: dict[str, object] = {}
        while True:
            self.skip_spaces()
            if self.peek() == "}" and attrs:
                self.pos += 1
                return attrs
            if not self.peek():
                raise self.fail("no closing '}'")
            name, value = self.attribute()
            attrs[name] = value  # a repeated key: the last one wins, as in Hugo
            self.skip_spaces()
            if self.peek() == ",":
                self.pos += 1

    def attribute(self) -> tuple[str, object]:
        char = self.peek()
        if char in (".", "#"):
            self.pos += 1
            match = _SHORTHAND.match(self.text, self.pos)
            if not match:
                raise self.fail(f"empty {char!r} shorthand")
            self.pos = match.end()
            return ("class" if char == "." else "id"), match.group()
        match = _NAME.match(self.text, self.pos)
        if not match:
            raise self.fail(f"expected a name at {self.text[self.pos:]!r}")
        self.pos = match.end()
        self.skip_spaces()
        if self.peek() != "=":
            raise self.fail(f"{match.group()!r} has no '=value' (quote the value)")
        self.pos += 1
        self.skip_spaces()
        return match.group(), self.value()

    def value(self) -> object:
        char = self.peek()
        if char == '"':
            return self.string()
        if char == "[":
            return self.array()
        if char and (char in "+-" or char.isdigit()):
            match = _NUMBER.match(self.text, self.pos)
            end = match.end() if match else self.pos
            if not match or (end < len(self.text) and self.text[end] not in " \t,}]"):
                raise self.fail(f"bad number at {self.text[self.pos:]!r}")
            self.pos = end
            number = float(match.group())
            return int(number) if number.is_integer() else number
        match = _NAME.match(self.text, self.pos)
        if not match:
            raise self.fail(f"bad value at {self.text[self.pos:]!r} (use double quotes)")
        self.pos = match.end()
        word = match.group()
        if word == "null":
            raise self.fail("null is not supported")
        return {"true": True, "false": False}.get(word, word)

    def string(self) -> str:
        self.pos += 1
        out: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "\\" and self.pos + 1 < len(self.text):
                nxt = self.text[self.pos + 1]
                if nxt in _ESCAPES:
                    out.append(_ESCAPES[nxt])
                    self.pos += 2
                    continue
                out.append("\\")
                self.pos += 1
                continue
            if char == '"':
                self.pos += 1
                return "".join(out)
            out.append(char)
            self.pos += 1
        raise self.fail("unterminated string")

    def array(self) -> list[object]:
        self.pos += 1
        items: list[object] = []
        while True:
            self.skip_spaces()
            if self.peek() == "]":
                self.pos += 1
                return items
            if items:
                if self.peek() != ",":
                    raise self.fail("expected ',' in array")
                self.pos += 1
                self.skip_spaces()
            items.append(self.value())


def parse_info(info: str) -> tuple[str, dict[str, object]]:
    """The language and attributes of a fence's info string, the way Hugo reads them.

    The language is the first word before `{`; text after the closing `}` is ignored, as Hugo
    ignores it.
    """
    head, brace, _ = info.partition("{")
    words = head.split()
    language = words[0] if words else ""
    if not brace:
        return language, {}
    return language, _AttributeParser(info[len(head):].rstrip()).parse()


@dataclasses.dataclass(frozen=True)
class Options:
    """The fence attributes that steer a run (see README, 代码片段测试)."""

    skip: bool = False
    timeout: float = DEFAULT_TIMEOUT
    stop_after: float | None = None
    raises: str | None = None
    continues: bool = False


def _number(key: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ValueError(f"{key} must be a positive number of seconds, not {value!r}")
    return float(value)


def options_from(attrs: dict[str, object]) -> Options:
    """Validate our keys; ValueError names the first problem. Hugo's own keys pass through."""
    unknown = sorted(k for k in attrs if k not in OUR_KEYS and k.lower() not in HUGO_KEYS)
    if unknown:
        raise ValueError(f"unknown fence attribute {unknown[0]!r} "
                         f"(known: {', '.join(sorted(OUR_KEYS))}, and Hugo's highlighting keys)")
    test = attrs.get("test")
    if test is not None and test != "skip":
        raise ValueError(f'test must be "skip", not {test!r}')
    timeout = _number("timeout", attrs["timeout"]) if "timeout" in attrs else DEFAULT_TIMEOUT
    stop_after = _number("stop_after", attrs["stop_after"]) if "stop_after" in attrs else None
    if stop_after is not None and stop_after >= timeout:
        raise ValueError(f"stop_after ({stop_after:g}) must be less than timeout ({timeout:g})")
    raises = attrs.get("raises")
    if raises is not None and (not isinstance(raises, str)
                               or not re.fullmatch(r"[A-Za-z_][\w.]*", raises)):
        raise ValueError(f'raises must be an exception name like "ValueError", not {raises!r}')
    continues = attrs.get("continues", False)
    if not isinstance(continues, bool):
        raise ValueError(f"continues must be true or false, not {continues!r}")
    return Options(skip=test == "skip", timeout=timeout, stop_after=stop_after,
                   raises=raises, continues=continues)


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


def extract(page: Page) -> list[Snippet]:
    """Every Python block of the page, in order; PageError on bad attributes."""
    tokens = pages.tokens(page)
    file = display_path(page.path)
    found: list[Snippet] = []
    for index, token in enumerate(tokens):
        if token.type != "fence" or token.map is None:
            continue
        line = token.map[0] + 1
        info = _raw_info(page, token.map[0], token.markup)
        try:
            language, attrs = parse_info(info)
        except AttributeSyntaxError as exc:
            if _language(info) in PYTHON_LANGUAGES:
                raise PageError(file, line, str(exc)) from None
            continue
        if language.lower() not in PYTHON_LANGUAGES:
            continue
        try:
            options = options_from(attrs)
        except ValueError as exc:
            raise PageError(file, line, str(exc)) from None
        after = _next_block(tokens, index + 1)
        expected = output = None
        if (after is not None and after.type == "fence" and after.map is not None
                and _language(after.info) == OUTPUT_LANGUAGE):
            expected, output = after.content, _output_fence(page, after)
        found.append(Snippet(page.path, file, line, token.content, options, info,
                             expected, output))
    return found


@dataclasses.dataclass(frozen=True)
class Case:
    """What runs as one program: a snippet and the snippets that continue it."""

    snippets: tuple[Snippet, ...]

    @property
    def first(self) -> Snippet:
        return self.snippets[0]

    @property
    def id(self) -> str:
        return self.first.id

    @property
    def skip(self) -> bool:
        return any(s.options.skip for s in self.snippets)

    @property
    def timeout(self) -> float:
        return max(s.options.timeout for s in self.snippets)

    @property
    def last(self) -> Snippet:
        return self.snippets[-1]

    def program(self) -> Program:
        return Program(
            segments=tuple(Segment(s.code, s.code_line) for s in self.snippets),
            filename=self.first.file, timeout=self.timeout,
            stop_after=self.last.options.stop_after,
        )

    def cache_key(self, versions: Versions) -> str:
        blob = json.dumps({
            "v": CACHE_VERSION, "python": versions.python, "twisted": versions.twisted,
            "snippets": [[s.code, dataclasses.asdict(s.options), s.expected]
                         for s in self.snippets],
        }, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()


def chain(snippets: Sequence[Snippet]) -> list[Case]:
    """Group one page's snippets into cases; PageError where a chain cannot work."""
    groups: list[list[Snippet]] = []
    for snippet in snippets:
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
            groups[-1].append(snippet)
        else:
            groups.append([snippet])
    return [Case(tuple(group)) for group in groups]


@dataclasses.dataclass(frozen=True)
class Collected:
    cases: list[Case]
    errors: list[str]  # `file:line: reason` for bad input


def collect(paths: Iterable[Path]) -> Collected:
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
            cases.extend(chain(extract(pages.read_page(found))))
        except PageError as exc:
            errors.append(str(exc))
    return Collected(cases, errors)


def select(cases: Sequence[Case], pattern: str | None = None,
           shard: tuple[int, int] | None = None) -> list[Case]:
    """Filter by substring of the id (-k), then keep shard I of N (1-based, round robin)."""
    chosen = [c for c in cases if pattern is None or pattern.lower() in c.id.lower()]
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


@dataclasses.dataclass(frozen=True)
class Result:
    """One snippet's verdict. `where` is the line a failure points at (exception, output)."""

    file: str
    line: int
    status: Status
    duration_s: float
    stdout: str
    message: str = ""
    where: int = 0
    detail: str = ""  # tail of the output, for the terminal
    cached: bool = False
    output_mismatch_only: bool = False
    code_sha256: str = ""  # Snippet.code_sha256: which code this result is about

    def to_json(self) -> dict[str, Any]:
        stdout = self.stdout
        if len(stdout) > JSON_STDOUT_LIMIT:
            stdout = stdout[:JSON_STDOUT_LIMIT] + "\n… (truncated)\n"
        return {"file": self.file, "line": self.line, "status": self.status,
                "duration_s": round(self.duration_s, 4), "stdout": stdout,
                "message": self.message, "code_sha256": self.code_sha256}


def normalise(text: str) -> str:
    """Output as compared: LF line ends, no trailing spaces, no trailing blank lines."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).rstrip("\n")


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


def _problem(case: Case, outcome: Outcome) -> tuple[str, int | None]:
    """Why the run failed (empty when it did not), and the line to point at."""
    last = case.last.options
    at = _last_line_in(outcome.stderr, case.first.file)
    if outcome.status == "error":
        return f"could not run: {outcome.message}", None
    if outcome.status == "timed_out":
        extra = f" (SIGINT sent after {last.stop_after:g} s)" if outcome.interrupted else ""
        return f"timed out after {case.timeout:g} s{extra}", None
    if outcome.status == "output_limit":
        return "printed more than the output limit; stopped", None
    if outcome.leftover:
        return "a process of the snippet could not be killed", None
    if last.raises is not None:
        if _exception_matches(last.raises, outcome.exception):
            return "", None
        if outcome.exception is None:
            return f"expected {last.raises} to be raised, but it exited with " \
                   f"{outcome.returncode}", None
        return f"expected {last.raises}, got {outcome.exception.removeprefix('builtins.')}", at
    if outcome.returncode == 0:
        return "", None
    if outcome.exception is not None:
        name = outcome.exception.removeprefix("builtins.")
        return f"raised {name}", at
    if outcome.interrupted:
        return (f"did not exit cleanly after SIGINT (stop_after={last.stop_after:g}): "
                f"exit code {outcome.returncode}"), None
    return f"exited with code {outcome.returncode}", None


def judge(case: Case, outcome: Outcome, cached: bool = False) -> list[Result]:
    """One result per snippet of the case; a failing case fails every snippet in it."""
    problem, at = _problem(case, outcome)
    mismatch_only = False
    if not problem:
        for snippet, stdout in zip(case.snippets, outcome.segments_stdout, strict=False):
            if snippet.expected is not None and normalise(stdout) != normalise(
                    snippet.expected):
                diff = difflib.unified_diff(
                    normalise(snippet.expected).splitlines(), normalise(stdout).splitlines(),
                    "expected", "actual", lineterm="", n=1)
                problem = "output differs from the expected output:\n" + "\n".join(
                    _bounded(list(diff)[2:2 + DIFF_LINES], "first"))
                at = snippet.output.open_index + 1 if snippet.output else snippet.line
                mismatch_only = True
                break
    status: Status = "failed" if problem else "passed"
    detail = "" if not problem or mismatch_only else _tail(outcome.stderr or outcome.stdout)
    results = []
    for snippet, stdout in zip(case.snippets, outcome.segments_stdout, strict=False):
        results.append(Result(
            snippet.file, snippet.line, status, outcome.duration_s, stdout, problem,
            at or case.first.line, detail, cached, mismatch_only, snippet.code_sha256))
    return results


def skipped(case: Case) -> list[Result]:
    return [Result(s.file, s.line, "skipped", 0.0, "", 'test="skip"', s.line,
                   code_sha256=s.code_sha256) for s in case.snippets]


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
        pages.atomic_write(self.folder / f"{key}.json", json.dumps(outcome.to_json()).encode())


# ---------------------------------------------------------------------------- running


def run_cases(cases: Sequence[Case], runner: Runner, cache_: Cache) -> list[Result]:
    """Results for every snippet of the cases, in their order; cached passes are not rerun."""
    ver = versions()
    by_case: dict[int, list[Result]] = {}
    to_run: list[tuple[int, Case, str]] = []
    for n, case in enumerate(cases):
        if case.skip:
            by_case[n] = skipped(case)
            continue
        key = case.cache_key(ver)
        hit = cache_.get(key)
        if hit is not None:
            by_case[n] = judge(case, hit, cached=True)
        else:
            to_run.append((n, case, key))
    outcomes = runner.run_all([case.program() for _, case, _ in to_run]) if to_run else []
    for (n, case, key), outcome in zip(to_run, outcomes, strict=True):
        results = judge(case, outcome)
        by_case[n] = results
        if all(r.status == "passed" for r in results):
            cache_.put(key, outcome)
    return [r for n in range(len(cases)) for r in by_case[n]]


def report_json(results: Sequence[Result]) -> dict[str, Any]:
    ver = versions()
    return {"python": ver.python, "twisted": ver.twisted,
            "snippets": [r.to_json() for r in results]}


def write_json(path: Path, results: Sequence[Result]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps(report_json(results), ensure_ascii=False, indent=1) + "\n"
    pages.atomic_write(path, data.encode("utf-8"))


# ---------------------------------------------------------------------------- --update


def _fence_body(stdout: str, indent: str, newline: str) -> list[str]:
    text = normalise(stdout)
    if not text:
        return []
    return [(indent + line if line else "") + newline for line in text.split("\n")]


def update_outputs(cases: Sequence[Case], results: Sequence[Result]) -> list[Path]:
    """Rewrite each existing output fence from what its snippet printed; pages changed.

    Only snippets that ran to a clean end are used (a crash's output is not an expectation).
    No fence is added where there is none: the author decides where output is shown.
    Edits go from the bottom of each page up, so earlier line indexes stay valid.
    """
    by_id = {(r.file, r.line): r for r in results}
    edits: dict[Path, list[tuple[Snippet, Result]]] = {}
    for case in cases:
        for snippet in case.snippets:
            result = by_id.get((snippet.file, snippet.line))
            if (snippet.output is None or result is None or result.status == "skipped"
                    or (result.status == "failed" and not result.output_mismatch_only)):
                continue
            if normalise(result.stdout) == normalise(snippet.expected or ""):
                continue
            edits.setdefault(snippet.path, []).append((snippet, result))
    changed = []
    for path, items in edits.items():
        page = pages.read_page(path)
        lines = page.lines
        for snippet, result in sorted(items, key=lambda item: -item[0].line):
            fence = snippet.output
            assert fence is not None
            if fence.close_index is None:
                continue  # an unclosed fence runs to the end of the page: leave it alone
            opening = lines[fence.open_index]
            newline = "\r\n" if opening.endswith("\r\n") else "\n"
            lines[fence.open_index + 1: fence.close_index] = _fence_body(
                result.stdout, fence.indent, newline)
        pages.atomic_write(path, "".join(lines).encode("utf-8"))
        changed.append(path)
    return changed


# ---------------------------------------------------------------------------- the command


def _annotation(result: Result) -> str:
    """A GitHub Actions error annotation (message escaped as the runner expects)."""
    text = result.message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return f"::error file={result.file},line={result.where or result.line}::{text}"


def _print_failure(result: Result, out: Any) -> None:
    print(f"{result.file}:{result.where or result.line}: {result.message}", file=out)
    if result.detail:
        for line in result.detail.splitlines():
            print(f"    {line}", file=out)
    if os.environ.get("GITHUB_ACTIONS") == "true":
        print(_annotation(result), file=out)


def command(paths: Sequence[Path], *, list_only: bool = False, update: bool = False,
            json_path: Path | None = None, pattern: str | None = None,
            shard: tuple[int, int] | None = None, use_cache: bool = True,
            jobs: int | None = None, out: Any = None, err: Any = None) -> int:
    """`twnotes snippets`: 0 all passed, 1 a failure, 2 bad input (nothing run then)."""
    import sys
    import time

    out = out or sys.stdout
    err = err or sys.stderr
    started = time.monotonic()
    collected = collect(paths)
    if collected.errors:
        for error in collected.errors:
            print(error, file=err)
        return 2
    cases = select(collected.cases, pattern, shard)
    if list_only:
        for case in cases:
            for snippet in case.snippets:
                print(f"{snippet.id}\t{snippet.info}", file=out)
        return 0
    with Runner(workers=jobs) as runner:
        results = run_cases(cases, runner, Cache(default_cache_dir() if use_cache else None))
    if json_path is not None:
        write_json(json_path, results)
    if update:
        for path in update_outputs(cases, results):
            print(f"updated {display_path(path)}", file=out)
        results = [dataclasses.replace(r, status="passed", message="")
                   if r.output_mismatch_only else r for r in results]
    seen: set[tuple[str, int, str]] = set()
    for result in results:
        key = (result.file, result.where, result.message)
        if result.status == "failed" and key not in seen:  # one report per failed chain
            seen.add(key)
            _print_failure(result, out)
    counts = {s: sum(r.status == s for r in results) for s in ("passed", "failed", "skipped")}
    cached = sum(r.cached for r in results)
    print(f"{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped"
          f" ({cached} from cache) in {time.monotonic() - started:.2f} s", file=out)
    return 1 if counts["failed"] else 0
