"""Content pages: finding them, reading them safely, and scanning them with markdown-it-py.

This is the floor that `sanitize` and `snippets` both stand on. Line numbers are 1-based
and refer to the file as it is on disk (front matter included), so every message can
say `file:line`; `split_lines` and `Lines` are the one model of a page's lines (where
markdown-it counts them: at CR LF, CR and LF only).
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import os
import re
import stat
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.token import Token

from twnotes import markup

BOM = "\ufeff"
CONTENT_SUFFIXES = (".md", ".markdown")
FRONT_MATTER_FENCES = ("+++", "---")


class PageError(Exception):
    """Bad input: carries the place so the CLI can print `file:line: reason`."""

    def __init__(self, path: Path | str, line: int, reason: str) -> None:
        super().__init__(f"{path}:{line}: {reason}")
        self.path = Path(path)
        self.line = line
        self.reason = reason


class PageErrors(PageError):
    """Several refusals in one file, all reported (one `file:line: reason` line each)."""

    def __init__(self, errors: Sequence[PageError]) -> None:
        first = min(errors, key=lambda e: e.line)
        super().__init__(first.path, first.line, first.reason)
        self.errors = sorted(errors, key=lambda e: e.line)

    def __str__(self) -> str:
        return "\n".join(f"{e.path}:{e.line}: {e.reason}" for e in self.errors)


def raise_all(errors: Sequence[PageError]) -> None:
    """Raise the refusals found, if any: one as itself, several together."""
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise PageErrors(errors)


@dataclasses.dataclass(frozen=True)
class Page:
    """One content file, decoded. `text` keeps every byte of the original (BOM, CRLF)."""

    path: Path
    text: str
    # Number of lines taken by front matter (0 when there is none).
    front_matter_lines: int

    @property
    def has_bom(self) -> bool:
        return self.text.startswith(BOM)

    @functools.cached_property
    def settings(self) -> markup.Markup:
        """The markup settings of the site this page belongs to (its config.toml)."""
        try:
            return markup.markup_for(self.path)
        except markup.ConfigError as exc:
            raise PageError(exc.path, exc.line, exc.reason) from None

    @functools.cached_property
    def lines(self) -> list[str]:
        """The file's lines with their original line endings kept (split_lines)."""
        return split_lines(self.text)

    def markdown_source(self) -> str:
        """The text markdown-it should see: BOM dropped, front matter blanked, line count kept.

        Blanking (not removing) the front matter keeps markdown-it's line maps equal to the
        file's own line numbers, and blank lines at the top change nothing in the parse.
        """
        text = self.text.removeprefix(BOM)
        if not self.front_matter_lines:
            return text
        lines = split_lines(text)
        blank = ["\n"] * self.front_matter_lines
        return "".join(blank + lines[self.front_matter_lines :])


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def split_lines(text: str) -> list[str]:
    """Lines with their endings kept, split only at \\r\\n, \\r and \\n.

    That is where markdown-it counts lines; str.splitlines also splits at U+2028, form
    feeds and other separators, which would shift every line number after one.
    """
    return _LINE.findall(text)


class Lines:
    """A page's lines as markdown-it numbers them (split_lines), with offsets in its text.

    The one line model: `Page.lines` are the lines themselves, this maps between line
    indexes and offsets (the sanitiser writes edits by offset and reports them by line).
    """

    def __init__(self, page: Page) -> None:
        self.text = page.text
        self.starts = [0]
        for line in page.lines[:-1]:
            self.starts.append(self.starts[-1] + len(line))
        self.bom = 1 if page.has_bom else 0

    def __len__(self) -> int:
        return len(self.starts)

    def line_of(self, offset: int) -> int:
        """The 1-based line number holding `offset`."""
        return bisect.bisect_right(self.starts, offset)

    def start(self, index: int) -> int:
        """Offset of line `index` (0-based); after the BOM on the first line."""
        if index >= len(self.starts):
            return len(self.text)
        return self.starts[index] + (self.bom if index == 0 else 0)

    def end(self, index: int) -> int:
        """Offset of the first line ending character of line `index` (or end of text)."""
        nxt = self.starts[index + 1] if index + 1 < len(self.starts) else len(self.text)
        body = self.text[self.starts[index]:nxt]
        return nxt - (len(body) - len(body.rstrip("\r\n")))

    def content(self, index: int) -> str:
        return self.text[self.start(index):self.end(index)]

    def ending(self, index: int) -> str:
        return self.text[self.end(index):self.start(index + 1)] if index < len(self) else ""


