"""Make the raw HTML in notes safe, in place, the way a formatter rewrites code.

markdown-it-py finds raw HTML exactly where Hugo's goldmark would (html_block tokens and
the html_inline children of inline tokens); each piece is parsed by html5lib through
beautifulsoup4 the way a browser parses it, cleaned against `policy`, serialised, checked
to parse back to the same tree, and written back over its own bytes only. Every other
byte of the file (front matter, BOM, CRLF, trailing spaces, code) stays as it was.
A piece already in the clean form is recognised without a parse (_already_clean), which
is the common case: `--check` on content that was sanitised before.
"""

from __future__ import annotations

import bisect
import dataclasses
import difflib
import functools
import html
import re
import shlex
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Final, TextIO

import html5lib
from bs4 import BeautifulSoup
from bs4.builder._html5lib import Element, HTML5TreeBuilder, TreeBuilderForHtml5lib
from bs4.element import Comment, NavigableString, PageElement, Tag
from markdown_it.token import Token

from twnotes import markup, pages, policy, shortcodes

XHTML_NS: Final = "http://www.w3.org/1999/xhtml"
VOID: Final = frozenset({
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
    "source", "track", "wbr",
})
# Elements whose first newline the HTML parser drops: one more is written to keep it.
NEWLINE_EATERS: Final = frozenset({"pre", "listing", "textarea"})
# Tree depth kept (deeper elements are unwrapped, text kept) and the tag depth html5lib
# is ever shown: its scope checks walk the open-element stack, so nesting costs
# quadratic time, and bs4 and html5lib recurse in places. Both caps keep time bounded.
MAX_DEPTH: Final = 100
PARSE_DEPTH: Final = 400
MAX_ROUNDS: Final = 3

# HTML block start condition 6 (goldmark's tag list): a line opening with one of these tags
# starts a block that runs to the next blank line, whatever else the line holds.
BLOCK_START: Final = markup.BLOCK_NAMES
_BLOCK_START_RE: Final = re.compile(r"</?([A-Za-z][A-Za-z0-9-]*)(?:[ \t/>]|$)")
# Start conditions 1-5 end at a marker line, not at a blank line.
_MARKER_BLOCK_RE: Final = re.compile(r"<(?:script|pre|style|textarea)(?:[ \t>]|$)|<!|<\?", re.I)
_BLANK_LINE_RE: Final = re.compile(r"\n(?=[ \t]*\n)")
_TAG_RE: Final = re.compile(r"<(/?)([A-Za-z][^\t\n\f />]*)[^>]*?(/?)>")
_LINE_END_RE: Final = re.compile(r"\r\n|\r|\n")
# An li, dt or dd element can only come from a start tag spelled so (any case).
_STRAY_ITEM_RE: Final = re.compile(r"<(?:li|dt|dd)", re.IGNORECASE)

# Why html5lib and not html.parser: bs4's html.parser builder does not follow the HTML5
# parsing algorithm. It hides `<img onerror>` inside `<!-->`, `--!>` and `<![CDATA[`,
# which a browser ends early and then runs, and it reads the text of textarea, title,
# xmp, noembed, noframes and noscript as markup where a browser reads text. A sanitiser
# must judge the tree the browser will build, so it parses with html5lib.
#
# Most fragments are parsed with html5lib's fragment parsing algorithm (the one behind
# innerHTML) with a <div> as the context element: the tree construction of a no-quirks
# page's body, without a document built around every fragment. html5lib's fragment mode
# departs from the standard in one place that the div context can reach: a <table> start
# tag met inside a table closes that table and is then dropped (in a document it starts
# a new one). A fragment that spells "<table" twice is therefore parsed as the body of a
# whole document instead; with one table start tag the difference cannot arise. The other
# differences are in tokens the policy drops whole (html, head, body, frameset and
# comments after </body>), and tests/test_sanitize_fast.py compares the two routes.
# (In the document, html, head and the start of body are implied: the same tree and
# state as writing them.)
_BODY_PREFIX: Final = "<!DOCTYPE html><body>"
_TABLE_START_RE: Final = re.compile(r"<table", re.IGNORECASE)


def _merge_text(tag: Tag, old: NavigableString, new: NavigableString) -> None:
    """`old.replace_with(new)` where `old` is the last child of `tag`: the same steps.

    bs4's extract() of `old`, then its _insert() of `new` at the end, spelled out for
    this one case instead of going through the general-purpose methods (which look the
    index up, re-check types and import inside the call): the same children, siblings
    and element links result.
    """
    # extract(): a string is its own last descendant; it has no next sibling.
    before, after = old.previous_element, old.next_element
    if before is not None and before is not after:
        before.next_element = after
    if after is not None and after is not before:
        after.previous_element = before
    if old.previous_sibling is not None:
        old.previous_sibling.next_sibling = None
    old.parent = old.previous_element = old.next_element = None
    old.previous_sibling = old.next_sibling = None
    del tag.contents[-1]
    # _insert(len(tag.contents), new)
    new.parent = tag
    if tag.contents:
        previous = tag.contents[-1]
        new.previous_sibling = previous
        previous.next_sibling = new
        new.previous_element = previous._last_descendant(False)
    else:
        new.previous_sibling = None
        new.previous_element = tag
    if new.previous_element is not None:
        new.previous_element.next_element = new
    new.next_sibling = None
    following: PageElement | None = None
    ancestor: Tag | None = tag
    while following is None and ancestor is not None:
        following = ancestor.next_sibling
        ancestor = ancestor.parent
    new.next_element = following
    if following is not None:
        following.previous_element = new
    tag.contents.append(new)


class _Element(Element):
    """bs4's html5lib element, with text appended to text merged by _merge_text.

    html5lib hands text over a token at a time (a character reference, a run of spaces
    and the text around them are separate tokens) and bs4 joins each piece to the string
    before it with replace_with(), a general move that took most of the parse time for
    text with entities in it.
    """

    def insertText(self, data: str,
                   insertBefore: Any = None) -> None:
        tag = self.tag
        if insertBefore is None and tag is not None and tag.contents:
            old = tag.contents[-1]
            if type(old) is NavigableString:  # as bs4's appendChild decides to merge
                new = self.soup.new_string(old + data)
                _merge_text(tag, old, new)
                self.soup._most_recent_element = new
                return
        super().insertText(data, insertBefore)


