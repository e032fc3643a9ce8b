"""Screenshots of every kind of page for a human to look at, in test-artifacts/ (gitignored):
home, a note, an example, a list and search (with results), each on a desktop and a phone,
light and dark, named like `example-phone-dark.png`.

A picture is taken again only when it is missing or changed, or when the page, a file its
visit loaded or this code is no longer what it was taken of (visitcache.py)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from conftest import HEADLESS_SHELL

from .conftest import RESULT, TIMEOUT_MS, ServedSite
from .test_pages import NOTE, SEARCH, visit
from .visitcache import VisitCache, for_checks

KINDS = {"home": "/", "note": NOTE, "example": "/examples/poetry/", "list": "/notes/",
         "search": f"{SEARCH}?q=反应器"}
DEVICES = {"desktop": {"viewport": {"width": 1280, "height": 900}},
           "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True,
                     "has_touch": True, "device_scale_factor": 2}}


@pytest.fixture(scope="module")
def taken(browser: Any, served_site: ServedSite) -> VisitCache:
    """Pictures already in test-artifacts/, by the bytes they show."""
    return for_checks(Path(__file__), served_site.public, served_site.base,
                      [str(HEADLESS_SHELL), browser.version])


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "-"


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("device", list(DEVICES))
def test_screenshots_of_every_kind_of_page(
    served_site: ServedSite, make_context: Any, artifacts: Path, taken: VisitCache,
    device: str, scheme: str,
) -> None:
    context, traffic = make_context(color_scheme=scheme, **DEVICES[device])
    page = context.new_page()
    variant = f"{device}-{scheme}"
    for kind, path in KINDS.items():
        shot = artifacts / f"{kind}-{variant}.png"
        earlier = taken.get(variant, path)
        if earlier is not None and earlier["shot"] == sha256(shot):
            continue
        traffic.clear()
        visit(page, served_site, path)
        complete = True
        if kind == "search":
            try:
                page.wait_for_selector(RESULT, timeout=TIMEOUT_MS)
            except PlaywrightTimeoutError:  # a picture either way, not kept
                complete = False
        assert page.evaluate("document.documentElement.dataset.theme") == scheme
        shot.unlink(missing_ok=True)
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 1000, f"{shot} looks empty"
        if complete and not (traffic.console_errors or traffic.outside or traffic.bad_status):
            taken.put(variant, path, {"shot": sha256(shot)}, traffic.requests)
