"""Probe (session 15): defects an adversarial probe found as a clumsy integrator, on the live
channels and with batch files, each pinned.

Live channels
1. Admins on `/ws/supervisor` read the customer's phone number in clear in `alert`, `joined` and
   `turn` frames, while the REST API masks it for them.
2. Auditors on `/ws/agent` read supervisors' whispers (with phone and ID numbers) in clear.
3. A whisper was recorded as delivered (已送达 on the wallboard) when any console that could see
   the conversation received it (the supervisor's own, an auditor's), though the agent was offline.
HTTP API
4. `GET /api/v1/audit?since=0001-01-01T00:00:00+14:00` was a 500 (OverflowError inside SQLAlchemy).
5. `POST /api/v1/inspection/run` without `conversation_ids` always failed (page size 500 > 200).
6. `"conversation_id": true` was read as conversation 1 (a message stored there, a ticket opened).
7. An upload with a time past year 9999 in UTC was a 500 that said "nothing was changed" after the
   first thread was stored.
8. A CSV upload with an unbalanced quote merged the later rows into one message, silently.
9. Over-long identifiers in uploads (a 300-character sender name, a 200-character call id that
   becomes a 205-character reference) failed on PostgreSQL as "a number or date is out of range".
Batch
10. `anfu batch analyze`: an unbalanced quote swallowed the rest of the CSV, no error line.
11. `--resume` took an input rewritten with the same size and modification time for the old one.
12. A CSV time past year 9999 was AF015 ("report to the maintainers"), not the timestamp's AF032.
Data protection (a second probe)
13. The quality-review page (/review/{id}) showed admins and auditors the scorecard's evidence with
    phone, e-mail and ID number in clear (the API masked it).
14. The mailbox kept every handled e-mail as received in `processed/`: the customer's address,
    phone and ID number outlived their erasure there, and stayed in clear under masked storage.
15. An e-mail address typed with a full-width ＠ (a Chinese IME's) made masking raise: a 500 for
    admins reading the conversation, for every message under masked storage, and an exception out
    of the access log; a wholly full-width address (ｚｈａｎｇ＠ｅｘａｍｐｌｅ．ｃｏｍ) was not recognised.
16. `anfu batch`'s errors file named the input file (recordings are named after the caller's
    number) and echoed bad values with personal data in clear.
Pages (a third probe)
17. A NUL in a multipart form field (`Form()` reads multipart too) was stored in notes, saved views
    and check-ins; only urlencoded bodies were checked.
18. A browser refused by the body guard (a NUL in a page's query or form, a form over the size
    limit) got the API's JSON instead of the error page.
19. `/admin/users/{id}` with `active=0` and a bad role answered 422 but had deactivated the user.
20. A team id that is no number ("abc", "²") in the admin user and agent forms moved the agent out
    of their team.
21. The canned-reply form's errors named the fields in Chinese for English users, with the code twice.
Runs on SQLite and, with ANFU_TEST_POSTGRES_URL, PostgreSQL (the `world` fixture)."""

from __future__ import annotations

import itertools
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from anfu.batch.runner import side_paths
from tests.security.probe import code_of, count
from tests.server.test_server_ws import receive_until as until

ORIGIN = {"origin": "http://testserver"}
PHONE = "13912345678"
ID_NUMBER = "11010519491231002X"
# a complaint that climbs the ladder (L1+) and carries a mobile number
ANGRY = f"你们这是欺诈！我的手机号{PHONE}，我已经联系了记者，明天就曝光你们，还要去法院起诉！"
_REFS = itertools.count(1)


def drain(ws: Any) -> list[dict[str, Any]]:
    """Every frame queued before a ping's pong."""
    ws.send_json({"type": "ping"})
    out = []
    while True:
        frame = ws.receive_json()
        if frame["type"] == "pong":
            return out
        out.append(frame)


def no_500(reply: Any) -> None:
    assert reply.status_code < 500, (reply.status_code, reply.text[:300])
    if reply.status_code >= 400:
        assert code_of(reply), reply.text[:300]