class _FragmentTreeBuilder(TreeBuilderForHtml5lib):
    """bs4's html5lib tree builder, returning the fragment's root element when asked."""

    def elementClass(self, name: str, namespace: str) -> Element:
        # bs4's elementClass (without line numbers), wrapping the tag in _Element.
        tag = self.soup.new_tag(name, namespace, sourceline=None, sourcepos=None)
        return _Element(tag, self.soup, namespace)

    def getFragment(self) -> Tag:  # type: ignore[override]
        # The fragment algorithm's root <html> element; its children are the fragment.
        # (bs4 leaves this NotImplemented; html5lib's default would move every node.)
        root = self.openElements[0].element
        assert isinstance(root, Tag)
        return root


class _Parsers(threading.local):
    parser: html5lib.HTMLParser | None = None


_PARSERS = _Parsers()


def _html5lib_parser() -> html5lib.HTMLParser:
    """This thread's html5lib parser, building bs4 trees with bs4's html5lib tree builder.

    What `BeautifulSoup(markup, "html5lib")` does, minus building a new parser (and its two
    dozen insertion-mode objects) for every fragment, a quarter of the cost of parsing a
    typical one: html5lib resets all of a parser's state when a parse starts, and bs4's
    tree builder resets the soup (documentClass).
    """
    parser = _PARSERS.parser
    if parser is None:
        # No multi-valued attributes: `class` and `rel` values stay the strings the
        # policy reads; line numbers are not used.
        builder = HTML5TreeBuilder(multi_valued_attributes={}, store_line_numbers=False)
        soup = BeautifulSoup("", builder=builder)
        # html5lib only calls `tree(namespaceHTMLElements)`; bs4's feed() passes a bound
        # method the same way.
        parser = _PARSERS.parser = html5lib.HTMLParser(tree=lambda html_ns: (  # type: ignore[arg-type]
            _FragmentTreeBuilder(html_ns, soup, store_line_numbers=False)))
    return parser


def _child(parent: Tag, name: str) -> Tag | None:
    return next((n for n in parent.contents if isinstance(n, Tag) and n.name == name), None)


# --------------------------------------------------------------------------- fragments


def _cap_nesting(fragment: str) -> str:
    """Drop tags nested deeper than PARSE_DEPTH before html5lib sees them (text stays).

    A rough, regex-level cut is enough here: it runs only on absurd nesting, and the
    result is still parsed and cleaned in full, so it can change fidelity, never safety.
    """
    if fragment.count("<") <= PARSE_DEPTH:
        return fragment
    depth, kept, last, cut = 0, [], 0, False
    for match in _TAG_RE.finditer(fragment):
        closing, name, selfclosing = match.group(1), match.group(2).lower(), match.group(3)
        deep = depth >= PARSE_DEPTH
        if closing:
            deep = depth > PARSE_DEPTH
            depth = max(0, depth - 1)
        elif name not in VOID and not selfclosing:
            depth += 1
        if deep:
            kept.append(fragment[last:match.start()])
            last, cut = match.end(), True
    if not cut:
        return fragment
    kept.append(fragment[last:])
    return "".join(kept)


def _parse(fragment: str, inline: bool) -> list[PageElement]:
    """The nodes a browser builds for `fragment` inside a <div> (or a <p> when inline).

    The nodes are valid until this thread's next parse (its parser is reused).
    """
    parser = _html5lib_parser()
    markup = ("<p>" if inline else "") + _cap_nesting(fragment)
    body: Tag | None
    if len(_TABLE_START_RE.findall(markup)) < 2:
        body = parser.parseFragment(markup, container="div")
    else:
        soup = parser.parse(_BODY_PREFIX + markup)
        root = _child(soup, "html")
        body = _child(root, "body") if root is not None else None
    assert isinstance(body, Tag)
    if not inline:
        if _STRAY_ITEM_RE.search(fragment):
            _wrap_strays(parser.tree.soup, body)
        return list(body.contents)
    # Inline: the <p> we opened, then whatever a block tag or </p> pushed out of it.
    nodes: list[PageElement] = list(body.contents)
    if nodes and isinstance(nodes[0], Tag) and nodes[0].name == "p":
        nodes[:1] = list(nodes[0].contents)
    return nodes


def _text_only(nodes: Iterable[PageElement]) -> str:
    """The visible text of nodes, without what the policy drops whole."""
    out: list[str] = []
    stack = list(reversed(list(nodes)))
    while stack:
        node = stack.pop()
        if type(node) is NavigableString:
            out.append(str(node))
        elif isinstance(node, Tag) and node.namespace in (None, XHTML_NS) and (
                node.name not in policy.DROP_WHOLE):
            stack.extend(reversed(node.contents))
    return "".join(out)


def _tags_named(root: Tag, names: tuple[str, ...]) -> list[Tag]:
    """root.find_all(names), in the same document order, without bs4's search machinery."""
    found: list[Tag] = []
    stack: list[PageElement] = list(reversed(root.contents))
    while stack:
        node = stack.pop()
        if isinstance(node, Tag):
            if node.name in names:
                found.append(node)
            stack.extend(reversed(node.contents))
    return found


def _wrap_strays(soup: BeautifulSoup, body: Tag) -> None:
    """Put list items outside a list into a <ul>, and dt/dd outside a <dl> into a <dl>."""
    for names, parents, wrapper in ((("li",), ("ul", "ol"), "ul"),
                                    (("dt", "dd"), ("dl",), "dl")):
        for item in _tags_named(body, names):
            parent = item.parent
            if parent is None or parent.name in parents:
                continue
            box = soup.new_tag(wrapper)
            item.insert_before(box)
            node: PageElement | None = item
            while node is not None:
                nxt = node.next_sibling
                member = isinstance(node, Tag) and node.name in names
                # Whitespace between two items moves with them.
                gap = (isinstance(node, NavigableString) and not node.strip()
                       and isinstance(nxt, Tag) and nxt.name in names)
                if not (member or gap):
                    break
                box.append(node.extract())
                node = nxt


def _escape_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escape_attr(value: str) -> str:
    return (_escape_text(value).replace('"', "&quot;").replace("\n", "&#10;")
            .replace("\t", "&#9;"))


def _clean_attrs(tag: Tag) -> list[tuple[str, str]]:
    return policy.clean_attrs(tag.name, (
        (key, raw if isinstance(raw, str) else " ".join(raw)) for key, raw in tag.attrs.items()))


