"""What goldmark sees: the site's markup settings and a markdown-it-py parser that follows them.

Hugo renders with goldmark, configured by `[markup.goldmark]` in the site's config.toml
(or hugo.toml). The sanitiser is only as good as its agreement with goldmark on where raw
HTML is, so the parser is built from the same settings: goldmark's extensions through
mdit-py-plugins, and goldmark's own HTML block start conditions where they differ from
CommonMark's. tests/test_goldmark_parity.py builds the differences with Hugo itself.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from pathlib import Path
from typing import Any, Final

from markdown_it import MarkdownIt
from markdown_it.common.html_blocks import block_names
from markdown_it.common.html_re import attribute
from markdown_it.rules_block import StateBlock
from markdown_it.rules_inline import StateInline

# Hugo reads the first of these it finds in the site root.
CONFIG_NAMES: Final = ("hugo.toml", "config.toml")
# markdown-it stops parsing (silently) below this many nested blocks; goldmark never stops.
# The commonmark preset's 20 is raised, and pages.too_deep tells when a page goes past it.
MAX_NESTING: Final = 100


@dataclasses.dataclass(frozen=True)
class Markup:
    """The goldmark settings that change where raw HTML is. Defaults are Hugo's own."""

    footnote: bool = True
    definition_list: bool = True
    task_list: bool = True
    table: bool = True
    strikethrough: bool = True
    # markup.goldmark.parser.attribute: `{…}` after headings (title) and under blocks.
    heading_attributes: bool = True
    block_attributes: bool = False
    # The site root (where config.toml is), for the shortcode templates; None: no site.
    root: Path | None = None

    @property
    def shortcode_dirs(self) -> tuple[Path, ...]:
        if self.root is None:
            return ()
        return (self.root / "layouts" / "_shortcodes", self.root / "layouts" / "shortcodes")


def _get(table: dict[str, Any], *keys: str, default: bool) -> bool:
    for key in keys[:-1]:
        found = table.get(key)
        table = found if isinstance(found, dict) else {}
    value = table.get(keys[-1], default)
    # A table (e.g. `[markup.goldmark.extensions.footnote] enable = …`) or a plain bool.
    if isinstance(value, dict):
        value = value.get("enable", default)
    return bool(value)


def markup_from_config(config: dict[str, Any], root: Path | None) -> Markup:
    goldmark = config.get("markup", {}).get("goldmark", {})
    ext = goldmark.get("extensions", {})
    attrs = goldmark.get("parser", {}).get("attribute", {})
    return Markup(
        footnote=_get(ext, "footnote", default=True),
        definition_list=_get(ext, "definitionList", default=True),
        task_list=_get(ext, "taskList", default=True),
        table=_get(ext, "table", default=True),
        strikethrough=_get(ext, "strikethrough", default=True),
        heading_attributes=_get(attrs, "title", default=True),
        block_attributes=_get(attrs, "block", default=False),
        root=root,
    )


class ConfigError(Exception):
    """The site's config file cannot be read: `file:line: reason` like any bad input."""

    def __init__(self, path: Path, line: int, reason: str) -> None:
        super().__init__(f"{path}:{line}: {reason}")
        self.path, self.line, self.reason = path, line, reason


@functools.cache
def _markup_of_root(root: Path) -> Markup:
    for name in CONFIG_NAMES:
        path = root / name
        if path.is_file():
            import tomllib  # only once a config is found: a page of no site needs none

            try:
                config = tomllib.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
                line = getattr(exc, "lineno", 1) or 1
                raise ConfigError(path, line, f"cannot read the site config: {exc}") from None
            return markup_from_config(config, root)
    return Markup(root=root)


def site_root(path: Path) -> Path | None:
    """The nearest folder at or above `path` (or the working directory) with a Hugo config."""
    return _root_of(path.resolve().parent if path.suffix else path.resolve())


@functools.lru_cache(maxsize=1024)
def _root_of(start: Path) -> Path | None:
    # Once per folder: every page of a folder (and every view of a page the sanitiser
    # scans) asks, and the walk stats each folder up to the root.
    for folder in (start, *start.parents):
        if any((folder / name).is_file() for name in CONFIG_NAMES):
            return folder
    return None


def markup_for(path: Path) -> Markup:
    """The settings of the site that `path` (a content file) belongs to; Hugo's defaults
    when it belongs to none."""
    root = site_root(path)
    return Markup() if root is None else _markup_of_root(root)


# --------------------------------------------------------------------------- HTML blocks

# goldmark's block tag list is CommonMark's plus `meta` (seen with Hugo 0.168: `<meta>`
# interrupts a paragraph and ends at a blank line).
BLOCK_NAMES: Final = frozenset({*block_names, "meta"})
_BLOCK_NAMES: Final = "|".join(sorted(BLOCK_NAMES))
_ATTRIBUTES: Final = attribute
# A start line of each kind: (opening, closing, can interrupt a paragraph). Where goldmark
# departs from CommonMark: `</` may be followed by spaces before the tag name (`</ div>`),
# a closing tag may carry attributes or a slash (type 7: `</ span x>`, `</span/>`), and a
# declaration needs an upper-case letter (`<!doctype>` is text to goldmark). Compiled on
# the first line that starts with `<`: many pages (all of a snippet run's, often) have none.
_Sequence = tuple[re.Pattern[str], re.Pattern[str] | None, bool]