# -- live channels ---------------------------------------------------------------------------------
def test_admin_live_frames_mask_the_customers_phone(world: Any) -> None:
    agent = world.client("agent_a1")
    with world.client("admin_a").websocket_connect("/ws/supervisor", headers=ORIGIN) as admin, \
            world.client("sup_a1").websocket_connect("/ws/supervisor", headers=ORIGIN) as sup:
        assert admin.receive_json()["type"] == "hello" and sup.receive_json()["type"] == "hello"
        made = agent.post("/api/v1/messages", json={"conversation_ref": f"s15-live-{next(_REFS)}", "text": ANGRY})
        assert made.status_code == 201, made.text
        cid = made.json()["conversation"]["id"]
        alert = until(admin, "alert")
        admin.send_json({"type": "join", "conversation_id": cid})
        joined = until(admin, "joined")
        assert agent.post("/api/v1/messages", json={"conversation_id": cid, "text": f"再说一遍，打{PHONE}"}).status_code == 201
        turn = until(admin, "turn")
        sup_alert = until(sup, "alert")
    frames = json.dumps([alert, joined, turn], ensure_ascii=False)
    assert PHONE not in frames and "139****5678" in frames
    assert joined["messages"] and turn["message"]["text"].startswith("再说一遍")
    # the team's supervisor handles the case: the number stays readable for them
    assert PHONE in json.dumps(sup_alert, ensure_ascii=False)


def test_auditor_reads_whispers_masked(world: Any) -> None:
    cid = world.conversation("agent_a1", f"s15-whisper-{next(_REFS)}", [("customer", "停电三天了")])
    hint = f"先道歉，客户电话{PHONE}，身份证{ID_NUMBER}"
    with world.client("auditor_a").websocket_connect("/ws/agent", headers=ORIGIN) as auditor, \
            world.client("agent_a1").websocket_connect("/ws/agent", headers=ORIGIN) as agent:
        assert auditor.receive_json()["type"] == "hello" and agent.receive_json()["type"] == "hello"
        assert world.client("sup_a1").post(f"/api/v1/conversations/{cid}/whisper", json={"hint": hint}).status_code == 201
        seen = [f for f in drain(auditor) if f["type"] == "whisper"]
        handled = [f for f in drain(agent) if f["type"] == "whisper"]
    assert seen and not any(PHONE in f["text"] or ID_NUMBER in f["text"] for f in seen), seen
    assert handled and PHONE in handled[0]["text"]  # the agent handling the case reads it


def _receipts(world: Any, cid: int, whisper_id: int, expect: int) -> list[str]:
    receivers: list[str] = []
    for _ in range(30):  # the receipt is written just after the frame is sent
        delivered = world.client("admin_a").get("/api/v1/events", params={
            "conversation_id": cid, "name": "supervisor.whisper_delivered"}).json()["items"]
        receivers = sorted(e["payload"]["to"] for e in delivered if e["payload"].get("whisper_id") == whisper_id)
        if len(receivers) >= expect:
            break
        time.sleep(0.1)
    return receivers


def test_only_the_agents_console_confirms_a_whisper(world: Any) -> None:
    cid = world.conversation("agent_a1", f"s15-receipt-{next(_REFS)}", [("customer", ANGRY)])
    with world.client("auditor_a").websocket_connect("/ws/agent", headers=ORIGIN) as auditor, \
            world.client("sup_a1").websocket_connect("/ws/agent", headers=ORIGIN) as own_console:
        auditor.receive_json()
        own_console.receive_json()
        made = world.client("sup_a1").post(f"/api/v1/conversations/{cid}/whisper", json={"hint": "先道歉，再给抢修时限"})
        assert made.status_code == 201, made.text
        drain(auditor)
        drain(own_console)
    assert _receipts(world, cid, made.json()["event_id"], 1) == []  # the agent was offline
    with world.client("agent_a1").websocket_connect("/ws/agent", headers=ORIGIN) as agent:
        agent.receive_json()
        made = world.client("sup_a1").post(f"/api/v1/conversations/{cid}/whisper", json={"hint": "给出抢修时限"})
        assert [f["type"] for f in drain(agent)].count("whisper") == 1
    assert _receipts(world, cid, made.json()["event_id"], 1) == ["user:agent_a1"]