def _emit(nodes: Iterable[PageElement], *, inline: bool, clean: bool, source: str = "") -> str:
    """Serialise nodes; with `clean`, apply the policy on the way (one pass, no recursion).

    Without `clean` everything is written as parsed: that is the round-trip check. A
    comment is kept when it is safe (policy.is_safe_comment) and was written as one in
    `source`: what the parser turns into a comment (`<!x>`, `</ x>`) is dropped.
    """
    allowed = policy.INLINE_TAGS if inline else policy.BLOCK_TAGS
    out: list[str] = []
    # Work items: a node with its depth, or a closing tag already rendered.
    stack: list[tuple[PageElement, int] | str] = [(n, 1) for n in reversed(list(nodes))]
    after_newline_eater = False
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
            after_newline_eater = False
            continue
        node, depth = item
        if isinstance(node, NavigableString):
            if type(node) is not NavigableString:  # comment, CDATA, doctype, PI
                if not clean or (type(node) is Comment and policy.is_safe_comment(node)
                                 and f"<!--{node}-->" in source):
                    out.append(f"<!--{node}-->")
                    after_newline_eater = False
                continue
            text = str(node)
            if after_newline_eater and text.startswith("\n"):
                out.append("\n")
            if text:
                out.append(_escape_text(text))
                after_newline_eater = False
            continue
        if not isinstance(node, Tag):
            continue
        name = node.name
        children = list(node.contents)
        if clean:
            if node.namespace not in (None, XHTML_NS) or name in policy.DROP_WHOLE:
                continue
            if name not in allowed or depth > MAX_DEPTH:
                stack.extend((child, depth) for child in reversed(children))
                continue
            attrs = _clean_attrs(node) if node.attrs else []
        else:
            if node.namespace not in (None, XHTML_NS):
                name = f"{node.prefix or 'ns'}:{name}"
            attrs = [(k, v if isinstance(v, str) else " ".join(v))
                     for k, v in node.attrs.items()]
        rendered = "".join(f' {k}="{_escape_attr(v)}"' for k, v in attrs)
        out.append(f"<{name}{rendered}>")
        after_newline_eater = name in NEWLINE_EATERS
        if name in VOID:
            continue
        stack.append(f"</{name}>")
        stack.extend((child, depth + 1) for child in reversed(children))
    # A blank line would end an HTML block in Markdown: keep the newline as a reference.
    return _BLANK_LINE_RE.sub("&#10;", "".join(out))


# --------------------------------------------------------------------------- already clean

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

_FAST_BLOCK_TAGS: Final = policy.BLOCK_TAGS - {"pre"}  # pre drops a leading newline
_HEADINGS: Final = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
# Inside these, html5lib's table insertion modes nest only these children as written
# (anything else is moved out of the table, or gets an implied parent).
_TABLE_CHILDREN: Final = {
    "table": frozenset({"caption", "colgroup", "tbody", "thead", "tfoot"}),
    "tbody": frozenset({"tr"}), "thead": frozenset({"tr"}), "tfoot": frozenset({"tr"}),
    "tr": frozenset({"td", "th"}),
    "colgroup": frozenset({"col"}),
}
_TABLE_PARTS: Final = frozenset({"caption", "colgroup", "col", "tbody", "thead", "tfoot",
                                 "tr", "td", "th"})
_ITEM_PARENTS: Final = {"li": ("ul", "ol"), "dt": ("dl",), "dd": ("dl",)}
# The standard's formatting elements among the allowed tags: with three of one kind open,
# a fourth may drop the first from the active formatting list ("Noah's Ark"), and an
# end tag can then close more than its own element. (bs4's html5lib tree builder never
# applies that clause, as it compares attributes by identity; a browser does.)
_FORMATTING: Final = frozenset({"a", "b", "code", "em", "i", "s", "small", "strong", "u"})
_FAST_DEPTH: Final = 64


def _already_clean(fragment: str, inline: bool) -> bool:
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
    allowed = policy.INLINE_TAGS if inline else _FAST_BLOCK_TAGS
    stack: list[str] = []
    newline_refs: list[int] = []
    match = _CANON_TOKEN_RE.match
    pos, end = 0, len(fragment)
    while pos < end:
        token = match(fragment, pos)
        if token is None:
            return False
        pos = token.end()
        kind = token.lastgroup
        current = stack[-1] if stack else ""
        in_table = current in _TABLE_CHILDREN
        if kind == "text":
            if in_table and token.group().strip(" \t\n"):
                return False
        elif kind == "ref":
            if in_table:
                return False
            if token.group("ref") == "#10":
                newline_refs.append(token.start())
        elif kind == "end":
            if token.group("end") != current:
                return False
            stack.pop()
        else:
            name = token.group("start")
            if name not in allowed:
                return False
            if in_table:
                if name not in _TABLE_CHILDREN[current]:
                    return False
            elif name in _TABLE_PARTS:
                return False
            elif name in policy.INLINE_TAGS:
                if ((name == "a" and "a" in stack)
                        or (name in ("rp", "rt") and current != "ruby")
                        or (name in _FORMATTING and stack.count(name) >= 3)):
                    return False
            elif (any(open_ == "p" or open_ in policy.INLINE_TAGS for open_ in stack)
                  or (name in _ITEM_PARENTS and current not in _ITEM_PARENTS[name])
                  or (name in _HEADINGS and not _HEADINGS.isdisjoint(stack))):
                return False
            raw = token.group("attrs")
            if raw:
                attrs = [(key, _ATTR_REF_RE.sub(lambda r: _ATTR_REFS[r.group()], value))
                         for key, value in _CANON_ATTR_RE.findall(raw)]
                if (len({key for key, _ in attrs}) != len(attrs)
                        or policy.clean_attrs(name, attrs) != attrs):
                    return False
            if name not in VOID:
                stack.append(name)
                if len(stack) > _FAST_DEPTH:
                    return False
    if stack:
        return False
    # _emit writes a newline followed by a blank line as &#10;, and nowhere else.
    written = fragment
    for start in reversed(newline_refs):
        written = written[:start] + "\n" + written[start + 5:]
    return _BLANK_LINE_RE.sub("&#10;", written) == fragment


# Notes repeat their fragments (the same table, the same link), and every rewritten page
# is checked again, so results are kept: each clean output is also known to be its own
# clean form (the round-trip check below, and the idempotence property test).
_CACHE: dict[tuple[str, bool], str] = {}
_CACHE_LIMIT: Final = 20_000