@functools.cache
def _sequences() -> tuple[_Sequence, ...]:
    """(opening, closing, can interrupt a paragraph) of each kind of HTML block start."""
    return (
        (re.compile(r"^<(?:script|pre|style|textarea)(?=\s|>|$)", re.I),
         re.compile(r"</(?:script|pre|style|textarea)>", re.I), True),
        (re.compile(r"^<!--"), re.compile(r"-->"), True),
        (re.compile(r"^<\?"), re.compile(r"\?>"), True),
        (re.compile(r"^<![A-Z]"), re.compile(r">"), True),
        (re.compile(r"^<!\[CDATA\["), re.compile(r"\]\]>"), True),
        (re.compile(rf"^<(?:/ *)?(?:{_BLOCK_NAMES})(?=\s|/?>|$)", re.I), None, True),
        (re.compile(rf"^(?:<[A-Za-z][A-Za-z0-9-]*{_ATTRIBUTES}*\s*/?>"
                    rf"|</ *[A-Za-z][A-Za-z0-9-]*{_ATTRIBUTES}*\s*/?>)\s*$"), None, False),
    )


def _block_end(state: StateBlock, start: int, end: int, closing: re.Pattern[str] | None,
               text: str) -> int:
    """The line after the block that opens on line `start` (its end condition: a blank
    line when `closing` is None, else the line where `closing` matches)."""
    line = start + 1
    if closing is not None and closing.search(text):
        return line
    while line < end:
        blank = state.isEmpty(line)
        if state.sCount[line] < state.blkIndent and (closing is None or not blank):
            break
        if closing is None and blank:
            break
        text = state.src[state.bMarks[line] + state.tShift[line]:state.eMarks[line]]
        line += 1
        if closing is not None and closing.search(text):
            break
    return line


def _html_block(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """markdown-it's html_block rule with goldmark's start conditions (see _sequences)."""
    pos = state.bMarks[start] + state.tShift[start]
    if state.is_code_block(start) or pos >= len(state.src) or state.src[pos] != "<":
        return False
    text = state.src[pos:state.eMarks[start]]
    found = next((s for s in _sequences() if s[0].search(text)), None)
    if found is None:
        return False
    if silent:
        return found[2]
    line = _block_end(state, start, end, found[1], text)
    state.line = line
    token = state.push("html_block", "", 0)
    token.map = [start, line]
    token.content = state.getLines(start, line, state.blkIndent, True)
    return True


def _record_html_inline_offsets(md: MarkdownIt) -> None:
    """Make each html_inline token carry `meta["offset"]`: where it starts in its inline
    token's `content`. markdown-it gives inline tokens no columns; the sanitiser needs
    the exact place of each piece of raw HTML to rewrite only those bytes.
    """
    rule = next(r for r in md.inline.ruler.__rules__ if r.name == "html_inline").fn

    def html_inline(state: StateInline, silent: bool) -> bool:
        start = state.pos
        found: bool = rule(state, silent)
        if found and not silent:
            state.tokens[-1].meta["offset"] = start
        return found

    md.inline.ruler.at("html_inline", html_inline)


_DEFINITION_RE: Final = re.compile(r"^[ \t>]*[:~]", re.MULTILINE)


def narrowed(markup: Markup, text: str) -> Markup:
    """`markup` without the extensions that find nothing in `text` (same parse, cheaper)."""
    footnote = markup.footnote and "[^" in text
    definitions = markup.definition_list and _DEFINITION_RE.search(text) is not None
    tasks = markup.task_list and "[" in text
    if (footnote, definitions, tasks) == (markup.footnote, markup.definition_list,
                                          markup.task_list):
        return markup
    return dataclasses.replace(markup, footnote=footnote, definition_list=definitions,
                               task_list=tasks)


@functools.cache
def parser(markup: Markup = Markup()) -> MarkdownIt:
    """A markdown-it parser that sees raw HTML and code where this site's goldmark does."""
    md = MarkdownIt("commonmark", {"maxNesting": MAX_NESTING})
    md.enable([name for name, on in (("table", markup.table),
                                     ("strikethrough", markup.strikethrough)) if on])
    md.block.ruler.at("html_block", _html_block,
                      {"alt": ["paragraph", "reference", "blockquote"]})
    # Each plugin imported only when used: `narrowed` leaves most out of most pages.
    if markup.footnote:
        from mdit_py_plugins.footnote import footnote_plugin

        md.use(footnote_plugin, inline=False)  # goldmark has no inline ^[…] footnotes
    if markup.definition_list:
        from mdit_py_plugins.deflist import deflist_plugin

        md.use(deflist_plugin)
    if markup.task_list:
        from mdit_py_plugins.tasklists import tasklists_plugin

        md.use(tasklists_plugin)
    _record_html_inline_offsets(md)
    return md
