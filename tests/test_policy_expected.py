"""The allow-list judged against expectations written out by hand, not read from policy.py.

Corpus and property tests check that the output obeys the policy's own sets, so a wrong
set (an element taken out of DROP_WHOLE, a scheme added to SAFE_SCHEMES) passes them. Here
every expected value is a literal: what a note's raw HTML must become, element by element,
attribute by attribute and URL by URL. Changing the policy means changing this file too,
on purpose.
"""

from __future__ import annotations

import pytest

from twnotes import audit, policy
from twnotes.sanitize import clean_fragment

# Elements that go with everything inside them: their content is code, raw text, another
# document or a form control, never prose to keep.
GONE_WITH_CONTENT = [
    "script", "style", "template", "noscript", "textarea", "title", "xmp", "noembed",
    "noframes", "iframe", "object", "applet", "svg", "math", "select", "option", "optgroup",
    "datalist", "canvas", "audio", "video", "button", "form", "dialog", "slot", "search",
    "portal", "fencedframe",
]
# Void elements that go (nothing inside them to keep or lose).
GONE_VOID = ["embed", "meta", "link", "base", "param", "source", "track", "input"]
# Not on the list: the tag goes, the text inside stays.
UNWRAPPED = ["font", "center", "article", "section", "marquee", "blink", "nav", "aside",
             "header", "footer", "main", "label", "x-widget"]
# Phrasing elements a note keeps inside a paragraph.
KEPT_INLINE = ["a", "abbr", "b", "bdi", "cite", "code", "del", "dfn", "em", "i", "ins", "kbd",
               "mark", "q", "s", "samp", "small", "span", "strong", "sub", "sup", "time", "u",
               "var"]
KEPT_BLOCK = ["blockquote", "details", "div", "dl", "figure", "h1", "h2", "h3", "h4", "h5",
              "h6", "ol", "p", "pre", "ul"]


@pytest.mark.parametrize("tag", GONE_WITH_CONTENT)
def test_element_goes_with_its_content(tag: str) -> None:
    assert clean_fragment(f"<div>A<{tag}>SECRET</{tag}>B</div>") == "<div>AB</div>"


@pytest.mark.parametrize("tag", GONE_VOID)
def test_void_element_goes(tag: str) -> None:
    assert clean_fragment(f"<div>A<{tag}>B</div>") == "<div>AB</div>"


@pytest.mark.parametrize("tag", UNWRAPPED)
def test_unlisted_element_is_unwrapped_and_its_text_kept(tag: str) -> None:
    assert clean_fragment(f"<div>A<{tag}>TEXT</{tag}>B</div>") == "<div>ATEXTB</div>"


@pytest.mark.parametrize("tag", KEPT_INLINE)
def test_phrasing_element_is_kept(tag: str) -> None:
    assert clean_fragment(f"<p>A<{tag}>T</{tag}>B</p>") == f"<p>A<{tag}>T</{tag}>B</p>"


@pytest.mark.parametrize("tag", KEPT_BLOCK)
def test_block_element_is_kept(tag: str) -> None:
    inner = "<li>T</li>" if tag in ("ol", "ul") else "<dt>T</dt>" if tag == "dl" else "T"
    assert clean_fragment(f"<{tag}>{inner}</{tag}>") == f"<{tag}>{inner}</{tag}>"


def test_a_table_keeps_its_structure() -> None:
    table = ('<table><caption>c</caption><colgroup><col span="2"></colgroup>'
             '<thead><tr><th scope="col">h</th></tr></thead>'
             '<tbody><tr><td colspan="2">d</td></tr></tbody>'
             "<tfoot><tr><td>f</td></tr></tfoot></table>")
    assert clean_fragment(table) == table


