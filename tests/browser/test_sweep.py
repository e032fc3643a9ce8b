"""The sweep itself (sweep.py) can fail: a page planted with one fault for each of its
checks is flagged by every one of them, and the real note page passes the same checks."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from .conftest import ServedSite
from .sweep import (
    Sweep,
    SweepReport,
    axe_problems,
    head_problems,
    in_group,
    load_problems,
    overflow_problems,
    sweep_context,
    violation_problems,
)
from .test_pages import NOTE

CSP_META = re.compile(r'<meta http-equiv="?Content-Security-Policy"? content="[^"]*">')
# Before the content (whose images shrink to fit): an inline script (a CSP violation and a
# console error), an image that is missing (HTTP 404), has no alt text (axe: image-alt) and is
# 2000 px wide (sideways scroll).
FAULTS = ('<script>1</script>'
          '<img src="/sweep-missing.png" width="2000" height="10">')
# With the policy removed (it would refuse the request first): an off-site image.
OFFSITE = '<img src="http://offsite.invalid/p.png" alt="">'


@pytest.fixture
def faulty(served_site: ServedSite) -> Iterator[dict[str, str]]:
    """The note page with FAULTS (and a stray <meta> before the policy), and without its
    policy but with OFFSITE; `.htm` keeps them out of ServedSite.pages()."""
    note = served_site.site.page(NOTE.lstrip("/"))
    marker = '<div class="tw-content">'
    assert marker in note and len(CSP_META.findall(note)) == 1
    policy = CSP_META.search(note)
    assert policy is not None
    broken = note.replace(policy.group(0), '<meta name="x" content="y">' + policy.group(0), 1)
    pages = {"faults": broken.replace(marker, FAULTS + marker, 1),
             "offsite": CSP_META.sub("", note).replace(marker, marker + OFFSITE, 1)}
    written = []
    for name, html in pages.items():
        path = served_site.public / f"sweep-{name}.htm"
        path.write_text(html, encoding="utf-8")
        written.append(path)
    try:
        yield {name: f"/sweep-{name}.htm" for name in pages}
    finally:
        for path in written:
            path.unlink(missing_ok=True)


def one(reports: list[SweepReport], path: str) -> SweepReport:
    [report] = [r for r in reports if r.path == path]
    return report


def test_every_sweep_check_flags_a_planted_fault(
    browser: Any, served_site: ServedSite, axe_source: str, faulty: dict[str, str]
) -> None:
    paths = [faulty["faults"], faulty["offsite"], NOTE]
    desktop = sweep_context(browser, served_site, paths, "dark", axe_source)
    phone = sweep_context(browser, served_site, paths, "phone", axe_source)
    bad, offsite, note = (one(desktop, p) for p in paths)
    assert bad.error == "" and offsite.error == "", (bad.error, offsite.error)
    assert any("script-src" in line for line in violation_problems(bad))
    assert any("404" in line for line in load_problems(bad))
    assert any("Content Security Policy" in line for line in load_problems(bad))
    assert any("offsite.invalid" in line and "off-site" in line
               for line in load_problems(offsite))
    assert head_problems(bad) == [f"{faulty['faults']}:  y"]  # the stray meta, no policy
    assert any("image-alt" in line for line in axe_problems(bad, "dark"))
    assert axe_problems(note, "light")[0].startswith("[dark] /notes/twisted/: data-theme")
    assert any("scrollWidth" in line for line in overflow_problems(one(phone, paths[0])))
    # The same checks pass on the real page: the faults above are what they caught.
    assert load_problems(note) == []
    assert violation_problems(note) == []
    assert head_problems(note) == []
    assert axe_problems(note, "dark") == []
    assert overflow_problems(one(phone, NOTE)) == []
    assert load_problems(one(phone, NOTE)) == []


@pytest.mark.parametrize("name", in_group("light", "dark", "phone"))
def test_the_sweep_visits_every_page(served_site: ServedSite, sweep: Sweep, name: str) -> None:
    visited = [report.path for report in sweep.reports(name)]
    assert sorted(visited) == sorted(sweep.paths(name))
    assert set(served_site.pages()) <= set(visited)
    assert len(visited) > 50
    # The search visits come last: Pagefind's worker, started there, may ask for its script
    # after the page is left, and no later page must be charged with it.
    searches = [i for i, path in enumerate(visited) if path.startswith("/search/")]
    assert searches == list(range(len(visited) - len(searches), len(visited))), visited
    assert len(searches) == 2
