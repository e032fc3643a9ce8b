"""Search in place: the dialog's keys, focus, results as you type, landing highlights, the
search page without JS, and the table of contents after jumps (scroll-spy)."""

from __future__ import annotations

import contextlib
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from .conftest import RESULT, TIMEOUT_MS, ServedSite
from .sweep import WATCH, axe_violations, describe
from .test_pages import NOTE, SEARCH, visit

DIALOG = "dialog.tw-sd"
INPUT = f"{DIALOG} input.tw-sr-input"
SUB = ".tw-sr-sub"


def dialog_open(page: Any) -> bool:
    return bool(page.evaluate(f"!!document.querySelector('{DIALOG}')?.open"))


def focused(page: Any) -> str:
    """A short description of the focused element: tag, id and classes."""
    return str(page.evaluate(
        "(() => { const e = document.activeElement;"
        " return e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')"
        " + (e.className ? '.' + String(e.className).split(' ').join('.') : ''); })()"))


def wait_results(page: Any, scope: str = DIALOG) -> None:
    page.wait_for_selector(f"{scope} {RESULT}", timeout=TIMEOUT_MS)


def search_in_dialog(page: Any, key: str, query: str) -> None:
    """Open the dialog with `key`, type `query` and wait for its results."""
    page.keyboard.press(key)
    page.wait_for_selector(INPUT)
    page.keyboard.type(query)
    wait_results(page)


def pagefind_requests(traffic: Any) -> list[str]:
    return [u for u in traffic.requests if "/pagefind/" in u]


@pytest.mark.parametrize("keys", ["/", "Control+k", "Meta+k"])
def test_keys_open_the_dialog_and_escape_gives_the_focus_back(
    served_site: ServedSite, make_context: Any, keys: str
) -> None:
    context, traffic = make_context(color_scheme="light")
    page = context.new_page()
    visit(page, served_site, NOTE, idle=True)  # a late Pagefind request would show
    assert not pagefind_requests(traffic), "Pagefind loaded before the dialog opened"
    brand = page.locator("a.tw-brand")
    brand.focus()
    page.keyboard.press(keys)
    page.wait_for_function(f"() => document.activeElement?.matches('{INPUT}')", timeout=TIMEOUT_MS)
    assert dialog_open(page)
    page.keyboard.press("Escape")
    page.wait_for_function(f"() => !document.querySelector('{DIALOG}').open", timeout=TIMEOUT_MS)
    assert focused(page) == "a.tw-brand", f"focus went to {focused(page)}, not back to the link"
    assert not traffic.console_errors, traffic.console_errors


def test_slash_in_a_text_field_types_a_slash(served_site: ServedSite, make_context: Any) -> None:
    context, _ = make_context(color_scheme="light")
    page = context.new_page()
    visit(page, served_site, SEARCH)
    box = page.locator("#tw-search input.tw-sr-input")
    box.focus()
    page.keyboard.type("os/")
    assert box.input_value() == "os/"
    assert not dialog_open(page)


def test_header_box_opens_the_dialog_results_come_as_you_type(
    served_site: ServedSite, make_context: Any
) -> None:
    context, traffic = make_context(color_scheme="light")
    page = context.new_page()
    visit(page, served_site, NOTE)
    page.locator("#tw-q").click()
    page.wait_for_function(f"() => document.activeElement?.matches('{INPUT}')", timeout=TIMEOUT_MS)
    page.keyboard.type("deferToThread")
    wait_results(page)
    assert urlsplit(page.url).path == NOTE, "typing left the page"
    assert pagefind_requests(traffic), "results without Pagefind?"
    paths = page.locator(f"{DIALOG} {RESULT}").evaluate_all(
        "links => links.map(a => new URL(a.href).pathname)")
    assert "/notes/threads/" in paths and "/examples/blocking-pitfall/" in paths, paths
    # The close button closes it too, and the focus goes back to the header box.
    page.locator(f"{DIALOG} button.tw-sd-close").click()
    assert not dialog_open(page)
    assert focused(page) == "input#tw-q"
    assert not dialog_open(page), "the focus given back reopened the dialog"
    assert not traffic.console_errors, traffic.console_errors


