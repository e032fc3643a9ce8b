"""The tree a browser builds: html5lib through beautifulsoup4, and the HTML facts it needs."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Final

import html5lib
from bs4 import BeautifulSoup
from bs4.builder._html5lib import Element, HTML5TreeBuilder, TreeBuilderForHtml5lib
from bs4.element import NavigableString, PageElement, Tag

from twnotes import policy
from twnotes.util import per_thread

XHTML_NS: Final = "http://www.w3.org/1999/xhtml"
VOID: Final = frozenset({
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
    "source", "track", "wbr",
})
# The standard's void elements; html5lib's own list (which still has obsolete ones, and
# not wbr) must agree on every tag the policy allows, or _emit would write an end tag the
# parser does not expect.
if not policy.BLOCK_TAGS & frozenset(html5lib.constants.voidElements) <= VOID:
    raise ImportError("sanitize.html5.VOID misses a void element the policy allows")
# Elements whose first newline the HTML parser drops: one more is written to keep it.
NEWLINE_EATERS: Final = frozenset({"pre", "listing", "textarea"})
# Tree depth kept (deeper elements are unwrapped, text kept) and the tag depth html5lib
# is ever shown: its scope checks walk the open-element stack, so nesting costs
# quadratic time, and bs4 and html5lib recurse in places. Both caps keep time bounded.
MAX_DEPTH: Final = 100
PARSE_DEPTH: Final = 400

_BLANK_LINE_RE: Final = re.compile(r"\n(?=[ \t]*\n)")
_TAG_RE: Final = re.compile(r"<(/?)([A-Za-z][^\t\n\f />]*)[^>]*?(/?)>")
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


def _new_parser() -> html5lib.HTMLParser:
    """An html5lib parser building bs4 trees with bs4's html5lib tree builder.

    What `BeautifulSoup(markup, "html5lib")` does, minus building a new parser (and its two
    dozen insertion-mode objects) for every fragment, a quarter of the cost of parsing a
    typical one: html5lib resets all of a parser's state when a parse starts, and bs4's
    tree builder resets the soup (documentClass).
    """
    # No multi-valued attributes: `class` and `rel` values stay the strings the policy
    # reads; line numbers are not used.
    builder = HTML5TreeBuilder(multi_valued_attributes={}, store_line_numbers=False)
    soup = BeautifulSoup("", builder=builder)
    # html5lib only calls `tree(namespaceHTMLElements)`; bs4's feed() passes a bound
    # method the same way.
    return html5lib.HTMLParser(tree=lambda html_ns: (  # type: ignore[arg-type]
        _FragmentTreeBuilder(html_ns, soup, store_line_numbers=False)))


_html5lib_parser: Final = per_thread(_new_parser)  # this thread's parser


def _child(parent: Tag, name: str) -> Tag | None:
    return next((n for n in parent.contents if isinstance(n, Tag) and n.name == name), None)


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


def parse_in_context(parser: html5lib.HTMLParser, fragment: str, inline: bool,
                     ) -> tuple[Any, bool]:
    """Parse `fragment` where the cleaner reads it: in a <div> (after an opened <p> when
    `inline`), or as a whole document's body when it spells "<table" twice (see above).

    Returns the parser's tree and whether it is a whole document. The cleaner and
    `twnotes enforce` (with another tree builder) both parse through here.
    """
    markup = ("<p>" if inline else "") + fragment
    if len(_TABLE_START_RE.findall(markup)) < 2:
        return parser.parseFragment(markup, container="div"), False
    return parser.parse(_BODY_PREFIX + markup), True


def _parse(fragment: str, inline: bool) -> list[PageElement]:
    """The nodes a browser builds for `fragment` inside a <div> (or a <p> when inline).

    The nodes are valid until this thread's next parse (its parser is reused).
    """
    parser = _html5lib_parser()
    tree, whole = parse_in_context(parser, _cap_nesting(fragment), inline)
    body: Tag | None = tree
    if whole:
        root = _child(tree, "html")
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
