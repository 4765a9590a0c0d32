"""Probe: personal data (个人信息) — planted in every field a customer or agent can fill, it must
not be readable in the store under ANFU_STORE_MASKED_TEXT, nor shown to roles that do not handle
the case, nor written to logs or the mailbox folders in any spelling (issue 12)."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

from anfu.pii import find_pii, mask
from anfu.store import Principal, WorkflowStore

PHONE = "13812345678"
EMAIL = "zhang.san@example.com"
NAME = "张三丰"
ID_CARD = "11010519491231002X"


def _dump(world: Any) -> str:
    """Every value of every table of the world's database (SQLite or PostgreSQL), as one string."""
    from sqlalchemy import text

    from anfu.store.tables import Base

    with world.store.engine.connect() as conn:
        return "\n".join(str(tuple(row)) for table in Base.metadata.sorted_tables
                         for row in conn.execute(text(f'SELECT * FROM "{table.name}"')))


def _planted(text: str) -> list[str]:
    digits = re.sub(r"\D", "", text)
    found = [v for v in (EMAIL, NAME, ID_CARD) if v in text]
    return found + ([PHONE] if PHONE in digits or PHONE in text else [])


def test_store_masked_text_masks_every_stored_field(make_world: Any) -> None:
    world = make_world(store_masked_text=True)
    agent, sup = world.client("agent_a1"), world.client("sup_a1")
    first = agent.post("/api/v1/messages", json={
        "text": f"停电三天了，我的电话{PHONE}，身份证{ID_CARD}，再不修我就投诉到12345！",
        "customer": {"phone": PHONE, "email": EMAIL, "name": NAME}})
    assert first.status_code == 201, first.text
    cid = first.json()["conversation"]["id"]
    customer_id = first.json()["conversation"]["customer_id"]
    # one timeline still forms: the same phone finds the same (masked) customer
    again = agent.post("/api/v1/messages", json={"text": "还没人来", "conversation_ref": "masked-2",
                                                  "customer": {"phone": f"+86 {PHONE[:3]} {PHONE[3:7]} {PHONE[7:]}"}})
    assert again.json()["conversation"]["customer_id"] == customer_id
    sup.post(f"/wallboard/{cid}/whisper", data={"hint": f"先回电{PHONE}，邮件{EMAIL}"})
    panel = sup.post(f"/console/{cid}/escalate")
    assert panel.status_code == 200
    principal = Principal.of_user(world.users["sup_a1"])
    record = WorkflowStore(world.store.engine).list_tickets(principal, conversation_id=cid).items[0]
    for action, data in (("respond", {"note": f"已联系客户，电话{PHONE}"}), ("advance", {"to": "确认问题"}),
                         ("advance", {"to": "提供方案"}), ("advance", {"to": "执行方案"}),
                         ("resolve", {"note": f"已恢复供电，回执发到{EMAIL}"})):
        done = sup.post(f"/tickets/{record.id}/{action}", data=data, headers={"HX-Request": "true"})
        assert done.status_code == 200 and 'id="ticket-error"' not in done.text, action
    page = sup.get(f"/tickets/{record.id}").text
    path = re.search(r'id="survey-url" readonly value="([^"]+)"', page).group(1).split("testserver", 1)[1]
    answer = world.client().post(path, data={"score": "1", "comment": f"没修好！打我手机{PHONE}或者发{EMAIL}"})
    assert answer.status_code == 200
    names = {e.name for e in world.store.list_events(Principal.of_user(world.users["admin_a"]), limit=1000)}
    assert {"supervisor.alerted", "csat.submitted"} <= names  # the low score reached the event log
    assert _planted(_dump(world)) == []


def test_identity_is_shown_only_to_the_roles_that_handle_the_case(world: Any) -> None:
    reply = world.client("agent_a1").post("/api/v1/messages", json={
        "text": "我的电费怎么这么高？", "conversation_ref": "identity-probe",
        "customer": {"phone": "13987654321", "email": "li.si@example.com", "name": "李四光"}})
    customer_id = reply.json()["conversation"]["customer_id"]
    seen = {}
    for who in ("agent_a1", "sup_a1", "admin_a", "auditor_a"):
        timeline = world.client(who).get(f"/api/v1/customers/{customer_id}/timeline")
        assert timeline.status_code == 200, (who, timeline.text)
        seen[who] = timeline.json()["customer"]
    for who in ("agent_a1", "sup_a1"):  # handling the case
        assert seen[who]["phone"] == "13987654321" and seen[who]["display_name"] == "李四光"
    for who in ("admin_a", "auditor_a"):
        customer = seen[who]
        assert customer["phone"] == "139****4321" and "li.si@" not in customer["email"]
        assert customer["display_name"] != "李四光" and customer["display_name"].startswith("李")
    # the same policy for the words: personal data in the messages is masked for them too
    said = world.client("agent_a1").post("/api/v1/messages", json={
        "text": "我的手机号是13987654321，邮箱li.si@example.com", "conversation_ref": "identity-probe"})
    cid = said.json()["conversation"]["id"]
    for who, shown in (("agent_a1", True), ("sup_a1", True), ("admin_a", False), ("auditor_a", False)):
        client = world.client(who)
        views = [client.get(f"/api/v1/conversations/{cid}").json(),
                 client.get(f"/api/v1/customers/{customer_id}/timeline").json(),
                 client.get("/api/v1/events", params={"conversation_id": cid}).json()]
        text = json.dumps(views[:2], ensure_ascii=False)
        assert ("13987654321" in text) is shown and ("li.si@example.com" in text) is shown, who
        assert shown or "13987654321" not in json.dumps(views, ensure_ascii=False)