def clean_fragment(fragment: str, *, inline: bool = False) -> str:
    """The fragment with everything outside the allow-list removed, well formed.

    The result parses back (html5lib, same context) to exactly the tree it was written
    from, which is what defeats mutation XSS, and cleaning it again changes nothing.
    """
    key = (fragment, inline)
    cached = _CACHE.get(key)
    if cached is None:
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.clear()
        cached = _CACHE[key] = _clean_uncached(fragment, inline)
        _CACHE[(cached, inline)] = cached
    return cached


def clean_fragment_uncached(fragment: str, *, inline: bool = False) -> str:
    """clean_fragment without the cache (benchmarks time the cleaning itself)."""
    return _clean_uncached(fragment, inline)



def _clean_uncached(fragment: str, inline: bool, *, fast: bool = True) -> str:
    """Clean by parsing; `fast=False` never takes the already-clean shortcut (tests)."""
    if fast and _already_clean(fragment, inline):
        return fragment
    current = _PI_RE.sub("", fragment) if "<?" in fragment else fragment
    for _ in range(MAX_ROUNDS):
        cleaned = _emit(_parse(current, inline), inline=inline, clean=True, source=current)
        if cleaned == current:
            return cleaned
        # The round trip: what we write must parse back to what we wrote. Output that
        # passes _already_clean does (that check implies it), without a second parse.
        if ((fast and _already_clean(cleaned, inline))
                or _emit(_parse(cleaned, inline), inline=inline, clean=False) == cleaned):
            return cleaned
        current = cleaned
    # Still not stable: keep only the text, which is always stable.
    text = _text_only(_parse(current, inline))
    return _BLANK_LINE_RE.sub("&#10;", _escape_text(text))


# --------------------------------------------------------------------------- pages


@dataclasses.dataclass(frozen=True)
class Edit:
    """Replace text[start:end] with `new`; `line` (1-based) is where it starts."""

    start: int
    end: int
    new: str
    line: int


@dataclasses.dataclass(frozen=True)
class Result:
    """What sanitising one page gives: the clean text and where it differs."""

    path: Path
    original: str
    cleaned: str
    lines: tuple[int, ...]
    # (line, what changes there), e.g. (12, "drops <script>, drops onclick").
    changes: tuple[tuple[int, str], ...] = ()

    @property
    def changed(self) -> bool:
        return self.cleaned != self.original


_TAG_NAME_RE: Final = re.compile(r"<(/?)([A-Za-z][\w-]*)")
_ATTR_NAME_RE: Final = re.compile(r"""[\s/"']([^\s"'>/=]+)(?=\s*=|[\s/>])""")
_IN_TAG_RE: Final = re.compile(r"<[A-Za-z][^<>]*>?")  # a start tag, to read its attributes
_QUOTED_RE: Final = re.compile(r""""[^"]*"|'[^']*'""")


def describe_change(old: str, new: str) -> str:
    """What cleaning did to a piece of raw HTML, in a few words: `drops <script>, adds
    <tbody>, escapes &`. A summary for the maintainer; --diff shows the bytes."""
    def tags(text: str, end: str = "") -> Counter[str]:
        return Counter(m.group(2).lower() for m in _TAG_NAME_RE.finditer(text)
                       if m.group(1) == end)

    def attrs(text: str) -> Counter[str]:
        return Counter(a.lower() for tag in _IN_TAG_RE.findall(text)
                       for a in _ATTR_NAME_RE.findall(_QUOTED_RE.sub('""', re.sub(
                           r"^<[\w-]+", " ", tag))))

    words: list[str] = []
    old_tags, new_tags = tags(old), tags(new)
    words += [f"drops <{t}>" for t in sorted(old_tags - new_tags)]
    words += [f"adds <{t}>" for t in sorted(new_tags - old_tags) if t != "div" or not (
        new.startswith("<div>") and not old.lstrip().lower().startswith("<div"))]
    if "<div>" in new and not old_tags["div"] and new_tags["div"]:
        words.append("wraps it in <div> (an HTML block must start with a block tag)")
    words += [f"closes <{t}>" for t in sorted(
        tags(new, "/") - tags(old, "/") - (new_tags - old_tags))]
    words += [f"drops {a}" for a in sorted(attrs(old) - attrs(new))]
    words += [f"adds {a}" for a in sorted(attrs(new) - attrs(old))]
    if old.count("<!--") > new.count("<!--"):
        words.append("drops a comment")
    escaped = [c for c, ref in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"))
               if new.count(ref) > old.count(ref)]
    if escaped:
        words.append("escapes " + " ".join(escaped))
    return ", ".join(words) or "rewrites the HTML in its clean form (quotes, case, end tags)"


class _Lines:
    """The page's lines as markdown-it numbers them, with absolute offsets in the text."""

    def __init__(self, page: pages.Page) -> None:
        self.text = page.text
        self.starts = [0]
        self.starts.extend(m.end() for m in _LINE_END_RE.finditer(page.text))
        if self.starts[-1] == len(page.text) and len(self.starts) > 1:
            self.starts.pop()
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


@dataclasses.dataclass(frozen=True)
class _Block:
    """An html_block token's raw HTML and where it stands: lines [first, stop) of the file,
    each line's container prefix (indentation, `> `, list marker) kept apart."""

    first: int
    stop: int
    level: int
    prefixes: tuple[str, ...]
    fragment: str


def _block(page: pages.Page, lines: _Lines, token: Token) -> _Block:
    assert token.map is not None
    first, stop = token.map
    body = token.content.removesuffix("\n").split("\n")
    prefixes: list[str] = []
    for offset, content in enumerate(body):
        source = lines.content(first + offset)
        if not source.endswith(content):
            raise pages.PageError(page.path, first + offset + 1,
                                  "raw HTML inside a tab-indented container: expand the "
                                  "tabs to spaces so it can be rewritten")
        prefixes.append(source[:len(source) - len(content)])
    fragment = "\n".join(body)
    for opening, closing in _MARKER_ENDS:
        match = opening.match(fragment)
        if match and not closing.search(fragment):
            raise pages.PageError(page.path, first + 1, f"{match.group()} is never closed: "
                                  "everything after it would be hidden")
    return _Block(first, stop, token.level, tuple(prefixes), fragment)


