"""policy at its edges, against values written out by hand: the first and last code point
of every invisible and control range and the ones just outside, scheme-relative links,
`data:` media types, the regex classes the templates get, rendered-only attributes.

Complements test_policy_expected.py (element by element, attribute by attribute); here the
boundaries a mutant moves by one (0x20 -> 0x21) or an operator it swaps must show.
"""

from __future__ import annotations

import pytest

from twnotes import policy

# Each range of INVISIBLE_RANGES written out again by hand: its first and last code point
# are dropped from a URL, the ones just outside are not.
DROPPED = [0x00, 0x09, 0x20, 0x7F, 0x9F, 0xAD, 0x200B, 0x200F, 0x2028, 0x2029, 0xFEFF]
KEPT = [0x21, 0x7E, 0xA0, 0xAC, 0xAE, 0x200A, 0x2010, 0x2027, 0x202A, 0xFEFE, 0xFF00]


@pytest.mark.parametrize("point", DROPPED)
def test_an_invisible_character_does_not_hide_a_scheme(point: int) -> None:
    assert policy.url_scheme(f"java{chr(point)}script:x") == "javascript"


@pytest.mark.parametrize("point", KEPT)
def test_a_visible_character_makes_the_scheme_unclear(point: int) -> None:
    # "java!script:x": no well-formed scheme, and a colon before any / ? #: unclear.
    assert policy.url_scheme(f"java{chr(point)}script:x") is None
    assert policy.is_safe_url(f"java{chr(point)}script:x") is False


@pytest.mark.parametrize(("point", "safe"), [
    (0x00, False), (0x01, False), (0x1F, False), (0x20, True), (0x7E, True), (0x7F, False),
    (0x80, True), (0x9F, True),
])
def test_a_destination_with_a_control_character_is_no_link(point: int, safe: bool) -> None:
    assert policy.is_safe_destination(f"/a{chr(point)}b") is safe


@pytest.mark.parametrize(("url", "image", "safe"), [
    ("https://x.org/", False, True), ("mailto:a@b.c", False, True),
    ("mailto:a@b.c", True, False), ("ftp://x.org/", False, False), ("#top", True, True),
])
def test_a_destination_otherwise_follows_the_url_rule(url: str, image: bool, safe: bool) -> None:
    assert policy.is_safe_destination(url, image=image) is safe


@pytest.mark.parametrize(("url", "scheme"), [
    ("a:b", "a"), ("ab:c", "ab"), ("a1+.-:x", "a1+.-"), ("/a?b:c", ""), ("a?b:c", ""),
    ("a#b:c", ""), ("x/y:z", ""), (":", None), ("1a:b/c", None), ("Mailto:x", "mailto"),
])
def test_where_a_scheme_ends(url: str, scheme: str | None) -> None:
    assert policy.url_scheme(url) == scheme


@pytest.mark.parametrize(("url", "external"), [
    ("https://x.org", True), ("HTTP://x", True), ("https:x", True), ("//x", True),
    ("\\\\x", True), ("/\\x", True), ("\\/x", True), ("\u200b//x", True),
    ("/local", False), ("mailto:a@b.c", False), ("ftp://x", False), ("", False),
    ("#top", False), ("a//b", False),
])
def test_which_links_leave_the_site(url: str, external: bool) -> None:
    assert policy.is_external(url) is external


@pytest.mark.parametrize(("url", "dangerous"), [
    ("data:text/ht\u200bml,x", True), ("DATA:TEXT/HTML,x", True),
    ("data:application/xml,x", True), ("data:image/svg+xml;base64,AA", True),
    ("data:,x", False), ("data:", False), ("data:image/png,html", False),
    ("data:text/plain;charset=utf-8,<svg>", False), ("LiveScript:x", True),
])
def test_a_data_url_is_judged_by_its_media_type_only(url: str, dangerous: bool) -> None:
    assert policy.is_dangerous_url(url) is dangerous


def test_the_character_classes_for_python_and_go() -> None:
    ranges = [(0x41, 0x41), (0x61, 0x7A)]
    assert policy.char_class(ranges) == "[\\U00000041\\U00000061-\\U0000007a]"
    assert policy.char_class(ranges, go=True) == "[\\x{41}\\x{61}-\\x{7a}]"


@pytest.mark.parametrize(("tag", "attrs", "rendered", "kept"), [
    # Our rel comes last, after every kept attribute, and only on a kept external href.
    ("a", [("href", "https://x.org/"), ("title", "t")], False,
     [("href", "https://x.org/"), ("title", "t"), ("rel", "noopener noreferrer")]),
    ("a", [("href", "javascript:x"), ("title", "t")], False, [("title", "t")]),
    ("a", [("href", "/x"), ("rel", "nofollow")], True, [("href", "/x")]),
    ("img", [("src", "https://x.org/i.png")], False, [("src", "https://x.org/i.png")]),
    ("h2", [("id", " intro ")], True, [("id", "intro")]),
    ("h2", [("id", " tw-x ")], True, [("id", "user-content-tw-x")]),
    ("h2", [("id", " intro ")], False, [("id", "user-content-intro")]),
    ("p", [("class", "  a   b ")], True, [("class", "a b")]),
    ("p", [("class", "")], True, []),
    ("p", [("class", "a TW-b")], True, []),
    ("th", [("style", " text-align:right; ")], True, [("style", " text-align:right; ")]),
    ("th", [("style", "text-align: justify")], True, []),
    ("td", [("role", "doc-noteref")], True, [("role", "doc-noteref")]),
    ("p", [("data-x", "1")], True, []),
    ("p", [("name", "x")], False, []),
    ("td", [("align", "left")], True, [("align", "left")]),
])
def test_clean_attributes(tag: str, attrs: list[tuple[str, str]], rendered: bool,
                          kept: list[tuple[str, str]]) -> None:
    assert policy.clean_attrs(tag, attrs, rendered=rendered) == kept


