"""Pages -> Snippets: every fenced Python block of a page, its options and expected output.

Found with markdown-it-py's tokens (pages.tokens); the info string is read as written, the
way Hugo's own parser sees it (snippets.attributes).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from twnotes import pages
from twnotes.pages import Page, PageError
from twnotes.snippets import config
from twnotes.snippets.attributes import AttributeSyntaxError, read_info
from twnotes.snippets.config import Settings
from twnotes.snippets.options import Options, options_from

PYTHON_LANGUAGES = frozenset({"python", "py", "python3"})
OUTPUT_LANGUAGE = "output"


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
        import hashlib  # once results are made, after the programs have been handed out

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