@pytest.mark.parametrize(("raw", "clean"), [
    # Handlers, style, class and target go; the source rel goes and an external link gets ours.
    ('<a href="https://x.org/" title="t" onclick="x()" style="color:red" class="c" '
     'target="_blank" rel="opener">l</a>',
     '<a href="https://x.org/" title="t" rel="noopener noreferrer">l</a>'),
    ('<a href="//evil.example/">l</a>',
     '<a href="//evil.example/" rel="noopener noreferrer">l</a>'),
    # A zero-width space in front does not hide that the link leaves the site.
    ('<a href="\u200b//evil.example/">l</a>',
     '<a href="\u200b//evil.example/" rel="noopener noreferrer">l</a>'),
    ('<a href="\\\\evil.example/">l</a>',
     '<a href="\\\\evil.example/" rel="noopener noreferrer">l</a>'),
    ('<a href="/local/" rel="opener">l</a>', '<a href="/local/">l</a>'),
    ('<a href="#part">l</a>', '<a href="#part">l</a>'),
    ('<a href="mailto:a@b.c">m</a>', '<a href="mailto:a@b.c">m</a>'),
    ('<a href="javascript:alert(1)">l</a>', "<a>l</a>"),
    ('<a href="java\u200bscript:alert(1)">l</a>', "<a>l</a>"),
    ('<a href="JaVaScRiPt:alert(1)">l</a>', "<a>l</a>"),
    ('<a href="vbscript:msgbox(1)">l</a>', "<a>l</a>"),
    ('<a href="data:text/html,x">l</a>', "<a>l</a>"),
    ('<a href="ftp://x.org/">l</a>', "<a>l</a>"),
    ('<img src="https://x.org/i.png" alt="a" width="2" height="3" loading="lazy" onerror="x()">',
     '<img src="https://x.org/i.png" alt="a" width="2" height="3" loading="lazy">'),
    ('<img src="mailto:a@b.c" alt="a">', '<img alt="a">'),
    ('<img src="data:image/png;base64,AA" alt="a">', '<img alt="a">'),
    # Ids and names get the prefix; name only where it means something (a).
    ('<p id="cookie" name="x">t</p>', '<p id="user-content-cookie">t</p>'),
    ('<a name="top">x</a>', '<a name="user-content-top">x</a>'),
    ('<p id="user-content-x">t</p>', '<p id="user-content-x">t</p>'),
    ('<p id="  ">t</p>', "<p>t</p>"),
    ('<td align="left" valign="top" colspan="2">x</td>', None),
    ('<ol start="3" reversed type="a"><li value="4">x</li></ol>',
     '<ol start="3" reversed="" type="a"><li value="4">x</li></ol>'),
    ('<details open><summary>s</summary>d</details>',
     '<details open=""><summary>s</summary>d</details>'),
    ('<q cite="https://x.org/">q</q><q cite="javascript:x">r</q>',
     '<q cite="https://x.org/">q</q><q>r</q>'),
    ('<p lang="en" dir="ltr" title="t" data-x="1" hidden>t</p>',
     '<p lang="en" dir="ltr" title="t">t</p>'),
])
def test_attributes_and_urls(raw: str, clean: str | None) -> None:
    if clean is None:  # a cell outside a table is not one: only the table case matters
        table = f"<table><tbody><tr>{raw}</tr></tbody></table>"
        assert clean_fragment(table) == ('<table><tbody><tr><td align="left" colspan="2">x</td>'
                                         "</tr></tbody></table>")
        return
    assert clean_fragment(raw) == clean


@pytest.mark.parametrize(("url", "scheme"), [
    ("https://x.org/", "https"), ("HTTP://x.org/", "http"), ("\u200bhttps://x.org/", "https"),
    ("\u00adjavascript:x", "javascript"), ("java\tscript:x", "javascript"),
    (" \x01mailto:a@b.c", "mailto"), ("java\u200dscript:x", "javascript"),
    ("java\u2028script:x", "javascript"), ("\ufeffdata:text/html,x", "data"),
    ("/a:b", ""), ("?a:b", ""), ("#a:b", ""), ("a/b", ""), ("", ""),
    ("1http:x", None), (":x", None), ("a b:c", "ab"),
])
def test_the_scheme_a_browser_sees(url: str, scheme: str | None) -> None:
    assert policy.url_scheme(url) == scheme


