"""Quality gate: axe-core finds no accessibility violation on any page, in either theme.

Rule sets run (axe tags): WCAG 2.0, 2.1 and 2.2 at levels A and AA, plus axe's best practices.
The search page is checked twice: empty, and showing results (Pagefind's UI is on the page).
axe runs on the sweep's visits (sweep.py), with the site's own CSP in force.
"""

from __future__ import annotations

from typing import Any

import pytest

from .sweep import AXE_SEARCH, AXE_TAGS, Sweep, axe_facts, axe_problems, in_group


@pytest.mark.parametrize("scheme", in_group("light", "dark"))
def test_axe_reports_no_violations(browser: Any, axe_source: str, sweep: Sweep,
                                   scheme: str) -> None:
    reports = sweep.reports(scheme)
    version, rules = axe_facts(browser, axe_source)
    print(f"axe {version}: {rules} rules, tags {AXE_TAGS}, {len(reports)} pages, {scheme} theme")
    assert rules > 50, f"axe ran only {rules} rules"
    assert AXE_SEARCH in [report.path for report in reports]
    problems = [line for report in reports for line in axe_problems(report, scheme)]
    assert not problems, "\n".join(problems)