def test_tab_into_the_header_box_does_not_open_the_dialog_typing_does(
    served_site: ServedSite, make_context: Any
) -> None:
    """Focus alone is no change of context (WCAG 3.2.1): Tab stops in the box; the first
    typed character opens the dialog, which takes over all of the text typed so far."""
    context, traffic = make_context(color_scheme="light")
    page = context.new_page()
    visit(page, served_site, NOTE)
    page.locator("a.tw-brand").focus()
    for _ in range(20):
        page.keyboard.press("Tab")
        assert not dialog_open(page), f"Tab to {focused(page)} opened the dialog"
        if focused(page) == "input#tw-q":
            break
    else:
        pytest.fail(f"20 presses of Tab from the brand link never reached #tw-q: {focused(page)}")
    page.keyboard.type("deferToThread")
    page.wait_for_function(f"() => document.activeElement?.matches('{INPUT}')", timeout=TIMEOUT_MS)
    wait_results(page)
    assert page.locator(INPUT).input_value() == "deferToThread"
    assert page.locator("#tw-q").input_value() == "", "the typed text stayed in the header box"
    page.keyboard.press("Escape")
    assert focused(page) == "input#tw-q" and not dialog_open(page)
    assert not traffic.console_errors, traffic.console_errors


def test_a_composition_in_the_header_box_is_not_cut_off(
    served_site: ServedSite, make_context: Any
) -> None:
    """Pinyin being composed stays in the header box; the committed characters open the
    dialog as its query (Chromium's input-method events, through the DevTools protocol)."""
    context, traffic = make_context(color_scheme="light")
    page = context.new_page()
    visit(page, served_site, NOTE)
    # Loaded once, the UI opens in a microtask: a wrong opening would show by the next check.
    page.keyboard.press("/")
    page.wait_for_function(f"() => document.activeElement?.matches('{INPUT}')", timeout=TIMEOUT_MS)
    page.keyboard.press("Escape")
    page.locator("#tw-q").focus()
    ime = context.new_cdp_session(page)
    ime.send("Input.imeSetComposition", {"text": "xian", "selectionStart": 4, "selectionEnd": 4})
    assert page.evaluate("document.querySelector('#tw-q').value") == "xian"
    assert not dialog_open(page), "a composition in progress opened the dialog"
    assert focused(page) == "input#tw-q"
    ime.send("Input.insertText", {"text": "线程"})
    page.wait_for_function(f"() => document.activeElement?.matches('{INPUT}')", timeout=TIMEOUT_MS)
    page.wait_for_function(
        f"() => document.querySelector('{INPUT}').value === '线程'", timeout=TIMEOUT_MS)
    wait_results(page)
    assert not traffic.console_errors, traffic.console_errors


def test_arrows_move_through_results_and_enter_opens_one_with_highlights(
    served_site: ServedSite, make_context: Any
) -> None:
    context, traffic = make_context(color_scheme="light")
    page = context.new_page()
    visit(page, served_site, "/")
    search_in_dialog(page, "/", "addTimeout")
    links = page.locator(f"{DIALOG} .tw-sr-results a")
    assert links.count() >= 2
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement") == links.nth(0).evaluate("a => a")
    page.keyboard.press("ArrowDown")
    second = links.nth(1).get_attribute("href")
    assert page.evaluate("document.activeElement.getAttribute('href')") == second
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    assert page.evaluate(f"document.activeElement.matches('{INPUT}')")
    page.keyboard.press("ArrowDown")
    first = links.nth(0).get_attribute("href")
    with page.expect_navigation(timeout=TIMEOUT_MS):
        page.keyboard.press("Enter")
    landed = urlsplit(page.url)
    assert landed.path == urlsplit(first or "").path
    assert parse_qs(landed.query).get("highlight") == ["addTimeout"]
    marks = page.locator(".tw-article mark.tw-hl")
    # highlight.js is imported once the landing page runs: it may mark after the load event.
    with contextlib.suppress(PlaywrightTimeoutError):
        marks.first.wait_for(timeout=TIMEOUT_MS)
    assert marks.count() > 0, "no highlighted term on the landing page"
    assert {t.casefold() for t in marks.all_text_contents()} == {"addtimeout"}
    assert not traffic.console_errors, traffic.console_errors


