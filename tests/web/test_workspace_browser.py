"""A contact centre's day in the workspace (issue 13), in Debian's Chromium at 1440 and 390 px:
an unassigned chat is claimed by the agent and another is routed by the supervisor from the
wallboard; the agent sees the customer's history in the customer panel and answers with
Ctrl+Enter (the pre-send result beside the draft, `?` lists the shortcuts); the supervisor
acknowledges the alert; the auditor scores the conversation in the review queue; the admin
enrols TOTP with the QR code page and creates a user, who changes the one-time password and
enrols TOTP too. At 390 px the navigation is a menu and the console, wallboard, tickets, the
survey, the review and admin pages do not scroll sideways. Screenshots go to docs/screenshots/.

Skips when Chromium or the playwright package is missing; never downloads a browser.
"""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
import pyotp
import pytest

from tests.web.test_browser import ARGS, CHROMIUM, PASSWORD, SHOTS, browser, server, sign_in  # noqa: F401

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
pytestmark = pytest.mark.timeout(600)

THREAT = "停电三天了！报修两次都没人来，今天再不来人我就打12345投诉，还要发抖音曝光你们！"
NEW_PASSWORD = "Qing-Shui-He-2025!"
ADMIN: dict[str, str] = {}


def post(server: Any, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = httpx.post(server["base"] + path, json=body or {}, timeout=30,
                          headers={"Authorization": f"Bearer {server['token']}"})
    assert response.status_code in (200, 201), response.text
    return response.json()


def chat(server: Any, text: str, ref: str, agent_id: int | None = None) -> int:
    body: dict[str, Any] = {"speaker": "customer", "text": text, "channel": "webchat", "industry": "power",
                            "conversation_ref": f"webchat:{ref}-{time.time_ns()}",
                            "customer": {"name": "张建国", "phone": "13812345678", "external_ref": f"wx-{ref}"}}
    if agent_id is not None:
        body["agent_id"] = agent_id
    return post(server, "/api/v1/messages", body)["conversation"]["id"]


def survey_link(server: Any, conversation_id: int) -> str:
    """The signed survey link of the conversation's ticket, taken along the SOP and resolved."""
    ticket = post(server, "/api/v1/tickets", {"conversation_id": conversation_id})["id"]
    post(server, f"/api/v1/tickets/{ticket}/respond")
    for stage in ("确认问题", "提供方案", "执行方案"):
        post(server, f"/api/v1/tickets/{ticket}/stage", {"to": stage})
    post(server, f"/api/v1/tickets/{ticket}/resolve")
    link = httpx.get(server["base"] + f"/api/v1/tickets/{ticket}/survey-link", timeout=30,
                     headers={"Authorization": f"Bearer {server['token']}"})
    assert link.status_code == 200, link.text
    return link.json()["url"]


def no_sideways_scroll(page: Any) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")


def new_page(browser: Any, width: int, lang: str = "zh-CN") -> Any:
    context = browser.new_context(viewport={"width": width, "height": 900 if width > 800 else 844}, locale=lang)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors  # type: ignore[attr-defined]
    return page


def enrol_totp(page: Any) -> str:
    page.click("#mfa-begin")
    expect(page.locator("#mfa-qr svg")).to_be_visible()
    secret = page.inner_text("#mfa-secret").strip()
    page.fill("#mfa-code", pyotp.TOTP(secret).now())
    page.click("#mfa-confirm")
    expect(page.locator("#mfa-done")).to_be_visible()
    return secret


@pytest.mark.parametrize("width", [1440, 390])
def test_a_day_in_the_workspace(server: Any, browser: Any, width: int) -> None:  # noqa: F811
    base = server["base"]
    narrow = width < 800
    suffix = "390" if narrow else "1440"
    # the customer's earlier conversation (closed), then two chats that arrive without an agent
    past = chat(server, "上个月也停过一次电，抢修很慢。", f"history-{suffix}", agent_id=1)
    post(server, f"/api/v1/conversations/{past}/close")
    stranded = chat(server, THREAT, f"history-{suffix}")
    routed = chat(server, "请问电费怎么交？", f"route-{suffix}")

    # 1. the agent claims the stranded chat, sees the customer's history and answers
    agent = new_page(browser, width)
    sign_in(agent, base, "li")
    agent.goto(base + "/console")
    if narrow:
        expect(agent.locator("#mainnav")).to_be_hidden()
        agent.click("#nav-toggle")
        expect(agent.locator("#mainnav")).to_be_visible()
        agent.click("#nav-toggle")
    claim = agent.locator(f'#unassigned [data-unassigned="{stranded}"] button.claim')
    expect(claim).to_be_visible()
    claim.click()
    agent.wait_for_url(re.compile(rf"/console/{stranded}$"))
    panel = agent.locator("#customer-panel")
    expect(panel).to_contain_text("张建国")
    expect(agent.locator(f'#customer-history [data-conversation="{past}"]')).to_be_visible()
    draft = agent.locator("#draft")
    draft.fill("您好，非常抱歉让您久等了，我马上联系抢修班组，30分钟内给您回电确认到场时间。")
    expect(agent.locator("#presend-result")).to_be_visible()
    if not narrow:  # the pre-send result sits beside the draft
        box, result = draft.bounding_box(), agent.locator("#presend-result").bounding_box()
        assert result["x"] > box["x"] + box["width"] - 5 and abs(result["y"] - box["y"]) < 80
    # the composer is on screen without scrolling down the page
    composer = agent.locator("#composer").bounding_box()
    assert composer["y"] + composer["height"] <= agent.viewport_size["height"] + 1
    draft.press("Control+Enter")
    expect(agent.locator("#sent-ok")).to_be_visible()
    expect(agent.locator("#thread .msg.agent").last).to_contain_text("30分钟内给您回电")
    agent.locator("#thread").click()
    agent.keyboard.press("?")
    expect(agent.locator("#shortcuts")).to_be_visible()
    if not narrow:
        agent.screenshot(path=str(SHOTS / f"workspace-shortcuts-{suffix}.png"))
    agent.keyboard.press("Escape")
    expect(agent.locator("#shortcuts")).to_be_hidden()
    assert no_sideways_scroll(agent)
    SHOTS.mkdir(parents=True, exist_ok=True)
    agent.screenshot(path=str(SHOTS / f"workspace-console-{suffix}.png"))

    # 2. the supervisor routes the other chat and acknowledges the alert
    sup = new_page(browser, width)
    sign_in(sup, base, "wang")
    sup.goto(base + "/wallboard")
    row = sup.locator(f'#queue tr[data-conversation="{routed}"]')
    expect(row).to_have_class(re.compile("unassigned-row"))
    row.locator("select[name=agent_id]").select_option(label="赵敏")
    row.locator("button.assign").click()
    expect(sup.locator(f'#queue tr[data-conversation="{routed}"]')).not_to_have_class(re.compile("unassigned-row"))
    alert = sup.locator(f'#alerts article[data-conversation="{stranded}"]').filter(has=sup.locator("button.ack")).first
    expect(alert).to_be_visible()
    alert_id = alert.get_attribute("data-alert")
    alert.locator("button.ack").click()
    expect(sup.locator(f"#alert-state-{alert_id}")).to_contain_text("已确认")
    expect(sup.locator(f"#alert-state-{alert_id}")).to_contain_text("user:wang")
    assert sup.locator("#alert-announcer[aria-live=assertive]").count() == 1
    assert no_sideways_scroll(sup)
    sup.screenshot(path=str(SHOTS / f"workspace-wallboard-{suffix}.png"))
    sup.goto(base + "/tickets")
    assert no_sideways_scroll(sup)
    customer = new_page(browser, width)  # the public survey (满意度回访) of the routed chat's ticket
    customer.goto(survey_link(server, routed))
    expect(customer.locator("#survey-submit")).to_be_visible()
    assert no_sideways_scroll(customer)
    customer.context.close()

    # 3. the auditor reviews the conversation and stores a score
    qa = new_page(browser, width)
    sign_in(qa, base, "qa")
    qa.goto(base + "/review")
    qa.goto(base + f"/review/{stranded}")
    expect(qa.locator("#contributions li").first).to_be_visible()
    assert qa.locator("#send, #escalate, .take-over").count() == 0  # read-only
    qa.fill("#review-score", "88")
    qa.fill("#review-comment", "及时致歉并给出回电时限")
    qa.click("#review-submit")
    expect(qa.locator("#review-saved")).to_be_visible()
    expect(qa.locator("#review-result")).to_contain_text("88")
    assert no_sideways_scroll(qa)
    qa.screenshot(path=str(SHOTS / f"workspace-review-{suffix}.png"))

    # 4. the admin (TOTP enrolled on the first run) creates a user, who enrols TOTP
    admin = new_page(browser, width)
    admin.goto(base + "/signin")
    admin.fill("#username", "root")
    admin.fill("#password", PASSWORD)
    if "secret" in ADMIN:  # a fresh code of the next step: the last one is used
        admin.fill("#totp", pyotp.TOTP(ADMIN["secret"]).at(time.time() + 30))
    admin.click("#signin")
    admin.wait_for_load_state("networkidle")
    if "secret" not in ADMIN:
        assert admin.url.endswith("/account")
        ADMIN["secret"] = enrol_totp(admin)
    admin.goto(base + "/admin/users")
    username = f"xu{suffix}"
    admin.fill("#new-username", username)
    admin.fill("#new-display-name", "徐静")
    admin.fill("#new-password", PASSWORD)
    admin.select_option("#new-role", "agent")
    admin.select_option("#new-team", index=1)
    admin.click("#create-user-submit")
    expect(admin.locator("#user-created")).to_contain_text(username)
    expect(admin.locator(f'#users tr[data-user="{username}"]')).to_be_visible()
    assert no_sideways_scroll(admin)
    admin.screenshot(path=str(SHOTS / f"workspace-admin-users-{suffix}.png"))
    admin.goto(base + "/admin/audit?action=alert.")
    expect(admin.locator('#audit tr[data-action="alert.acknowledged"]').first).to_be_visible()

    user = new_page(browser, width)
    sign_in(user, base, username)
    assert user.url.endswith("/account")
    user.fill("input[name=old_password]", PASSWORD)
    user.fill("input[name=new_password]", NEW_PASSWORD)
    user.click("form[action='/account/password'] button[type=submit]")
    user.wait_for_load_state("networkidle")
    enrol_totp(user)
    user.screenshot(path=str(SHOTS / f"workspace-totp-{suffix}.png"))

    for page in (agent, sup, qa, admin, user):
        assert not page.errors, page.errors  # type: ignore[attr-defined]
        page.context.close()