def test_eleven_digit_account_numbers_are_not_phone_numbers() -> None:
    accounts = ["我家电费户号13912345678怎么又欠费了", "账号 15087654321 登录不了", "订单号18612345678还没发货",
                "用户编号17712345678的电表坏了", "13812345678是我家的户号"]
    for text in accounts:
        assert [s.kind for s in find_pii(text)] == [], text
    phones = ["我的手机13912345678", "联系电话：15087654321", "联系方式 186 1234 5678", "请回电17712345678",
              "户号3301234567，手机13812345678"]
    for text in phones:
        assert [s.kind for s in find_pii(text)] == ["phone"], text
    assert mask("户号3301234567，手机13812345678") == "户号3301234567，手机138****5678"


def test_percent_encoded_personal_data_is_masked_in_log_lines(sqlite_world: Any, caplog: Any) -> None:
    client = sqlite_world.client("agent_a1")
    with caplog.at_level(logging.INFO):
        client.get("/api/v1/conversations", params={"q": "138 1234 5678", "m": "wang@example.com"})
        client.get("/api/v1/conversations?phone=138%201234%205678&e=wang%40example.com&p=%2B8613812345678")
        logging.getLogger("uvicorn.access").info('%s - "WebSocket /ws/agent?phone=138%%201234%%205678" [accepted]',
                                                 "127.0.0.1:5000")
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "5678" in text  # the lines are there, masked
    assert "1234" not in text and "wang%40example" not in text and "wang@example" not in text


def test_mailbox_failed_files_keep_no_personal_data(tmp_path: Path) -> None:
    from anfu.channels.dropfolder import FAILED, PROCESSED, poll_mailbox

    bad = tmp_path / f"来自{PHONE}的邮件.eml"
    bad.write_bytes(b"this is not an e-mail at all")
    good = tmp_path / f"{EMAIL}.eml"
    good.write_bytes("From: a@b.cn\nSubject: x\nContent-Type: text/plain; charset=utf-8\n\n停电了快来修\n".encode())
    report = poll_mailbox(tmp_path, lambda threads, path: None)
    names = [p.name for p in (tmp_path / FAILED).iterdir()] + [p.name for p in (tmp_path / PROCESSED).iterdir()]
    assert names and all(PHONE not in n and EMAIL not in n for n in names)
    assert all(PHONE not in n and EMAIL not in n for n in [*report.processed, *report.failed])
    errors = list((tmp_path / FAILED).glob("*.error.json"))
    assert errors
    for path in errors:
        body = path.read_text(encoding="utf-8")
        assert PHONE not in re.sub(r"\D", "", body) and json.loads(body)["code"].startswith("AF")


def test_pages_follow_the_same_policy(world: Any) -> None:
    said = world.client("agent_a1").post("/api/v1/messages", json={
        "text": "停电了！我的手机13566667777，快派人来修，不然投诉！", "conversation_ref": "pages-probe"})
    cid = said.json()["conversation"]["id"]
    world.client("sup_a1").post(f"/wallboard/{cid}/whisper", data={"hint": "先给13566667777回电"})
    assert world.client("sup_a1").post(f"/console/{cid}/escalate").status_code == 200
    principal = Principal.of_user(world.users["sup_a1"])
    ticket = WorkflowStore(world.store.engine).list_tickets(principal, conversation_id=cid).items[0]
    for who, shown in (("agent_a1", True), ("sup_a1", True), ("admin_a", False), ("auditor_a", False)):
        client = world.client(who)
        pages = [client.get(f"/console/{cid}"), client.get(f"/tickets/{ticket.id}"), client.get("/tickets")]
        assert all(p.status_code == 200 for p in pages), (who, [p.status_code for p in pages])
        html = "".join(p.text for p in pages)
        assert ("13566667777" in html) is shown, who
        assert shown or "135****7777" in html