@pytest.mark.parametrize(("url", "dangerous"), [
    ("javascript:alert(1)", True), ("vbscript:msgbox(1)", True), ("VBScript:msgbox(1)", True),
    ("livescript:x", True), ("data:text/html,<script>", True), ("data:image/svg+xml,<svg>", True),
    ("data:application/xhtml+xml,x", True), ("data:text/javascript,x", True),
    ("data:image/png;base64,AA", False), ("https://x.org/", False), ("mailto:a@b.c", False),
    ("/local", False), ("1bad:x", True), ("ftp://x.org/", False),
])
def test_what_the_audit_calls_dangerous(url: str, dangerous: bool) -> None:
    assert policy.is_dangerous_url(url) is dangerous


@pytest.mark.parametrize("href", ["vbscript:msgbox(1)", "javascript:alert(1)",
                                  "data:text/html,x"])
def test_the_audit_flags_a_script_url_on_a_built_page(href: str) -> None:
    page = f'<!doctype html><html lang="zh-CN"><head></head><body><a href="{href}">x</a></body>'
    findings = [str(f) for f in audit.audit_html(page, "p.html")]
    assert len(findings) == 1 and href.split(":")[0] in findings[0], findings


@pytest.mark.parametrize(("comment", "kept"), [
    ("more", True), (" a remark ", True), ("a-b", True),
    (">x", False), ("->x", False), ("[if IE]", False), ("#tw:region", False),
    ("x<!-", False), ("x-", False), ("a-->b", False), ("a--!>b", False), ("a<!--b", False),
    ("a\x00b", False),
])
def test_which_comments_are_kept(comment: str, kept: bool) -> None:
    assert policy.is_safe_comment(comment) is kept


@pytest.mark.parametrize(("value", "layout"), [
    ("main", True), (" MAIN ", True), ("tw-toc", True), ("TW-x", True), ("mainly", False),
    ("x-tw-", False)])
def test_which_ids_the_layouts_keep_for_themselves(value: str, layout: bool) -> None:
    assert policy.is_layout_id(value) is layout


@pytest.mark.parametrize(("tag", "attrs", "kept"), [
    ("p", [("class", "note wide")], [("class", "note wide")]),
    ("p", [("class", "tw-layout")], []),
    ("p", [("class", "ok 1bad")], []),
    ("sup", [("role", "doc-noteref")], [("role", "doc-noteref")]),
    ("sup", [("role", "button")], []),
    ("td", [("style", "text-align: center")], [("style", "text-align: center")]),
    ("td", [("style", "color: red")], []),
    ("p", [("style", "text-align: center")], []),
    ("h2", [("id", "intro")], [("id", "intro")]),
    ("h2", [("id", "main")], [("id", "user-content-main")]),
])
def test_what_rendered_markdown_may_carry(tag: str, attrs: list[tuple[str, str]],
                                          kept: list[tuple[str, str]]) -> None:
    assert policy.clean_attrs(tag, attrs, rendered=True) == kept
    # Raw HTML in a note never keeps classes, roles or styles, and every id is prefixed.
    raw = policy.clean_attrs(tag, attrs)
    assert all(key == "id" and value.startswith("user-content-") for key, value in raw)


def test_an_element_off_the_list_may_keep_only_the_global_attributes() -> None:
    assert policy.allowed_attrs("x-widget") == frozenset({"id", "title", "lang", "dir"})
    assert policy.allowed_attrs("a") == frozenset(
        {"id", "title", "lang", "dir", "href", "name", "hreflang", "rel"})


@pytest.mark.parametrize("key", ["data-x", "width", "align-x", "bgcolor"])
def test_only_style_carries_a_cells_alignment(key: str) -> None:
    assert policy.clean_attrs("td", [(key, "text-align: left")], rendered=True) == []


@pytest.mark.parametrize(("url", "image", "safe"), [
    ("1bad:x", False, False), ("1bad:x", True, False), ("https://x.org/", True, True),
    ("mailto:a@b.c", True, False), ("mailto:a@b.c", False, True), ("/p", True, True),
    ("", False, True), ("data:image/png;base64,AA", True, False),
])
def test_which_urls_are_safe(url: str, image: bool, safe: bool) -> None:
    assert policy.is_safe_url(url, image=image) is safe
