"""The Content-Security-Policy in a real browser: what a note might still smuggle onto a page
does not run, and everything the layouts do still works without a single violation."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from .conftest import RESULT, TIMEOUT_MS, ServedSite
from .sweep import WATCH, Sweep, head_problems, in_group, violation_problems
from .test_pages import NOTE, SEARCH, visit

# Planted by hand into a built page: an inline script, an event handler, a javascript: link.
PLANTS = (
    '<script>window.__planted.push("inline script")</script>'
    '<img src="/csp-missing.png" alt="" onerror="window.__planted.push(\'onerror\')">'
    '<a id="planted-link" href="javascript:window.__planted.push(\'javascript: URL\')">x</a>'
)
CSP_META = re.compile(r'<meta http-equiv="?Content-Security-Policy"? content="[^"]*">')


@pytest.fixture
def planted(served_site: ServedSite) -> Iterator[dict[str, str]]:
    """The note page with PLANTS in its content, as served: with its policy and without.

    `.htm` keeps them out of ServedSite.pages(), which other tests walk.
    """
    note = served_site.site.page(NOTE.lstrip("/"))
    assert len(CSP_META.findall(note)) == 1, "the note page has no CSP meta"
    marker = '<div class="tw-content">'
    assert marker in note
    hostile = note.replace(marker, marker + PLANTS, 1)
    pages = {"with": hostile, "without": CSP_META.sub("", hostile)}
    paths: list[Path] = []
    try:
        urls = {}
        for name, html in pages.items():
            path = served_site.public / f"csp-planted-{name}.htm"
            path.write_text(html, encoding="utf-8")
            paths.append(path)
            urls[name] = f"/{path.name}"
        yield urls
    finally:
        for path in paths:
            path.unlink(missing_ok=True)


def open_watched(make_context: Any, site: ServedSite, path: str) -> tuple[Any, Any]:
    context, traffic = make_context(color_scheme="light")
    context.add_init_script(WATCH)
    page = context.new_page()
    visit(page, site, path)
    return page, traffic


def test_planted_code_runs_without_the_policy(served_site: ServedSite, make_context: Any,
                                              planted: dict[str, str]) -> None:
    # The control: the same page less its policy runs all three, so the test below can fail.
    page, _ = open_watched(make_context, served_site, planted["without"])
    page.click("#planted-link")
    page.wait_for_function("() => window.__planted.length >= 3", timeout=TIMEOUT_MS)
    assert sorted(page.evaluate("window.__planted")) == [
        "inline script", "javascript: URL", "onerror"]


def test_planted_code_does_not_run_under_the_policy(served_site: ServedSite, make_context: Any,
                                                    planted: dict[str, str]) -> None:
    page, traffic = open_watched(make_context, served_site, planted["with"])
    page.click("#planted-link")
    # The browser reports each refusal: the inline script, the handler, the URL.
    page.wait_for_function("() => window.__violations.length >= 3", timeout=TIMEOUT_MS)
    page.wait_for_timeout(300)  # time for anything that would run late
    assert page.evaluate("window.__planted") == []
    violations = page.evaluate("window.__violations")
    assert all(v.startswith("script-src") for v in violations), violations
    assert any("Content Security Policy" in e for e in traffic.console_errors)
    # The layouts' own scripts still ran on that page: the theme toggle works.
    page.click("button.tw-theme-toggle")
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"


@pytest.mark.parametrize("name", in_group("light", "dark", "phone"))
def test_no_page_reports_a_violation(sweep: Sweep, name: str) -> None:
    """The sweep's visits (both themes, a phone): no violation, no console error about the
    policy, on any page."""
    seen = [line for report in sweep.reports(name) for line in violation_problems(report)]
    assert seen == []


def test_every_layout_feature_works_with_no_violation(served_site: ServedSite,
                                                      make_context: Any) -> None:
    context, traffic = make_context(
        color_scheme="light", viewport={"width": 1280, "height": 800},
        permissions=["clipboard-read", "clipboard-write"])
    context.add_init_script(WATCH)
    page = context.new_page()
    visit(page, served_site, NOTE)
    # Theme toggle (site.js) and the inline theme bootstrap (theme-init, by its hash).
    page.click("button.tw-theme-toggle")
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    page.reload(wait_until="load")
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    # Copy button.
    page.locator("div.tw-code button.tw-copy").first.click()
    page.wait_for_function(
        "() => navigator.clipboard.readText().then(t => t.length > 0)", timeout=TIMEOUT_MS)
    # Table of contents following the scroll.
    page.evaluate("document.querySelector('.tw-content h2[id]:last-of-type')"
                  ".scrollIntoView({block: 'start'})")
    page.wait_for_selector('.tw-toc a[aria-current="true"]', timeout=TIMEOUT_MS)
    seen = [f"{NOTE}: {v}" for v in page.evaluate("window.__violations")]
    # Search: Pagefind's UI script, its WebAssembly and its styles.
    visit(page, served_site, f"{SEARCH}?q=reactor")
    with contextlib.suppress(PlaywrightTimeoutError):
        page.wait_for_selector(RESULT, timeout=TIMEOUT_MS)
    assert page.locator(RESULT).count() > 0, "search found nothing"
    seen += [f"{SEARCH}: {v}" for v in page.evaluate("window.__violations")]
    assert seen == []
    assert [e for e in traffic.console_errors if "Content Security Policy" in e] == []


@pytest.mark.parametrize("scheme", in_group("light", "dark"))
def test_the_policy_is_the_first_element_of_every_head(sweep: Sweep, scheme: str) -> None:
    wrong = [line for report in sweep.reports(scheme) for line in head_problems(report)]
    assert wrong == []
