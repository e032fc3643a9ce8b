"""Documents for the differential test between the sanitiser's scan and Hugo's goldmark.

The CommonMark spec examples (tests/data/commonmark, vendored with their licence) and
cases of our own for every goldmark extension Hugo has on, each varied so that every
HTML-ish piece becomes an attack: tags get an event handler, the spec's `foo` becomes an
<img onerror>, `/url` becomes a javascript: URL. Every attack calls `xss()`, so a
browser (or the audit) can tell one that runs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "commonmark" / "commonmark.json"
FRONT = '+++\ntitle = "case"\n+++\n'
IMG = "<img src=x onerror=xss()>"

# goldmark extensions and Hugo features the spec does not cover; `foo` marks the places
# the variants turn into attacks.
EXTENSIONS: dict[str, str] = {
    "footnote": "x[^1]\n\n[^1]: <b>foo</b>\n",
    "footnote-continuation": "x[^n]\n\n[^n]: hi\n    <i>foo</i>\n\n    more <b>foo</b>\n",
    "footnote-block": "x[^b]\n\n[^b]:\n    <div>foo</div>\n",
    "deflist": "Term\n: def\n\n    <div>foo</div>\n",
    "deflist-loose": "Term *foo*\n\n: one <b>foo</b>\n\n: two\n\n      <p>foo</p>\n",
    "closing-space": "</ div>\n`<b>foo</b>`\n",
    "closing-spaces": "</  span>\n<i>foo</i>\n",
    "closing-attrs": "</ span x>\n*foo* <b>foo</b>\n",
    "meta-block": "para\n<meta name=foo>\n<b>foo</b>\n",
    "table": "| a | b |\n|---|---|\n| <b>foo</b> | `foo` |\n| x \\| <i>foo</i> | y |\n",
    "table-aligned": "| l | c | r |\n|:--|:-:|--:|\n| <b>foo</b> | foo | `foo` |\n",
    "strikethrough": "~~<b>foo</b>~~ and ~<i>foo</i>~\n",
    "linkify": "www.example.com/foo and https://example.com/<b>foo</b>\n",
    "typographer": "\"<b>foo</b>\" -- 'x' ... <<foo>>\n",
    "task-list": "- [ ] <b>foo</b>\n- [x] foo\n",
    "heading-attrs": "## foo {#foo .foo}\n\n<b>foo</b>\n",
    "block-attrs": "para <i>foo</i>\n{.foo}\n",
    "cjk": "中文<b>foo</b>中文\n中文 *foo* 中文\n",
    "autolink": "<https://example.com/foo> <foo@example.com>\n",
    "details": "<details><summary>foo</summary>\n\n*foo*\n\n</details>\n",
    "details-nested": ("<details>\n<summary>s</summary>\n\n- <b>foo</b>\n\n<div>foo</div>\n\n"
                       "</details>\n"),
    "table-split": "<table>\n<tr><td>foo</td></tr>\n\n<tr><td>foo</td></tr>\n</table>\n",
    "more-divider": "intro foo\n\n<!--more-->\n\nrest <b>foo</b>\n",
    "comment-lists": "- foo\n\n<!-- foo -->\n\n- foo\n",
    "pi": "<?php if ($a > 1) echo 'foo'; ?>\n\nfoo\n",
    "unterminated": "<div id=\"foo\"\n*foo*\n",
    "shortcode-inline": "a {{< supplement >}}<b>foo</b>{{< /supplement >}} b\n",
    "shortcode-indented": "{{< supplement >}}\n\n    <div>foo</div>\n\n{{< /supplement >}}\n",
    "shortcode-in-list": "- item\n\n  {{< supplement >}}\n  <p>foo</p>\n  {{< /supplement >}}\n",
    "shortcode-in-html": ("<div>\n{{< supplement >}}<i>foo</i>{{< /supplement >}}\n<b>foo</b>\n"
                          "</div>\n"),
    "shortcode-nested-md": "{{< supplement >}}\n- <b>foo</b>\n\n> foo\n{{< /supplement >}}\n",
    "raw-html-link": '<a href="/url">foo</a> [foo](/url "foo") ![foo](/url)\n',
    "reference-links": "[foo][bar]\n\n[bar]: /url \"<b>foo</b>\"\n",
    "emphasis-html": "*<b>foo</b>* **<i>foo</i>** _<s>foo</s>_\n",
    "nested-lists": "1. a\n   - b <b>foo</b>\n     > c\n     > <div>foo</div>\n",
    "textarea-block": "<textarea>\n\n*foo*\n</textarea>\n",
    "upper-declaration": "<!DOCTYPE foo>\n*foo*\n",
    "lower-declaration": "<!doctype foo>\n*foo*\n",
}

_TAG_RE = re.compile(r"<([A-Za-z][A-Za-z0-9-]*)(?=[\s/>])")


def spec_examples() -> list[tuple[str, str]]:
    """(name, markdown) of each CommonMark spec example."""
    examples = json.loads(DATA.read_text(encoding="utf-8"))
    return [(f"spec-{e['example']}", e["markdown"]) for e in examples]


def variants(name: str, markdown: str) -> Iterator[tuple[str, str]]:
    """The document as written, then its attack variants (where they change anything)."""
    yield name, markdown
    tags = _TAG_RE.sub(r"<\1 onmouseover=xss() onfocus=xss() autofocus", markdown)
    attacks = {
        "handlers": tags,
        "img": markdown.replace("foo", IMG),
        "url": markdown.replace("/url", "javascript:xss()"),
        "script": markdown.replace("bar", "<script>xss()</script>"),
    }
    for kind, text in attacks.items():
        if text != markdown:
            yield f"{name}-{kind}", text


def documents() -> list[tuple[str, str]]:
    """Every document of the differential test: (page name, Markdown body)."""
    cases = [*spec_examples(), *((f"ext-{k}", v) for k, v in EXTENSIONS.items())]
    return [doc for name, text in cases for doc in variants(name, text)]
