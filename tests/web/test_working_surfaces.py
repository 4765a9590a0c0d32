"""The agent's and supervisor's working surfaces (issue 13), without a browser: the 话术库 page
(agents read, supervisors add and edit, a reply that fails the pre-send check is refused in the
form with its code and rewrite), the composer's 话术 picker (the customer's emotion and persona
first), private notes in the console's customer panel and on the ticket page, ticket fields and
the ticket list's filters, sort and bulk actions, the wallboard's L2+ badge count, whispers shown
delivered once the agent's socket received them, 旁听 read-only, and auditors who get no button
that would answer 403."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from anfu.security.passwords import hash_password
from anfu.store.access import Principal
from tests.web.conftest import PASSWORD

ANGRY = "我们小区停电都三天了！！！报了两次修都没人来，你们到底管不管？"
THIRD_CALL = "这已经是我第三次打电话了！停电两天了还没人来修，你们到底怎么回事？"
GOOD = "非常理解您的着急，停电给您添麻烦了，抢修班组已经出发，预计40分钟内到达，我会全程跟进。"
BAD = "这个不归我们管，你自己去找物业问吧。"


@pytest.fixture(scope="module")
def world(web: Any) -> Any:
    store = web.store
    tenant_id = web.users["li"].tenant_id
    other = store.create_tenant("water-96116", "某市自来水公司")
    team = store.create_team(other.id, "96116热线")
    web.users["liu"] = store.create_user(other.id, "liu", hash_password(PASSWORD), "supervisor", team_id=team.id,
                                         display_name="刘洋")
    web.users["chen"] = store.create_user(other.id, "chen", hash_password(PASSWORD), "agent", team_id=team.id,
                                          display_name="陈晨")
    root = store.create_user(tenant_id, "root", hash_password(PASSWORD), "admin", display_name="管理员")
    web.users["root"] = store.update_user(root.id, mfa_enabled=True)
    return web


def _admin(world: Any) -> Principal:
    return Principal.of_user(world.users["root"])


def test_reply_library_page_supervisors_edit_agents_read(world: Any) -> None:
    sup, li = world.client("wang"), world.client("li")
    made = sup.post("/replies", data={"title": "停电致歉（愤怒）", "text": GOOD, "category": "停电抢修",
                                      "emotion": "angry", "persona": "刚强型"})
    assert made.status_code == 303 and made.headers["location"].startswith("/replies?saved=")
    rid = int(made.headers["location"].split("=")[1])
    page = li.get("/replies").text
    assert f'data-reply="{rid}"' in page and "停电致歉（愤怒）" in page and "刚强型" in page
    assert 'id="reply-form"' not in page and f'id="edit-{rid}"' not in page  # agents read only
    assert li.post("/replies", data={"title": "x", "text": "您好"}).status_code == 403
    assert li.post(f"/replies/{rid}", data={"title": "x", "text": GOOD}).status_code == 403
    assert world.client("qa").post("/replies", data={"title": "x", "text": "您好"}).status_code == 403
    # filters: scenario, emotion, persona, words
    assert f'data-reply="{rid}"' in li.get("/replies", params={"persona": "刚强型", "emotion": "angry"}).text
    assert f'data-reply="{rid}"' not in li.get("/replies", params={"persona": "随和型"}).text
    assert f'data-reply="{rid}"' in li.get("/replies", params={"q": "抢修 出发", "category": "停电抢修"}).text
    assert f'data-reply="{rid}"' not in li.get("/replies", params={"q": "退费"}).text
    # another tenant never sees it
    assert f'data-reply="{rid}"' not in world.client("chen").get("/replies").text
    assert world.client("liu").get(f"/replies?edit={rid}").status_code == 404


def test_a_reply_that_fails_the_presend_check_is_refused_in_the_form(world: Any) -> None:
    sup = world.client("wang")
    refused = sup.post("/replies", data={"title": "推给物业", "text": BAD, "category": "停电抢修"})
    assert refused.status_code == 422  # the form's input (page_errors.form_status; was 409 until session 12)
    error = refused.text.split('id="reply-error"')[1].split("</div>")[0]
    assert "AF670" in error and "推诿" in error and 'id="reply-rewrite"' in error
    assert f">{BAD}</textarea>" in refused.text  # what was typed is kept for correcting
    assert "推给物业" not in world.client("li").get("/replies").text
    # editing a good entry into a bad one is refused too, and the entry stays as it was
    rid = world.ctx.services.replies.create(Principal.of_user(world.users["wang"]), title="解释规定",
                                            text="您好，您反映的情况我已经记录，马上为您核实处理。").id
    edited = sup.post(f"/replies/{rid}", data={"title": "解释规定", "text": "这是公司规定，我也没办法。"})
    assert edited.status_code == 422 and "AF670" in edited.text
    assert world.ctx.services.replies.get(Principal.of_user(world.users["li"]), rid).text.startswith("您好")
    english = world.client("wang", lang="en").post("/replies", data={"title": "x", "text": BAD})
    assert "fails the pre-send check" in english.text and "Not saved (AF670)" in english.text
    # a retired entry leaves the agents' list
    sup.post(f"/replies/{rid}", data={"title": "解释规定", "text": "您好，您反映的情况我已经记录，马上为您核实处理。",
                                      "active": "no"})
    assert f'data-reply="{rid}"' not in world.client("li").get("/replies").text


def test_the_composer_picker_puts_what_suits_the_customer_first(world: Any) -> None:
    sup = Principal.of_user(world.users["wang"])
    library = world.ctx.services.replies
    calm = library.create(sup, title="A 常规问候", text="您好，很高兴为您服务，请问有什么可以帮您？", category="通用",
                          emotion="neutral")
    angry = library.create(sup, title="Z 停电安抚", text=GOOD, category="停电抢修", emotion="angry")
    chat = world.customer_says(ANGRY)["conversation"]["id"]
    li = world.client("li")
    page = li.get(f"/console/{chat}").text
    assert 'id="reply-picker"' in page and 'id="open-picker"' in page and 'aria-keyshortcuts="/"' in page
    assert "<kbd>/</kbd>" in page  # listed on `?`
    assert '<option value="停电抢修">' in page.split('id="picker-category"')[1].split("</select>")[0]
    emotion = world.store.get_conversation(chat).emotion
    assert emotion == "angry"
    picked = li.get("/replies/pick", params={"conversation_id": chat}).text
    order = re.findall(r'data-reply="(\d+)"', picked)
    assert order.index(str(angry.id)) < order.index(str(calm.id))  # "Z" sorts last by title, yet first
    assert 'class="pick fits"' in picked and "适合当前客户" in picked
    assert re.findall(r'data-reply="(\d+)"', li.get("/replies/pick", params={
        "conversation_id": chat, "q": "问候"}).text) == [str(calm.id)]
    by_scenario = re.findall(r'data-reply="(\d+)"', li.get("/replies/pick", params={
        "conversation_id": chat, "category": "通用"}).text)
    assert str(calm.id) in by_scenario and str(angry.id) not in by_scenario
    # a conversation you cannot see gives no hint of its customer
    assert world.client("zhao").get("/replies/pick", params={"conversation_id": chat}).status_code == 404


def test_private_notes_in_the_customer_panel(world: Any) -> None:
    chat = world.customer_says("停电了，家里老人需要用呼吸机，能不能尽快来人？我电话13900001111")["conversation"]["id"]
    li, qa, zhao = world.client("li"), world.client("qa"), world.client("zhao")
    page = li.get(f"/console/{chat}").text
    assert f'id="notes-conversation-{chat}"' in page and "暂无备注" in page and 'class="note-form' in page
    added = li.post(f"/notes/conversation/{chat}", data={"text": "家有呼吸机用户，已按重要客户报抢修，联系电话13900001111"})
    assert added.status_code == 200 and "已按重要客户报抢修" in added.text and "li ·" in added.text
    assert "已按重要客户报抢修" in world.client("wang").get(f"/console/{chat}").text
    audited = qa.get(f"/console/{chat}").text  # the auditor reads it masked, with no form
    assert "已按重要客户报抢修" in audited and "13900001111" not in audited and 'class="note-form' not in audited
    assert qa.post(f"/notes/conversation/{chat}", data={"text": "质检"}).status_code == 403
    assert zhao.post(f"/notes/conversation/{chat}", data={"text": "x"}).status_code == 404
    assert world.client("chen").post(f"/notes/conversation/{chat}", data={"text": "x"}).status_code == 404
    empty = li.post(f"/notes/conversation/{chat}", data={"text": "  "})
    assert empty.status_code == 200 and 'id="note-error"' in empty.text and "AF505" in empty.text
    assert li.post(f"/notes/customer/{chat}", data={"text": "x"}).status_code == 422


def test_ticket_page_fields_and_notes_by_role(world: Any) -> None:
    chat = world.customer_says(ANGRY)["conversation"]["id"]
    li, sup, qa = world.client("li"), world.client("wang"), world.client("qa")
    li.post(f"/console/{chat}/escalate")
    ticket = world.ctx.desk.workflow.list_tickets(Principal.of_user(world.users["li"]), conversation_id=chat).items[0]
    agent_page = li.get(f"/tickets/{ticket.id}").text
    assert 'id="field-priority"' in agent_page and 'id="field-cause"' in agent_page
    assert 'id="field-owner"' not in agent_page  # handing over is for supervisors and admins
    assert f'id="notes-ticket-{ticket.id}"' in agent_page
    changed = li.post(f"/tickets/{ticket.id}/fields", data={"priority": "urgent", "cause": "outage",
                                                            "note": "客户家有呼吸机，加急"})
    assert changed.status_code == 200
    record = world.ctx.desk.workflow.get_ticket(ticket.id)
    assert record.data["priority"] == "urgent"
    assert "客户家有呼吸机，加急" in changed.text  # in the history, with who changed it
    bad = li.post(f"/tickets/{ticket.id}/fields", data={"priority": "critical"})
    assert bad.status_code == 422 and 'id="ticket-error"' in bad.text  # AF601: the form's input
    assert li.post(f"/tickets/{ticket.id}/fields", data={"owner_id": world.users["zhao"].id}).status_code == 403
    sup_page = sup.get(f"/tickets/{ticket.id}").text
    assert 'id="field-owner"' in sup_page and "赵敏" in sup_page
    assert sup.post(f"/tickets/{ticket.id}/fields", data={"owner_id": world.users["zhao"].id}).status_code == 200
    assert world.ctx.desk.workflow.get_ticket(ticket.id).owner_id == world.users["zhao"].id
    assert sup.post(f"/notes/ticket/{ticket.id}", data={"text": "已转赵敏跟进，18点前回电"}).status_code == 200
    # the auditor reads the ticket and its notes but gets no button that would answer 403
    audit_page = qa.get(f"/tickets/{ticket.id}").text
    assert "已转赵敏跟进" in audit_page
    for marker in ('id="ticket-fields"', 'id="ticket-actions"', 'class="note-form', "<button class=\"btn primary\""):
        assert marker not in audit_page.split('<main')[1], marker
    assert qa.post(f"/tickets/{ticket.id}/fields", data={"priority": "low"}).status_code == 403
    assert world.client("chen").get(f"/tickets/{ticket.id}").status_code == 404


def test_ticket_list_filters_sort_and_bulk_actions(world: Any) -> None:
    li, sup = world.client("li"), world.client("wang")
    ids = []
    for text in (ANGRY, "电费怎么突然多了两百块？你们是不是乱收费？", "营业厅排队两小时，态度还很差，我要投诉！"):
        chat = world.customer_says(text)["conversation"]["id"]
        li.post(f"/console/{chat}/escalate")
        ids.append(world.ctx.desk.workflow.list_tickets(Principal.of_user(world.users["li"]),
                                                        conversation_id=chat).items[0].id)
    page = sup.get("/tickets").text
    assert 'id="bulk-form"' in page and 'id="bulk-assign"' in page and all(f'id="tick-{i}"' in page for i in ids)
    assert 'id="bulk-assign"' not in li.get("/tickets").text  # agents have no bulk actions
    assert 'id="bulk-assign"' not in world.client("qa").get("/tickets").text
    # filters: owner, SLA state, cause; sort by priority
    zhao = world.users["zhao"].id
    done = sup.post("/tickets/bulk", data={"ticket_ids": [str(ids[0]), str(ids[1])], "action": "assign",
                                           "owner_id": str(zhao)})
    assert done.status_code == 200 and "已分配 2 张工单" in done.text
    owned = sup.get("/tickets", params={"owner": str(zhao)}).text
    assert f'data-ticket="{ids[0]}"' in owned and f'data-ticket="{ids[2]}"' not in owned
    mine = li.get("/tickets", params={"owner": "me"}).text
    assert f'data-ticket="{ids[2]}"' in mine and f'data-ticket="{ids[0]}"' not in mine
    assert f'data-ticket="{ids[0]}"' in sup.get("/tickets", params={"sla": "ok"}).text
    assert f'data-ticket="{ids[0]}"' not in sup.get("/tickets", params={"sla": "breached"}).text
    cause = world.ctx.desk.workflow.get_ticket(ids[1]).cause
    by_cause = sup.get("/tickets", params={"cause": cause}).text
    assert f'data-ticket="{ids[1]}"' in by_cause
    sup.post(f"/tickets/{ids[2]}/fields", data={"priority": "urgent"})
    order = re.findall(r'data-ticket="(\d+)"', sup.get("/tickets", params={"sort": "priority"}).text)
    assert order[0] == str(ids[2])
    due = re.findall(r'data-ticket="(\d+)"', sup.get("/tickets", params={"sort": "due"}).text)
    assert set(map(str, ids)) <= set(due)
    # bulk close: open tickets cannot close, nothing changes; waiting ones close with a note
    refused = sup.post("/tickets/bulk", data={"ticket_ids": [str(i) for i in ids], "action": "close"})
    assert refused.status_code == 409 and "AF602" in refused.text
    for i in ids[:2]:
        world.ctx.desk.act(Principal.of_user(world.users["wang"]), i, "wait", {"note": "等待客户提供户号"})
    closed = sup.post("/tickets/bulk", data={"ticket_ids": [str(i) for i in ids[:2]], "action": "close",
                                             "note": "三次回访未接通，按规定关闭"})
    assert closed.status_code == 200 and "已关闭 2 张工单" in closed.text
    assert {world.ctx.desk.workflow.get_ticket(i).status for i in ids[:2]} == {"closed"}
    audit = world.store.list_audit(_admin(world), action="ticket.").items
    assert {(e.action, e.target) for e in audit if e.actor == "user:wang"} >= {
        ("ticket.assigned", f"ticket:{ids[0]}"), ("ticket.closed", f"ticket:{ids[0]}"),
        ("ticket.closed", f"ticket:{ids[1]}")}
    assert li.post("/tickets/bulk", data={"ticket_ids": [str(ids[2])], "action": "close", "note": "x"}
                   ).status_code == 403
    assert sup.post("/tickets/bulk", data={"action": "close"}).status_code == 422  # nothing ticked: AF505
    assert world.client("liu").post("/tickets/bulk", data={"ticket_ids": [str(ids[2])], "action": "close",
                                                           "note": "x"}).status_code == 404


def test_wallboard_counts_unacknowledged_l2_alerts_for_the_title_badge(world: Any) -> None:
    sup = world.client("wang")
    chat = world.customer_says(THIRD_CALL)["conversation"]["id"]
    assert world.store.get_conversation(chat).escalation_level >= 2
    alert = next(a for a in world.ctx.services.alerts.list(Principal.of_user(world.users["wang"]), conversation_id=chat)
                 if (a.event.payload.get("level") or 0) >= 2)
    board = sup.get("/wallboard").text
    badge = re.search(r'id="urgent-alerts" data-urgent="(\d+)" data-newest="(\d+)"', board)
    assert badge and int(badge.group(1)) >= 1 and int(badge.group(2)) >= alert.event.id
    assert "/static/js/wallboard-alerts.js" in board and 'id="enable-notify"' in board
    before = int(badge.group(1))
    after = sup.post(f"/wallboard/alerts/{alert.event.id}/acknowledge").text
    assert int(re.search(r'data-urgent="(\d+)"', after).group(1)) == before - 1


def test_whisper_shows_delivered_once_the_agents_socket_got_it(world: Any) -> None:
    chat = world.customer_says("排队排三天？今天再不来人我就打12345投诉！")["conversation"]["id"]
    sup = world.client("wang")
    sup.post(f"/wallboard/{chat}/whisper", data={"hint": "先致歉，再给出抢修到场时间"})
    state = re.search(rf'id="whisper-state-{chat}">(.*?)</p>', sup.get("/wallboard").text, re.S)
    assert state and "待送达" in state.group(1) and "已送达" not in state.group(1)
    with world.client("li").websocket_connect("/ws/agent", headers={"origin": "http://testserver"}) as ws:
        assert ws.receive_json()["type"] == "hello"
        sup.post(f"/wallboard/{chat}/whisper", data={"hint": "告诉客户抢修班组30分钟内到场"})
        frame = ws.receive_json()
        while frame["type"] != "whisper":
            frame = ws.receive_json()
        assert frame["text"] == "告诉客户抢修班组30分钟内到场" and frame["event_id"]
        for _ in range(50):  # the socket records the delivery right after sending the frame on
            if world.store.list_events(Principal.of_user(world.users["wang"]), name="supervisor.whisper_delivered",
                                       conversation_id=chat):
                break
            time.sleep(0.05)
    state = re.search(rf'id="whisper-state-{chat}">(.*?)</p>', sup.get("/wallboard").text, re.S)
    assert "告诉客户抢修班组30分钟内到场" in state.group(1) and "已送达" in state.group(1)


def test_listening_in_opens_the_live_conversation_read_only(world: Any) -> None:
    chat = world.customer_says(ANGRY)["conversation"]["id"]
    sup = world.client("wang")
    joined = sup.post(f"/wallboard/{chat}/join")
    assert joined.status_code == 303 and joined.headers["location"] == f"/console/{chat}?listen=1"
    htmx = sup.post(f"/wallboard/{chat}/join", headers={"HX-Request": "true"})
    assert htmx.status_code == 204 and htmx.headers["HX-Redirect"] == f"/console/{chat}?listen=1"
    page = sup.get(f"/console/{chat}?listen=1").text
    assert 'id="listening"' in page and f'/console/{chat}/live?listen=1' in page
    for marker in ('id="draft"', 'id="escalate"', 'class="note-form', 'id="send"'):
        assert marker not in page, marker
    assert ANGRY[:8] in page
    live = sup.get(f"/console/{chat}/live?listen=1").text
    assert 'id="escalate"' not in live and 'class="note-form' not in live
    entries = world.store.list_audit(_admin(world), action="conversation.joined").items
    assert any(e.target == f"conversation:{chat}" for e in entries)
    assert world.client("li").post(f"/wallboard/{chat}/join").status_code in (403, 404)


def test_auditor_console_has_no_action_that_would_answer_403(world: Any) -> None:
    chat = world.customer_says(ANGRY)["conversation"]["id"]
    page = world.client("qa").get(f"/console/{chat}").text
    for marker in ('id="draft"', 'id="send"', 'id="escalate"', 'class="note-form', 'button class="btn small primary claim',
                   '<button type="button" class="suggestion"'):
        assert marker not in page, marker
    assert world.client("qa").post(f"/console/{chat}/escalate").status_code == 403


def test_english_surfaces(world: Any) -> None:
    chat = world.customer_says(ANGRY)["conversation"]["id"]
    page = world.client("li", lang="en").get(f"/console/{chat}").text
    assert "Private notes" in page and "Reply library" in page and "Open the reply library search" in page
    tickets = world.client("wang", lang="en").get("/tickets").text
    assert "Assign selected" in tickets and "Close selected" in tickets and "SLA deadline soonest first" in tickets
    assert "Turn on desktop notifications and sound" in world.client("wang", lang="en").get("/wallboard").text
