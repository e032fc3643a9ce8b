"""`twnotes audit`: every HTML page of the built site, over worker processes when large."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from twnotes import util
from twnotes.audit.page import Finding, audit_html


def audit_file(root: Path, path: Path) -> list[Finding]:
    """Findings for one file of the site (a worker's unit of work)."""
    page = path.relative_to(root).as_posix()
    return audit_html(path.read_text(encoding="utf-8", errors="replace"), page, root,
                      require_policy=True)


def site_pages(root: Path) -> list[Path]:
    """The HTML files of the built site, in path order."""
    return [path for path in sorted(root.rglob("*.html")) if path.is_file()]


def audit_site(root: Path, jobs: int = 0, files: list[Path] | None = None) -> Iterator[Finding]:
    """Findings for every HTML page under the built site's root, in path order.

    `jobs` as util.parallel_map: 0 spreads a large site over all cores. Results come
    back in path order whatever the number of workers, so the output is the same.
    """
    if files is None:
        files = site_pages(root)
    for findings in util.parallel_map(functools.partial(audit_file, root), files, jobs):
        yield from findings


def run(root: Path, out: TextIO, err: TextIO, jobs: int = 0) -> int:
    """`twnotes audit`: 0 clean, 1 findings (one `page: reason` line each), 2 no site.

    A folder without any HTML page is "no site" too: auditing nothing must not pass.
    """
    if not root.is_dir():
        print(f"{root}: no built site here (run hugo first)", file=err)
        return 2
    files = site_pages(root)
    if not files:
        print(f"{root}: no HTML pages here, nothing to audit (run hugo first)", file=err)
        return 2
    count = 0
    for finding in audit_site(root, jobs, files):
        print(finding, file=out)
        count += 1
    if count:
        print(f"{count} finding(s) in {root}", file=err)
        return 1
    return 0