# -- HTTP API --------------------------------------------------------------------------------------
@pytest.mark.parametrize("query", [{"since": "0001-01-01T00:00:00+14:00"}, {"until": "9999-12-31T23:59:59-14:00"}])
def test_audit_filter_at_the_calendar_edge_is_coded(world: Any, query: dict[str, str]) -> None:
    reply = world.client("admin_a").get("/api/v1/audit", params=query)
    assert reply.status_code == 422 and code_of(reply) == "AF505", reply.text[:300]
    assert "1–9999" in reply.json()["error"]["message"]


def test_inspection_run_without_ids_inspects_recent_conversations(world: Any) -> None:
    world.conversation("agent_a1", f"s15-run-{next(_REFS)}", [("customer", "停电三天了还没人来修，我要投诉！")])
    for body in ({}, {"since": "2024-01-01T00:00:00Z"}):
        reply = world.client("sup_a1").post("/api/v1/inspection/run", json=body)
        assert reply.status_code == 200, (body, reply.status_code, reply.text[:300])
        assert reply.json()["inspected"] >= 1


def test_boolean_ids_are_refused_not_read_as_1(world: Any) -> None:
    world.conversation("agent_a1", f"s15-bool-{next(_REFS)}", [("customer", "第一个会话")])
    agent = world.client("agent_a1")
    before = count(world, "SELECT count(*) FROM messages WHERE conversation_id = 1")
    reply = agent.post("/api/v1/messages", json={"conversation_id": True, "text": "这条应该被拒绝"})
    assert reply.status_code == 422 and code_of(reply) == "AF431", reply.text[:300]
    assert "true/false" in reply.json()["error"]["message"]
    assert count(world, "SELECT count(*) FROM messages WHERE conversation_id = 1") == before
    tickets = count(world, "SELECT count(*) FROM tickets")
    reply = agent.post("/api/v1/tickets", json={"conversation_id": True})
    assert reply.status_code == 422 and code_of(reply) == "AF431", reply.text[:300]
    assert count(world, "SELECT count(*) FROM tickets") == tickets
    # a number, and a boolean where a boolean belongs, still pass
    assert agent.post("/api/v1/messages", json={"conversation_id": 1, "text": "补充一句"}).status_code == 201


H = "conversation_id,speaker,text,timestamp\n"


@pytest.mark.parametrize("stamp", ["99999999999999", "9999-12-31T23:59:59-14:00"])
def test_table_import_with_an_out_of_range_time_is_coded(world: Any, stamp: str) -> None:
    ref = f"s15ts{next(_REFS)}"
    reply = world.client("agent_a1").post("/api/v1/intake/table", files={
        "file": ("a.csv", (H + f"{ref},客户,停电了,{stamp}\n").encode())})
    assert reply.status_code == 422 and code_of(reply) == "AF032", reply.text[:300]
    assert "out of range" in reply.json()["error"]["message"]


def test_a_refused_table_import_stores_nothing(world: Any) -> None:
    a, b = f"s15p{next(_REFS)}", f"s15p{next(_REFS)}"
    reply = world.client("agent_a1").post("/api/v1/intake/table", files={
        "file": ("a.csv", (H + f"{a},客户,第一条,2024-01-01 00:00\n{b},客户,第二条,99999999999999\n").encode())})
    assert reply.status_code == 422 and code_of(reply) == "AF032"
    assert count(world, "SELECT count(*) FROM conversations WHERE external_ref = :r", r=f"import:{a}") == 0


def test_transcript_with_an_out_of_range_start_is_coded(world: Any) -> None:
    body = json.dumps({"call_id": f"s15c{next(_REFS)}", "started_at": 99999999999999,
                       "segments": [{"speaker": "customer", "start": 1, "text": "停电了"}]}).encode()
    reply = world.client("agent_a1").post("/api/v1/intake/transcript", files={"file": ("c.json", body)})
    assert reply.status_code == 422 and code_of(reply) == "AF032", reply.text[:300]


