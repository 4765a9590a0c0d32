"""Probe: the service used by a clumsy integrator and a racing second user — two staff changing
the same ticket at once, a client writing over a version it did not read, a double-clicked
follow-up (回访), a conversation escalated twice at the same moment, bulk changes racing a single
edit.

Races are made deterministic with a `Gate`: the first calls of the function that reads the
ticket wait for each other, so both requests have read before either writes — unless the service
serialises them: then the other request is seen waiting on the database's lock and the first goes
on alone. No sleeps, no timing assertions. Every test here reproduced a defect before it was
fixed ("Found by this probe"); each runs on SQLite and, with ANFU_TEST_POSTGRES_URL, PostgreSQL."""

from __future__ import annotations

import re
import sys
import threading
import time
from typing import Any, Callable

import pytest
from sqlalchemy import event, text

from anfu.service.desk import TicketDesk
from anfu.store import WorkflowStore
from tests.security import probe

COMPLAINT = "电费账单异常，要求核实！上个月莫名多扣了两百块，再不处理我就打12345投诉！"
GATE_WAIT_S = 10.0  # the longest a gated call waits for its partner (a partner that never comes)
BLOCKED_S = 0.5  # a statement running this long waits on a lock: its caller will not come


# helpers ------------------------------------------------------------------------------------------
class Statements:
    """The lock-taking statements an engine is running now (SQLite's `BEGIN IMMEDIATE`, `SELECT …
    FOR UPDATE`): one that has been running for `BLOCKED_S` waits on a lock that another
    transaction holds."""

    def __init__(self) -> None:
        self.running: dict[int, float] = {}  # thread: when its statement started
        self.lock = threading.Lock()

    def before(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.startswith("BEGIN IMMEDIATE") or "FOR UPDATE" in statement:
            with self.lock:
                self.running[threading.get_ident()] = time.monotonic()

    def after(self, *args: Any) -> None:  # also on the statement's error
        with self.lock:
            self.running.pop(threading.get_ident(), None)

    def blocked(self) -> bool:
        with self.lock:
            started = min(self.running.values(), default=None)
        return started is not None and time.monotonic() - started >= BLOCKED_S


_STATEMENTS = Statements()


@pytest.fixture(autouse=True)
def watch_statements(world: Any) -> Any:
    """Track the world's running statements for the gates of this test."""
    engine = world.store.engine
    event.listen(engine, "before_cursor_execute", _STATEMENTS.before)
    event.listen(engine, "after_cursor_execute", _STATEMENTS.after)
    event.listen(engine, "handle_error", _STATEMENTS.after)
    yield
    event.remove(engine, "before_cursor_execute", _STATEMENTS.before)
    event.remove(engine, "after_cursor_execute", _STATEMENTS.after)
    event.remove(engine, "handle_error", _STATEMENTS.after)
    _STATEMENTS.running.clear()


class Gate:
    """Holds the first `parties` calls of a wrapped function until all of them arrived — so the
    racing requests have all read before any of them writes — or until one of the others is seen
    waiting on a database lock (the code under test serialises them: the holder goes on alone)."""

    def __init__(self, parties: int = 2) -> None:
        self.parties = parties
        self.arrived = 0
        self.cond = threading.Condition()

    def wrap(self, fn: Callable[..., Any], *, caller: str | None = None) -> Callable[..., Any]:
        """`fn`, gated (only where called from a function named `caller`, when given)."""
        def gated(*args: Any, **kwargs: Any) -> Any:
            if caller is not None and sys._getframe(1).f_code.co_name != caller:
                return fn(*args, **kwargs)
            self.wait()
            return fn(*args, **kwargs)
        return gated

    def wait(self) -> None:
        with self.cond:
            if self.arrived >= self.parties:
                return
            self.arrived += 1
            self.cond.notify_all()
            deadline = time.monotonic() + GATE_WAIT_S
            while self.arrived < self.parties and time.monotonic() < deadline and not _STATEMENTS.blocked():
                self.cond.wait(0.02)
            self.arrived = self.parties  # open for good: later calls pass straight on


@pytest.fixture
def gate_ticket_reads(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """`gate_ticket_reads()`: from now on, the first two tickets the desk rebuilds from a stored
    record (`TicketDesk.ticket`) wait for each other."""
    def install() -> None:
        monkeypatch.setattr(TicketDesk, "ticket", staticmethod(Gate().wrap(TicketDesk.ticket)))
    return install


def _race(*calls: Callable[[], Any]) -> list[Any]:
    """Run `calls` on threads at the same moment; their results, in order."""
    out: list[Any] = [None] * len(calls)
    start = threading.Barrier(len(calls))

    def run(i: int) -> None:
        start.wait()
        out[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert all(r is not None for r in out), "a racing request raised instead of answering"
    return out


_REFS = iter(range(1, 1_000_000))


def _conversation(world: Any, agent: str = "agent_a1") -> int:
    return probe.conversation(world, agent, "probe-race", COMPLAINT)


def _ticket(world: Any, agent: str = "agent_a1") -> dict[str, Any]:
    return probe.ticket(world, agent, "probe-race", COMPLAINT)


def _resolved(world: Any, who: str = "sup_a1") -> dict[str, Any]:
    ticket = _ticket(world)
    client = world.client(who)
    for path, body in (("respond", {}), ("stage", {"to": "确认问题"}), ("stage", {"to": "提供方案"}),
                       ("stage", {"to": "执行方案"}), ("resolve", {"note": "已核实账单，退还多扣电费"})):
        done = client.post(f"/api/v1/tickets/{ticket['id']}/{path}", json=body)
        assert done.status_code == 200, (path, done.text)
    return done.json()


# ==================================================================================================
# 1. two staff changing the same ticket at once: no lost update
# ==================================================================================================
def test_two_staff_patching_different_fields_at_once_keep_both_changes(world: Any, gate_ticket_reads: Any) -> None:
    """Found by this probe: PATCH read, changed and saved the whole ticket, so of two PATCHes at
    once (the supervisor raising the priority, the agent correcting the cause) the later save put
    back the field the other had changed."""
    ticket = _ticket(world)
    sup, agent = world.client("sup_a1"), world.client("agent_a1")
    path = f"/api/v1/tickets/{ticket['id']}"
    gate_ticket_reads()
    first, second = _race(lambda: sup.patch(path, json={"priority": "urgent", "note": "客户情绪激动，升级处理"}),
                          lambda: agent.patch(path, json={"cause": "refund", "note": "原因改为退费问题"}))
    assert first.status_code == 200 and second.status_code == 200, (first.text, second.text)
    stored = WorkflowStore(world.store.engine).get_ticket(ticket["id"])
    assert (stored.priority, stored.cause) == ("urgent", "refund")
    assert (stored.data["priority"], stored.data["cause"]) == ("urgent", "refund")
    kinds = [h["kind"] for h in world.client("sup_a1").get(path).json()["history"]]
    assert "priority" in kinds and "cause" in kinds, kinds


def test_two_notes_added_at_once_are_both_kept(world: Any, gate_ticket_reads: Any) -> None:
    """Found by this probe: the action endpoints had the same read-modify-write, so the second of
    two notes written at the same moment replaced the first one in the ticket's history."""
    ticket = _ticket(world)
    path = f"/api/v1/tickets/{ticket['id']}/notes"
    sup, agent = world.client("sup_a1"), world.client("agent_a1")
    gate_ticket_reads()
    replies = _race(lambda: sup.post(path, json={"note": "已联系供电所核实抄表读数"}),
                    lambda: agent.post(path, json={"note": "客户要求书面答复，已登记"}))
    assert [r.status_code for r in replies] == [201, 201], [r.text for r in replies]
    notes = [h["note"] for h in world.client("sup_a1").get(f"/api/v1/tickets/{ticket['id']}").json()["history"]]
    assert "已联系供电所核实抄表读数" in notes and "客户要求书面答复，已登记" in notes, notes


def test_bulk_assign_racing_a_single_edit_keeps_both(world: Any, gate_ticket_reads: Any) -> None:
    """Found by this probe: a bulk hand-over saved each ticket as it had read it, putting back a
    priority an admin raised at the same moment."""
    ticket = _ticket(world)
    sup, admin = world.client("sup_a1"), world.client("admin_a")
    other = world.users["agent_a1b"].id
    gate_ticket_reads()
    bulk, edit = _race(lambda: sup.post("/api/v1/tickets/bulk-assign",
                                        json={"ticket_ids": [ticket["id"]], "owner_id": other, "note": "换班交接"}),
                       lambda: admin.patch(f"/api/v1/tickets/{ticket['id']}", json={"priority": "high"}))
    assert bulk.status_code == 200 and edit.status_code == 200, (bulk.text, edit.text)
    stored = WorkflowStore(world.store.engine).get_ticket(ticket["id"])
    assert stored.owner_id == other and stored.data["owner"] == "agent_a1b"
    assert stored.priority == "high" and stored.data["priority"] == "high"


# ==================================================================================================
# 2. a client writing over a version it did not read: a coded 412 (If-Match) / 409 (the form's version)
# ==================================================================================================
def test_a_write_over_a_newer_version_is_a_coded_412_and_changes_nothing(world: Any) -> None:
    """Found by this probe: a client that read a ticket, and wrote after someone else had saved
    it, silently overwrote the other's work; there was no way to say which version it read.
    (A failed If-Match was 409 until session 12; it is 412 Precondition Failed, RFC 9110.)"""
    ticket = _ticket(world)
    path = f"/api/v1/tickets/{ticket['id']}"
    agent, sup = world.client("agent_a1"), world.client("sup_a1")
    read = agent.get(path)
    etag = read.headers.get("ETag")
    assert etag and read.json()["version"] >= 1 and etag == f'"{read.json()["version"]}"'
    changed = sup.patch(path, json={"priority": "urgent"}, headers={"If-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    stale = agent.patch(path, json={"priority": "low", "note": "客户已平静"}, headers={"If-Match": etag})
    probe.coded(stale, 412, "AF609")
    assert "reload" in stale.json()["error"]["message"].lower()
    probe.coded(agent.post(f"{path}/notes", json={"note": "覆盖测试"}, headers={"If-Match": etag}), 412, "AF609")
    stored = agent.get(path).json()
    assert stored["priority"] == "urgent" and "覆盖测试" not in str(stored["history"])
    # the fresh version goes through; `*` and no precondition at all keep working
    fresh = agent.patch(path, json={"cause": "refund"}, headers={"If-Match": changed.headers["ETag"]})
    assert fresh.status_code == 200 and fresh.json()["version"] == changed.json()["version"] + 1
    assert agent.post(f"{path}/notes", json={"note": "已电话回复客户"}, headers={"If-Match": "*"}).status_code == 201
    assert agent.patch(path, json={"priority": "high"}).status_code == 200
    probe.coded(agent.patch(path, json={"priority": "high"}, headers={"If-Match": "version-3"}), 422, "AF505")


def test_the_ticket_page_form_refuses_a_change_over_a_newer_version(world: Any) -> None:
    """Found by this probe: the ticket page's form posts every field (priority, cause, owner), so
    a form opened before a colleague's change put the colleague's priority back when it saved
    another field. The form now carries the version it shows."""
    ticket = _ticket(world)
    agent, sup = world.client("agent_a1"), world.client("sup_a1")
    page = agent.get(f"/tickets/{ticket['id']}").text
    version = re.search(r'<input type="hidden" name="version" value="(\d+)"', page)
    assert version is not None, "the ticket form carries no version"
    assert sup.patch(f"/api/v1/tickets/{ticket['id']}", json={"priority": "urgent"}).status_code == 200
    form = {"priority": ticket["priority"], "cause": "refund", "note": "退费问题", "version": version.group(1)}
    stale = agent.post(f"/tickets/{ticket['id']}/fields", data=form)
    assert stale.status_code == 409 and "AF609" in stale.text, stale.text[:300]
    stored = WorkflowStore(world.store.engine).get_ticket(ticket["id"])
    assert stored.priority == "urgent" and stored.cause != "refund"
    # the page shown with the refusal is the current version: saving it again works
    again = re.search(r'<input type="hidden" name="version" value="(\d+)"', stale.text).group(1)
    assert agent.post(f"/tickets/{ticket['id']}/fields",
                      data={**form, "priority": "urgent", "version": again}).status_code == 200
    assert WorkflowStore(world.store.engine).get_ticket(ticket["id"]).cause == "refund"
    # an action button of a stale page is refused the same way
    respond = agent.post(f"/tickets/{ticket['id']}/respond", data={"version": version.group(1)})
    assert respond.status_code == 409 and "AF609" in respond.text


# ==================================================================================================
# 3. double submits: the follow-up (回访) and the escalation to a ticket
# ==================================================================================================
def test_a_follow_up_recorded_twice_at_once_counts_once(world: Any, gate_ticket_reads: Any) -> None:
    """Found by this probe: a double-clicked 回访 (customer reached, problem not solved) was
    recorded twice: two follow-up rows and the ticket reopened twice."""
    ticket = _resolved(world)
    path = f"/api/v1/tickets/{ticket['id']}/followup"
    body = {"reached": True, "solved": False, "note": "客户表示电费仍未退还"}
    sup, again = world.client("sup_a1"), world.client("sup_a1")
    gate_ticket_reads()
    replies = _race(lambda: sup.post(path, json=body), lambda: again.post(path, json=body))
    assert sorted(r.status_code for r in replies) == [200, 409], [r.text for r in replies]
    probe.coded(next(r for r in replies if r.status_code == 409), 409, "AF620")
    assert probe.count(world, "SELECT count(*) FROM followups WHERE ticket_id = :t", t=ticket["id"]) == 1
    stored = WorkflowStore(world.store.engine).get_ticket(ticket["id"])
    assert stored.status == "reopened" and stored.data["reopen_count"] == 1


def test_one_conversation_escalated_twice_at_once_gets_one_ticket(world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by this probe: two POST /api/v1/tickets for the same conversation at the same moment
    (a retrying integration, or agent and supervisor both escalating) each found no open ticket
    and each opened one: two tickets, two numbers, for one complaint."""
    cid = _conversation(world)
    monkeypatch.setattr(WorkflowStore, "next_ticket_number", Gate().wrap(WorkflowStore.next_ticket_number))
    agent, sup = world.client("agent_a1"), world.client("sup_a1")
    replies = _race(lambda: agent.post("/api/v1/tickets", json={"conversation_id": cid}),
                    lambda: sup.post("/api/v1/tickets", json={"conversation_id": cid, "note": "班长升级"}))
    assert sorted(r.status_code for r in replies) == [201, 201], [r.text for r in replies]
    assert sorted(r.json()["created"] for r in replies) == [False, True]
    assert replies[0].json()["id"] == replies[1].json()["id"]
    assert probe.count(world, "SELECT count(*) FROM tickets WHERE conversation_id = :c", c=cid) == 1
    assert probe.count(world, "SELECT count(*) FROM ledger_entries l JOIN tickets t ON t.id = l.ticket_id "
                         "WHERE t.conversation_id = :c", c=cid) == 1


def test_a_bulk_close_racing_a_reopen_changes_all_or_nothing(world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by this probe: a bulk close checked every ticket, then closed them one by one; a
    ticket reopened by a colleague in between failed its close (409) after the tickets before it
    were closed — and those closings were never audited. Now all close in one transaction, or
    none (and nothing is audited)."""
    first, second = _resolved(world), _resolved(world)
    read = TicketDesk._writable

    def writable(desk: TicketDesk, principal: Any, ticket_id: int) -> Any:
        record = read(desk, principal, ticket_id)
        if ticket_id == second["id"]:  # read for the bulk close; a colleague reopens it right after
            from anfu.store import Principal

            desk.act(Principal.of_user(world.users["agent_a1"]), second["id"], "reopen", {"note": "客户来电说又多扣费了"})
        return record
    monkeypatch.setattr(TicketDesk, "_writable", writable)
    audits = probe.count(world, "SELECT count(*) FROM audit_log WHERE action = 'ticket.closed'")
    reply = world.client("sup_a1").post("/api/v1/tickets/bulk-close",
                                        json={"ticket_ids": [first["id"], second["id"]], "note": "批量结案"})
    probe.coded(reply, 409, "AF602")
    workflow = WorkflowStore(world.store.engine)
    assert workflow.get_ticket(first["id"]).status == "resolved"  # not closed: all or nothing
    assert workflow.get_ticket(second["id"]).status == "reopened"
    assert probe.count(world, "SELECT count(*) FROM audit_log WHERE action = 'ticket.closed'") == audits



def test_a_reply_sent_twice_from_the_console_reaches_the_customer_once(world: Any) -> None:
    """Found by this probe: the console's composer posted no idempotency key, so a double click on
    发送 (or the browser retrying a slow send) stored — and delivered — the agent's reply twice.
    The composer now carries a one-time key (`send_id`, the message's `client_msg_id`)."""
    cid = _conversation(world)
    agent = world.client("agent_a1")
    page = agent.get(f"/console/{cid}")
    assert page.status_code == 200, page.text[:300]
    key = re.search(r'<input type="hidden" name="send_id" value="([^"]+)"', page.text)
    draft = "非常抱歉给您添麻烦了，我已为您提交电费账单核查申请，今天下班前给您回电。"
    form = {"draft": draft, **({"send_id": key.group(1)} if key else {})}
    headers = {"HX-Request": "true"}
    replies = _race(lambda: agent.post(f"/console/{cid}/send", data=form, headers=headers),
                    lambda: agent.post(f"/console/{cid}/send", data=form, headers=headers))
    assert [r.status_code for r in replies] == [200, 200], [r.text[:300] for r in replies]
    assert probe.count(world, "SELECT count(*) FROM messages WHERE conversation_id = :c AND speaker = 'agent'",
                  c=cid) == 1
    # the composer shown after sending has a new key: the next reply is a new message
    after = re.search(r'<input type="hidden" name="send_id" value="([^"]+)"', replies[0].text)
    assert after is not None and key is not None and after.group(1) != key.group(1)
    next_reply = {"draft": "核查结果出来后我第一时间短信通知您，请您放心。", "send_id": after.group(1), "confirm": "yes"}
    again = agent.post(f"/console/{cid}/send", data=next_reply, headers=headers)
    assert again.status_code == 200 and 'id="sent-ok"' in again.text, again.text[:1500]
    assert probe.count(world, "SELECT count(*) FROM messages WHERE conversation_id = :c AND speaker = 'agent'",
                  c=cid) == 2


# ==================================================================================================
# 4. routing: two agents claiming one conversation, an agent's first presence from two tabs
# ==================================================================================================
def test_two_agents_claiming_one_conversation_at_once_one_wins(world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by this probe (PostgreSQL): the claim read the conversation without locking it, so
    two agents of the team claiming the same unassigned conversation at once were both told it
    was theirs (200), and the later write silently took it from the first."""
    cid = _conversation(world)
    with world.store.engine.begin() as conn:
        conn.execute(text("UPDATE conversations SET agent_id = NULL WHERE id = :c"), {"c": cid})
    first, second = world.client("agent_a1"), world.client("agent_a1b")
    monkeypatch.setattr(world.store, "clock", Gate().wrap(world.store.clock, caller="claim_unassigned"))
    replies = _race(lambda: first.post(f"/api/v1/conversations/{cid}/claim"),
                    lambda: second.post(f"/api/v1/conversations/{cid}/claim"))
    assert sorted(r.status_code for r in replies) == [200, 403], [r.text for r in replies]
    probe.coded(next(r for r in replies if r.status_code == 403), 403, "AF417")
    winner = next(r for r in replies if r.status_code == 200).json()["agent_id"]
    assert world.store.get_conversation(cid).agent_id == winner
    assert probe.count(world, "SELECT count(*) FROM events WHERE name = 'conversation.claimed' AND conversation_id = :c",
                  c=cid) == 1


def test_an_agents_first_routing_change_from_two_places_at_once_is_no_500(world: Any,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by this probe (PostgreSQL): an agent's routing profile is created on its first
    change; two first changes at once (the agent's two tabs setting presence, an admin setting
    skills) both created it and one failed with a 500 (AF440, a duplicate key)."""
    from anfu.store import routing_repo

    user = world.users["agent_a2"]
    with world.store.engine.begin() as conn:
        conn.execute(text("DELETE FROM agent_routing WHERE user_id = :u"), {"u": user.id})
    monkeypatch.setattr(routing_repo, "_default_profile", Gate().wrap(routing_repo._default_profile))
    agent, admin = world.client("agent_a2"), world.client("admin_a")
    presence, skills = _race(lambda: agent.put("/api/v1/routing/presence", json={"presence": "busy"}),
                             lambda: admin.patch(f"/api/v1/routing/agents/{user.id}",
                                                 json={"industries": ["power"], "max_open": 3}))
    assert presence.status_code == 200 and skills.status_code == 200, (presence.text, skills.text)
    profile = admin.get("/api/v1/routing/agents", params={"team_id": world.teams["a2"].id}).json()["items"]
    mine = next(p for p in profile if p["user_id"] == user.id)
    assert (mine["presence"], mine["industries"], mine["max_open"]) == ("busy", ["power"], 3)



def test_an_alert_acknowledged_twice_at_once_is_acknowledged_once(world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by this probe: acknowledging (and resolving) an alert is "once only", but two
    supervisors clicking at the same moment both recorded it — two events, two audit entries —
    and the alert then named the later one as the person on it."""
    from anfu.service.alerts import Alerts

    cid = world.conversation("agent_a1", f"probe-race-{next(_REFS)}",
                             [("customer", "电费账单异常，要求核实！你们再不处理，我就去供电局门口拉横幅，还要找媒体曝光！")])
    alerts = world.client("sup_a1").get("/api/v1/alerts", params={"conversation_id": cid}).json()["items"]
    assert alerts, "the complaint raised no alert"
    alert_id = alerts[0]["id"]
    monkeypatch.setattr(Alerts, "get", Gate().wrap(Alerts.get))
    sup, admin = world.client("sup_a1"), world.client("admin_a")
    path = f"/api/v1/alerts/{alert_id}/acknowledge"
    replies = _race(lambda: sup.post(path, json={"note": "我来跟进"}), lambda: admin.post(path, json={"note": "已知悉"}))
    assert [r.status_code for r in replies] == [200, 200], [r.text for r in replies]
    assert replies[0].json()["acknowledged_by"] == replies[1].json()["acknowledged_by"]
    assert probe.count(world, "SELECT count(*) FROM events WHERE name = 'alert.acknowledged' AND conversation_id = :c",
                  c=cid) == 1
    assert probe.count(world, "SELECT count(*) FROM audit_log WHERE action = 'alert.acknowledged' AND target = :t",
                  t=f"alert:{alert_id}") == 1



def test_one_conversation_inspected_twice_at_once_is_no_500(world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by this probe (PostgreSQL): two quality-inspection runs over the same conversation
    at the same moment (a supervisor and an auditor, or a retried request) both found no
    inspection and both inserted one; the second failed with a 500 (AF440, a duplicate key)."""
    cid = world.conversation("agent_a1", f"probe-race-{next(_REFS)}",
                             [("customer", COMPLAINT), ("agent", "这不归我们管，你自己去找供电所。")])
    monkeypatch.setattr(world.store, "clock", Gate().wrap(world.store.clock, caller="save_inspection"))
    sup, auditor = world.client("sup_a1"), world.client("auditor_a")
    replies = _race(lambda: sup.post("/api/v1/inspection/run", json={"conversation_ids": [cid]}),
                    lambda: auditor.post("/api/v1/inspection/run", json={"conversation_ids": [cid]}))
    assert [r.status_code for r in replies] == [200, 200], [r.text[:300] for r in replies]
    assert replies[0].json()["items"][0]["id"] == replies[1].json()["items"][0]["id"]
    assert probe.count(world, "SELECT count(*) FROM inspections WHERE conversation_id = :c", c=cid) == 1



def test_an_appeal_racing_a_re_inspection_is_never_lost(world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by this probe (PostgreSQL): a re-run of the inspection (the conversation had new
    turns) found no appeal, then deleted and rewrote the findings; an appeal saved in between was
    deleted with its finding (ON DELETE CASCADE) after the agent had been told 201. Now both take
    the conversation's lock: either the appeal comes first and the re-run keeps the appealed
    inspection, or the re-run comes first and the appeal of the replaced finding is refused."""
    from anfu.store import inspection_repo

    cid = world.conversation("agent_a1", f"probe-race-{next(_REFS)}",
                             [("customer", COMPLAINT), ("agent", "这不归我们管，你自己去找供电所。")])
    sup = world.client("sup_a1")
    run = sup.post("/api/v1/inspection/run", json={"conversation_ids": [cid]})
    assert run.status_code == 200, run.text
    detail = sup.get(f"/api/v1/inspection/inspections/{run.json()['items'][0]['id']}").json()
    assert detail["findings"], "the buck-passing reply was not a finding"
    finding = detail["findings"][0]["id"]
    more = world.client("agent_a1").post("/api/v1/messages", json={"conversation_id": cid, "speaker": "customer",
                                                                   "text": "那到底谁管？我已经等了三天了！"})
    assert more.status_code == 201, more.text
    gate = Gate()
    monkeypatch.setattr(inspection_repo, "delete", gate.wrap(inspection_repo.delete))
    monkeypatch.setattr(world.store, "clock", gate.wrap(world.store.clock, caller="appeal"))
    agent = world.client("agent_a1")
    appeal, rerun = _race(lambda: agent.post(f"/api/v1/inspection/findings/{finding}/appeal",
                                             json={"reason": "客户问题确实属于供电所，我已告知联系方式"}),
                          lambda: sup.post("/api/v1/inspection/run", json={"conversation_ids": [cid]}))
    assert rerun.status_code == 200, rerun.text[:300]
    assert appeal.status_code in (201, 404), appeal.text[:300]
    appeals = probe.count(world, "SELECT count(*) FROM inspection_appeals WHERE finding_id = :f", f=finding)
    if appeal.status_code == 201:  # told it was saved: it is, and its finding with it
        assert appeals == 1
        assert probe.count(world, "SELECT count(*) FROM inspection_findings WHERE id = :f", f=finding) == 1
    else:
        probe.coded(appeal, 404, "AF503")
        assert appeals == 0


# ==================================================================================================
# 5. a tenant setting two admins save at the same moment: the helpdesk connector
# ==================================================================================================
def test_two_admins_creating_the_same_connector_at_once_one_is_told(world: Any,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by this probe: two admins setting up the tenant's Zammad connector at the same moment
    both found none. On PostgreSQL the second failed with a 500 (a duplicate key); on SQLite it
    silently replaced the first one's token and generated webhook secret, so the secret the first
    admin was shown (once) no longer worked. Now the second is told (409) and nothing of theirs
    is saved."""
    from anfu.security import secretbox
    from anfu.store.connector_repo import ConnectorStore

    with world.store.engine.begin() as conn:
        conn.execute(text("DELETE FROM connector_configs WHERE kind = 'zammad'"))
    monkeypatch.setattr(ConnectorStore, "save_connector", Gate().wrap(ConnectorStore.save_connector))
    first, second = world.client("admin_a"), world.token_client("admin_a")
    body = {"base_url": "https://93.184.216.34", "api_token": "zm-token-first-0001"}
    replies = _race(lambda: first.put("/api/v1/admin/connectors/zammad", json=body),
                    lambda: second.put("/api/v1/admin/connectors/zammad",
                                       json={**body, "api_token": "zm-token-second-0002"}))
    assert sorted(r.status_code for r in replies) == [200, 409], [r.text for r in replies]
    probe.coded(next(r for r in replies if r.status_code == 409), 409, "AF679")
    won = next(r for r in replies if r.status_code == 200).json()
    stored = world.ctx.services.helpdesks.credentials(world.tenants["a"].id, "zammad")
    assert stored is not None and stored.webhook_secret == won["new_webhook_secret"]
    assert probe.count(world, "SELECT count(*) FROM connector_configs WHERE kind = 'zammad'") == 1


# ==================================================================================================
# 6. the 话术库 edit form, opened by two people
# ==================================================================================================
def test_the_reply_edit_form_refuses_a_save_over_a_newer_version(world: Any) -> None:
    """Found by this probe: the 话术库 edit form posts every field, so an admin saving a form
    opened before a supervisor's change silently put back the old title. The form now carries
    the version it shows (the reply's `updated_at`) and such a save is refused (AF673, 409)."""
    made = world.client("sup_a1").post("/api/v1/replies", json={
        "title": "电费账单异常核实", "text": "您好，非常理解您的心情，我马上为您核实这个月的电费账单，请稍等。",
        "category": "电费账单"})
    assert made.status_code == 201, made.text
    reply = made.json()
    admin = world.client("admin_a")
    page = admin.get(f"/replies?edit={reply['id']}").text
    version = re.search(r'<input type="hidden" name="version" value="([^"]+)"', page)
    assert version is not None, "the reply form carries no version"
    renamed = world.client("sup_a1").patch(f"/api/v1/replies/{reply['id']}", json={"title": "电费账单异常核实（新版）"})
    assert renamed.status_code == 200, renamed.text
    form = {"title": reply["title"], "text": "您好，非常抱歉让您久等了，账单核实结果会在今天下班前短信告知您。",
            "category": "电费账单", "emotion": "", "persona": "", "active": "yes", "version": version.group(1)}
    stale = admin.post(f"/replies/{reply['id']}", data=form, follow_redirects=False)
    assert stale.status_code == 409 and "AF673" in stale.text, stale.text[:300]
    stored = world.client("sup_a1").get(f"/api/v1/replies/{reply['id']}").json()
    assert stored["title"] == "电费账单异常核实（新版）" and stored["text"] == reply["text"]
    # the refusal shows the current version: saving that goes through
    current = re.search(r'<input type="hidden" name="version" value="([^"]+)"', stale.text).group(1)
    saved = admin.post(f"/replies/{reply['id']}", data={**form, "title": stored["title"], "version": current},
                       follow_redirects=False)
    assert saved.status_code == 303, saved.text[:300]
    assert world.client("sup_a1").get(f"/api/v1/replies/{reply['id']}").json()["text"] == form["text"]