# Blocks that end at a marker (CommonMark kinds 1-5), by how they start: left open, they
# run to the end of the document (or of their container).
_MARKER_ENDS: Final = tuple((re.compile(a, re.I), re.compile(b, re.I)) for a, b in (
    (r"<!--", r"-->"), (r"<\?", r"\?>"), (r"<!\[CDATA\[", r"\]\]>"), (r"<![A-Z]", r">"),
    (r"<(script|pre|style|textarea)(?=[\s>]|$)", r"</(script|pre|style|textarea)>")))
# A processing instruction: the browser reads `<?` as a comment that ends at the first
# `>`, so `<?php if ($a > 1) ?>` would leave ` 1) ?>` as text; it goes whole.
_PI_RE: Final = re.compile(r"<\?.*?\?>", re.DOTALL)
# A tag still open at the end of a block (`<div id="x"` and no `>`): the browser would
# read the page that follows as its attributes; its `<` is escaped so the text shows.
_UNTERMINATED_RE: Final = re.compile(r"<(?=[A-Za-z/])[^<>]*\Z")


def _block_edits(page: pages.Page, lines: _Lines, tokens: Sequence[Token]) -> list[Edit]:
    """Edits for the page's HTML blocks. An element opened in one block and closed in a
    later one (Markdown between, as `<details>` is written) is cleaned as one structure."""
    blocks = [_block(page, lines, t) for t in tokens if t.type == "html_block"]
    edits: list[Edit] = []
    index = 0
    while index < len(blocks):
        block = blocks[index]
        unterminated = _UNTERMINATED_RE.search(block.fragment)
        if unterminated:
            edits.append(_escape_lt(lines, block, unterminated.start()))
            index += 1
            continue
        group = _joint_group(page, lines, blocks, index)
        if group is None:
            edit = _rewrite(page, lines, [block], clean_fragment(block.fragment))
            edits.extend([edit] if edit else [])
            index += 1
            continue
        members, pieces = group
        for run, piece in zip(members, pieces, strict=True):
            edit = _rewrite(page, lines, run, piece)
            edits.extend([edit] if edit else [])
        index += sum(len(run) for run in members)
    return edits


def _escape_lt(lines: _Lines, block: _Block, at: int) -> Edit:
    line = block.first + block.fragment.count("\n", 0, at)
    column = at - (block.fragment.rfind("\n", 0, at) + 1)
    start = lines.start(line) + len(block.prefixes[line - block.first]) + column
    return Edit(start, start + 1, "&lt;", line + 1)


_JOINT_LIMIT: Final = 50


def _leaves_open(fragment: str, mark: str) -> bool | None:
    """Whether cleaning `fragment` closes elements it left open (None: it loses `mark`)."""
    cleaned = clean_fragment(fragment + mark)
    if mark not in cleaned:
        return None
    return not cleaned.endswith(mark)


def _joint_group(page: pages.Page, lines: _Lines, blocks: Sequence[_Block],
                 index: int) -> tuple[list[list[_Block]], list[str]] | None:
    """Blocks from `index` on that together close what the first leaves open.

    They are cleaned as one fragment, with a marker standing for the Markdown between
    two blocks (blocks with only blank lines between them are merged into one). Returns
    the runs of blocks (each run becomes one block) and their cleaned pieces, or None
    when the first block is complete on its own or no later block completes it.
    """
    first = blocks[index]
    if clean_fragment(first.fragment) == first.fragment:  # clean, so complete (the common case)
        return None
    taken = "".join(b.fragment for b in blocks[index:index + _JOINT_LIMIT])
    marks = _markers([_Piece(0, taken)] * (_JOINT_LIMIT + 1))
    if _leaves_open(first.fragment, marks[-1]) is not True:
        return None
    runs: list[list[_Block]] = [[first]]
    joint = first.fragment
    for n, block in enumerate(blocks[index + 1:index + _JOINT_LIMIT], start=1):
        if block.level != first.level or _UNTERMINATED_RE.search(block.fragment):
            return None
        gap = "".join(lines.content(i) for i in range(runs[-1][-1].stop, block.first))
        if gap.strip():
            joint += marks[len(runs) - 1]
            runs.append([block])
        else:
            joint += "\n"
            runs[-1].append(block)
        joint += block.fragment
        if _leaves_open(joint, marks[-1]) is False:
            cleaned = clean_fragment(joint)
            pieces: list[str] = []
            for mark in marks[:len(runs) - 1]:
                head, found, cleaned = cleaned.partition(mark)
                if not found:
                    return None
                pieces.append(head)
            pieces.append(cleaned)
            if any(not _starts_block(p) for p in pieces if p.strip()) or n == 0:
                return None
            return runs, pieces
    return None


def _starts_block(cleaned: str) -> bool:
    match = _BLOCK_START_RE.match(cleaned)
    return bool(match and match.group(1).lower() in BLOCK_START)


def _rewrite(page: pages.Page, lines: _Lines, run: Sequence[_Block], cleaned: str,
             ) -> Edit | None:
    """The edit that writes `cleaned` over the lines of `run` (one block, or blocks with
    only blank lines between them), keeping the container prefixes."""
    first, stop = run[0].first, run[-1].stop
    prefixes = [p for block in run for p in block.prefixes]
    if len(run) == 1 and cleaned == run[0].fragment:
        return None
    head = prefixes[0]
    # Continuation lines keep the container's indentation: list markers become spaces.
    cont = prefixes[1] if len(prefixes) > 1 else re.sub(r"[^>\s]", " ", head)
    eol = lines.ending(first) or "\n"
    if not cleaned.strip():
        new_lines = [head.rstrip()]
    else:
        if not _starts_block(cleaned):
            cleaned = f"<div>{cleaned}</div>"
        out = cleaned.split("\n")
        new_lines = [head + out[0]] + [cont + line for line in out[1:]]
        # A marker-ended block may be followed directly by Markdown; the rewritten block
        # ends only at a blank line, so give it one.
        if (_MARKER_BLOCK_RE.match(run[-1].fragment) and stop < len(lines)
                and lines.content(stop).strip()):
            new_lines.append(cont.rstrip())
    new = eol.join(new_lines) + lines.ending(stop - 1)
    end = lines.start(stop) if stop < len(lines) else len(page.text)
    if page.text[lines.start(first):end] == new:
        return None
    return Edit(lines.start(first), end, new, first + 1)


