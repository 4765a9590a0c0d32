"""A contact centre's day in the workspace (issue 13), in Debian's Chromium at 1440 and 390 px:
in the morning the admin (enrolling TOTP with the QR code page on the first run) gives 95598一组
a power queue with auto-assignment on, and 李强 and 赵敏 the power skill and a cap; both agents
sign in to routing (示闲). The customer's chat lands with 李强 (the skill and the fewer open
conversations, read off the admin's page before and after) and shows on his /conversations
"mine" list; he sees the customer's history in the customer panel, presses `/` in the empty
draft, finds a 话术 in the library, picks it, the pre-send check passes beside the draft and
Ctrl+Enter sends it (`?` lists the shortcuts); he finds the customer's earlier conversation with
the navigation's search box. With 李强 and 赵敏 both busy (示忙), the next chat waits in the
queue: claimable on the console, highlighted on the wallboard's routing-queue and live-queue
tables, and the supervisor assigns it; the supervisor acknowledges the alert; the auditor scores
the conversation in the review queue; the admin creates a user, who changes the one-time
password and enrols TOTP too. At 390 px the navigation is a menu and the console, search,
wallboard, tickets, the survey, the review and admin pages do not scroll sideways. Screenshots
go to docs/screenshots/ (workspace-*.png).

Skips when Chromium or the playwright package is missing; never downloads a browser.
"""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
import pyotp
import pytest

from tests.web.test_browser import (  # noqa: F401
    ARGS,
    CHROMIUM,
    PASSWORD,
    SHOTS,
    browser,
    server,
    sign_in,
)

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
pytestmark = pytest.mark.timeout(600)

THREAT = "停电三天了！报修两次都没人来，今天再不来人我就打12345投诉，还要发抖音曝光你们！"
REPLY = "非常抱歉让您久等了，停电给您添麻烦了，我马上联系抢修班组，30分钟内给您回电确认到场时间。"
NEW_PASSWORD = "Qing-Shui-He-2025!"
ADMIN: dict[str, str] = {}


