"""Reading features that only a browser can prove: theme toggle, copy button, following TOC."""

from __future__ import annotations

from typing import Any

from .conftest import TIMEOUT_MS, ServedSite
from .test_pages import NOTE, visit

THEME = "document.documentElement.dataset.theme"
STORED = "localStorage.getItem('theme')"
# Read right after a reload, when no colour transition can be half-way.
BACKGROUND = "getComputedStyle(document.body).backgroundColor"


def test_theme_follows_the_system_without_a_saved_choice(
    served_site: ServedSite, make_context: Any
) -> None:
    for scheme in ("light", "dark"):
        context, _ = make_context(color_scheme=scheme)
        page = context.new_page()
        visit(page, served_site, "/")
        assert page.evaluate(STORED) is None
        assert page.evaluate(THEME) == scheme
        context.close()


def test_theme_toggle_flips_and_persists_across_reload(
    served_site: ServedSite, make_context: Any
) -> None:
    context, _ = make_context(color_scheme="light")
    page = context.new_page()
    visit(page, served_site, NOTE)
    toggle = page.locator("button.tw-theme-toggle")
    assert toggle.count() == 1, "no button.tw-theme-toggle in the header (ui-contract)"
    assert page.evaluate(THEME) == "light"
    assert toggle.get_attribute("aria-label") == "主题：跟随系统"

    toggle.click()
    assert page.evaluate(THEME) == "dark"
    assert toggle.get_attribute("aria-label") == "主题：深色"
    assert page.evaluate(STORED) == "dark"

    page.reload(wait_until="load")
    assert page.evaluate(THEME) == "dark", "dark choice lost on reload"
    assert page.locator("button.tw-theme-toggle").get_attribute("aria-label") == "主题：深色"
    dark_background = page.evaluate(BACKGROUND)

    page.locator("button.tw-theme-toggle").click()
    assert page.evaluate(THEME) == "light"
    assert page.evaluate(STORED) == "light"
    page.reload(wait_until="load")
    assert page.evaluate(THEME) == "light", "light choice lost on reload"
    assert page.evaluate(BACKGROUND) != dark_background, "the theme changes no colour"

    # A saved choice outranks the system setting.
    page.emulate_media(color_scheme="dark")
    page.reload(wait_until="load")
    assert page.evaluate(THEME) == "light"


def test_copy_button_copies_the_code_only(served_site: ServedSite, make_context: Any) -> None:
    context, _ = make_context(
        color_scheme="light", permissions=["clipboard-read", "clipboard-write"]
    )
    page = context.new_page()
    visit(page, served_site, NOTE)
    block = page.locator("div.tw-code").first
    assert block.count() == 1, "the note has no div.tw-code (code-block render hook)"
    button = block.locator("button.tw-copy")
    assert button.count() == 1, "no button.tw-copy inside div.tw-code (ui-contract)"
    code = block.locator(".highlight pre code").first.evaluate("el => el.textContent")
    assert code.strip(), "empty code block"
    # Badge and output text (inside the wrapper or right after it) must not be copied.
    extras: list[str] = block.evaluate(
        """el => {
            const parts = [...el.querySelectorAll('.tw-result, details.tw-output')];
            for (let s = el.nextElementSibling;
                 s && s.matches('.tw-result, details.tw-output'); s = s.nextElementSibling) {
                parts.push(s);
            }
            return parts.map(p => p.textContent.trim()).filter(Boolean);
        }"""
    )
    extras = [text for text in extras if text not in code]

    sentinel = "clipboard-before-click"
    page.evaluate("text => navigator.clipboard.writeText(text)", sentinel)
    button.click()
    copied = sentinel
    for _ in range(50):  # up to ~5 s for the asynchronous write
        copied = page.evaluate("() => navigator.clipboard.readText()")
        if copied != sentinel:
            break
        page.wait_for_timeout(100)
    assert copied != sentinel, "clicking button.tw-copy put nothing on the clipboard"
    assert copied.rstrip("\n") == code.rstrip("\n")
    for extra in extras:
        assert extra not in copied, f"the copy includes badge/output text {extra!r}"


def test_toc_marks_the_section_in_view(served_site: ServedSite, make_context: Any) -> None:
    context, _ = make_context(color_scheme="light", viewport={"width": 1280, "height": 800})
    page = context.new_page()
    visit(page, served_site, NOTE)
    toc = page.locator(".tw-toc")
    assert toc.count() == 1, "the note has no .tw-toc"
    # Headings listed in the TOC whose section is taller than half the viewport and which can be
    # scrolled to the top: there, whatever rule an implementation uses, that section is "in view".
    targets: list[str] = page.evaluate(
        """() => {
            const inToc = new Set([...document.querySelectorAll('.tw-toc a[href]')]
                .map(a => decodeURIComponent(a.hash.slice(1))));
            const hs = [...document.querySelectorAll('.tw-content :is(h1,h2,h3,h4)[id]')]
                .filter(h => inToc.has(h.id));
            const top = h => h.getBoundingClientRect().top + scrollY;
            const maxScroll = document.scrollingElement.scrollHeight - innerHeight;
            return hs.filter((h, i) => i + 1 < hs.length
                    && top(hs[i + 1]) - top(h) > innerHeight / 2 && top(h) < maxScroll)
                .map(h => h.id);
        }"""
    )
    assert len(targets) >= 2, f"too few long sections to scroll to: {targets}"
    for target in (targets[-1], targets[0]):
        page.evaluate(
            "id => document.getElementById(id).scrollIntoView({block: 'start'})", target
        )
        page.wait_for_function(
            """id => {
                const on = document.querySelectorAll('.tw-toc a[aria-current="true"]');
                return on.length === 1 && decodeURIComponent(on[0].hash.slice(1)) === id;
            }""",
            arg=target,
            timeout=TIMEOUT_MS,
        )