@dataclasses.dataclass(frozen=True)
class _Piece:
    offset: int
    html: str


class _InlineMap:
    """Maps offsets in an inline token's content to offsets in the page text."""

    def __init__(self, lines: _Lines, token: Token, content: str, cursor: dict[int, int],
                 in_table: bool) -> None:
        assert token.map is not None
        self.rows: list[tuple[int, int, str, str]] = []  # (content start, abs col, text, src)
        position = 0
        for index, part in enumerate(content.split("\n")):
            line = token.map[0] + index
            source = lines.content(line)
            if in_table:
                wanted = part.replace("|", "\\|")
                col = source.find(wanted, cursor.get(line, 0))
                if col < 0:
                    col = source.find(part, cursor.get(line, 0))
                    wanted = part
                cursor[line] = max(col, 0) + len(wanted)
            else:
                wanted = part
                col = source.rfind(part)
            if col < 0:
                raise LookupError(line)
            self.rows.append((position, lines.start(line) + col, part, wanted))
            position += len(part) + 1

    def position(self, offset: int) -> int:
        for start, absolute, part, wanted in reversed(self.rows):
            if offset >= start:
                column = offset - start
                if wanted != part:  # `\|` in a table cell is one character in content
                    column += part[:column].count("|")
                return absolute + column
        raise LookupError(offset)


def _markers(pieces: Sequence[_Piece]) -> list[str]:
    taken = "".join(p.html for p in pieces)
    for base in range(0xE000, 0xF8FF, 2):
        if chr(base) not in taken and chr(base + 1) not in taken:
            return [f"{chr(base)}{i}{chr(base + 1)}" for i in range(len(pieces))]
    raise ValueError("no free marker character")  # pragma: no cover - 3,000 tried


def _balanced(pieces: Sequence[_Piece]) -> tuple[list[str], str] | None:
    """Clean the pieces of one inline token together, so tags pair up across them.

    Each piece is followed by a marker standing for the Markdown after it; the cleaned
    fragment is cut at the markers. Returns the new pieces and the closing tags still owed
    at the end of the paragraph, or None when the parser moved a marker.
    """
    marks = _markers(pieces)
    fragment = "".join(p.html + m for p, m in zip(pieces, marks, strict=True))
    cleaned = clean_fragment(fragment, inline=True)
    out: list[str] = []
    rest = cleaned
    for mark in marks:
        head, found, rest = rest.partition(mark)
        if not found:
            return None
        out.append(head)
    if any(mark in rest for mark in marks):
        return None
    return out, rest


def _inline_skeleton(page: pages.Page, content: str) -> tuple[list[str], list[tuple[str, str]]]:
    """The html pieces and the other (non-text) tokens markdown-it sees in `content`."""
    html_pieces: list[str] = []
    others: list[tuple[str, str]] = []
    for child in pages.markdown(page.settings).parseInline(content)[0].children or []:
        if child.type == "html_inline":
            html_pieces.append(child.content)
        elif child.type != "text":
            others.append((child.type, str(child.attrs) + child.content))
    return html_pieces, others


def _escaped_piece(piece: str) -> str:
    """A piece of HTML shown as literal text: entity-escaped, Markdown punctuation escaped."""
    text = html.escape(piece.replace("\n", " "), quote=False)
    return re.sub(r"([!-%'-/:=?@\[-`{-~])", r"\\\1", text)


def _inline_edits(page: pages.Page, lines: _Lines, token: Token,
                  cursor: dict[int, int], in_table: bool) -> list[Edit]:
    # (A plugin's own html_inline tokens, such as a task list's checkbox, carry no offset:
    # they are not in the source.)
    pieces = [_Piece(int(child.meta["offset"]), child.content)
              for child in token.children or []
              if child.type == "html_inline" and "offset" in child.meta]
    if not pieces:
        return []
    content = token.content
    plan = _balanced(pieces)
    if plan is not None and plan == ([p.html for p in pieces], ""):
        return []
    # (new pieces, closing tags owed, the raw HTML markdown-it must then see)
    candidates: list[tuple[list[str], str, list[str]]] = []
    if plan is not None:
        candidates.append((*plan, [x for x in [*plan[0], plan[1]] if x]))
    # Fallback: show the pieces as text (when cleaning would glue text into new tags).
    candidates.append(([_escaped_piece(p.html) for p in pieces], "", []))
    old_skeleton = _inline_skeleton(page, content)[1]
    chosen: tuple[list[str], str] | None = None
    for new_pieces, tail, wanted in candidates:
        rebuilt, last = [], 0
        for piece, new in zip(pieces, new_pieces, strict=True):
            rebuilt += [content[last:piece.offset], new]
            last = piece.offset + len(piece.html)
        rebuilt += [content[last:], tail]
        html_now, skeleton = _inline_skeleton(page, "".join(rebuilt))
        if skeleton == old_skeleton and "".join(html_now) == "".join(wanted):
            chosen = (new_pieces, tail)
            break
    line = (token.map[0] if token.map else 0) + 1
    if chosen is None:
        raise pages.PageError(page.path, line, "raw HTML here cannot be rewritten without "
                              "changing the Markdown around it; edit it by hand")
    try:
        where = _InlineMap(lines, token, content, cursor, in_table)
        edits = []
        for piece, new in zip(pieces, chosen[0], strict=True):
            start, end = where.position(piece.offset), where.position(
                piece.offset + len(piece.html))
            first_line, last_line = piece.html.split("\n")[0], piece.html.split("\n")[-1]
            if not (page.text.startswith(first_line, start)
                    and page.text.endswith(last_line, 0, end)):
                raise LookupError(piece.offset)
            if new != piece.html:
                edits.append(Edit(start, end, new, lines.line_of(start)))
        if chosen[1]:
            end = where.position(len(content))
            edits.append(Edit(end, end, chosen[1], lines.line_of(end)))
    except LookupError:
        raise pages.PageError(page.path, line, "cannot locate the raw HTML of this "
                              "paragraph in the source; edit it by hand") from None
    return edits


SHORTCODE_IN_CODE: Final = ("shortcode inside code is expanded by Hugo; write {{</* … */>}} "
                            "to show it literally")


