"""Code blocks and callouts in a real browser: the copy button in the toolbar never covers code
(also on a touch screen), a copy leaves line numbers out, a long block opens whole without
JS, highlighted lines and alerts have their own colours in both themes, code is readable."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import ServedSite
from .sweep import PHONE
from .test_pages import NOTE, visit

DEFERRED = "/notes/deferred/"  # a titled block with lineNos and hl_lines; a NOTE and a WARNING
EXAMPLE = "/examples/poetry/"  # example programs longer than the collapsed height

# Every block's copy button and code boxes, and whether they overlap.
OVERLAPS = """() => [...document.querySelectorAll('.tw-code')].map(block => {
    const button = block.querySelector('button.tw-copy');
    const pre = block.querySelector('.highlight pre');
    if (!button || !pre) return {missing: true, button: !!button, pre: !!pre,
                                 readyState: document.readyState,
                                 html: block.outerHTML.slice(0, 300)};
    const b = button.getBoundingClientRect(), p = pre.getBoundingClientRect();
    const overlap = b.left < p.right && p.left < b.right && b.top < p.bottom && p.top < b.bottom;
    const frame = block.getBoundingClientRect();
    return {missing: false, overlap, inBar: !!button.closest('.tw-code-bar'),
            inside: b.left >= frame.left - 0.5 && b.right <= frame.right + 0.5,
            visible: getComputedStyle(button).opacity === '1' && b.width > 0,
            height: b.height};
})"""


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_the_copy_button_sits_in_the_toolbar_never_over_code(
    served_site: ServedSite, make_context: Any, device: str
) -> None:
    options: dict[str, Any] = {"color_scheme": "light"}
    if device == "phone":
        options.update(viewport=PHONE, has_touch=True, is_mobile=True)
    context, _ = make_context(**options)
    page = context.new_page()
    for path in (DEFERRED, EXAMPLE, "/examples/choose-reactor/"):
        visit(page, served_site, path)
        boxes = page.evaluate(OVERLAPS)
        assert boxes, f"{path}: no code blocks"
        missing = [b for b in boxes if b["missing"]]
        # What the block was, to tell a late script from a block the hook made differently.
        assert not missing, f"{path}: a block without copy button or code box: {missing}"
        assert all(b["inBar"] and b["inside"] and not b["overlap"] for b in boxes), (
            f"{path}: {boxes}")
        # Always visible (no hover on a touch screen) and a tap target of 24 px or more.
        assert all(b["visible"] and b["height"] >= 24 for b in boxes), f"{path}: {boxes}"


def test_copying_a_numbered_block_leaves_the_line_numbers_out(
    served_site: ServedSite, make_context: Any
) -> None:
    context, _ = make_context(
        color_scheme="light", permissions=["clipboard-read", "clipboard-write"]
    )
    page = context.new_page()
    visit(page, served_site, DEFERRED)
    block = page.locator(".tw-code").filter(has=page.locator(".ln")).first
    assert block.count() == 1, f"{DEFERRED}: no block with line numbers (lineNos=true)"
    assert block.locator(".tw-code-title").inner_text().strip(), "the block has no title"
    expected = block.locator("pre code").evaluate(
        "el => [...el.querySelectorAll('.cl')].map(c => c.textContent).join('')"
    )
    page.evaluate("() => navigator.clipboard.writeText('before')")
    block.locator("button.tw-copy").click()
    page.wait_for_function("() => navigator.clipboard.readText().then(t => t !== 'before')")
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert copied.rstrip("\n") == expected.rstrip("\n")
    assert not copied.startswith("1"), "line numbers were copied"


def test_a_highlighted_line_stands_out_in_both_themes(
    served_site: ServedSite, make_context: Any
) -> None:
    for scheme in ("light", "dark"):
        context, _ = make_context(color_scheme=scheme)
        page = context.new_page()
        visit(page, served_site, DEFERRED)
        hl, plain = page.evaluate(
            """() => {
                const hl = document.querySelector('.tw-code .line.hl');
                const plain = hl && hl.parentElement.querySelector('.line:not(.hl)');
                const bg = el => getComputedStyle(el).backgroundColor;
                return hl ? [bg(hl), bg(plain.closest('pre'))] : [null, null];
            }"""
        )
        assert hl is not None, f"{DEFERRED}: no highlighted line (hl_lines)"
        assert hl != plain and hl not in ("rgba(0, 0, 0, 0)", "transparent"), (scheme, hl)
        context.close()


@pytest.mark.parametrize("javascript", [True, False])
def test_a_long_block_opens_whole_with_or_without_javascript(
    served_site: ServedSite, make_context: Any, javascript: bool
) -> None:
    context, _ = make_context(color_scheme="light", java_script_enabled=javascript)
    page = context.new_page()
    visit(page, served_site, EXAMPLE)
    block = page.locator(".tw-code-long").first
    assert block.count() == 1, f"{EXAMPLE}: no collapsed long block"
    block.scroll_into_view_if_needed()
    pre = block.locator(".highlight pre")
    size = "el => [el.clientHeight, el.scrollHeight]"
    shown, full = pre.evaluate(size)
    assert shown < full * 0.6, f"collapsed block shows {shown} of {full} px"
    summary = block.locator("details.tw-code-more > summary")
    assert "展开全部" in summary.inner_text()
    summary.click()
    shown, full = pre.evaluate(size)
    assert shown >= full, "the opened block is still clipped"
    assert "收起" in summary.inner_text()
    summary.click()
    assert pre.evaluate(size)[0] < full * 0.6, "收起 does not collapse it again"


def test_code_is_set_at_a_readable_size(served_site: ServedSite, make_context: Any) -> None:
    context, _ = make_context(color_scheme="light")
    page = context.new_page()
    for path in (NOTE, DEFERRED, EXAMPLE):
        visit(page, served_site, path)
        code, body = page.evaluate(
            """() => [parseFloat(getComputedStyle(document.querySelector('.tw-code pre code'))
                        .fontSize), parseFloat(getComputedStyle(document.body).fontSize)]"""
        )
        assert code >= 14 and code >= 0.8 * body, f"{path}: code {code}px, body {body}px"


def test_alerts_have_their_own_colours_in_both_themes(
    served_site: ServedSite, make_context: Any
) -> None:
    seen: dict[str, tuple[str, str]] = {}
    for scheme in ("light", "dark"):
        context, _ = make_context(color_scheme=scheme)
        page = context.new_page()
        visit(page, served_site, DEFERRED)
        alerts = page.evaluate(
            """() => [...document.querySelectorAll('.tw-alert')].map(a => {
                const s = getComputedStyle(a), t = a.querySelector('.tw-alert-title');
                return {kind: [...a.classList].find(c => c.startsWith('tw-alert-')),
                        title: t.innerText.trim(), bg: s.backgroundColor,
                        border: s.borderLeftColor, page: getComputedStyle(document.body)
                            .backgroundColor, visible: a.getBoundingClientRect().height > 0};
            })"""
        )
        kinds = {a["kind"]: a for a in alerts}
        assert {"tw-alert-note", "tw-alert-warning"} <= kinds.keys(), alerts
        assert kinds["tw-alert-note"]["title"] == "说明"
        assert kinds["tw-alert-warning"]["title"] == "警告"
        for alert in alerts:
            assert alert["visible"] and alert["bg"] != alert["page"], (scheme, alert)
        note, warning = kinds["tw-alert-note"], kinds["tw-alert-warning"]
        assert note["border"] != warning["border"], "NOTE and WARNING look the same"
        seen[scheme] = (note["bg"], note["border"])
        context.close()
    assert seen["light"] != seen["dark"], "alerts keep their light colours in the dark theme"


def test_the_errata_table_says_it_scrolls_sideways_on_a_phone(
    served_site: ServedSite, make_context: Any
) -> None:
    context, _ = make_context(color_scheme="light", viewport=PHONE)
    page = context.new_page()
    visit(page, served_site, NOTE)
    box = page.locator(".tw-errata-scroll")
    assert box.count() == 1, f"{NOTE}: no errata box"
    width, inner = box.evaluate("el => [el.clientWidth, el.scrollWidth]")
    assert inner > width, "the errata table fits: no sideways scroll to cue"
    assert page.locator(".tw-errata-hint").is_visible(), "no hint that the table scrolls"
    ins = page.locator(".tw-errata ins").first
    assert "underline" not in ins.evaluate("el => getComputedStyle(el).textDecorationLine")
    box.focus()  # keyboard users scroll it too
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => document.querySelector('.tw-errata-scroll').scrollLeft > 0")