def test_email_dated_past_year_9999_is_taken_at_arrival(world: Any) -> None:
    """A broken mail client's Date is ignored like an unreadable one: the message is stored."""
    eml = (f"From: a@example.cn\nSubject: x\nDate: Fri, 31 Dec 9999 23:59:59 -1400\n"
           f"Message-ID: <s15-{next(_REFS)}@x>\n\n停电了\n").encode()
    reply = world.client("agent_a1").post("/api/v1/intake/email", files={"file": ("a.eml", eml)})
    assert reply.status_code == 201, reply.text[:300]


def test_table_import_with_an_unbalanced_quote_is_refused_at_its_line(world: Any) -> None:
    n = next(_REFS)
    data = (f"会话ID,角色,内容\nq{n}k1,客户,停电了\nq{n}k2,客户,\"我要投诉\n"
            f"q{n}k3,客户,网又断了\nq{n}k4,客户,电费太高\n").encode()
    reply = world.client("agent_a1").post("/api/v1/intake/table", files={"file": ("a.csv", data)})
    assert reply.status_code == 422 and code_of(reply) == "AF030", reply.text[:300]
    assert "line 3" in reply.json()["error"]["message"]
    assert count(world, "SELECT count(*) FROM conversations WHERE external_ref LIKE :r", r=f"import:q{n}k%") == 0
    # a quoted cell over two lines is still one message
    good = f"会话ID,角色,内容\nq{n}m1,客户,\"第一行\n第二行\"\nq{n}m2,客户,好\n".encode()
    reply = world.client("agent_a1").post("/api/v1/intake/table", files={"file": ("b.csv", good)})
    assert reply.status_code == 201 and reply.json()["threads"] == 2, reply.text[:300]


def test_long_identifiers_in_uploads_are_cut_to_their_columns(world: Any) -> None:
    n = next(_REFS)
    cases = [
        ("/api/v1/intake/email", {"files": {"file": ("a.eml", (
            "From: \"" + "张" * 300 + f"\" <s15-{n}@example.cn>\nSubject: x\nMessage-ID: <s15-long-{n}-" + "m" * 250
            + "@x>\n\n停电了\n").encode())}}),
        ("/api/v1/intake/transcript", {"files": {"file": ("c.srt", "1\n00:00:01,000 --> 00:00:02,000\n客户：停电了\n".encode())},
                                       "data": {"call_id": f"{n:05d}" + "c" * 195}}),
    ]
    for path, kwargs in cases:
        before = count(world, "SELECT count(*) FROM messages")
        reply = world.client("agent_a1").post(path, **kwargs)
        assert reply.status_code == 201, (path, reply.text[:300])
        assert count(world, "SELECT count(*) FROM messages") == before + 1
        # sent again: the same (cut) references, nothing new
        again = world.client("agent_a1").post(path, **kwargs)
        assert again.status_code == 201 and again.json()["created"] == 0, again.text[:300]
    too_long = count(world, "SELECT count(*) FROM customers WHERE length(display_name) > 200") + \
        count(world, "SELECT count(*) FROM conversations WHERE length(external_ref) > 200") + \
        count(world, "SELECT count(*) FROM messages WHERE length(client_msg_id) > 200")
    assert too_long == 0


# -- batch ------------------------------------------------------------------------------------------
def batch(*args: Any) -> Any:
    from anfu.cli import _register_commands, app

    _register_commands()
    result = CliRunner().invoke(app, ["batch", "analyze", *[str(a) for a in args], "--workers", "1",
                                      "--no-progress", "--no-report"])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def ids(out: Path) -> list[str]:
    return [json.loads(line)["id"] for line in out.read_text(encoding="utf-8").splitlines()]


def errors(out: Path) -> dict[int, dict[str, Any]]:
    return {e["line"]: e["error"] for e in map(json.loads, side_paths(out)["errors"].read_text(
        encoding="utf-8").splitlines())}


