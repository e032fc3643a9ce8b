"""Navigation in a real browser: the sidebar and its drawer (also without JS), the theme's
three states (and the system setting with JS off), the first screen of a phone, tap targets."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from test_nav import ORDER

from .conftest import ServedSite, Traffic, routed_context
from .test_pages import NOTE, visit

PHONE_390 = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}
THEME = "document.documentElement.dataset.theme"
CHOICE = "document.documentElement.dataset.themeChoice"
STORED = "localStorage.getItem('theme')"
BACKGROUND = "getComputedStyle(document.body).backgroundColor"
DARK_BG, LIGHT_BG = "rgb(15, 19, 24)", "rgb(253, 253, 252)"
# Controls outside the text (links in running text are exempt from the target size rule).
CONTROLS = ("header a, header button, header input, summary, .tw-sidebar-nav a, .tw-toc a, "
            ".tw-breadcrumbs a, .tw-meta a, .tw-pager a, .tw-page-footer a, .tw-footer a, "
            ".tw-anchor")
SMALL_TARGETS = f"""() => [...document.querySelectorAll({CONTROLS!r})]
    .filter(el => el.getClientRects().length && getComputedStyle(el).visibility !== 'hidden')
    .map(el => [el, el.getBoundingClientRect()])
    .filter(([el, r]) => r.width > 0 && (r.width < 24 || r.height < 24))
    .map(([el, r]) => `${{el.tagName.toLowerCase()}}.${{el.className}} `
        + `"${{el.textContent.trim().slice(0, 20)}}" `
        + `${{r.width.toFixed(1)}}x${{r.height.toFixed(1)}}`)"""


def sidebar_visible(page: Any) -> bool:
    return bool(page.locator(".tw-sidebar-nav").is_visible())


def test_sidebar_is_a_column_on_wide_screens(served_site: ServedSite, make_context: Any) -> None:
    context, _ = make_context(viewport=DESKTOP, color_scheme="light")
    page = context.new_page()
    visit(page, served_site, NOTE)
    assert sidebar_visible(page)
    assert not page.locator(".tw-sidebar-toggle").is_visible()
    nav = page.locator(".tw-sidebar-nav").bounding_box()
    main = page.locator("main").bounding_box()
    assert nav and main and nav["x"] + nav["width"] <= main["x"], "sidebar not left of the text"
    current = page.locator(".tw-sidebar-nav a[aria-current=page]")
    assert current.count() == 1 and current.get_attribute("href") == NOTE
    # Sections collapse: close the notes and their links go.
    notes = page.locator("details.tw-side-section").first
    link = notes.locator("a").first
    assert link.is_visible()
    notes.locator("summary").click()
    assert not link.is_visible()
    assert page.locator(".tw-side-other a").first.is_visible()  # the examples, one link


def in_window(page: Any, selector: str) -> bool:
    """Whether the element is wholly inside the viewport (not only in the document)."""
    return bool(page.locator(selector).evaluate(
        "e => { const r = e.getBoundingClientRect();"
        " return r.height > 0 && r.top >= 0 && r.bottom <= innerHeight; }"))


def test_sidebar_stays_in_view_as_the_note_scrolls(
    served_site: ServedSite, make_context: Any
) -> None:
    context, _ = make_context(viewport=DESKTOP, color_scheme="light")
    page = context.new_page()
    visit(page, served_site, NOTE)
    assert page.evaluate("document.querySelector('details.tw-sidebar').open"), (
        "the sidebar's <details> is closed on a wide screen (axe: nothing to focus in it)")
    page.evaluate("scrollTo(0, document.scrollingElement.scrollHeight)")
    assert page.evaluate("scrollY") > 2 * DESKTOP["height"], "the note is too short to tell"
    assert in_window(page, ".tw-sidebar-nav a[aria-current=page]"), "the sidebar scrolled away"


def test_a_tall_sidebar_scrolls_by_itself_to_the_current_page(
    served_site: ServedSite, make_context: Any
) -> None:
    """In a short window the tree is taller than the column: the column scrolls, not the
    page, so that the current page's link is in it, even the last one's; once the page has
    scrolled past the header (the column sticks to the window's top), the link is in view."""
    last = ORDER[-1][0]
    context, _ = make_context(viewport={"width": 1440, "height": 360}, color_scheme="light")
    page = context.new_page()
    visit(page, served_site, last)
    sidebar = page.locator("details.tw-sidebar")
    sizes = sidebar.evaluate("e => [e.scrollHeight, e.clientHeight, e.scrollTop]")
    assert sizes[0] > sizes[1], f"the tree fits the window ({sizes}): nothing to scroll"
    assert sizes[2] > 0, "the column did not scroll to the current page"
    assert page.evaluate("scrollY") == 0, "opening the page scrolled the window"
    page.evaluate("scrollTo(0, document.scrollingElement.scrollHeight)")
    assert sidebar.evaluate("e => e.getBoundingClientRect().top") < 24, "the column did not stick"
    assert in_window(page, ".tw-sidebar-nav a[aria-current=page]"), f"{last}'s link is hidden"


@pytest.mark.parametrize("js", [True, False])
def test_drawer_opens_and_closes_from_the_keyboard(
    served_site: ServedSite, make_context: Any, js: bool,
) -> None:
    context, _ = make_context(viewport=PHONE_390, color_scheme="light", java_script_enabled=js)
    page = context.new_page()
    visit(page, served_site, NOTE)
    toggle = page.locator(".tw-sidebar-toggle")
    assert toggle.is_visible() and not sidebar_visible(page)
    header = page.locator(".tw-header").bounding_box()
    box = toggle.bounding_box()
    assert header and box and box["y"] >= header["y"] and (
        box["y"] + box["height"] <= header["y"] + header["height"]
    ), "drawer button not in the header row"
    toggle.focus()
    page.keyboard.press("Enter")
    assert sidebar_visible(page)
    first = page.locator(".tw-sidebar-nav li > a").first
    assert first.is_visible() and first.bounding_box()["y"] >= 0  # type: ignore[index]
    # The button stays on top of the open drawer, and closes it again.
    assert toggle.is_visible()
    page.keyboard.press("Enter")
    assert not sidebar_visible(page)


def test_theme_cycles_through_three_states_and_remembers(
    served_site: ServedSite, make_context: Any,
) -> None:
    context, _ = make_context(color_scheme="light")
    page = context.new_page()
    visit(page, served_site, NOTE)
    toggle = page.locator("button.tw-theme-toggle")
    states = [(page.evaluate(CHOICE), page.evaluate(THEME), page.evaluate(STORED))]
    labels = [toggle.get_attribute("aria-label")]
    for _ in range(3):
        toggle.click()
        states.append((page.evaluate(CHOICE), page.evaluate(THEME), page.evaluate(STORED)))
        labels.append(toggle.get_attribute("aria-label"))
        page.reload(wait_until="load")
        assert (page.evaluate(CHOICE), page.evaluate(THEME)) == states[-1][:2], "lost on reload"
    assert states == [("system", "light", None), ("dark", "dark", "dark"),
                      ("light", "light", "light"), ("system", "light", None)]
    assert labels == ["主题：跟随系统", "主题：深色", "主题：浅色", "主题：跟随系统"]
    # Following the system again: a change of the system setting changes the page.
    page.emulate_media(color_scheme="dark")
    page.wait_for_function(f"() => {THEME} === 'dark'")
    assert page.evaluate(BACKGROUND) == DARK_BG


@pytest.mark.parametrize(("scheme", "background"), [("dark", DARK_BG), ("light", LIGHT_BG)])
def test_without_js_the_system_setting_applies_and_the_toggle_is_hidden(
    served_site: ServedSite, make_context: Any, scheme: str, background: str,
) -> None:
    context, _ = make_context(color_scheme=scheme, java_script_enabled=False)
    page = context.new_page()
    visit(page, served_site, NOTE)
    assert page.evaluate("document.documentElement.hasAttribute('data-theme')") is False
    assert page.evaluate(BACKGROUND) == background
    assert not page.locator("button.tw-theme-toggle").is_visible()


@pytest.fixture(scope="module")
def phone_page(browser: Any, served_site: ServedSite) -> Iterator[Any]:
    """One phone page (390 px, light) for the first-screen tests, which only look: each
    test's navigation starts the page afresh, and a new context would cost a new renderer."""
    context = routed_context(browser, served_site, Traffic(served_site),
                             viewport=PHONE_390, color_scheme="light")
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.mark.parametrize("url", [u for u, _, _ in ORDER])
def test_phone_first_screen_shows_the_title_and_first_paragraph(
    served_site: ServedSite, phone_page: Any, url: str,
) -> None:
    page = phone_page
    visit(page, served_site, url)
    height = PHONE_390["height"]
    title = page.locator("main article > header h1").bounding_box()
    # The first paragraph: the first block of the text that is not a heading (the original
    # note opens with a quoted glossary line, the others with a paragraph).
    first = page.locator(".tw-content > :not(h1, h2, h3, h4, h5, h6)").first.bounding_box()
    assert title and first
    assert title["y"] >= 0 and title["y"] + title["height"] <= height, f"title at {title}"
    assert first["y"] + first["height"] <= height, f"first paragraph ends at {first}"
    toc = page.locator(".tw-toc details")
    if toc.count():
        assert toc.get_attribute("open") is None, "the table of contents is open on a phone"
        assert page.locator(".tw-toc summary").inner_text() == "本页目录"
        toc_box = page.locator(".tw-toc").bounding_box()
        assert toc_box and title["y"] < toc_box["y"] < first["y"], "TOC not between title and text"
    # The header is one row: every control sits within the header's single line.
    rows = page.evaluate("""() => {
        const items = [...document.querySelectorAll(
                '.tw-header > *, .tw-tools > *, .tw-sidebar-toggle')]
            .filter(el => el.getClientRects().length && getComputedStyle(el).display !== 'none');
        return items.map(el => {
            const r = el.getBoundingClientRect();
            return (r.top + r.bottom) / 2;
        });
    }""")
    header = page.locator(".tw-header").bounding_box()
    assert header and header["height"] <= 64 and max(rows) - min(rows) < 12, (header, rows)
    small = page.evaluate(SMALL_TARGETS)
    assert not small, f"{url}: targets under 24 px: {small}"


@pytest.mark.parametrize("viewport", [PHONE_390, DESKTOP])
def test_tap_targets_on_other_pages(
    served_site: ServedSite, make_context: Any, viewport: dict[str, int],
) -> None:
    context, _ = make_context(viewport=viewport, color_scheme="light")
    page = context.new_page()
    problems = []
    for url in ["/", "/tags/", "/tags/twisted/", "/notes/", NOTE]:
        visit(page, served_site, url)
        problems += [f"{url}: {s}" for s in page.evaluate(SMALL_TARGETS)]
    assert not problems, "\n".join(problems)
