"""Screenshots of every kind of page for a human to look at, in test-artifacts/ (gitignored):
home, a note, an example, a list and search (with results), each on a desktop and a phone,
light and dark, named like `example-phone-dark.png`."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from .conftest import RESULT, TIMEOUT_MS, ServedSite
from .test_pages import NOTE, SEARCH, visit

KINDS = {"home": "/", "note": NOTE, "example": "/examples/poetry/", "list": "/notes/",
         "search": f"{SEARCH}?q=反应器"}
DEVICES = {"desktop": {"viewport": {"width": 1280, "height": 900}},
           "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True,
                     "has_touch": True, "device_scale_factor": 2}}


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("device", list(DEVICES))
def test_screenshots_of_every_kind_of_page(
    served_site: ServedSite, make_context: Any, artifacts: Path, device: str, scheme: str
) -> None:
    context, _ = make_context(color_scheme=scheme, **DEVICES[device])
    page = context.new_page()
    for kind, path in KINDS.items():
        visit(page, served_site, path)
        if kind == "search":
            with contextlib.suppress(PlaywrightTimeoutError):  # a picture either way
                page.wait_for_selector(RESULT, timeout=TIMEOUT_MS)
        assert page.evaluate("document.documentElement.dataset.theme") == scheme
        shot = artifacts / f"{kind}-{device}-{scheme}.png"
        shot.unlink(missing_ok=True)
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 1000, f"{shot} looks empty"