def test_batch_unbalanced_quote_costs_one_row(tmp_path: Path) -> None:
    src = tmp_path / "unbalanced.csv"
    src.write_text("会话ID,角色,内容\nk1,客户,停电了\nk2,客户,\"我要投诉\nk3,客户,网又断了\nk4,客户,电费太高\n",
                   encoding="utf-8")
    out = tmp_path / "o.jsonl"
    assert batch(src, "-o", out).exit_code == 0
    assert ids(out) == ["k1", "k3", "k4"]
    bad = errors(out)
    assert list(bad) == [3] and bad[3]["code"] == "AF030" and "never closed" in bad[3]["message"]


def test_batch_time_past_year_9999_is_the_timestamps_error(tmp_path: Path) -> None:
    src = tmp_path / "ts.csv"
    src.write_text("会话ID,角色,内容,时间\nk1,客户,停电了,99999999999999\nk2,客户,网又断了,-1\n"
                   "k3,客户,电费太高,2024-05-01 09:30:00\n", encoding="utf-8")
    out = tmp_path / "o.jsonl"
    assert batch(src, "-o", out).exit_code == 0
    assert ids(out) == ["k3"]
    bad = errors(out)
    assert bad[2]["code"] == "AF032" and "timestamp" in bad[2]["message"] and "out of range" in bad[2]["message"]
    assert bad[3]["code"] == "AF032"


def test_resume_notices_an_input_rewritten_with_the_same_size_and_time(tmp_path: Path, analyzer: Any) -> None:
    from anfu.batch.backends.local import LocalBackend
    from anfu.batch.runner import run_batch

    src = tmp_path / "in.jsonl"
    first = [{"id": f"r{i:02d}", "text": "停电三天了还没人来修！"} for i in range(40)]
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in first), encoding="utf-8")
    stamp = src.stat().st_mtime_ns
    out = tmp_path / "o.jsonl"
    run_batch(src, out, LocalBackend(analyzer, workers=1), chunk_size=10, stop_after=2)
    assert len(ids(out)) == 20
    second = [{"id": f"r{i:02d}", "text": "谢谢你们，问题解决了！"} for i in range(40)]
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in second)
    assert len(text.encode("utf-8")) == src.stat().st_size
    src.write_text(text, encoding="utf-8")
    os.utime(src, ns=(stamp, stamp))  # cp -p, rsync -t, tar x
    with pytest.raises(Exception) as caught:
        run_batch(src, out, LocalBackend(analyzer, workers=1), chunk_size=10, resume=True)
    assert getattr(caught.value, "code", None) == "AF037", repr(caught.value)


# -- data protection --------------------------------------------------------------------------------
EMAIL = "zhang.sanfeng@example.com"
FULL_WIDTH_EMAIL = "zhang.sanfeng＠example.com"
HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def test_review_page_masks_scorecard_evidence_for_admins_and_auditors(world: Any) -> None:
    first = f"停电三天了还没人来修！我的手机{PHONE}，邮箱{EMAIL}，身份证{ID_NUMBER}，再不来我就打12345投诉！"
    cid = world.conversation("agent_a1", f"s15-review-{next(_REFS)}", [
        ("customer", first), ("agent", "这不归我们管，你自己去找供电所。"), ("customer", "你们什么态度？气死我了！")])
    run = world.client("sup_a1").post("/api/v1/inspection/run", json={"conversation_ids": [cid]})
    assert run.status_code == 200, run.text
    for who in ("auditor_a", "admin_a"):
        page = world.client(who).get(f"/review/{cid}", headers=HTML)
        assert page.status_code == 200, (who, page.status_code)
        assert 'id="scorecard-findings"' in page.text
        assert not any(v in page.text for v in (PHONE, EMAIL, ID_NUMBER)), who
    assert PHONE in world.client("sup_a1").get(f"/review/{cid}", headers=HTML).text  # the case's supervisor


@pytest.mark.parametrize("text", [f"我的邮箱{FULL_WIDTH_EMAIL}，快来修", "邮箱ｚｈａｎｇ＠ｅｘａｍｐｌｅ．ｃｏｍ，快来修"])
def test_full_width_email_addresses_are_masked(text: str) -> None:
    from anfu.pii import find_pii, mask

    assert [s.kind for s in find_pii(text)] == ["email"]
    masked = mask(text)
    assert len(masked) == len(text) and "zhang" not in masked and "ｚｈａｎｇ" not in masked
    assert "example.com" in masked or "ｅｘａｍｐｌｅ．ｃｏｍ" in masked


