"""Sanitised Markdown through Hugo: what reaches the built page (render hooks, shortcodes).

One small site is built for the module from a copy of the site's sources (layouts, render
hooks, shortcodes, config.toml) and a page of test content, sanitised first as make test
would. Assertions read the built HTML, parsed as a browser parses it.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from bs4.element import Tag

from conftest import build_site, copy_site_sources
from twnotes import audit, policy
from twnotes.sanitize import sanitize_text

FRONT = '+++\ntitle = "t"\n+++\n'

# Markdown link and image destinations that are javascript: to a browser once its
# character references are decoded or its whitespace dropped: each must be plain text.
UNSAFE_DESTINATIONS = [
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", "jav&#x61;script:alert(2)",
    "java&#9;script:alert(14)", "&#106;avascript:alert(3)", "&#x6A;avascript:alert(4)",
    "&#X6a;avascript:alert(4)", "java&#x0A;script:alert(5)", "java&Tab;script:alert(6)",
    "java&NewLine;script:alert(6)", "javascript&colon;alert(7)", "javascript&#58;alert(8)",
    "&#0000106avascript:alert(9)", "vbscript:x", "vb&#x73;cript:x",
    "data:text/html,x", "d&#97;ta:text/html,x", "&#x20;javascript:alert(10)",
    "javascript&#x3A;alert(11)",
]
SAFE_DESTINATIONS = ["https://e.example/a?b#c", "../y/#z", "#sec", "mailto:a@b.example",
                     "/notes/", "https://e.example/&#x61;"]
# The same destinations through the render hooks (url-is-safe.html, which reads its rule from
# data/twnotes.json) and through twnotes.policy: each is a link, or an image, on both or on
# neither. Chosen at the rule's edges: schemes, case, invisible and control characters (as
# references), colons before and after the path starts, mailto for an image.
PARITY_DESTINATIONS = [
    *UNSAFE_DESTINATIONS, *SAFE_DESTINATIONS, "HTTPS://E.EXAMPLE/", "ftp://e.example/x",
    "data:image/png,x", "//e.example/x", "a:b", "./a:b", "?q=a:b", "#a:b", "/x/a:b",
    "java&#xad;script:x", "java&#x200b;script:x", "&#xfeff;javascript:x", "http&#x2028;:x",
    "&#x7f;https://e.example/", "https://e.example/&#9;x", "https://e.example/&#x85;x",
    "mailto&#58;a@b.example", "Mailto:a@b.example", "h&#x74;tps://e.example/", "tel:123",
]


SUPPLEMENT_ATTACK = "{{< supplement >}}<img src=x onerror=alert(1)>{{< /supplement >}}"
CODE_ATTACKS = [
    "Inline `{{< supplement >}}<img src=y onerror=alert(2)>{{< /supplement >}}` code.",
    "```\n{{< supplement >}}<img src=y onerror=alert(3)>{{< /supplement >}}\n```",
    "    {{< supplement >}}<img src=y onerror=alert(4)>{{< /supplement >}}",
]


def _page() -> str:
    lines = [FRONT, "## Main", "", "## tw-search", "", f"sc1 {SUPPLEMENT_ATTACK}", "",
             SUPPLEMENT_ATTACK, "",
             "lit1 `{{</* supplement */>}}x{{</* /supplement */>}}` shown.", ""]
    for n, dest in enumerate(UNSAFE_DESTINATIONS):
        lines += [f"bad{n} [badlink{n}]({dest}) ![badimg{n}]({dest})", ""]
    for n, dest in enumerate(SAFE_DESTINATIONS):
        lines += [f"good{n} [goodlink{n}]({dest})", ""]
    for n, dest in enumerate(PARITY_DESTINATIONS):
        lines += [f"same{n} [samelink{n}]({dest}) ![sameimg{n}]({dest})", ""]
    return "\n".join(lines)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built site: notes/attack (sanitised) and notes/unsanitised-code-N (as written)."""
    root = tmp_path_factory.mktemp("sanitize-site")
    source = copy_site_sources(root / "source", content=False)
    notes = source / "content" / "notes"
    notes.mkdir(parents=True)
    (notes / "attack.md").write_text(sanitize_text(_page()).cleaned, encoding="utf-8")
    # What the sanitiser refuses, built as written: shows why it must refuse it.
    for n, attack in enumerate(CODE_ATTACKS):
        (notes / f"unsanitised-code-{n}.md").write_text(f"{FRONT}\n{attack}\n", encoding="utf-8")
    return build_site(root / "public", source=source).public