def decode(path: Path, raw: bytes) -> str:
    """UTF-8 text of a page, or a PageError naming the line of the first bad byte."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise PageError(path, line, f"invalid UTF-8 at byte {exc.start}") from None
    nul = text.find("\0")
    if nul >= 0:
        raise PageError(path, text.count("\n", 0, nul) + 1, "NUL byte in text")
    return text


def front_matter_length(path: Path, text: str) -> int:
    """Lines of TOML (+++) or YAML (---) front matter at the top, fences included.

    Where Hugo puts the limits: the opening fence may follow blank lines and spaces; the
    front matter ends at the first line that *starts* with the same fence. Text after
    either fence on its line would be read by Hugo in ways a reader does not expect (the
    rest of a closing line is page body), so it is bad input.
    """
    lines = [line.rstrip("\r\n") for line in split_lines(text.removeprefix(BOM))]
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return 0
    opening = lines[first].lstrip()
    fence = next((f for f in FRONT_MATTER_FENCES if opening.startswith(f)), None)
    if fence is None:
        return 0
    if opening[len(fence):].strip():
        raise PageError(path, first + 1, f"text after the opening {fence} of the front matter")
    for index in range(first + 1, len(lines)):
        line = lines[index]
        if line.startswith(fence):
            if line[len(fence):].strip():
                raise PageError(path, index + 1, f"text after the closing {fence} of the front "
                                "matter: Hugo renders it as page body; move it to the next line")
            return index + 1
    raise PageError(path, first + 1, f"front matter opened with {fence!r} is never closed")


def read_page(path: Path) -> Page:
    """The page at `path`; a FIFO, device or socket is refused, never opened to read.

    Reading a FIFO blocks until something writes to it, so `sanitize` or `snippets` given
    one would hang: the type is checked first (stat), and again on the opened handle
    (opened non-blocking) in case the path changed in between.
    """
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            raise PageError(path, 1, NOT_REGULAR)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise PageError(path, 1, NOT_REGULAR)
            raw = handle.read()
    except OSError as exc:  # gone or unreadable since it was found: bad input, not a crash
        raise PageError(path, 1, exc.strerror or str(exc)) from None
    text = decode(path, raw)
    return Page(path=path, text=text, front_matter_lines=front_matter_length(path, text))


NOT_REGULAR = "not a regular file"


def _is_regular(path: Path) -> bool:
    """A regular file, after symlinks (False when it is gone or unreadable)."""
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return False


def parse_page_text(path: Path, text: str) -> Page:
    """A Page from text already in memory (tests, stdin)."""
    return Page(path=path, text=text,
                front_matter_lines=front_matter_length(path, text))


MAX_NESTING = markup.MAX_NESTING


def too_deep(tokens_: Iterable[Token]) -> Token | None:
    """The first block token at the nesting limit, if any: past it markdown-it saw nothing."""
    return next((t for t in tokens_ if t.level >= MAX_NESTING - 1), None)


def markdown(settings: markup.Markup | None = None, text: str | None = None) -> MarkdownIt:
    """A parser that sees raw HTML and code where Hugo's goldmark does (markup.parser).

    Given the text it will parse, the parser leaves out the extensions that cannot fire
    in it (a footnote needs `[^`, a definition a line starting with `:` or `~`): the
    same tokens, without the plugins' cost on every line.
    """
    settings = settings or markup.Markup()
    if text is not None:
        settings = markup.narrowed(settings, text)
    return markup.parser(settings)


def tokens(page: Page) -> list[Token]:
    """Block tokens of the page; `token.map` holds 0-based file line ranges."""
    source = page.markdown_source()
    return markdown(page.settings, source).parse(source)


def walk(tokens_: Iterable[Token]) -> Iterator[Token]:
    """Every token, children (inline content) included, in document order."""
    for token in tokens_:
        yield token
        if token.children:
            yield from walk(token.children)


@dataclasses.dataclass(frozen=True)
class Skipped:
    """A path given on the command line (or met while walking) that is not a page."""

    path: Path
    reason: str


def _root_problem(root: Path) -> str | None:
    """Why a path given on the command line cannot be read as pages (None: it can)."""
    if not root.exists() and not root.is_symlink():
        return "no such file or directory"
    if root.is_symlink() and not root.exists():
        return "broken or looping symlink"
    if not root.is_dir() and not _is_regular(root):
        return NOT_REGULAR
    if not root.is_file() and root.suffix in CONTENT_SUFFIXES:
        return "is a directory, not a page"
    return None


def _prune(base: Path, dirnames: list[str]) -> Iterator[Skipped]:
    """Sort the walk's subfolders in place; leave out (and report) links and `x.md/`."""
    dirnames.sort()
    for name in list(dirnames):
        sub = base / name
        if sub.is_symlink():
            dirnames.remove(name)
            yield Skipped(sub, "symlinked directory not followed")
        elif name.endswith(CONTENT_SUFFIXES):
            dirnames.remove(name)
            yield Skipped(sub, "is a directory, not a page")


def _file_problem(path: Path) -> str | None:
    if path.is_symlink() and not path.exists():
        return "broken or looping symlink"
    return None if _is_regular(path) else NOT_REGULAR


def _walk(root: Path) -> Iterator[Path | Skipped]:
    """Pages and refusals below a folder, in sorted order, symlinked folders not followed."""
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        base = Path(dirpath)
        yield from _prune(base, dirnames)
        for name in sorted(filenames):
            if name.endswith(CONTENT_SUFFIXES):
                path = base / name
                problem = _file_problem(path)
                yield path if problem is None else Skipped(path, problem)


def find_pages(paths: Iterable[Path]) -> Iterator[Path | Skipped]:
    """Content files under the given paths, sorted, each once.

    Directories are walked without following symlinks, so a symlink loop cannot trap
    the walk; a directory whose name looks like a page (`x.md/`) is reported, not read.
    """
    seen: set[Path] = set()
    for root in paths:
        problem = _root_problem(root)
        if problem is not None:
            yield Skipped(root, problem)
            continue
        for found in [root] if root.is_file() else _walk(root):
            if isinstance(found, Skipped):
                yield found
            elif found.resolve() not in seen:
                seen.add(found.resolve())
                yield found