def test_a_full_width_email_is_read_masked_and_stored_masked(world: Any, make_world: Any) -> None:
    text = f"停电三天了！我的邮箱{FULL_WIDTH_EMAIL}，快来修！"
    made = world.client("agent_a1").post("/api/v1/messages", json={"conversation_ref": f"s15-fw-{next(_REFS)}",
                                                                    "text": text})
    assert made.status_code == 201, made.text
    seen = world.client("admin_a").get(f"/api/v1/conversations/{made.json()['conversation']['id']}")
    assert seen.status_code == 200 and "zhang.sanfeng" not in seen.text
    reply = world.client("agent_a1").get("/api/v1/conversations", params={"email": FULL_WIDTH_EMAIL})
    assert reply.status_code < 500
    masked = make_world(store_masked_text=True)
    stored = masked.client("agent_a1").post("/api/v1/messages", json={"conversation_ref": "s15-fw-m", "text": text})
    assert stored.status_code == 201, stored.text
    assert count(masked, "SELECT count(*) FROM messages WHERE text LIKE :t", t="%zhang.sanfeng%") == 0


def test_the_mailbox_keeps_no_copy_of_a_handled_mail(make_world: Any) -> None:
    from anfu.server.mailbox import poll_once

    world = make_world()
    folder = world.settings.mailbox_dir / "tenant-a"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{PHONE}.eml").write_bytes(
        (f"From: 张三丰 <{EMAIL}>\r\nSubject: 电费异常\r\nMessage-ID: <s15-mail@example.com>\r\n"
         "Content-Type: text/plain; charset=utf-8\r\n\r\n"
         f"电费比上个月多了一倍，我的手机{PHONE}，身份证{ID_NUMBER}。\r\n").encode("utf-8"))
    report = poll_once(world.ctx, world.settings.mailbox_dir, settle_s=0)
    assert report.processed == [f"{PHONE[:3]}****{PHONE[-4:]}.eml"]
    left = {p.name: p.read_text(encoding="utf-8") for p in world.settings.mailbox_dir.rglob("*") if p.is_file()}
    assert list(left) == [f"{PHONE[:3]}****{PHONE[-4:]}.eml.json"], left
    assert not any(v in text for text in left.values() for v in (PHONE, EMAIL, ID_NUMBER))
    assert count(world, "SELECT count(*) FROM messages WHERE channel = 'email'") == 1


def test_batch_errors_file_masks_file_names_and_echoed_values(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / f"来电{PHONE}.srt").write_text("1\n00:00:00,000 --> 00:00:02,000\n客户：停电了\n\n2\nbroken --> x\n坐席：您好\n",
                                             encoding="utf-8")
    (folder / "e.jsonl").write_text('{"id": "e2", "turns": [{"speaker": "%s", "text": "停电了"}]}\n' % PHONE,
                                    encoding="utf-8")
    out = tmp_path / "o.jsonl"
    assert batch(folder, "-o", out).exit_code == 0
    written = side_paths(out)["errors"].read_text(encoding="utf-8")
    assert written.count('"code"') == 2 and "AF007" in written and "AF030" in written, written
    assert PHONE not in written and f"来电{PHONE[:3]}****{PHONE[-4:]}.srt" in written


# -- pages -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("who, path, data, table", [
    ("agent_a1", "/notes/conversation/{cid}", {"text": "回电\x00给客户"}, "notes"),
    ("sup_a1", "/conversations/views", {"name": "视图\x00名", "scope": "team"}, "saved_views"),
    ("agent_a1", "/wellbeing/checkin", {"kind": "break", "note": "太累\x00了"}, "wellbeing_checkins"),
])
def test_a_nul_in_a_multipart_form_is_refused(world: Any, who: str, path: str, data: dict[str, str], table: str) -> None:
    cid = world.conversation("agent_a1", f"s15-mp-{next(_REFS)}", [("customer", "停电了")])
    client = world.client(who)
    before = count(world, f"SELECT count(*) FROM {table}")
    files = {k: (None, v.encode("utf-8")) for k, v in data.items()}
    files["csrf_token"] = (None, client.headers["x-csrf-token"].encode())
    reply = client.post(path.format(cid=cid), files=files)
    assert reply.status_code == 422 and code_of(reply) == "AF505", (reply.status_code, reply.text[:300])
    assert count(world, f"SELECT count(*) FROM {table}") == before