def test_enter_in_the_box_opens_the_first_result(
    served_site: ServedSite, make_context: Any
) -> None:
    context, _ = make_context(color_scheme="light")
    page = context.new_page()
    visit(page, served_site, NOTE)
    page.keyboard.press("Control+k")
    page.wait_for_selector(INPUT)
    page.keyboard.type("SynchronousTestCase")
    with page.expect_navigation(timeout=TIMEOUT_MS):
        page.keyboard.press("Enter")
    assert urlsplit(page.url).path == "/notes/trial-testing/"


def test_sub_results_are_named_by_their_headings(
    served_site: ServedSite, make_context: Any
) -> None:
    context, _ = make_context(color_scheme="light")
    page = context.new_page()
    visit(page, served_site, f"{SEARCH}?q=callLater")
    wait_results(page, "#tw-search")
    subs = page.locator(f"#tw-search {SUB}").evaluate_all(
        "links => links.map(a => [a.textContent, a.href])")
    assert subs, "no sub-results"
    labels = [label for label, _ in subs]
    assert "代码" not in labels, labels
    shown = ""  # the sub-results of one page share its address: it is opened once for them
    for label, href in subs:
        parts = urlsplit(href)
        assert parts.fragment, href
        if (target := f"{parts.path}?{parts.query}") != shown:
            visit(page, served_site, target)
            shown = target
        heading_text = page.evaluate(
            "id => { const h = document.getElementById(id); if (!h) return null;"
            " const c = h.cloneNode(true);"
            " c.querySelectorAll('.tw-anchor').forEach(a => a.remove());"
            " return c.textContent.trim(); }",
            unquote(parts.fragment))
        assert heading_text is not None, f"{href}: no element with that id"
        assert heading_text == label.strip(), f"{href}: {label!r} but heading {heading_text!r}"


def test_home_and_the_note_do_not_look_alike(served_site: ServedSite, make_context: Any) -> None:
    context, _ = make_context(color_scheme="light")
    page = context.new_page()
    # The home page is titled with the site's name, the note "Twisted学习笔记": both are found.
    visit(page, served_site, f"{SEARCH}?q={quote('Twisted 学习笔记')}")
    wait_results(page, "#tw-search")
    shown = dict(page.locator(f"#tw-search {RESULT}").evaluate_all(
        "links => links.map(a => [new URL(a.href).pathname, a.textContent])"))
    assert "/" in shown and NOTE in shown, shown
    assert shown["/"].startswith("首页"), shown["/"]
    assert shown[NOTE].startswith("笔记"), shown[NOTE]
    texts = list(shown.values())
    assert len(set(texts)) == len(texts), f"results that read the same: {texts}"


def test_search_page_without_js_says_so_at_the_top(
    served_site: ServedSite, make_context: Any
) -> None:
    context, _ = make_context(color_scheme="light", java_script_enabled=False,
                              viewport={"width": 390, "height": 844})
    page = context.new_page()
    visit(page, served_site, f"{SEARCH}?q=回调")
    notice = page.locator(".tw-search-noscript")
    assert notice.is_visible(), "no JS-off notice on the search page"
    assert "JavaScript" in notice.text_content()
    title = page.locator("main h1").bounding_box()
    box = notice.bounding_box()
    assert title and box and box["y"] >= title["y"] and box["y"] + box["height"] <= 844, box
    # Nothing but the title comes before it in the article.
    before = page.evaluate(
        "() => { const n = document.querySelector('.tw-search-noscript');"
        " const all = [...document.querySelectorAll('main p, main div.tw-content')];"
        " return all.filter(e => e.compareDocumentPosition(n) & Node.DOCUMENT_POSITION_FOLLOWING"
        " && e !== n).length; }")
    assert before == 0


# --- Table of contents: the current section after jumps --------------------------------

EXPECTED_CURRENT = """() => {
  const links = [...document.querySelectorAll(".tw-toc a[href^='#']")];
  const ids = new Set(links.map(a => decodeURIComponent(a.hash.slice(1))));
  const hs = [...document.querySelectorAll(".tw-content :is(h1,h2,h3,h4)[id]")]
    .filter(h => ids.has(h.id));
  let active = hs[0];
  for (const h of hs) {
    const m = parseFloat(getComputedStyle(h).scrollMarginTop) || 0;
    if (h.getBoundingClientRect().top - m <= 1) active = h; else break;
  }
  return active.id;
}"""
CURRENT = """() => {
  const a = document.querySelector(".tw-toc a[aria-current='true']");
  return a ? decodeURIComponent(a.hash.slice(1)) : null;
}"""