@pytest.mark.parametrize(("value", "clean"), [
    (" x ", "user-content-x"), ("user-content-x", "user-content-x"),
    (" user-content-y", "user-content-y"), ("USER-CONTENT-z", "user-content-USER-CONTENT-z"),
])
def test_the_id_prefix_is_added_once(value: str, clean: str) -> None:
    assert policy.prefixed_id(value) == clean


@pytest.mark.parametrize(("value", "layout"), [
    ("tw-x", True), ("Tw-x", True), ("x-tw", False), ("tw", False), ("main", False)])
def test_which_classes_are_the_layouts(value: str, layout: bool) -> None:
    assert policy.is_layout_class(value) is layout


@pytest.mark.parametrize(("comment", "kept"), [
    ("", True), ("-a", True), ("a->", True), ("<!-a", True), ("a<!", True), ("a--", False),
    ("!>", True)])
def test_comment_edges(comment: str, kept: bool) -> None:
    assert policy.is_safe_comment(comment) is kept


def _fresh(text: str) -> str:
    """An equal string that is not the interned literal (as a parser's names are not)."""
    return "".join(list(text))


def test_names_compare_by_value_not_identity() -> None:
    a, td, href, style, rel = (_fresh(t) for t in ("a", "td", "href", "style", "rel"))
    literal = "href"
    assert href == literal and href is not literal
    assert policy.clean_attrs(a, [(href, "https://x.org/"), (rel, "opener")]) == [
        ("href", "https://x.org/"), ("rel", "noopener noreferrer")]
    assert policy.clean_attrs(td, [(style, "text-align: left")], rendered=True) == [
        ("style", "text-align: left")]
    assert policy.clean_attrs(_fresh("p"), [(_fresh("class"), "x")], rendered=True) == [
        ("class", "x")]
    assert policy.clean_attrs(_fresh("sup"), [(_fresh("role"), "doc-noteref")],
                              rendered=True) == [("role", "doc-noteref")]
    assert policy.url_scheme(_fresh("/x")) == ""
    assert policy.is_dangerous_url(_fresh("data:text/html,x")) is True


def test_a_url_is_a_links_unless_said_otherwise() -> None:
    assert policy.is_safe_url("mailto:a@b.c") is True
    assert policy.is_safe_destination("mailto:a@b.c") is True
    assert policy.clean_attrs("a", [("href", "mailto:a@b.c")]) == [("href", "mailto:a@b.c")]


def test_flags_are_keyword_only() -> None:
    ranges = [(0x41, 0x41)]
    for call in (lambda: policy.char_class(ranges, True),  # type: ignore[misc]
                 lambda: policy.is_safe_url("/x", True),  # type: ignore[misc]
                 lambda: policy.is_safe_destination("/x", True),  # type: ignore[misc]
                 lambda: policy.clean_attrs("p", [], True)):  # type: ignore[misc]
        with pytest.raises(TypeError):
            call()


def test_the_media_type_ends_at_the_first_comma_only() -> None:
    assert policy.is_dangerous_url("data:text/plain:html,x") is True
    assert policy.is_dangerous_url("data:image/png,x,html") is False


def test_no_tag_lists_a_global_attribute_again() -> None:
    # mutation/equivalent.toml counts GLOBAL_ATTRS ^ TAG_ATTRS[tag] as equal to the union.
    assert all(not (policy.GLOBAL_ATTRS & attrs) for attrs in policy.TAG_ATTRS.values())


@pytest.mark.parametrize(("tag", "attrs", "rendered", "kept"), [
    # Names that sort before "class" or "role" are not classes or roles.
    ("p", [("aria-label", "x")], True, []),
    ("p", [("abbr", "x")], True, []),
    ("p", [("data-x", "doc-noteref")], True, []),
    ("p", [("lang", "doc-noteref")], True, [("lang", "doc-noteref")]),
    # Only an <img> is held to the image schemes: a quotation may cite a mailto: URL.
    ("q", [("cite", "mailto:a@b.c")], False, [("cite", "mailto:a@b.c")]),
    ("ins", [("cite", "mailto:a@b.c")], False, [("cite", "mailto:a@b.c")]),
])
def test_attribute_names_are_matched_exactly(tag: str, attrs: list[tuple[str, str]],
                                             rendered: bool, kept: list[tuple[str, str]]) -> None:
    assert policy.clean_attrs(tag, attrs, rendered=rendered) == kept


@pytest.mark.parametrize("url", ["https://x.org/a.html", "mailto:svg@x.org", "http://x/xml",
                                 "ftp://x/script"])
def test_only_data_urls_are_judged_by_their_media_type(url: str) -> None:
    assert policy.is_dangerous_url(url) is False
