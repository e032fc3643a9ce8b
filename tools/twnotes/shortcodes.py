"""Shortcodes as Hugo handles them: the page goldmark sees, and the inner texts it renders apart.

Hugo finds shortcode calls (`{{< name >}}`, `{{% name %}}`) before Markdown is parsed and
puts a placeholder word where each call stood, inner content included; goldmark renders
the page with the placeholders; the shortcodes' output replaces them afterwards. What a
shortcode does with its inner content is up to its template, so each project shortcode
says so in its header comment, on a line of its own:

    Inner: markdown   (rendered on its own, like `.Inner | strings.TrimSpace | .Page.RenderString`)
    Inner: verbatim   (escaped or highlighted by the template; never touched)
    Inner: none       (takes no inner content)

`view` gives the page with placeholders (the outer document) and the inner texts declared
Markdown (documents of their own), with offsets into the file, so that the sanitiser can
scan each exactly as goldmark will meet it and still rewrite the file's own bytes.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Final

MODES: Final = ("markdown", "verbatim", "none")
# Hugo's embedded shortcodes and what they do with inner content.
BUILTIN: Final = {
    "details": "markdown", "highlight": "verbatim", "comment": "verbatim",
    "figure": "none", "gist": "none", "instagram": "none", "param": "none", "qr": "verbatim",
    "ref": "none", "relref": "none", "vimeo": "none", "x": "none", "youtube": "none",
}
_DECLARATION: Final = re.compile(r"^\s*Inner:\s*(\w+)", re.MULTILINE)
# A call: opening, closing (`/name`) or self-closing (`name … /`); quoted arguments may
# hold `>}}`. `{{</* … */>}}` is Hugo's escape for showing a call literally.
_ESCAPED: Final = re.compile(r"\{\{</\*.*?\*/>\}\}|\{\{%/\*.*?\*/%\}\}", re.DOTALL)
_ARGS: Final = r'(?P<args>(?:"(?:[^"\\]|\\.)*"|`[^`]*`|[^"`])*?)'
_CALL: Final = re.compile(
    r"\{\{(?P<delim>[<%])\s*(?P<close>/)?\s*(?P<name>[\w./-]+)" + _ARGS
    + r"\s*(?P<self>/)?\s*(?:>|%)\}\}", re.DOTALL)


class ShortcodeError(Exception):
    """Bad input at an offset of the text (the caller turns it into `file:line`)."""

    def __init__(self, offset: int, reason: str) -> None:
        super().__init__(reason)
        self.offset, self.reason = offset, reason


@dataclasses.dataclass(frozen=True)
class Call:
    """A top-level call: text[start:end] is the whole call, inner content included."""

    name: str
    start: int
    end: int
    # Where the inner content is in the text, for calls declared `Inner: markdown`.
    inner: tuple[int, int] | None = None


@functools.cache
def declared_mode(folders: tuple[Path, ...], name: str) -> str | None:
    """The `Inner:` mode a shortcode template declares (or a built-in's), None if unknown."""
    for folder in folders:
        for suffix in (".html", ".md"):
            path = folder / f"{name}{suffix}"
            if path.is_file():
                found = _DECLARATION.search(path.read_text(encoding="utf-8", errors="replace"))
                return found.group(1).lower() if found else None
    return BUILTIN.get(name)


def _tags(text: str, start: int) -> Iterator[re.Match[str]]:
    escaped = [(m.start(), m.end()) for m in _ESCAPED.finditer(text, start)]
    for match in _CALL.finditer(text, start):
        if not any(s <= match.start() < e for s, e in escaped):
            yield match


def _close(tag: re.Match[str], stack: list[re.Match[str]], folders: tuple[Path, ...],
           ) -> Call | None:
    """A closing tag: pops its opening; the call it ends, if that call is top level."""
    name = tag.group("name")
    if not stack or stack[-1].group("name") != name:
        raise ShortcodeError(tag.start(), f"{{{{< /{name} >}}}} closes no open "
                             f"{{{{< {name} >}}}}")
    opening = stack.pop()
    if stack:
        return None
    inner = (opening.end(), tag.start()) if declared_mode(folders, name) == "markdown" else None
    return Call(name, opening.start(), tag.end(), inner)


def _opens(tag: re.Match[str], closed: set[str], folders: tuple[Path, ...]) -> bool:
    """Whether an opening tag starts a call with inner content (False: it stands alone)."""
    name = tag.group("name")
    mode = declared_mode(folders, name)
    inner = mode in ("markdown", "verbatim")
    if tag.group("self") or (name not in closed and not inner):
        return False
    if not inner:
        where = folders[0] / f"{name}.html" if folders else Path(f"{name}.html")
        raise ShortcodeError(tag.start(), f"{{{{< {name} >}}}} has inner content, but "
                             f"{where} declares no 'Inner: markdown' or 'Inner: verbatim'")
    if tag.group("delim") == "%":
        raise ShortcodeError(tag.start(), f"{{{{% {name} %}}}} with inner content: its "
                             "output becomes Markdown of the page; use {{< … >}}")
    return True


def calls(text: str, start: int, folders: tuple[Path, ...]) -> list[Call]:
    """The top-level calls in text[start:], paired with their closing tags."""
    tags = list(_tags(text, start))
    closed = {m.group("name") for m in tags if m.group("close")}
    found: list[Call] = []
    stack: list[re.Match[str]] = []
    for tag in tags:
        if tag.group("close"):
            call = _close(tag, stack, folders)
            found.extend([call] if call is not None else [])
        elif _opens(tag, closed, folders):
            stack.append(tag)
        elif not stack:
            found.append(Call(tag.group("name"), tag.start(), tag.end()))
    if stack:
        name = stack[-1].group("name")
        raise ShortcodeError(stack[-1].start(), f"{{{{< {name} >}}}} is never closed")
    return found


def _placeholder_base(text: str) -> int:
    for base in range(0xE000, 0xF800, 0x20):
        if not any(chr(c) in text for c in range(base, base + 12)):
            return base
    raise ShortcodeError(0, "no free private-use characters for placeholders")  # pragma: no cover


@dataclasses.dataclass(frozen=True)
class View:
    """The text with each call replaced by a placeholder word, as goldmark receives it."""

    source: str
    text: str
    calls: tuple[Call, ...]
    # (start in text, end in text) of each call's placeholder.
    spans: tuple[tuple[int, int], ...]

    def placeholder(self, index: int) -> str:
        return self.text[self.spans[index][0]:self.spans[index][1]]

    def to_source(self, pos: int, *, end: bool = False) -> int:
        """The offset in the source of view offset `pos` (outside placeholders)."""
        delta = 0
        for call, (start, stop) in zip(self.calls, self.spans, strict=True):
            if pos < start or (end and pos == start):
                break
            if pos < stop:
                raise ShortcodeError(call.start, "raw HTML is cut inside a shortcode call")
            delta = call.end - stop
        return pos + delta

    def source_offset_of_line(self, line: int) -> int:
        """The source offset where 1-based view line `line` starts."""
        pos = 0
        for _ in range(line - 1):
            found = self.text.find("\n", pos)
            if found < 0:
                break
            pos = found + 1
        try:
            return self.to_source(pos)
        except ShortcodeError as exc:
            return exc.offset

    def covered(self, start: int, end: int) -> list[int]:
        """The calls whose placeholders lie within text[start:end]."""
        return [i for i, (s, e) in enumerate(self.spans) if start <= s and e <= end]

    def restore(self, new: str, start: int, end: int, calls: Sequence[str]) -> str:
        """`new` (replacing text[start:end]) with each placeholder back to its call, written
        as `calls` gives it (the call as it is, or with its inner text cleaned)."""
        for index in self.covered(start, end):
                word = self.placeholder(index)
                call = self.calls[index]
                if new.count(word) != 1:
                    raise ShortcodeError(call.start, f"{{{{< {call.name} >}}}} stands inside "
                                         "raw HTML that the sanitiser removes; move it out")
                new = new.replace(word, calls[index])
        return new


def view(text: str, start: int, folders: tuple[Path, ...]) -> View:
    """The view of text[start:] (start: after the front matter, which Hugo leaves alone)."""
    found = calls(text, start, folders)
    if not found:
        return View(text, text, (), ())
    base = _placeholder_base(text)
    parts: list[str] = []
    spans: list[tuple[int, int]] = []
    last = length = 0
    for index, call in enumerate(found):
        parts.append(text[last:call.start])
        length += call.start - last
        digits = "".join(chr(base + 2 + int(d)) for d in str(index))
        word = chr(base) + digits + chr(base + 1)
        spans.append((length, length + len(word)))
        parts.append(word)
        length += len(word)
        last = call.end
    parts.append(text[last:])
    return View(text, "".join(parts), tuple(found), tuple(spans))