def post(server: Any, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:  # noqa: F811
    response = httpx.post(server["base"] + path, json=body or {}, timeout=30,
                          headers={"Authorization": f"Bearer {server['token']}"})
    assert response.status_code in (200, 201), response.text
    return response.json()


def chat(server: Any, text: str, ref: str, agent_id: int | None = None) -> int:  # noqa: F811
    return chat_record(server, text, ref, agent_id)["id"]


def chat_record(server: Any, text: str, ref: str, agent_id: int | None = None) -> dict[str, Any]:  # noqa: F811
    """A customer's web-chat message through the gateway; the conversation as the API answers it."""
    body: dict[str, Any] = {"speaker": "customer", "text": text, "channel": "webchat", "industry": "power",
                            "conversation_ref": f"webchat:{ref}-{time.time_ns()}",
                            "customer": {"name": "张建国", "phone": "13812345678", "external_ref": f"wx-{ref}"}}
    if agent_id is not None:
        body["agent_id"] = agent_id
    return post(server, "/api/v1/messages", body)["conversation"]


def survey_link(server: Any, conversation_id: int) -> str:  # noqa: F811
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


def new_page(browser: Any, width: int, lang: str = "zh-CN") -> Any:  # noqa: F811
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


def loads(admin: Any) -> dict[str, tuple[int, int]]:
    """Open conversations and cap per agent, as the admin's 班组与路由 page shows them."""
    out = {}
    for username in ("li", "zhao"):
        cell = admin.locator(f'#agents tr[data-agent="{username}"] td').nth(2).inner_text()
        match = re.search(r"(\d+)\s*/\s*(\d+)", cell)
        assert match, cell
        out[username] = (int(match.group(1)), int(match.group(2)))
    return out


def set_presence(page: Any, presence: str) -> None:
    button = page.locator(f'#presence [data-presence="{presence}"]')
    expect(button).to_be_visible()
    button.click()
    expect(page.locator(f'#presence [data-presence="{presence}"]')).to_have_attribute("aria-pressed", "true")


@pytest.mark.parametrize("width", [1440, 390])
def test_a_day_in_the_workspace(server: Any, browser: Any, width: int) -> None:  # noqa: F811
    base = server["base"]
    narrow = width < 800
    suffix = "390" if narrow else "1440"
    SHOTS.mkdir(parents=True, exist_ok=True)

    # 0. the morning: the admin (TOTP enrolled on the first run) gives 95598一组 a power queue with
    # auto-assignment, and 李强 and 赵敏 the power skill and a cap
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
    admin.goto(base + "/admin/teams")
    team = admin.locator("article.team-routing").filter(has=admin.locator("input[value='95598一组']"))
    if team.locator("tr[data-queue]").count() == 0:  # set up once (the server lives for both widths)
        team.locator("input[name=name]").last.fill("95598 电力热线")
        team.locator("select[name=industry]").select_option("power")
        with admin.expect_navigation():
            team.locator(".add-queue button[type=submit]").click()
        expect(admin.locator("#routing-saved")).to_be_visible()
        with admin.expect_navigation():
            team.locator(".toggle-auto").click()
        expect(team.locator(".chip.tone-good")).to_be_visible()
        for username in ("li", "zhao"):
            row = admin.locator(f'#agents tr[data-agent="{username}"]')
            row.locator("input[name=industries][value=power]").check()
            row.locator("input[name=max_open]").fill("20")
            with admin.expect_navigation():
                row.locator("button[type=submit]").click()
            expect(admin.locator("#routing-saved")).to_be_visible()
    team = admin.locator("article.team-routing").filter(has=admin.locator("input[value='95598一组']"))
    expect(team.locator("tr[data-queue]")).to_contain_text("95598 电力热线")
    expect(team.locator(".chip.tone-good")).to_be_visible()            # 自动分配：开
    queue_id = team.locator("tr[data-queue]").first.get_attribute("data-queue")
    for username in ("li", "zhao"):
        expect(admin.locator(f'#agents tr[data-agent="{username}"] input[name=industries][value=power]')).to_be_checked()

    # 赵敏 is already busier than 李强 this morning (she holds the chats she is handling)
    zhao_id = int(admin.locator('#agents tr[data-agent="zhao"] form.agent-routing').get_attribute("action")
                  .rsplit("/", 1)[1])
    morning = loads(admin)
    for n in range(max(0, morning["li"][0] - morning["zhao"][0] + 1)):
        post(server, "/api/v1/messages", {"speaker": "customer", "text": "你好，我家电表读数好像不对，麻烦帮忙核对一下。",
                                         "channel": "webchat", "industry": "power", "agent_id": zhao_id,
                                         "conversation_ref": f"webchat:meter-{suffix}-{n}-{time.time_ns()}"})

    # the customer's earlier conversation (closed)
    past = chat(server, "上个月也停过一次电，抢修很慢。", f"history-{suffix}", agent_id=1)
    post(server, f"/api/v1/conversations/{past}/close")

    # 1. both agents sign in to routing (示闲); 李强 has the fewer open conversations
    zhao = new_page(browser, width)
    sign_in(zhao, base, "zhao")
    set_presence(zhao, "available")
    agent = new_page(browser, width)
    sign_in(agent, base, "li")
    agent.goto(base + "/console")
    if narrow:
        expect(agent.locator("#mainnav")).to_be_hidden()
        agent.click("#nav-toggle")
        expect(agent.locator("#mainnav")).to_be_visible()
        agent.click("#nav-toggle")
    set_presence(agent, "available")
    admin.goto(base + "/admin/teams")
    before = loads(admin)
    assert before["li"][0] < before["zhao"][0] < before["zhao"][1], before  # both free, 李强 less loaded

    # the customer writes again: the power queue auto-assigns it to 李强 (the skill, the lowest load)
    stranded_body = chat_record(server, THREAT, f"history-{suffix}")
    stranded = stranded_body["id"]
    assert stranded_body["agent_id"] == 1 and str(stranded_body["queue_id"]) == queue_id, stranded_body
    admin.goto(base + "/admin/teams")
    assert loads(admin)["li"][0] == before["li"][0] + 1

    # 2. the agent finds it on his list (mine), sees the customer's history and answers with a 话术
    agent.goto(base + "/conversations")
    expect(agent.locator("#tab-mine")).to_have_attribute("aria-current", "page")
    mine = agent.locator(f'#conversation-list tr[data-conversation="{stranded}"]')
    expect(mine).to_be_visible()
    expect(mine).to_contain_text("李强")
    mine.locator("a").first.click()
    agent.wait_for_url(re.compile(rf"/console/{stranded}$"))
    panel = agent.locator("#customer-panel")
    expect(panel).to_contain_text("张建国")
    expect(agent.locator(f'#customer-history [data-conversation="{past}"]')).to_be_visible()
    emotion = httpx.get(base + f"/api/v1/conversations/{stranded}", timeout=30,
                        headers={"Authorization": f"Bearer {server['token']}"}).json()["conversation"]["emotion"]
    reply = post(server, "/api/v1/replies", {"title": f"停电致歉回电 {suffix}", "text": REPLY,
                                             "category": "停电抢修", "emotion": emotion})
    draft = agent.locator("#draft")
    draft.click()
    agent.keyboard.press("/")  # `/` in the empty draft opens the 话术库
    picker = agent.locator("#reply-picker")
    expect(picker).to_be_visible()
    expect(agent.locator("#picker-q")).to_be_focused()
    assert draft.input_value() == ""
    agent.locator("#picker-q").fill("回电 到场")
    choice = agent.locator(f'#picker-list button.pick[data-reply="{reply["id"]}"]')
    expect(choice).to_be_visible()
    choice.click()
    expect(picker).to_be_hidden()
    expect(draft).to_have_value(REPLY)
    expect(agent.locator("#presend-result")).to_contain_text("发送前检查通过")
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
    agent.screenshot(path=str(SHOTS / f"workspace-console-{suffix}.png"))

    # the agent finds the customer's earlier conversation with the navigation's search box
    if narrow:  # on a phone the search box sits in the menu
        agent.click("#nav-toggle")
    agent.fill("#nav-q", "抢修很慢")
    agent.press("#nav-q", "Enter")
    agent.wait_for_url(re.compile(r"/search\?q="))
    found = agent.locator(f'#results-conversation [data-id="{past}"]')
    expect(found).to_be_visible()
    expect(found.locator("mark.hit").first).to_be_visible()
    assert no_sideways_scroll(agent)
    found.locator("a.search-link").click()
    agent.wait_for_url(re.compile(rf"/console/{past}$"))
    expect(agent.locator("#thread")).to_contain_text("抢修很慢")

    # 李强 stays on the angry customer and 赵敏 takes her break, both 示忙 (a 签出 would hand their
    # open chats back to the queue): the next chat waits
    agent.goto(base + "/console")
    set_presence(agent, "busy")
    set_presence(zhao, "busy")
    routed_body = chat_record(server, "请问电费怎么交？", f"route-{suffix}")
    routed = routed_body["id"]
    assert routed_body["agent_id"] is None and str(routed_body["queue_id"]) == queue_id, routed_body
    agent.goto(base + "/console")  # it shows in the team's unassigned list, for anyone to claim
    expect(agent.locator(f'#unassigned [data-unassigned="{routed}"] button.claim')).to_be_visible()

    # 3. the supervisor sees the waiting chat highlighted, routes it and acknowledges the alert
    sup = new_page(browser, width)
    sign_in(sup, base, "wang")
    sup.goto(base + "/wallboard")
    waiting = sup.locator(f'#routing-queues tr[data-queue="{queue_id}"]')
    expect(waiting).to_have_class(re.compile("unassigned-row"))
    expect(waiting.locator(".queue-unassigned")).to_be_visible()
    row = sup.locator(f'#queue tr[data-conversation="{routed}"]')
    expect(row).to_have_class(re.compile("unassigned-row"))
    sup.screenshot(path=str(SHOTS / f"workspace-wallboard-queue-{suffix}.png"))
    row.locator("select[name=agent_id]").select_option(label="赵敏")
    row.locator("button.assign").click()
    expect(sup.locator(f'#queue tr[data-conversation="{routed}"]')).not_to_have_class(re.compile("unassigned-row"))
    expect(sup.locator(f'#queue tr[data-conversation="{routed}"]')).to_contain_text("赵敏")
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

    # 4. the auditor reviews the conversation and stores a score
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

    # 5. the admin creates a user, who enrols TOTP
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

    for page in (agent, zhao, sup, qa, admin, user):
        assert not page.errors, page.errors  # type: ignore[attr-defined]
        page.context.close()
