"""Snippets -> Cases: what runs as one program (a block, or a chain joined by setup blocks
and `continues=true`), collected from pages, selected by -k and sharded."""

from __future__ import annotations

import dataclasses
import json
import re
import sys
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path

from twnotes import pages
from twnotes.pages import PageError
from twnotes.runner import Program, Segment
from twnotes.snippets import config
from twnotes.snippets.config import Settings
from twnotes.snippets.extract import Snippet, extract

CACHE_VERSION = 2


@dataclasses.dataclass(frozen=True)
class Versions:
    """What the cache keys and the results file say the snippets ran under."""

    python: str
    twisted: str


@cache
def versions() -> Versions:
    """Twisted's version from its installed metadata, read as a file: importing Twisted
    would cost a third of a second, importlib.metadata (email, zipfile) half as much."""
    import platform

    return Versions(platform.python_version(), _installed_version("twisted"))


def _installed_version(name: str) -> str:
    """The Version field of the first `name-*.dist-info` on sys.path (names compared
    case-insensitively, as installers spell them either way); "not installed" if none."""
    import glob

    # One pattern for the one name, each letter either case: no listing of every dist-info.
    pattern = "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else glob.escape(c)
                      for c in name) + "-*.dist-info"
    for entry in sys.path:
        for info in sorted(glob.glob(pattern, root_dir=entry or ".")):
            try:
                text = (Path(entry or ".") / info / "METADATA").read_text(encoding="utf-8")
            except OSError:
                continue
            match = re.search(r"^Version:\s*(\S+)", text, re.MULTILINE)
            if match:
                return match.group(1)
    return "not installed"


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
        import hashlib  # here, as no run that keeps no cache needs it before its programs

        blob = json.dumps({
            "v": CACHE_VERSION, "python": versions.python, "twisted": versions.twisted,
            "snippets": [[s.code, s.options.as_dict(), s.expected] for s in self.blocks],
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
    """What `collect` found: the cases, or what stopped it."""

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
