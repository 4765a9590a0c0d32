"""The working surfaces in Debian's Chromium (issue 13), at 1440 and 390 px: a new L2 alert puts
"(N)" in the wallboard's title and a browser notification on screen; the agent presses `/` in the
empty draft, finds a 话术 by a word, picks it (the pre-send check runs) and sends it with
Ctrl+Enter; the supervisor acknowledges the alert and the title badge is gone. Screenshots go to
docs/screenshots/. Skips when Chromium or playwright is missing; never downloads a browser."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
import pytest

from tests.web.test_browser import SHOTS, browser, server, sign_in  # noqa: F401

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
pytestmark = pytest.mark.timeout(600)

THIRD_CALL = "这已经是我第三次打电话了！停电两天了还没人来修，你们到底怎么回事？"
REPLY = "非常理解您的着急，停电给您添麻烦了，抢修班组已经出发，预计40分钟内到达，我会全程跟进。"


def api(server: Any, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    response = httpx.request(method, server["base"] + path, json=body, timeout=30,
                             headers={"Authorization": f"Bearer {server['token']}"})
    assert response.status_code in (200, 201), response.text
    return response.json()


def no_sideways_scroll(page: Any) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize("width", [1440, 390])
def test_reply_from_the_library_and_acknowledge_the_alert(server: Any, browser: Any, width: int) -> None:  # noqa: F811
    base, suffix = server["base"], str(width)
    # nothing urgent is left open from the seed, so the badge counts this day's alert only
    for alert in api(server, "GET", "/api/v1/alerts?limit=500")["items"]:
        if alert["state"] in ("open", "assigned") and (alert["level"] or 0) >= 2:
            api(server, "POST", f"/api/v1/alerts/{alert['id']}/acknowledge", {"note": "清理演示数据"})

    size = {"width": width, "height": 900 if width > 800 else 844}
    sup_context = browser.new_context(viewport=size, locale="zh-CN")
    sup_context.grant_permissions(["notifications"], origin=base)
    sup = sup_context.new_page()
    errors: list[str] = []
    sup.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(sup, base, "wang")
    sup.goto(base + "/wallboard")
    expect(sup).to_have_title(re.compile(r"^(?!\(\d+\))"))
    expect(sup.locator("#notify-state")).to_contain_text("桌面通知")  # permission granted: notifications on

    # a customer calls for the third time: L2, the title badge, a notification
    chat = api(server, "POST", "/api/v1/messages", {
        "speaker": "customer", "text": THIRD_CALL, "channel": "webchat", "industry": "power", "agent_id": 1,
        "conversation_ref": f"webchat:third-call-{suffix}-{time.time_ns()}"})["conversation"]["id"]
    alert_id = next(a["id"] for a in api(server, "GET", f"/api/v1/alerts?conversation_id={chat}")["items"]
                    if (a["level"] or 0) >= 2)
    expect(sup).to_have_title(re.compile(r"^\(1\) "), timeout=15000)
    expect(sup.locator("body")).to_have_attribute("data-notified", str(alert_id), timeout=5000)
    emotion = api(server, "GET", f"/api/v1/conversations/{chat}")["conversation"]["emotion"]
    reply = api(server, "POST", "/api/v1/replies", {"title": f"停电安抚 {suffix}", "text": REPLY,
                                                     "category": "停电抢修", "emotion": emotion})

    # the agent: `/` in the empty draft opens the 话术库, a word finds the reply, a click inserts it
    agent_context = browser.new_context(viewport=size, locale="zh-CN")
    agent = agent_context.new_page()
    agent.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(agent, base, "li")
    agent.goto(base + f"/console/{chat}")
    draft = agent.locator("#draft")
    draft.click()
    agent.keyboard.press("/")
    picker = agent.locator("#reply-picker")
    expect(picker).to_be_visible()
    expect(agent.locator("#picker-q")).to_be_focused()
    assert draft.input_value() == ""  # the slash opened the library instead of being typed
    expect(agent.locator(f'#picker-list button.pick[data-reply="{reply["id"]}"]')).to_be_visible()
    agent.locator("#picker-q").fill("抢修 出发")
    choice = agent.locator(f'#picker-list button.pick[data-reply="{reply["id"]}"]')
    expect(choice).to_be_visible()
    expect(choice).to_contain_text("适合当前客户")  # made for the customer's emotion now
    if width > 800:
        agent.screenshot(path=str(SHOTS / f"workspace-picker-{suffix}.png"))
    choice.click()
    expect(picker).to_be_hidden()
    expect(draft).to_have_value(REPLY)
    expect(agent.locator("#presend-result")).to_contain_text("发送前检查通过")
    draft.press("Control+Enter")
    expect(agent.locator("#sent-ok")).to_be_visible()
    expect(agent.locator("#thread .msg.agent").last).to_contain_text("40分钟内到达")
    assert no_sideways_scroll(agent)
    draft.fill("、")  # a Chinese input method sends "、" for the slash key: the picker opens too
    expect(picker).to_be_visible()
    expect(draft).to_have_value("")
    agent.keyboard.press("Escape")
    expect(picker).to_be_hidden()
    agent.locator("#thread").click()
    agent.keyboard.press("?")
    expect(agent.locator("#shortcuts")).to_contain_text("话术库")
    agent.keyboard.press("Escape")

    # the supervisor acknowledges the alert: the badge goes
    item = sup.locator(f'#alerts article[data-alert="{alert_id}"]')
    expect(item).to_be_visible()
    item.locator("button.ack").click()
    expect(sup.locator(f"#alert-state-{alert_id}")).to_contain_text("已确认")
    expect(sup).to_have_title(re.compile(r"^(?!\(\d+\))"))
    assert no_sideways_scroll(sup)
    SHOTS.mkdir(parents=True, exist_ok=True)
    sup.screenshot(path=str(SHOTS / f"workspace-wallboard-ack-{suffix}.png"))

    # the 话术库 page and the ticket list with its bulk bar fit the screen too
    sup.goto(base + "/replies?q=" + "抢修")
    expect(sup.locator(f'#replies tr[data-reply="{reply["id"]}"]')).to_be_visible()
    expect(sup.locator("#reply-form")).to_be_visible()
    assert no_sideways_scroll(sup)
    sup.screenshot(path=str(SHOTS / f"workspace-replies-{suffix}.png"))
    ticket = api(server, "POST", "/api/v1/tickets", {"conversation_id": chat})["id"]
    sup.goto(base + "/tickets?sort=due")
    expect(sup.locator("#bulk-assign")).to_be_visible()
    expect(sup.locator(f'#tickets tr[data-ticket="{ticket}"] input[name=ticket_ids]')).to_be_visible()
    assert no_sideways_scroll(sup)
    sup.screenshot(path=str(SHOTS / f"workspace-tickets-{suffix}.png"))
    assert not errors, errors
    agent_context.close()
    sup_context.close()