def _check_code_for_shortcodes(page: pages.Page, tokens: Sequence[Token],
                               words: Sequence[str]) -> list[pages.PageError]:
    """Refuse a shortcode call inside a code span, fenced or indented code block.

    Hugo expands shortcodes before goldmark sees the page, code or not, and puts their
    output into the code as it is: what reads as code is not. In the view the sanitiser
    scans, each call is a placeholder word, so a call in code is a word in code.
    """
    def first(content: str) -> int:
        return min((content.find(w) for w in words if w in content), default=-1)

    errors: list[pages.PageError] = []
    for token in tokens:
        if token.type in ("fence", "code_block") and token.map is not None:
            at = first(token.content)
            if at >= 0:
                line = token.map[0] + (1 if token.type == "fence" else 0)
                errors.append(pages.PageError(page.path, line + token.content.count(
                    "\n", 0, at) + 1, SHORTCODE_IN_CODE))
        elif token.type == "inline" and token.map is not None and any(
                c.type == "code_inline" and first(c.content) >= 0 for c in token.children or []):
            at = first(token.content)
            errors.append(pages.PageError(page.path, token.map[0] + token.content.count(
                "\n", 0, max(at, 0)) + 1, SHORTCODE_IN_CODE))
    return errors


# A goldmark attribute list (`{#id .class key=value}`), as config.toml enables for
# headings (at the end of the line) and blocks (a line of its own after the block).
_ATTRS: Final = r"\{[ \t]*(?:[#.][^\s{}]|[A-Za-z_:][\w.:-]*[ \t]*=)[^{}\n]*\}"
_HEADING_ATTRS_RE: Final = re.compile(_ATTRS + r"[ \t]*$")
_BLOCK_ATTRS_RE: Final = re.compile(r"^[ \t]*" + _ATTRS + r"[ \t]*$", re.MULTILINE)
_ATTR_ITEM_RE: Final = re.compile(
    r"#(?P<id>[^\s{}#.=\"'<>&]+)|\.(?P<cls>[A-Za-z_][\w-]*)|(?P<other>\S+)")
MARKDOWN_ATTRS: Final = ("Markdown attribute {item} is not allowed: only {{#id}} and {{.class}} "
                         "are (style, handlers and other keys go past the sanitiser; use raw "
                         "HTML, which is cleaned)")
LAYOUT_ID: Final = "Markdown attribute {item} takes an id of the layout's own; choose another"


def _attribute_problems(inside: str) -> list[str]:
    """What is wrong with one attribute list (its text between the braces)."""
    problems = []
    for item in _ATTR_ITEM_RE.finditer(inside):
        if item.group("other"):
            problems.append(MARKDOWN_ATTRS.format(item=repr(item.group())))
        elif item.group("id") and policy.is_layout_id(item.group("id")):
            problems.append(LAYOUT_ID.format(item=repr(item.group())))
    return problems


def _check_markdown_attributes(page: pages.Page, tokens: Sequence[Token]) -> list[pages.PageError]:
    """Refusals for goldmark attribute lists beyond the safe subset (`{#id .class}`).

    Goldmark writes them as they are (`<p id="tw-search" style=…>`): ids that take the
    layout's own, and the style and handlers the policy drops from raw HTML. markdown-it
    does not know the syntax, so a list shows up in the inline text of the heading, or
    as a line of the paragraph (or list item) it follows.
    """
    settings = page.settings
    errors: list[pages.PageError] = []
    heading = False
    for token in tokens:
        if token.type == "heading_open":
            heading = True
        elif token.type == "inline" and token.map is not None and "{" in token.content:
            content = token.content
            found = []
            if heading and settings.heading_attributes:
                found += list(_HEADING_ATTRS_RE.finditer(content))
            if settings.block_attributes:
                found += [m for m in _BLOCK_ATTRS_RE.finditer(content)
                          if all(m.start() != f.start() for f in found)]
            for match in found:
                line = token.map[0] + content.count("\n", 0, match.start()) + 1
                inside = match.group().strip().strip("{}")
                errors += [pages.PageError(page.path, line, problem)
                           for problem in _attribute_problems(inside)]
            heading = False
        else:
            heading = heading and token.type != "heading_close"
    return errors


def find_edits(page: pages.Page) -> list[Edit]:
    """Every rewrite that makes the page's raw HTML clean, in file order.

    The page is scanned as goldmark meets it: shortcode calls replaced by placeholders
    (shortcodes.view), and the inner content of each shortcode declared Markdown scanned
    as a document of its own; edits are mapped back to the file's own offsets.
    """
    if "<" not in page.text and "{" not in page.text:
        return []
    lines = _Lines(page)
    return sorted(_document_edits(page, lines, page.text, lines.start(page.front_matter_lines),
                                  0), key=lambda e: e.start)


def _document_edits(page: pages.Page, lines: _Lines, text: str, start: int,
                    base: int) -> list[Edit]:
    """Edits for `text`, which stands at file offset `base` (the page, or an inner text).

    An edit of the outer document that covers a call (raw HTML around a shortcode) writes
    the call back with its inner text already cleaned; the inner text's own edits stand
    alone only for calls no outer edit covers.
    """
    try:
        view = shortcodes.view(text, start, page.settings.shortcode_dirs)
    except shortcodes.ShortcodeError as exc:
        raise pages.PageError(page.path, lines.line_of(base + exc.offset), exc.reason) from None
    inner_edits = [_inner_edits(page, lines, text, call, base) for call in view.calls]
    calls = [apply_edits(text[c.start:c.end], [dataclasses.replace(
        e, start=e.start - base - c.start, end=e.end - base - c.start) for e in edits])
        for c, edits in zip(view.calls, inner_edits, strict=True)]
    doc = (dataclasses.replace(page, text=view.text) if base == 0
           else pages.Page(page.path, view.text, 0))
    covered: set[int] = set()
    edits: list[Edit] = []
    try:
        for edit in _scan(doc, [view.placeholder(i) for i in range(len(view.calls))]):
            begin = base + view.to_source(edit.start)
            end = base + view.to_source(edit.end, end=True)
            edits.append(Edit(begin, end, view.restore(edit.new, edit.start, edit.end, calls),
                              lines.line_of(begin)))
            covered.update(view.covered(edit.start, edit.end))
    except pages.PageError as exc:
        pages.raise_all([pages.PageError(page.path, lines.line_of(
            base + view.source_offset_of_line(e.line)), e.reason)
            for e in getattr(exc, "errors", [exc])])
    except shortcodes.ShortcodeError as exc:
        raise pages.PageError(page.path, lines.line_of(base + exc.offset), exc.reason) from None
    for index, own in enumerate(inner_edits):
        if index not in covered:
            edits += own
    return edits