def test_a_file_part_may_hold_nul_bytes() -> None:
    """An Excel upload is full of NUL bytes: only the text fields of a multipart body are looked at."""
    from anfu.server.middleware import _multipart_field_has_nul

    ctype = "multipart/form-data; boundary=XyZ"
    body = (b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.xlsx"\r\n\r\nPK\x03\x04\x00\x00\r\n'
            b'--XyZ\r\nContent-Disposition: form-data; name="industry"\r\n\r\npower\r\n--XyZ--\r\n')
    assert not _multipart_field_has_nul(body, ctype)
    assert _multipart_field_has_nul(body.replace(b"power", b"pow\x00er"), ctype)


@pytest.mark.parametrize("path", ["/search?q=%E5%81%9C%00%E7%94%B5", "/tickets?cause=%00"])
def test_a_browser_refused_by_the_body_guard_gets_the_error_page(world: Any, path: str) -> None:
    reply = world.client("sup_a1").get(path, headers=HTML)
    assert reply.status_code == 422 and reply.headers["content-type"].startswith("text/html")
    assert "AF505" in reply.text and "<html" in reply.text
    api = world.client("sup_a1").get(path)  # no Accept: text/html (a script): the JSON body
    assert api.status_code == 422 and code_of(api) == "AF505" and api.headers["content-type"].startswith("application/json")


def test_an_oversized_page_form_gets_the_error_page(world: Any) -> None:
    client = world.client("sup_a1")
    text = "话" * (1_048_576 // 3 + 10_000)
    reply = client.post("/replies", data={"title": "很长", "text": text, "csrf_token": client.headers["x-csrf-token"]},
                        headers=HTML)
    assert reply.status_code == 413 and reply.headers["content-type"].startswith("text/html")
    assert "AF432" in reply.text


def _admin_pages(world: Any) -> Any:
    client = world.client("admin_a")
    client.follow_redirects = False
    return client


def test_a_refused_user_form_changes_nothing(world: Any) -> None:
    agent = world.users["agent_a1b"]
    reply = _admin_pages(world).post(f"/admin/users/{agent.id}", data={"active": "0", "role": "超级管理员"})
    assert reply.status_code == 422 and code_of(reply) == "AF505", (reply.status_code, reply.text[:300])
    assert world.store.get_user(agent.id).active is True


@pytest.mark.parametrize("team", ["abc", "²", "-1", "1.5"])
def test_a_team_id_that_is_no_number_is_refused(world: Any, team: str) -> None:
    agent = world.users["agent_a1b"]
    reply = _admin_pages(world).post(f"/admin/users/{agent.id}", data={"role": "agent", "team_id": team})
    assert reply.status_code == 422 and code_of(reply) == "AF505", (reply.status_code, reply.text[:200])
    reply = _admin_pages(world).post(f"/admin/agents/{agent.id}", data={"team_id": team, "max_open": "3"})
    assert reply.status_code == 422, (reply.status_code, reply.text[:200])
    assert world.store.get_user(agent.id).team_id == world.teams["a1"].id


def test_the_canned_reply_form_errors_are_english_for_english_users(world: Any) -> None:
    client = world.client("sup_a1")
    client.cookies.set("anfu_lang", "en")
    for data, field in (({"title": " ", "text": "您好，我马上为您处理。"}, "title"), ({"title": "致歉", "text": " "}, "text")):
        reply = client.post("/replies", data={**data, "csrf_token": client.headers["x-csrf-token"]}, headers=HTML)
        assert reply.status_code == 422 and '<html lang="en"' in reply.text, reply.text[:200]
        assert f"{field} is empty" in reply.text and "AF505: AF505" not in reply.text
        assert "标题 is empty" not in reply.text and "话术 is empty" not in reply.text
