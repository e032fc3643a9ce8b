"""Every page in a real browser: loads cleanly, stays on the site, fits a phone, looks right."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from .conftest import RESULT, TIMEOUT_MS, ServedSite

NOTE = "/notes/twisted/"
SEARCH = "/search/"
PHONE = {"width": 360, "height": 740}


def visit(page: Any, site: ServedSite, path: str) -> None:
    """Open a page and wait until the network is quiet (bounded by the context timeout)."""
    response = page.goto(site.url(path), wait_until="networkidle")
    assert response is not None, f"{path}: no response"
    assert response.status == 200, f"{path}: HTTP {response.status}"


def test_site_has_the_pages_under_test(served_site: ServedSite) -> None:
    pages = served_site.pages()
    assert "/" in pages
    assert NOTE in pages
    assert SEARCH in pages, f"no search page at {SEARCH} (ui-contract); pages: {pages}"


def test_every_page_loads_without_errors_or_offsite_requests(
    served_site: ServedSite, make_context: Any
) -> None:
    """No console error, no uncaught exception, no 4xx/5xx and no request leaving the site,
    in both themes; Pagefind is fetched only by the search page (ui-contract)."""
    problems: list[str] = []
    for scheme in ("light", "dark"):
        context, traffic = make_context(color_scheme=scheme)
        page = context.new_page()
        for path in served_site.pages():
            traffic.clear()
            visit(page, served_site, path)
            problems += [f"[{scheme}] {e}" for e in traffic.console_errors]
            problems += [f"[{scheme}] {path}: off-site request {u}" for u in traffic.outside]
            problems += [f"[{scheme}] {path}: HTTP {s}" for s in traffic.bad_status]
            if path != SEARCH:
                problems += [
                    f"[{scheme}] {path}: loads Pagefind on first load: {u}"
                    for u in traffic.requests
                    if "/pagefind/" in u
                ]
        context.close()
    assert not problems, "\n".join(problems)


def test_no_page_scrolls_sideways_at_360px(served_site: ServedSite, make_context: Any) -> None:
    context, _ = make_context(viewport=PHONE, color_scheme="light")
    page = context.new_page()
    overflowing: list[str] = []
    # The search page also with results: Pagefind's excerpts and URLs must wrap too.
    for path in [*served_site.pages(), f"{SEARCH}?q=buildProtocol"]:
        visit(page, served_site, path)
        if "?q=" in path:
            with contextlib.suppress(PlaywrightTimeoutError):
                page.wait_for_selector(RESULT, timeout=TIMEOUT_MS)
        scroll_width, client_width, culprits = page.evaluate(
            """() => {
                const root = document.scrollingElement;
                const wide = [...document.body.querySelectorAll('*')]
                    .filter(el => el.getBoundingClientRect().right > root.clientWidth + 0.5)
                    .slice(0, 5)
                    .map(el => el.tagName.toLowerCase()
                        + (el.className && typeof el.className === 'string'
                           ? '.' + el.className.trim().split(/\\s+/).join('.') : ''));
                return [root.scrollWidth, root.clientWidth, wide];
            }"""
        )
        if scroll_width > client_width:
            overflowing.append(
                f"{path}: scrollWidth {scroll_width} > clientWidth {client_width}; "
                f"widest elements: {culprits}"
            )
    assert not overflowing, "\n".join(overflowing)


def test_seed_raw_html_is_visible_on_the_note(served_site: ServedSite, make_context: Any) -> None:
    """The seed's hand-written table, stray list item and link reach the reader."""
    context, _ = make_context(color_scheme="light")
    page = context.new_page()
    visit(page, served_site, NOTE)
    content = page.locator(".tw-content")
    table = content.locator("table").filter(has_text="&")
    assert table.count() >= 1, "the seed's table is not on the note page"
    assert table.first.is_visible(), "the seed's table is not visible"
    item = content.locator("li").filter(has_text="aaaaa")
    assert item.count() >= 1, "the seed's list item `aaaaa` is not on the note page"
    assert item.first.is_visible(), "the list item `aaaaa` is not visible"
    link = content.get_by_role("link", name="This is a link")
    assert link.count() >= 1, "the seed's link 'This is a link' is not on the note page"
    assert link.first.is_visible(), "the link 'This is a link' is not visible"


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_screenshots_of_home_and_note(
    served_site: ServedSite, make_context: Any, artifacts: Path, scheme: str
) -> None:
    """Full-page screenshots for a human to look at (test-artifacts/, gitignored)."""
    context, _ = make_context(color_scheme=scheme, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    for name, path in (("home", "/"), ("note", NOTE)):
        visit(page, served_site, path)
        assert page.evaluate("document.documentElement.dataset.theme") == scheme
        shot = artifacts / f"{name}-{scheme}.png"
        shot.unlink(missing_ok=True)
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 1000, f"{shot} looks empty"