def wait_current(page: Any, expected: str) -> None:
    """Wait (bounded) until the TOC marks `expected`; on timeout say what it marks instead."""
    try:
        page.wait_for_function(f"([want]) => ({CURRENT})() === want", arg=[expected],
                               timeout=TIMEOUT_MS)
    except PlaywrightTimeoutError:
        pytest.fail(f"TOC marks {page.evaluate(CURRENT)!r}, expected {expected!r}")


def test_toc_follows_anchor_links_jumps_and_drags(
    served_site: ServedSite, make_context: Any
) -> None:
    context, _ = make_context(color_scheme="light", viewport={"width": 1440, "height": 900})
    page = context.new_page()
    visit(page, served_site, NOTE)
    ids = page.evaluate(
        "[...document.querySelectorAll('.tw-toc a[href^=\"#\"]')]"
        ".map(a => decodeURIComponent(a.hash.slice(1)))")
    assert len(ids) >= 6, ids
    # 1. Anchor links in the TOC, far apart and backwards (no heading in between is seen).
    for target in [ids[-3], ids[1], ids[len(ids) // 2], ids[0]]:
        page.locator(f".tw-toc a[href='#{target}']").first.click()
        want = page.evaluate(EXPECTED_CURRENT)
        assert want == target, f"after a jump to #{target} the rule itself says {want}"
        wait_current(page, target)
    # 2. A hash typed into the address bar (a jump without any click).
    page.evaluate("id => { location.hash = encodeURIComponent(id); }", ids[-4])
    wait_current(page, page.evaluate(EXPECTED_CURRENT))
    # 3. Jumps straight to a scroll offset, as a scrollbar drag or find in page does:
    #    between two headings, the earlier one is current.
    for fraction in (0.8, 0.15, 0.5, 0.3):
        page.evaluate(
            "f => window.scrollTo(0, f * (document.scrollingElement.scrollHeight - innerHeight))",
            fraction)
        want = page.evaluate(EXPECTED_CURRENT)
        wait_current(page, want)
    # 4. Find in page: the browser scrolls a match into view; scrollIntoView does the same.
    page.evaluate("() => { const ps = document.querySelectorAll('.tw-content p');"
                  " ps[Math.floor(ps.length * 0.7)].scrollIntoView({block: 'center'}); }")
    wait_current(page, page.evaluate(EXPECTED_CURRENT))
    # 5. Back at the top: the first heading.
    page.evaluate("window.scrollTo(0, 0)")
    wait_current(page, ids[0])
    # 6. A resize that moves the text under a fixed scroll position.
    page.evaluate("window.scrollTo(0, 0.6 * document.scrollingElement.scrollHeight)")
    page.set_viewport_size({"width": 1024, "height": 700})
    wait_current(page, page.evaluate(EXPECTED_CURRENT))


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_open_dialog_with_results_has_no_axe_violations(
    served_site: ServedSite, make_context: Any, axe_source: str, scheme: str
) -> None:
    context, _ = make_context(color_scheme=scheme, bypass_csp=True)
    page = context.new_page()
    visit(page, served_site, NOTE)
    search_in_dialog(page, "Control+k", "callLater")
    page.wait_for_selector(f"{DIALOG} {SUB}")
    problems = describe(f"[{scheme}] dialog", axe_violations(page, axe_source))
    # A landing page with highlighted terms, too.
    page.locator(f"{DIALOG} {RESULT}").first.click()
    page.wait_for_selector("mark.tw-hl")
    problems += describe(f"[{scheme}] {page.url}", axe_violations(page, axe_source))
    assert not problems, "\n".join(problems)


def test_dialog_and_highlights_raise_no_csp_violation(
    served_site: ServedSite, make_context: Any
) -> None:
    context, traffic = make_context(color_scheme="light")
    context.add_init_script(WATCH)
    page = context.new_page()
    visit(page, served_site, NOTE)
    search_in_dialog(page, "/", "回调")
    seen = page.evaluate("window.__violations")
    page.locator(f"{DIALOG} {RESULT}").first.click()
    page.wait_for_selector("mark.tw-hl")
    seen += page.evaluate("window.__violations")
    assert seen == []
    assert [e for e in traffic.console_errors if "Content Security Policy" in e] == []
