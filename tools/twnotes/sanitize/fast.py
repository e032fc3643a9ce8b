"""The already-clean check: a fragment in the serialiser's canonical form, recognised
without building a tree (the common case: `--check` on content cleaned before)."""

from __future__ import annotations

import re
from typing import Final

from html5lib import constants as html5lib_constants

from twnotes import policy
from twnotes.sanitize.html5 import _BLANK_LINE_RE, VOID

# What _emit writes is in a canonical form: lower-case tags, attributes in the policy's
# order as ` name="value"` with a fixed set of escapes, text with only &amp; &lt; &gt;
# (and &#10; for a blank line). A fragment already in that form, whose tags html5lib nests
# exactly as written, is its own clean form; _already_clean recognises it without building
# a tree. It reads a deliberately small language; anything outside it, or any nesting it
# is unsure of, answers False and the fragment takes the full path.

_NONCHARACTERS: Final = "".join(rf"\U{p:08x}\U{p + 1:08x}"
                                for p in range(0xFFFE, 0x110000, 0x10000))
# Characters html5lib reports or rewrites (NUL, CR, controls, lone surrogates,
# noncharacters), and form feed: not in the fast language.
_UNUSUAL_RE: Final = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef" + _NONCHARACTERS + "]")
_VALUE: Final = r'(?:[^"<>&\t\n]|&(?:amp|lt|gt|quot|#10|#9);)*'
# Text without markup characters, one of the four references _emit writes in text, a start
# tag exactly as _emit writes it, or an end tag. In this language html5lib's tokenizer only
# visits the data, tag open, tag name, attribute name, attribute value (double-quoted) and
# character reference states, each of them in its plainest branch.
_CANON_TOKEN_RE: Final = re.compile(
    r"(?P<text>[^<>&]+)"
    r"|&(?P<ref>amp|lt|gt|#10);"
    rf'|<(?P<start>[a-z][a-z0-9]*)(?P<attrs>(?: [a-z]+="{_VALUE}")*)>'
    r"|</(?P<end>[a-z][a-z0-9]*)>")
_CANON_ATTR_RE: Final = re.compile(rf' ([a-z]+)="({_VALUE})"')
_ATTR_REF_RE: Final = re.compile(r"&(?:amp|lt|gt|quot|#10|#9);")
_ATTR_REFS: Final = {"&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#10;": "\n",
                     "&#9;": "\t"}

_FAST_INLINE_TAGS: Final = policy.INLINE_TAGS
_FAST_BLOCK_TAGS: Final = policy.BLOCK_TAGS - {"pre"}  # pre drops a leading newline
_HEADINGS: Final = frozenset(html5lib_constants.headingElements)
# Inside these, html5lib's table insertion modes nest only these children as written
# (anything else is moved out of the table, or gets an implied parent).
_TABLE_CHILDREN: Final = {
    "table": frozenset({"caption", "colgroup", "tbody", "thead", "tfoot"}),
    "tbody": frozenset({"tr"}), "thead": frozenset({"tr"}), "tfoot": frozenset({"tr"}),
    "tr": frozenset({"td", "th"}),
    "colgroup": frozenset({"col"}),
}
# Every table part: outside its parent, each is moved or given an implied parent.
_TABLE_PARTS: Final = frozenset().union(*_TABLE_CHILDREN.values())
_ITEM_PARENTS: Final = {"li": ("ul", "ol"), "dt": ("dl",), "dd": ("dl",)}
# The standard's formatting elements among the allowed tags (html5lib's own list): with
# three of one kind open, a fourth may drop the first from the active formatting list
# ("Noah's Ark"), and an end tag can then close more than its own element. (bs4's html5lib
# tree builder never applies that clause, as it compares attributes by identity; a
# browser does.)
_FORMATTING: Final = policy.INLINE_TAGS & frozenset(
    name for _, name in html5lib_constants.formattingElements)
_FAST_DEPTH: Final = 64


