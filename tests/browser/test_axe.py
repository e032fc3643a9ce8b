"""Quality gate: axe-core finds no accessibility violation on any page, in either theme.

Rule sets run (axe tags): WCAG 2.0, 2.1 and 2.2 at levels A and AA, plus axe's best practices.
The search page is checked twice: empty, and showing results (Pagefind's UI is on the page).
"""

from __future__ import annotations

import contextlib
from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from .conftest import RESULT, TIMEOUT_MS, ServedSite
from .test_pages import SEARCH, visit

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa", "best-practice"]

RUN_AXE = """async tags => {
    const results = await axe.run(document, {
        runOnly: {type: 'tag', values: tags},
        resultTypes: ['violations'],
    });
    return results.violations.map(v => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' :: '
            + (n.failureSummary || '').replace(/\\s+/g, ' ').slice(0, 300)),
        count: v.nodes.length,
    }));
}"""


def axe_violations(page: Any, axe_source: str) -> list[dict[str, Any]]:
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=axe_source)
    violations: list[dict[str, Any]] = page.evaluate(RUN_AXE, AXE_TAGS)
    return violations


def describe(where: str, violations: list[dict[str, Any]]) -> list[str]:
    lines: list[str] = []
    for v in violations:
        lines.append(f"{where}: {v['id']} ({v['impact']}, {v['count']} nodes): {v['help']}")
        lines += [f"    {node}" for node in v["nodes"]]
    return lines


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_reports_no_violations(
    served_site: ServedSite, make_context: Any, axe_source: str, scheme: str
) -> None:
    # bypass_csp: injecting axe must work even if the site adopts a Content-Security-Policy.
    context, _ = make_context(color_scheme=scheme, bypass_csp=True)
    page = context.new_page()
    rules = 0
    problems: list[str] = []
    targets = [*served_site.pages(), f"{SEARCH}?q={quote('反应器')}"]
    for path in targets:
        visit(page, served_site, path)
        assert page.evaluate("document.documentElement.dataset.theme") == scheme
        if "?q=" in path:
            with contextlib.suppress(PlaywrightTimeoutError):
                page.wait_for_selector(RESULT, timeout=TIMEOUT_MS)
        problems += describe(f"[{scheme}] {path}", axe_violations(page, axe_source))
        rules = page.evaluate("tags => axe.getRules(tags).length", AXE_TAGS)
    print(f"axe {page.evaluate('axe.version')}: {rules} rules, tags {AXE_TAGS}, "
          f"{len(targets)} pages, {scheme} theme")
    assert rules > 50, f"axe ran only {rules} rules"
    assert not problems, "\n".join(problems)
