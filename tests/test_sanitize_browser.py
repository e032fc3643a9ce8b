"""The attack corpus in a real browser: raw, some vectors run; sanitised, none does.

Each vector calls `__xss()` when it runs; the page defines it as a counter. The raw run
proves the harness can see an attack, so the sanitised run's zero means something.
Both the fragments (clean_fragment) and a Hugo-built page (sanitised Markdown through the
real layouts and render hooks) are loaded in headless chromium.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from bs4 import BeautifulSoup
from test_sanitize import FRONT, corpus

from conftest import build_site
from twnotes import audit
from twnotes.sanitize import clean_fragment, sanitize_text

COUNTER = ("<script>window.__xss_count=0;window.__xss=function(){window.__xss_count++};"
           "window.alert=window.confirm=window.prompt=window.__xss;</script>")
MARKDOWN_LINKS = ["[a](javascript:__xss())", "[b](JaVaScRiPt:__xss())",
                  "[c](<java\tscript:__xss()>)", "[d](data:text/html,<script>__xss()</script>)",
                  "<javascript:__xss()>", "[e](vbscript:__xss())", "![f](javascript:__xss())",
                  "[g](&#106;avascript:__xss())", "[h](java&#x09;script:__xss())",
                  "[i](jav&#x61;script:__xss())", "[j](java&#9;script:__xss())",
                  "[k](&#x6A;avascript:__xss())", "[l](java&#x0A;script:__xss())",
                  "[m](java&Tab;script:__xss())", "[n](javascript&colon;__xss())",
                  "![o](jav&#x61;script:__xss())"]


def scripts_run(browser: Any, url: str) -> int:
    """Load the page, give timers and autofocus a moment, click every link; count calls."""
    page = browser.new_page()
    try:
        page.on("dialog", lambda d: d.dismiss())
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(
            ("file:", "data:", "about:")) else route.abort())
        page.add_init_script(COUNTER.removeprefix("<script>").removesuffix("</script>"))
        page.goto(url, wait_until="load", timeout=30_000)
        page.wait_for_timeout(500)
        # Follow every link in the content without navigating away for real.
        page.evaluate("""() => { for (const a of document.querySelectorAll('a[href]')) {
            const h = a.getAttribute('href').replace(/[\\x00-\\x20]/g, '');
            if (/^(javascript|vbscript):/i.test(h)) { try { a.click(); } catch (e) {} } } }""")
        page.wait_for_timeout(200)
        return int(page.evaluate("window.__xss_count || 0"))
    finally:
        page.close()


def corpus_page(fragments: list[str]) -> str:
    body = "\n".join(f"<div>{f}</div>" for f in fragments)
    return f"<!DOCTYPE html><html><head>{COUNTER}</head><body>{body}</body></html>"


def test_raw_corpus_runs_in_the_browser(browser: Any, tmp_path: Path) -> None:
    # Each vector in its own srcdoc frame: one that breaks its page cannot hide the others.
    frames = []
    for index, (_, vector) in enumerate(corpus()):
        inner = (f"<script>window.__xss=function(){{parent.__hits.add({index})}};"
                 f"window.alert=window.__xss</script>{vector}")
        frames.append(f'<iframe srcdoc="{html.escape(inner)}"></iframe>')
    page = tmp_path / "raw.html"
    page.write_text("<!DOCTYPE html><script>window.__hits=new Set()</script>"
                    + "".join(frames), encoding="utf-8")
    tab = browser.new_page()
    try:
        tab.on("dialog", lambda d: d.dismiss())
        tab.goto(page.as_uri(), wait_until="load", timeout=60_000)
        tab.wait_for_timeout(1_000)
        ran = int(tab.evaluate("window.__hits.size"))
    finally:
        tab.close()
    assert ran >= 40, f"only {ran} raw vectors ran: the harness cannot see attacks"


def test_sanitised_corpus_runs_nothing(browser: Any, tmp_path: Path) -> None:
    page = tmp_path / "clean.html"
    page.write_text(corpus_page([clean_fragment(v) for _, v in corpus()]), encoding="utf-8")
    assert scripts_run(browser, page.as_uri()) == 0


def test_sanitised_markdown_built_by_hugo_runs_nothing(browser: Any, tmp_path: Path) -> None:
    lines = [FRONT]
    for _, vector in corpus():
        lines += [vector, "", f"文字 {vector} 文字", ""]
    lines += [f"链接 {link}" + "\n" for link in MARKDOWN_LINKS]
    content = tmp_path / "content" / "notes"
    content.mkdir(parents=True)
    text = "\n".join(lines)
    cleaned = sanitize_text(text).cleaned
    (content / "attack.md").write_text(cleaned, encoding="utf-8")
    site = build_site(tmp_path / "public", "--contentDir", str(tmp_path / "content"))
    built = site.public / "notes" / "attack" / "index.html"
    # Every vector stood between two 文字; the cleaned note keeps nearly all of them, and the
    # note's text on the built page shows every one it kept (a vector that hid the text
    # after it would not).
    kept = cleaned.count("文字")
    assert kept >= 2 * len(corpus()) - 4, kept
    note = BeautifulSoup(built.read_text(encoding="utf-8"), "html5lib").select_one(".tw-content")
    assert note is not None
    assert note.get_text().count("文字") == kept
    assert [str(f) for f in audit.audit_site(site.public)] == []
    assert scripts_run(browser, built.as_uri()) == 0
