"""Routing in Debian's Chromium (Playwright), at 1440 and 390 px: the administrator (TOTP
enrolled by scanning) adds a 95598 power queue to 95598一组 on the 班组与路由 page, switches its
auto-assignment on and gives 李强 the power skill with a cap; 李强 signs in to routing (示闲) on
the console; a power outage chat from the web-chat gateway is assigned to 李强 at once and shows
in his list; the supervisor's wallboard shows the queue table. No page scrolls sideways.
Screenshots go to docs/screenshots/ (routing-admin-*, routing-wallboard-*)."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests.web.test_admin_browser import new_page, no_sideways_scroll, scan_and_enrol
from tests.web.test_admin_browser import sign_in as sign_in_with
from tests.web.test_browser import PASSWORD, SHOTS, browser, server  # noqa: F401

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
pytestmark = pytest.mark.timeout(600)

OUTAGE = "你好，是95598吗？我们小区从早上八点就停电了，到现在还没来电，冰箱里的东西都要坏了，到底什么时候能修好？"
ADMIN: dict[str, str] = {}


def outage_chat(server: Any, ref: str) -> dict[str, Any]:
    body = {"speaker": "customer", "text": OUTAGE, "channel": "webchat", "industry": "power",
            "conversation_ref": f"webchat:{ref}-{time.time_ns()}"}
    response = httpx.post(server["base"] + "/api/v1/messages", json=body, timeout=60,
                          headers={"Authorization": f"Bearer {server['token']}"})
    assert response.status_code == 201, response.text
    return response.json()["conversation"]


@pytest.mark.parametrize("width", [1440, 390])
def test_an_outage_chat_is_routed_to_the_available_power_agent(server: Any, browser: Any, width: int) -> None:  # noqa: F811
    base = server["base"]
    admin = new_page(browser, width)
    sign_in_with(admin, base, "root", PASSWORD, ADMIN.get("secret"))
    if "secret" not in ADMIN:  # first run: an admin enrols TOTP before anything else
        assert admin.url.endswith("/account")
        ADMIN["secret"] = scan_and_enrol(admin, "root")
    admin.goto(base + "/admin/teams")
    expect(admin.locator("#create-team")).to_be_visible()
    team = admin.locator("article.team-routing").filter(has=admin.locator("input[value='95598一组']"))
    if width == 1440:  # set up once: the power queue, auto-assignment, 李强's skills and cap
        team.locator("input[name=name]").last.fill("95598 停电报修")
        team.locator("select[name=industry]").select_option("power")
        team.locator(".add-queue button[type=submit]").click()
        admin.wait_for_load_state("networkidle")
        expect(admin.locator("#routing-saved")).to_be_visible()
        team = admin.locator("article.team-routing").filter(has=admin.locator("input[value='95598一组']"))
        team.locator(".toggle-auto").click()
        admin.wait_for_load_state("networkidle")
        row = admin.locator('#agents tr[data-agent="li"]')
        row.locator("input[name=industries][value=power]").check()
        row.locator("input[name=max_open]").fill("3")
        row.locator("button[type=submit]").click()
        admin.wait_for_load_state("networkidle")
        expect(admin.locator("#routing-saved")).to_be_visible()
    team = admin.locator("article.team-routing").filter(has=admin.locator("input[value='95598一组']"))
    expect(team.locator("tr[data-queue]")).to_contain_text("95598 停电报修")
    expect(team.locator(".chip.tone-good")).to_be_visible()           # 自动分配：开
    assert no_sideways_scroll(admin)
    admin.screenshot(path=str(SHOTS / f"routing-admin-{width}.png"))

    # 李强 signs in to routing on the console (示闲)
    agent = new_page(browser, width)
    sign_in_with(agent, base, "li", PASSWORD)
    expect(agent.locator('#presence [data-presence="available"]')).to_be_visible()
    agent.click('#presence [data-presence="available"]')
    expect(agent.locator('#presence [data-presence="available"]')).to_have_attribute("aria-pressed", "true")
    assert no_sideways_scroll(agent)

    # a power outage chat arrives: routed to 李强 at once, in his list
    conversation = outage_chat(server, f"routing-{width}")
    assert conversation["agent_id"] is not None and conversation["queue_id"] is not None, conversation
    agent.goto(base + "/console")  # an agent's list holds only their own conversations: it is 李强's
    expect(agent.locator(f'#conv-list [data-conversation="{conversation["id"]}"]')).to_be_visible()

    # the supervisor's wallboard: the routing queues table
    supervisor = new_page(browser, width)
    sign_in_with(supervisor, base, "wang", PASSWORD)
    supervisor.goto(base + "/wallboard")
    expect(supervisor.locator("#routing-queues")).to_contain_text("95598 停电报修")
    assert no_sideways_scroll(supervisor)
    supervisor.screenshot(path=str(SHOTS / f"routing-wallboard-{width}.png"))
    for page in (admin, agent, supervisor):
        assert not page.errors, page.errors  # type: ignore[attr-defined]
        page.context.close()
