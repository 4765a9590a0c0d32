"""Private notes (内部备注) over REST, on SQLite and PostgreSQL: staff who see a conversation or
ticket read its notes, those who work on it add them (author and time), auditors read only, API
tokens never, another tenant never; personal data masked for admins and auditors; notes never
reach the ticket's history, its webhooks or the survey. Bulk close of tickets is all-or-nothing
and audited; canned replies name a persona and are found by words."""

from __future__ import annotations

from typing import Any

import pytest

from anfu.store.access import Principal

ANGRY = "我们小区停电都三天了！！！报了两次修都没人来，你们到底管不管？"
NOTE = "客户下午三点后方便接电话（13812345678），已报抢修单 QX-1123，勿再提赔偿。"


def _conversation(world: Any, who: str, ref: str, text: str = ANGRY) -> int:
    r = world.client(who).post("/api/v1/messages", json={"conversation_ref": ref, "text": text})
    assert r.status_code == 201, r.text
    return r.json()["conversation"]["id"]


def _ticket(world: Any, who: str, conversation_id: int) -> int:
    r = world.client(who).post("/api/v1/tickets", json={"conversation_id": conversation_id})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_notes_on_a_conversation_author_time_roles_and_masking(world: Any) -> None:
    cid = _conversation(world, "agent_a1", "notes-conv-1")
    agent = world.client("agent_a1")
    added = agent.post("/api/v1/notes", json={"conversation_id": cid, "text": NOTE})
    assert added.status_code == 201, added.text
    note = added.json()
    assert note["author"] == "agent_a1" and note["conversation_id"] == cid and note["ticket_id"] is None
    assert note["created_at"] and note["text"] == NOTE
    # the team's supervisor reads it in clear and adds one; the list is oldest first
    sup = world.client("sup_a1")
    assert sup.post("/api/v1/notes", json={"conversation_id": cid, "text": "已电话安抚，客户同意等到18点。"}).status_code == 201
    listed = sup.get("/api/v1/notes", params={"conversation_id": cid}).json()["items"]
    assert [n["author"] for n in listed] == ["agent_a1", "sup_a1"] and listed[0]["text"] == NOTE
    # auditors and admins read it masked; auditors cannot write
    for who in ("auditor_a", "admin_a"):
        seen = world.client(who).get("/api/v1/notes", params={"conversation_id": cid})
        assert seen.status_code == 200
        assert "13812345678" not in seen.json()["items"][0]["text"] and "QX-1123" in seen.json()["items"][0]["text"]
    refused = world.client("auditor_a").post("/api/v1/notes", json={"conversation_id": cid, "text": "质检备注"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "AF417"
    # who may not see the conversation: as if it did not exist
    for who in ("agent_a1b", "sup_a2", "agent_b1", "admin_b"):
        assert world.client(who).get("/api/v1/notes", params={"conversation_id": cid}).status_code == 404, who
        assert world.client(who).post("/api/v1/notes", json={"conversation_id": cid, "text": "x"}).status_code == 404
    # an API token (the web-chat gateway that talks to the customer) never reads notes
    gateway = world.token_client("sup_a1")
    assert gateway.get("/api/v1/notes", params={"conversation_id": cid}).status_code == 403
    assert gateway.post("/api/v1/notes", json={"conversation_id": cid, "text": "x"}).status_code == 403
    # audited without the text
    entries = world.store.list_audit(Principal.of_user(world.users["admin_a"]), action="note.added").items
    mine = [e for e in entries if e.target == f"conversation:{cid}"]
    assert len(mine) == 2 and all("13812345678" not in str(e.detail) for e in mine)


def test_notes_bad_input_is_a_coded_error(world: Any) -> None:
    cid = _conversation(world, "agent_a1", "notes-conv-2")
    agent = world.client("agent_a1")
    for body in ({"conversation_id": cid, "text": ""}, {"conversation_id": cid, "text": "长" * 2001},
                 {"text": "没有目标"}, {"conversation_id": cid, "ticket_id": 1, "text": "两个目标"}):
        r = agent.post("/api/v1/notes", json=body)
        assert r.status_code == 422 and r.json()["error"]["code"].startswith("AF4"), (body, r.text)
    blank = agent.post("/api/v1/notes", json={"conversation_id": cid, "text": "   "})
    assert blank.status_code == 422 and blank.json()["error"]["code"] == "AF505"
    r = agent.get("/api/v1/notes")
    assert r.status_code == 422 and r.json()["error"]["code"] == "AF505"


def test_ticket_notes_stay_out_of_the_history_and_the_webhooks(world: Any) -> None:
    cid = _conversation(world, "agent_a1", "notes-ticket-1")
    tid = _ticket(world, "agent_a1", cid)
    sup = world.client("sup_a1")
    assert sup.post("/api/v1/notes", json={"ticket_id": tid, "text": NOTE}).status_code == 201
    assert [n["text"] for n in world.client("agent_a1").get("/api/v1/notes", params={"ticket_id": tid}).json()["items"]
            ] == [NOTE]
    ticket = sup.get(f"/api/v1/tickets/{tid}").json()
    assert "QX-1123" not in str(ticket)  # not in the history the API and webhooks carry
    events = world.store.list_events(Principal.of_user(world.users["admin_a"]), limit=1000)
    assert not any("QX-1123" in str(e.payload) for e in events)
    assert world.client("agent_b1").get("/api/v1/notes", params={"ticket_id": tid}).status_code == 404
    assert world.client("auditor_a").post("/api/v1/notes", json={"ticket_id": tid, "text": "x"}).status_code == 403


def test_bulk_close_checks_every_ticket_first_and_is_audited(world: Any) -> None:
    sup = world.client("sup_a1")
    tids = [_ticket(world, "agent_a1", _conversation(world, "agent_a1", f"bulk-close-{i}")) for i in range(2)]
    # an open ticket cannot close: nothing changes
    refused = sup.post("/api/v1/tickets/bulk-close", json={"ticket_ids": tids})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "AF602"
    for tid in tids:  # waiting on the customer: closing needs a note
        assert sup.post(f"/api/v1/tickets/{tid}/pause", json={"note": "等待客户提供户号"}).status_code == 200
    no_note = sup.post("/api/v1/tickets/bulk-close", json={"ticket_ids": tids})
    assert no_note.status_code in (409, 422) and no_note.json()["error"]["code"] == "AF607"
    assert all(sup.get(f"/api/v1/tickets/{t}").json()["status"] == "waiting_customer" for t in tids)
    assert world.client("agent_a1").post("/api/v1/tickets/bulk-close",
                                         json={"ticket_ids": tids, "note": "x"}).status_code == 403
    assert world.client("sup_b1").post("/api/v1/tickets/bulk-close",
                                       json={"ticket_ids": tids, "note": "x"}).status_code == 404
    done = sup.post("/api/v1/tickets/bulk-close", json={"ticket_ids": tids, "note": "三次回访未接通，按规定关闭"})
    assert done.status_code == 200, done.text
    assert [t["status"] for t in done.json()["items"]] == ["closed", "closed"]
    audit = world.store.list_audit(Principal.of_user(world.users["admin_a"]), action="ticket.closed").items
    assert {e.target for e in audit if e.actor == "user:sup_a1"} >= {f"ticket:{t}" for t in tids}


def test_bulk_assign_is_audited(world: Any) -> None:
    sup = world.client("sup_a1")
    tid = _ticket(world, "agent_a1", _conversation(world, "agent_a1", "bulk-assign-audit"))
    r = sup.post("/api/v1/tickets/bulk-assign", json={"ticket_ids": [tid], "owner_id": world.users["agent_a1b"].id})
    assert r.status_code == 200, r.text
    audit = world.store.list_audit(Principal.of_user(world.users["admin_a"]), action="ticket.assigned").items
    assert any(e.target == f"ticket:{tid}" and e.actor == "user:sup_a1" for e in audit)


def test_ticket_list_sorts(world: Any) -> None:
    sup = world.client("sup_a1")
    low = _ticket(world, "agent_a1", _conversation(world, "agent_a1", "sort-low", "请问电费账单在哪里查？"))
    high = _ticket(world, "agent_a1", _conversation(world, "agent_a1", "sort-high"))
    assert sup.patch(f"/api/v1/tickets/{low}", json={"priority": "low"}).status_code == 200
    assert sup.patch(f"/api/v1/tickets/{high}", json={"priority": "urgent"}).status_code == 200

    def order(sort: str) -> list[int]:
        r = sup.get("/api/v1/tickets", params={"sort": sort, "page_size": 200})
        assert r.status_code == 200, r.text
        return [t["id"] for t in r.json()["items"]]

    by_priority = order("priority")
    assert by_priority.index(high) < by_priority.index(low)
    assert order("updated")[0] == high  # changed last
    created = order("created")
    assert created.index(high) < created.index(low)  # opened later
    due = order("due")
    assert due.index(high) < due.index(low)  # urgent: the shorter deadline
    bad = sup.get("/api/v1/tickets", params={"sort": "random"})
    assert bad.status_code == 422 and bad.json()["error"]["code"].startswith("AF4")


def test_canned_replies_persona_and_search(world: Any) -> None:
    sup = world.client("sup_a1")
    made = sup.post("/api/v1/replies", json={
        "title": "停电安抚（刚强型）", "category": "停电抢修", "emotion": "angry", "persona": "刚强型",
        "text": "非常理解您的着急，停电给您添麻烦了，抢修班组已经出发，预计40分钟内到达，我会全程跟进。"})
    assert made.status_code == 201, made.text
    assert made.json()["persona"] == "刚强型"
    bad = sup.post("/api/v1/replies", json={"title": "x", "text": "您好，请稍等。", "persona": "暴躁型"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "AF010"
    agent = world.client("agent_a1")
    found = agent.get("/api/v1/replies", params={"q": "抢修 出发", "persona": "刚强型"}).json()["items"]
    assert [r["id"] for r in found] == [made.json()["id"]]
    assert agent.get("/api/v1/replies", params={"q": "退费"}).json()["items"] == []
    assert world.client("agent_b1").get("/api/v1/replies", params={"q": "抢修"}).json()["items"] == []


@pytest.mark.parametrize("path", ["/api/v1/notes?conversation_id=999999", "/api/v1/notes?ticket_id=999999"])
def test_notes_of_a_missing_target(world: Any, path: str) -> None:
    r = world.client("admin_a").get(path)
    assert r.status_code == 404 and r.json()["error"]["code"] == "AF503"
