"""The workspace a contact centre runs its day in (issue 13), without a browser: stranded
conversations are claimed and routed (same team only) and highlighted on the wallboard; the
console shows the customer (masked by role) with their history and a composer with its
shortcuts; alerts are acknowledged, assigned and resolved with who and when in the audit log;
admins manage users and enrol TOTP with a QR code; the audit log has filters; auditors review
conversations with evidence and store a score, with no action that would answer 403."""

from __future__ import annotations

import re
from typing import Any

import pyotp
import pytest

from anfu.security.passwords import hash_password
from tests.web.conftest import PASSWORD

ANGRY = "我们小区停电都三天了！！！报了两次修都没人来，你们到底管不管？再不来我就打12345投诉！"
PHONE = "13812345678"


def stranded(web: Any, text: str = ANGRY, ref: str = "wx-openid-zhang") -> int:
    body = {"speaker": "customer", "text": text, "channel": "webchat", "industry": "power",
            "customer": {"name": "张建国", "phone": PHONE, "external_ref": ref}}
    response = web.integration().post("/api/v1/messages", json=body)
    assert response.status_code == 201, response.text
    conversation = response.json()["conversation"]
    assert conversation["agent_id"] is None
    return conversation["id"]


@pytest.fixture(scope="module")
def world(web: Any) -> Any:
    store = web.store
    tenant_id = web.users["li"].tenant_id
    other = store.create_team(tenant_id, "95598二组")
    web.users["sun"] = store.create_user(tenant_id, "sun", hash_password(PASSWORD), "agent", team_id=other.id,
                                         display_name="孙悦")
    root = store.create_user(tenant_id, "root", hash_password(PASSWORD), "admin", display_name="管理员")
    web.users["root"] = store.update_user(root.id, mfa_enabled=True)  # admins work with TOTP enrolled
    return web


def test_agent_claims_a_stranded_conversation_first_come_first_served(world: Any) -> None:
    chat = stranded(world)
    li, zhao, sun = world.client("li"), world.client("zhao"), world.client("sun")
    page = li.get("/console").text
    assert 'id="unassigned"' in page and f'data-unassigned="{chat}"' in page and "认领" in page
    assert f'data-unassigned="{chat}"' not in sun.get("/console").text  # another team's queue
    # the agent cannot read it before claiming it
    assert li.get(f"/console/{chat}").status_code == 404
    claimed = li.post(f"/console/{chat}/claim")
    assert claimed.status_code == 303 and claimed.headers["location"] == f"/console/{chat}"
    assert world.store.get_conversation(chat).agent_id == world.users["li"].id
    assert li.get(f"/console/{chat}").status_code == 200
    assert zhao.post(f"/console/{chat}/claim").status_code == 403  # already claimed
    assert sun.post(f"/console/{chat}/claim").status_code == 404  # not their team
    entries = world.store.list_audit(_admin(world), action="conversation.claimed").items
    assert any(e.target == f"conversation:{chat}" and e.actor == "user:li" for e in entries)


def _admin(world: Any) -> Any:
    from anfu.store.access import Principal

    return Principal.of_user(world.users["root"])


def test_supervisor_assigns_within_the_team_and_the_wallboard_highlights_stranded(world: Any) -> None:
    chat = stranded(world, ref="wx-openid-assign")
    sup = world.client("wang")
    board = sup.get("/wallboard").text
    row = re.search(rf'<tr class="[^"]*unassigned-row[^"]*" data-conversation="{chat}">', board)
    assert row is not None and 'id="kpi-unassigned"' in board
    assert f'hx-post="/wallboard/{chat}/assign"' in board
    # only agents of the supervisor's team are offered, and another team's agent is refused
    assert "孙悦" not in board
    refused = sup.post(f"/wallboard/{chat}/assign", data={"agent_id": world.users["sun"].id})
    assert refused.status_code == 403
    done = sup.post(f"/wallboard/{chat}/assign", data={"agent_id": world.users["zhao"].id})
    assert done.status_code == 200 and done.headers["HX-Trigger"] == "anfu-refresh"
    assert world.store.get_conversation(chat).agent_id == world.users["zhao"].id
    assert not re.search(rf'unassigned-row[^"]*" data-conversation="{chat}"', done.text)
    # transfer to the other agent of the team, audited
    sup.post(f"/wallboard/{chat}/assign", data={"agent_id": world.users["li"].id})
    assert world.store.get_conversation(chat).agent_id == world.users["li"].id
    audit = world.store.list_audit(_admin(world), action="conversation.assigned").items
    assert sum(1 for e in audit if e.target == f"conversation:{chat}") == 2
    # agents cannot assign
    assert world.client("zhao").post(f"/wallboard/{chat}/assign", data={"agent_id": world.users["zhao"].id}
                                     ).status_code in (403, 404)


