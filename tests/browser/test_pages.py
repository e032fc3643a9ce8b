"""Every page in a real browser: loads cleanly, stays on the site, fits a phone, looks right."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import ServedSite
from .sweep import PHONE_SEARCH, Sweep, in_group, load_problems, overflow_problems

NOTE = "/notes/twisted/"
SEARCH = "/search/"


def visit(page: Any, site: ServedSite, path: str, *, idle: bool = False) -> None:
    """Open a page until its load event (its deferred scripts have run by then; what comes
    later, search results or highlights, a test waits for by selector). `idle`: until the
    network has been quiet for 500 ms, for a test that checks that nothing more is fetched.
    Both bounded by the context's navigation timeout."""
    response = page.goto(site.url(path), wait_until="networkidle" if idle else "load")
    assert response is not None, f"{path}: no response"
    assert response.status == 200, f"{path}: HTTP {response.status}"


def test_site_has_the_pages_under_test(served_site: ServedSite) -> None:
    pages = served_site.pages()
    assert "/" in pages
    assert NOTE in pages
    assert SEARCH in pages, f"no search page at {SEARCH} (ui-contract); pages: {pages}"


@pytest.mark.parametrize("name", in_group("light", "dark", "phone"))
def test_every_page_loads_without_errors_or_offsite_requests(sweep: Sweep, name: str) -> None:
    """No console error, no uncaught exception, no 4xx/5xx and no request leaving the site,
    in both themes and on a phone; Pagefind is fetched only by the search page (ui-contract)."""
    problems = [line for report in sweep.reports(name) for line in load_problems(report)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", in_group("phone"))
def test_no_page_scrolls_sideways_at_360px(sweep: Sweep, name: str) -> None:
    # The search page also with results (PHONE_SEARCH): Pagefind's excerpts and URLs wrap too.
    reports = sweep.reports(name)
    assert PHONE_SEARCH in [report.path for report in reports]
    overflowing = [line for report in reports for line in overflow_problems(report)]
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
