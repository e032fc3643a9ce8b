"""Search in the browser: Pagefind finds Chinese words and identifiers; the form needs no JS."""

from __future__ import annotations

import contextlib
import functools
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from bs4 import BeautifulSoup
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from .conftest import RESULT, TIMEOUT_MS, ServedSite
from .test_pages import NOTE, SEARCH, visit


def leaf_pages(site: ServedSite) -> list[str]:
    """Content pages: not a section or taxonomy list, not the search page or the 404."""
    pages = site.pages()
    return [
        path
        for path in pages
        if path.endswith("/")
        and path not in ("/", SEARCH)
        and not path.startswith("/tags/")
        and not any(other != path and other.startswith(path) for other in pages)
    ]


@functools.cache
def content_text(site: ServedSite, path: str) -> str | None:
    """The casefolded text of a page's .tw-content (None: it has none), parsed once per
    session for every term."""
    soup = BeautifulSoup(site.site.page(path.lstrip("/")), "html5lib")
    content = soup.select_one(".tw-content")
    return None if content is None else content.get_text().casefold()


def expected_pages(site: ServedSite, term: str) -> set[str]:
    """The note, plus every content page whose text contains the term (examples, say)."""
    found = {NOTE}
    for path in leaf_pages(site):
        text = content_text(site, path)
        if text is not None and term.casefold() in text:
            found.add(path)
    return found


@pytest.mark.parametrize("term", ["反应器", "buildProtocol"])
def test_search_finds_the_right_pages(
    served_site: ServedSite, make_context: Any, term: str
) -> None:
    context, traffic = make_context(color_scheme="light")
    page = context.new_page()
    visit(page, served_site, f"{SEARCH}?q={quote(term)}")
    expected = expected_pages(served_site, term)
    # The search UI lists the first results and a "more" button: pressed until every
    # expected page is listed or no button is left (a bounded number of times). On timeout
    # the assertion below says what was found instead.
    def listed() -> tuple[list[str], set[str]]:
        hrefs = page.locator(RESULT).evaluate_all("links => links.map(a => a.href)")
        return hrefs, {urlsplit(href).path for href in hrefs}

    for _ in range(10):
        with contextlib.suppress(PlaywrightTimeoutError):
            page.wait_for_function(
                "([sel, n]) => document.querySelectorAll(sel).length >= n"
                " || document.querySelector('.tw-sr-more:not([hidden])')",
                arg=[RESULT, len(expected)],
                timeout=TIMEOUT_MS,
            )
        more = page.locator(".tw-sr-more:not([hidden])")
        hrefs, paths = listed()
        if expected <= paths or not more.count():
            break
        more.first.click()
        # Until the click has listed more results (bounded; on timeout the loop goes on).
        with contextlib.suppress(PlaywrightTimeoutError):
            page.wait_for_function("([sel, n]) => document.querySelectorAll(sel).length > n",
                                   arg=[RESULT, len(hrefs)], timeout=TIMEOUT_MS)
    hrefs, found = listed()
    assert expected <= found, f"searching {term!r}: expected {sorted(expected)}, got {hrefs}"
    assert not traffic.console_errors, traffic.console_errors
    assert not traffic.outside, traffic.outside


def test_header_search_form_works_without_javascript(
    served_site: ServedSite, make_context: Any
) -> None:
    """The header form is a plain GET to the search page carrying ?q= (ui-contract)."""
    context, _ = make_context(color_scheme="light", java_script_enabled=False)
    page = context.new_page()
    visit(page, served_site, NOTE)
    form = page.locator("form.tw-search-form[role=search]")
    assert form.count() == 1, "no form.tw-search-form[role=search] in the header"
    form.locator("input[name=q]").fill("回调")
    with page.expect_navigation(timeout=TIMEOUT_MS):
        form.locator("input[name=q]").press("Enter")
    landed = urlsplit(page.url)
    assert landed.path == SEARCH
    assert parse_qs(landed.query).get("q") == ["回调"]