def test_console_customer_panel_is_masked_by_role_and_shows_history(world: Any) -> None:
    first = stranded(world, ref="wx-openid-history")
    world.client("li").post(f"/console/{first}/claim")
    world.store.update_conversation(first, status="closed")
    second = stranded(world, "又停电了！上次说好的抢修到现在也没人来！", ref="wx-openid-history")
    world.client("li").post(f"/console/{second}/claim")
    page = world.client("li").get(f"/console/{second}").text
    assert 'id="customer-panel"' in page and "张建国" in page and PHONE in page
    history = page.split('id="customer-history"')[1].split("</ul>")[0]
    assert f'data-conversation="{first}"' in history and "已结束" in history
    assert re.search(r'class="chip tone-\w+"[^>]*>\d</span>', history)  # the emotion trajectory, as text
    # the composer: fixed at the bottom, pre-send beside the draft, shortcuts listed
    assert 'class="composer-row"' in page and 'aria-keyshortcuts="Control+Enter"' in page
    assert 'id="shortcuts"' in page and "/static/js/console-keys.js" in page
    # an auditor sees the same conversation with the identity masked
    audited = world.client("qa").get(f"/console/{second}").text
    assert 'id="customer-panel"' in audited and PHONE not in audited and "张建国" not in audited
    assert "已脱敏" in audited
    english = world.client("li", lang="en").get(f"/console/{second}").text
    assert "Past conversations" in english and "Keyboard shortcuts" in english


def test_alerts_are_acknowledged_assigned_and_resolved_with_who_and_when(world: Any) -> None:
    chat = world.customer_says("排队排三天？今天再不来人我就打12345投诉，还要发抖音让大家看看你们的服务！")["conversation"]["id"]
    sup = world.client("wang")
    alerts = world.ctx.services.alerts.list(_sup(world), conversation_id=chat)
    assert alerts, "the threat raises an escalation alert"
    alert_id = alerts[0].event.id
    board = sup.get("/wallboard").text
    assert 'id="alert-announcer"' in board and 'aria-live="assertive"' in board
    assert f'hx-post="/wallboard/alerts/{alert_id}/acknowledge"' in board
    sup.post(f"/wallboard/alerts/{alert_id}/acknowledge")
    sup.post(f"/wallboard/alerts/{alert_id}/assign", data={"user_id": world.users["zhao"].id})
    done = sup.post(f"/wallboard/alerts/{alert_id}/resolve")
    assert done.status_code == 200 and f'id="alert-state-{alert_id}"' in done.text and "已解决" in done.text
    state = world.ctx.services.alerts.get(_sup(world), alert_id)
    assert state.state == "resolved" and state.resolved_by == "user:wang" and state.acknowledged_by == "user:wang"
    audit = world.store.list_audit(_admin(world), action="alert.").items
    actions = {e.action for e in audit if e.target == f"alert:{alert_id}"}
    assert actions == {"alert.acknowledged", "alert.assigned", "alert.resolved"}
    assert all(e.actor == "user:wang" and e.at is not None for e in audit if e.target == f"alert:{alert_id}")
    assert sup.post(f"/wallboard/alerts/{alert_id}/bogus").status_code == 422
    assert world.client("li").post(f"/wallboard/alerts/{alert_id}/acknowledge").status_code in (403, 404)


def _sup(world: Any) -> Any:
    from anfu.store.access import Principal

    return Principal.of_user(world.users["wang"])


