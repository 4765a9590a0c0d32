"""Search and the conversation lists in Debian's Chromium at 1440 and 390 px: the agent types
words into the navigation's search box, lands on the results with the words marked, opens the
conversation from its result; the seeded demo fortnight is found too (indexed as it was
written); the lists page switches tabs and saves a view. No sideways scroll at 390 px.
Screenshots go to docs/screenshots/ (search-*.png, lists-*.png).

Skips when Chromium or the playwright package is missing; never downloads a browser.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.web.test_browser import ARGS, CHROMIUM, PASSWORD, SHOTS, browser, customer_says, server, sign_in  # noqa: F401

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
pytestmark = pytest.mark.timeout(600)

STORM = "雷雨把我家的电表箱劈坏了，现在还在冒烟，赶紧派人来看看！"


def no_sideways_scroll(page: Any) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize("width", [1440, 390])
def test_search_from_the_navigation_and_the_lists(server: Any, browser: Any, width: int) -> None:  # noqa: F811
    conversation = customer_says(server, STORM)
    context = browser.new_context(viewport={"width": width, "height": 900 if width > 800 else 844}, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, server["base"], "li")
    if width < 800:  # on a phone the search box sits in the menu with the navigation
        page.click("#nav-toggle")
    page.fill("#nav-q", "电表箱 冒烟")
    page.press("#nav-q", "Enter")
    page.wait_for_url(re.compile(r"/search\?q="))
    result = page.locator(f'#results-conversation [data-id="{conversation}"]')
    expect(result).to_be_visible()
    expect(result.locator("mark.hit").first).to_have_text(re.compile("电表箱|冒烟"))
    assert no_sideways_scroll(page)
    page.screenshot(path=str(SHOTS / f"search-{width}.png"))
    result.locator("a.search-link").click()
    page.wait_for_url(re.compile(rf"/console/{conversation}$"))
    # the lists: mine by default, the queue, a saved view
    page.goto(server["base"] + "/conversations")
    expect(page.locator("#tab-mine")).to_have_attribute("aria-current", "page")
    expect(page.locator(f'#conversation-list tr[data-conversation="{conversation}"]')).to_be_visible()
    page.select_option("#filter-industry", "power")
    page.click("#filter-submit")
    page.wait_for_url(re.compile(r"industry=power"))
    page.fill("#view-name", f"电力 {width}")
    page.click("#view-save")
    page.wait_for_url(re.compile(r"view=\d+"))
    expect(page.locator("#saved-views")).to_contain_text(f"电力 {width}")
    assert no_sideways_scroll(page)
    page.screenshot(path=str(SHOTS / f"lists-{width}.png"))
    assert errors == []
    context.close()
    # the auditor searches the seeded demo fortnight (tenant-wide), masked, read-only links
    context = browser.new_context(viewport={"width": width, "height": 900 if width > 800 else 844}, locale="zh-CN")
    page = context.new_page()
    sign_in(page, server["base"], "qa")
    page.goto(server["base"] + "/search?q=" + "停电")
    expect(page.locator("#results-conversation .search-result").first).to_be_visible()
    expect(page.locator("#search-summary")).to_contain_text("个人信息已按您的角色脱敏")
    expect(page.locator("#results-conversation a.search-link").first).to_have_attribute("href", re.compile(r"^/review/\d+$"))
    assert no_sideways_scroll(page)
    context.close()