def _inner_edits(page: pages.Page, lines: _Lines, text: str, call: shortcodes.Call,
                 base: int) -> list[Edit]:
    """Edits of a call's inner text, declared Markdown: a document of its own, trimmed as
    the shortcode trims it (file offsets)."""
    if call.inner is None:
        return []
    inner = text[call.inner[0]:call.inner[1]]
    lead = len(inner) - len(inner.lstrip())
    return sorted(_document_edits(page, lines, inner.strip(), 0, base + call.inner[0] + lead),
                  key=lambda e: e.start)


def _scan(page: pages.Page, words: Sequence[str]) -> list[Edit]:
    """The edits for one document as markdown-it sees it (offsets in page.text)."""
    tokens = pages.tokens(page)
    deep = pages.too_deep(tokens)
    if deep is not None:
        raise pages.PageError(page.path, (deep.map[0] if deep.map else 0) + 1,
                              f"Markdown nested {pages.MAX_NESTING} levels deep: the "
                              "sanitiser cannot see inside it; flatten it")
    errors = _check_code_for_shortcodes(page, tokens, words) if words else []
    if "{" in page.text:
        errors += _check_markdown_attributes(page, tokens)
    pages.raise_all(errors)
    lines = _Lines(page)
    edits: list[Edit] = []
    cursor: dict[int, int] = {}
    in_table = False
    for token in tokens:
        if token.type in ("td_open", "th_open"):
            in_table = True
        elif token.type in ("td_close", "th_close"):
            in_table = False
        if token.type == "inline" and "<" in token.content:
            edits.extend(_inline_edits(page, lines, token, cursor, in_table))
    return edits + _block_edits(page, lines, tokens)


def apply_edits(text: str, edits: Sequence[Edit]) -> str:
    parts, last = [], 0
    for edit in edits:
        parts += [text[last:edit.start], edit.new]
        last = edit.end
    parts.append(text[last:])
    return "".join(parts)


def sanitize_page(page: pages.Page) -> Result:
    """The page with clean raw HTML; rewrites until nothing changes, a few rounds at most."""
    current = page
    changed_lines: list[int] = []
    changes: list[tuple[int, str]] = []
    for _ in range(MAX_ROUNDS + 1):
        edits = find_edits(current)
        if not edits:
            return Result(page.path, page.text, current.text, tuple(sorted(set(changed_lines))),
                          tuple(changes))
        if current is page:
            changed_lines.extend(e.line for e in edits)
            changes.extend((e.line, describe_change(page.text[e.start:e.end], e.new))
                           for e in edits)
        current = dataclasses.replace(current, text=apply_edits(current.text, edits))
    raise pages.PageError(page.path, changed_lines[0] if changed_lines else 1,
                          "raw HTML does not settle into a clean form; edit it by hand")


def sanitize_text(text: str, path: Path = Path("<text>")) -> Result:
    return sanitize_page(pages.parse_page_text(path, text))


# --------------------------------------------------------------------------- files


@dataclasses.dataclass(frozen=True)
class FileOutcome:
    """One file's fate: a result, or the bad-input message that left it untouched."""

    path: Path
    result: Result | None = None
    error: str | None = None


def sanitize_file(path: Path, write: bool) -> FileOutcome:
    try:
        page = pages.read_page(path)
        result = sanitize_page(page)
        if write and result.changed:
            pages.atomic_write(path, result.cleaned.encode("utf-8"))
    except pages.PageError as exc:
        return FileOutcome(path, error=str(exc))
    except OSError as exc:
        return FileOutcome(path, error=f"{path}:1: {exc.strerror or exc}")
    return FileOutcome(path, result=result)


def sanitize_paths(paths: Sequence[Path], write: bool, jobs: int = 0) -> Iterator[
        FileOutcome | pages.Skipped]:
    """Sanitise every page under `paths`; many files are spread over worker processes."""
    found = list(pages.find_pages(paths))
    files = [p for p in found if isinstance(p, Path)]
    yield from (s for s in found if isinstance(s, pages.Skipped))
    yield from pages.parallel_map(functools.partial(sanitize_file, write=write), files, jobs)


# --------------------------------------------------------------------------- commands


def run(paths: Sequence[Path], *, check: bool, diff: bool, jobs: int,
        out: TextIO, err: TextIO) -> int:
    """`twnotes sanitize`: 0 clean or rewritten, 1 (--check) would change, 2 bad input."""
    bad = would_change = 0
    write = not (check or diff)
    fix: list[str] = []
    for outcome in sanitize_paths(paths, write, jobs):
        if isinstance(outcome, pages.Skipped):
            print(f"{outcome.path}: {outcome.reason}", file=err)
            bad += 1
            continue
        if outcome.error is not None:
            print(outcome.error, file=err)
            bad += 1
            continue
        result = outcome.result
        if result is None or not result.changed:
            continue
        verb = "raw HTML rewritten" if write else "raw HTML is not clean"
        for line, what in result.changes:
            print(f"{outcome.path}:{line}: {verb}: {what}", file=err)
        if not write:
            fix.append(str(outcome.path))
        if diff:
            out.writelines(difflib.unified_diff(
                result.original.splitlines(keepends=True),
                result.cleaned.splitlines(keepends=True),
                fromfile=str(outcome.path), tofile=str(outcome.path)))
        would_change += 1
    if fix and check:
        print(f"fix: twnotes sanitize {' '.join(shlex.quote(p) for p in fix)}", file=err)
    if bad:
        return 2
    return 1 if check and would_change else 0


def run_stdin(data: bytes, out: TextIO, err: TextIO, *, check: bool = False) -> int:
    """`twnotes sanitize -`: one fragment in, the clean fragment out.

    With `check`, nothing is written to `out`: exit 1 when cleaning would change the
    fragment, 0 when it is clean already (as --check does for files).
    """
    try:
        text = pages.decode(Path("<stdin>"), data)
    except pages.PageError as exc:
        print(exc, file=err)
        return 2
    fragment = text.replace("\r\n", "\n").replace("\r", "\n")
    cleaned = clean_fragment(fragment)
    if check:
        if cleaned == fragment:
            return 0
        print("<stdin>: raw HTML is not clean", file=err)
        return 1
    out.write(cleaned)
    return 0