@pytest.fixture(scope="module")
def built(site: Path) -> BeautifulSoup:
    page = site / "notes" / "attack" / "index.html"
    assert [str(f) for f in audit.audit_html(page.read_text(encoding="utf-8"), "attack")] == []
    return BeautifulSoup(page.read_text(encoding="utf-8"), "html5lib")


def _paragraph(soup: BeautifulSoup, label: str) -> Tag:
    found = [p for p in soup.find_all("p") if p.get_text().startswith(label + " ")]
    assert len(found) == 1, f"no single paragraph {label!r} on the page"
    return found[0]


@pytest.mark.parametrize("index", range(len(UNSAFE_DESTINATIONS)),
                         ids=UNSAFE_DESTINATIONS)
def test_unsafe_markdown_destination_renders_as_plain_text(built: BeautifulSoup,
                                                           index: int) -> None:
    paragraph = _paragraph(built, f"bad{index}")
    assert paragraph.find_all(["a", "img"]) == []
    assert paragraph.get_text() == f"bad{index} badlink{index} badimg{index}"


@pytest.mark.parametrize("index", range(len(SAFE_DESTINATIONS)), ids=SAFE_DESTINATIONS)
def test_safe_markdown_destination_stays_a_link(built: BeautifulSoup, index: int) -> None:
    links = _paragraph(built, f"good{index}").find_all("a")
    assert [a.get_text() for a in links] == [f"goodlink{index}"]
    assert links[0].get("href") not in (None, "", "#ZgotmplZ")


def _decode_as_go(text: str) -> str:
    """html.unescape, except that a reference to a C0 control or DEL gives that character,
    as Go's html.UnescapeString (Hugo's htmlUnescape) does; Python's drops it."""
    def control(match: re.Match[str]) -> str:
        ref = match.group(1)
        point = int(ref[1:], 16) if ref[0] in "xX" else int(ref)
        return chr(point) if point < 0x20 or point == 0x7F else match.group()

    return html.unescape(re.sub(r"&#([xX][0-9a-fA-F]+|[0-9]+);", control, text))


@pytest.mark.parametrize("index", range(len(PARITY_DESTINATIONS)), ids=PARITY_DESTINATIONS)
def test_render_hooks_and_policy_agree_on_a_destination(built: BeautifulSoup,
                                                        index: int) -> None:
    decoded = _decode_as_go(PARITY_DESTINATIONS[index])
    paragraph = _paragraph(built, f"same{index}")
    assert (paragraph.find("a") is not None) == policy.is_safe_destination(decoded)
    assert (paragraph.find("img") is not None) == policy.is_safe_destination(decoded,
                                                                             image=True)


def test_shortcode_inner_html_outside_code_is_cleaned(built: BeautifulSoup) -> None:
    # markdown-it sees the inner content as raw HTML and the sanitiser cleans it; Hugo
    # then renders the cleaned inner content inside the aside.
    asides = built.select("aside.tw-supplement")
    assert len(asides) == 2
    for aside in asides:
        images = aside.find_all("img")
        assert [dict(img.attrs) for img in images] == [{"src": "x"}]
    assert "onerror" not in str(built)


def test_escaped_shortcode_in_code_is_shown_literally(built: BeautifulSoup) -> None:
    code = _paragraph(built, "lit1").find_all("code")
    assert [c.get_text() for c in code] == ["{{< supplement >}}x{{< /supplement >}}"]


@pytest.mark.parametrize("index", range(len(CODE_ATTACKS)))
def test_hugo_expands_a_shortcode_inside_code(site: Path, index: int) -> None:
    # Why the sanitiser refuses these (tests/test_sanitize.py): built as written, the
    # shortcode runs inside the code and its raw inner HTML reaches the page.
    page = site / "notes" / f"unsanitised-code-{index}" / "index.html"
    reasons = [f.reason for f in audit.audit_html(page.read_text(encoding="utf-8"), "p")]
    assert reasons == ["<img> has an event handler attribute onerror"]


def test_heading_ids_never_take_a_layout_id(built: BeautifulSoup) -> None:
    # The layout's own ids (main, tw-...) stay unique; headings named so are prefixed.
    ids = [tag["id"] for tag in built.find_all(id=True)]
    assert ids.count("main") == 1 and ids.count("tw-search") <= 1
    headings = [h["id"] for h in built.select(".tw-content h2")]
    assert headings == ["user-content-main", "user-content-tw-search"]
