"""`twnotes enforce`: every page and feed of the built site, written back without delimiters."""

from __future__ import annotations

import dataclasses
import functools
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Final, TextIO

from twnotes import util
from twnotes.enforce.page import enforce_text
from twnotes.enforce.regions import TOKEN_ENV, Change, DelimiterError

_TOKEN_RE: Final = re.compile(r"[0-9a-f]{32,128}")


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What enforcing one file gave: its changes, or the delimiter error that stopped it."""

    page: str
    changes: tuple[Change, ...] = ()
    error: str | None = None


def enforce_file(root: Path, token: str, path: Path) -> Outcome:
    """Enforce one file of the site and write it back (a worker's unit of work).

    A feed or sitemap without any delimiter is not a page of the layouts and is left
    alone; every HTML page must carry its page delimiter.
    """
    page = path.relative_to(root).as_posix()
    xml = path.suffix == ".xml"
    raw = path.read_bytes()
    text = raw.decode("utf-8", errors="surrogateescape")
    if xml and f"<!--#tw:{token}:" not in text:
        return Outcome(page)
    try:
        cleaned, changes = enforce_text(text, token, page, xml=xml)
    except DelimiterError as exc:
        return Outcome(page, error=exc.reason)
    data = cleaned.encode("utf-8", errors="surrogateescape")
    if data != raw:
        # Not fsynced: a built site that a crash cuts short is built again; the rename
        # still writes each page whole or not at all (fsync cost 7 s for 1,000 pages).
        util.atomic_write(path, data, durable=False)
    return Outcome(page, tuple(changes))


def site_files(root: Path) -> list[Path]:
    """The built pages and feeds, in path order."""
    return sorted(path for pattern in ("*.html", "*.xml") for path in root.rglob(pattern)
                  if path.is_file())


def enforce_site(root: Path, token: str, jobs: int = 0,
                 files: list[Path] | None = None) -> Iterator[Outcome]:
    """Outcomes for every page and feed under root, in path order (jobs: util.parallel_map)."""
    if files is None:
        files = site_files(root)
    yield from util.parallel_map(functools.partial(enforce_file, root, token), files, jobs)


def token_from(value: str | None) -> str | None:
    """The region token given, or the one in HUGO_TW_REGION_TOKEN; None if neither is valid."""
    token = value if value is not None else os.environ.get(TOKEN_ENV, "")
    return token if _TOKEN_RE.fullmatch(token) else None


def run(root: Path, token: str | None, out: TextIO = sys.stdout, err: TextIO = sys.stderr,
        jobs: int = 0) -> int:
    """`twnotes enforce`: 0 nothing to clean, 1 changes (`page: what`), 2 bad delimiters or input.

    Every page is written back without its delimiters; a page with a delimiter error is
    left as it is (the build has failed: build again).
    """
    if token is None:
        print(f"twnotes enforce: no region token: set {TOKEN_ENV} (or --token) to the "
              "32 to 128 hex digits the site was built with", file=err)
        return 2
    if not root.is_dir():
        print(f"{root}: no built site here (run hugo first)", file=err)
        return 2
    files = site_files(root)
    if not any(path.suffix == ".html" for path in files):
        print(f"{root}: no HTML pages here, nothing to enforce (run hugo first)", file=err)
        return 2
    changes = errors = 0
    for outcome in enforce_site(root, token, jobs, files):
        if outcome.error is not None:
            print(f"{outcome.page}: {outcome.error}", file=err)
            errors += 1
        for change in outcome.changes:
            print(change, file=out)
            changes += 1
    if errors:
        print(f"{errors} page(s) with bad region delimiters in {root}", file=err)
        return 2
    if changes:
        print(f"{changes} region(s) cleaned in {root}: the source sanitiser missed them "
              "(twnotes sanitize should have fixed the Markdown)", file=err)
        return 1
    return 0