def _already_clean(fragment: str, inline: bool, rendered: bool = False) -> bool:
    """True only if cleaning `fragment` would return it unchanged (see the section note).

    Rules that keep html5lib's tree the one the tags spell (its "in body" and table
    insertion modes): every end tag closes the element opened last, and nothing is left
    open; a start tag that closes a <p> (every allowed tag outside the inline set) opens
    with no <p> and no inline element open, so nothing is closed implicitly and no
    formatting element is ever reconstructed; li, dt and dd open directly inside their
    list; no heading inside a heading, no <a> inside an <a>, no fourth formatting element
    of a kind inside three open ones, rp and rt directly inside ruby; table parts only
    where their insertion mode takes them, and only whitespace between them; no <pre>
    (the newline it eats). Attributes must be what the policy keeps, in its order,
    written as _emit writes them; the text must hold no blank line.
    """
    if _UNUSUAL_RE.search(fragment):
        return False
    allowed = _FAST_INLINE_TAGS if inline else _FAST_BLOCK_TAGS
    stack: list[str] = []
    newline_refs: list[int] = []
    match = _CANON_TOKEN_RE.match
    pos, end = 0, len(fragment)
    while pos < end:
        token = match(fragment, pos)
        if token is None or not _token_ok(token, stack, newline_refs, allowed, rendered):
            return False
        pos = token.end()
    if stack:
        return False
    # _emit writes a newline followed by a blank line as &#10;, and nowhere else.
    written = fragment
    for start in reversed(newline_refs):
        written = written[:start] + "\n" + written[start + 5:]
    return _BLANK_LINE_RE.sub("&#10;", written) == fragment


def _token_ok(token: re.Match[str], stack: list[str], newline_refs: list[int],
              allowed: frozenset[str], rendered: bool) -> bool:
    """Whether one token keeps the fragment in the fast language; opens and closes `stack`
    and records where a `&#10;` stands."""
    kind = token.lastgroup
    current = stack[-1] if stack else ""
    in_table = current in _TABLE_CHILDREN
    if kind == "text":
        return not (in_table and token.group().strip(" \t\n"))
    if kind == "ref":
        if token.group("ref") == "#10":
            newline_refs.append(token.start())
        return not in_table
    if kind == "end":
        if token.group("end") != current:
            return False
        stack.pop()
        return True
    name = token.group("start")
    if not (_start_ok(name, current, stack, allowed)
            and _attrs_ok(name, token.group("attrs"), rendered)):
        return False
    if name not in VOID:
        stack.append(name)
    return len(stack) <= _FAST_DEPTH


def _start_ok(name: str, current: str, stack: list[str], allowed: frozenset[str]) -> bool:
    """Whether html5lib nests a start tag where it is written (see _already_clean)."""
    if name not in allowed:
        return False
    if current in _TABLE_CHILDREN:
        return name in _TABLE_CHILDREN[current]
    if name in _TABLE_PARTS:
        return False
    if name in policy.INLINE_TAGS:
        return _inline_ok(name, current, stack)
    return _block_ok(name, current, stack)


def _inline_ok(name: str, current: str, stack: list[str]) -> bool:
    """No <a> in an <a>, rp and rt only in ruby, no fourth formatting element of a kind."""
    return not ((name == "a" and "a" in stack)
                or (name in ("rp", "rt") and current != "ruby")
                or (name in _FORMATTING and stack.count(name) >= 3))


def _block_ok(name: str, current: str, stack: list[str]) -> bool:
    """Nothing a block start would close (a <p>, an inline element), items in their
    list, no heading in a heading."""
    return not (any(open_ == "p" or open_ in policy.INLINE_TAGS for open_ in stack)
                or (name in _ITEM_PARENTS and current not in _ITEM_PARENTS[name])
                or (name in _HEADINGS and not _HEADINGS.isdisjoint(stack)))


def _attrs_ok(name: str, raw: str, rendered: bool) -> bool:
    """Whether a start tag's attributes are what the policy keeps, written as _emit does."""
    if not raw:
        return True
    attrs = [(key, _ATTR_REF_RE.sub(lambda r: _ATTR_REFS[r.group()], value))
             for key, value in _CANON_ATTR_RE.findall(raw)]
    return (len({key for key, _ in attrs}) == len(attrs)
            and policy.clean_attrs(name, attrs, rendered=rendered) == attrs)