def test_admin_creates_a_user_who_enrols_totp_with_a_qr_code(world: Any) -> None:
    admin = world.client("root")
    page = admin.get("/admin/users")
    assert page.status_code == 200 and 'id="create-user"' in page.text
    created = admin.post("/admin/users", data={"username": "xu", "display_name": "徐静", "password": PASSWORD,
                                                "role": "agent", "team_id": str(world.users["li"].team_id)})
    assert created.status_code == 200 and 'id="user-created"' in created.text
    xu = next(u for u in world.store.list_users(world.users["li"].tenant_id) if u.username == "xu")
    assert xu.must_change_password and xu.team_id == world.users["li"].team_id
    weak = admin.post("/admin/users", data={"username": "weak", "password": "123", "role": "agent"})
    assert weak.status_code == 422 and 'id="admin-error"' in weak.text
    # role and team, deactivate and reactivate
    admin.post(f"/admin/users/{xu.id}", data={"role": "supervisor", "team_id": str(xu.team_id)})
    admin.post(f"/admin/users/{xu.id}", data={"active": "0"})
    after = next(u for u in world.store.list_users(xu.tenant_id) if u.id == xu.id)
    assert after.role == "supervisor" and not after.active
    admin.post(f"/admin/users/{xu.id}", data={"active": "1"})
    admin.post(f"/admin/users/{xu.id}", data={"role": "agent", "team_id": str(xu.team_id)})
    # agents and auditors have no user administration
    assert world.client("li").get("/admin/users").status_code == 403
    assert world.client("qa").post("/admin/users", data={"username": "x", "password": PASSWORD,
                                                         "role": "agent"}).status_code == 403
    # the new user enrols TOTP from the account page
    world.store.update_user(xu.id, must_change_password=False)
    world.users["xu"] = xu
    client = world.client("xu")
    begun = client.post("/account/mfa/begin")
    assert begun.status_code == 200 and 'id="mfa-qr"' in begun.text and "<svg" in begun.text
    secret = re.search(r'id="mfa-secret">([A-Z2-7]+)<', begun.text).group(1)
    assert client.post("/account/mfa/confirm", data={"code": "000000"}).status_code == 400
    done = client.post("/account/mfa/confirm", data={"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200 and 'id="mfa-done"' in done.text
    assert next(u for u in world.store.list_users(xu.tenant_id) if u.id == xu.id).mfa_enabled


def test_audit_log_page_filters(world: Any) -> None:
    admin = world.client("root")
    page = admin.get("/admin/audit", params={"action": "user."})
    assert page.status_code == 200
    actions = set(re.findall(r'<tr data-action="([^"]+)"', page.text))
    assert actions and all(a.startswith("user.") for a in actions)
    by_actor = admin.get("/admin/audit", params={"actor": "user:wang"}).text
    assert set(re.findall(r"<td>(user:[a-z]+)</td>", by_actor)) <= {"user:wang"}
    assert world.client("qa").get("/admin/audit").status_code == 200  # auditors read the log
    assert world.client("li").get("/admin/audit").status_code == 403
    assert admin.get("/admin/audit", params={"action": "x" * 65}).status_code == 422


def test_auditor_reviews_a_conversation_and_stores_a_score(world: Any) -> None:
    chat = world.customer_says(ANGRY)["conversation"]["id"]
    li = world.client("li")
    li.post(f"/console/{chat}/send", data={"draft": "这不归我们管，你自己去找物业。", "confirm": "yes"})
    qa = world.client("qa")
    queue = qa.get("/review").text
    assert f'<tr data-conversation="{chat}">' in queue and "服务忌语" in queue
    detail = qa.get(f"/review/{chat}").text
    assert 'id="contributions"' in detail and 'id="rubric-findings"' in detail and "<mark" in detail
    # read-only: no reply, escalate, take-over or ticket action here
    for button in ('id="send"', 'id="escalate"', "take-over", "/tickets/"):
        assert button not in detail
    saved = qa.post(f"/review/{chat}", data={"score": "42", "comment": "推诿责任，未致歉"})
    assert saved.status_code == 303 and saved.headers["location"] == f"/review/{chat}?saved=1"
    again = qa.get(f"/review/{chat}?saved=1").text
    assert 'id="review-saved"' in again and "42" in again and "推诿责任，未致歉" in again
    assert any(e.action == "review.scored" for e in world.store.list_audit(_admin(world), action="review.scored").items)
    assert li.get("/review").status_code == 403
    assert li.post(f"/review/{chat}", data={"score": "90"}).status_code == 403


def test_navigation_collapses_to_a_menu_on_phones(world: Any) -> None:
    page = world.client("li").get("/console").text
    assert 'id="nav-toggle"' in page and 'aria-controls="mainnav"' in page
    assert "/admin" not in page.split('id="mainnav"')[1].split("</nav>")[0]
    admin_nav = world.client("root").get("/console").text.split('id="mainnav"')[1].split("</nav>")[0]
    assert 'href="/admin"' in admin_nav and 'href="/review"' in admin_nav


def test_rest_claim_by_an_agent_and_alert_resolve(world: Any) -> None:
    chat = stranded(world, ref="wx-openid-rest")
    zhao = world.client("zhao")
    claimed = zhao.post(f"/api/v1/conversations/{chat}/claim")
    assert claimed.status_code == 200 and claimed.json()["agent_id"] == world.users["zhao"].id
    assert world.client("li").post(f"/api/v1/conversations/{chat}/claim").status_code in (403, 404)
    hot = world.customer_says("今天再不来人我就打12345投诉，还要发抖音曝光你们！")["conversation"]["id"]
    alert_id = world.ctx.services.alerts.list(_sup(world), conversation_id=hot)[0].event.id
    sup = world.client("wang")
    resolved = sup.post(f"/api/v1/alerts/{alert_id}/resolve", json={"note": "已安排抢修"})
    assert resolved.status_code == 200
    body = resolved.json()
    assert body["state"] == "resolved" and body["resolved_by"] == "user:wang" and body["resolved_at"]
    listed = sup.get("/api/v1/alerts", params={"state": "resolved"}).json()["items"]
    assert any(a["id"] == alert_id for a in listed)
