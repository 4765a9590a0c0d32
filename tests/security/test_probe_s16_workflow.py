"""Probe C (session 16): a supervisor's whole day — tickets, SLA, 回访, CSAT, the 四个不漏 ledger
and routing — as a service centre meets it. Each defect test failed before its fix.

Defects
1. An admin hands a ticket (and a conversation) to the tenant's auditor: 200, the auditor, who
   reads only, now owns work nobody can act on.
2. An admin hands a conversation to a deactivated agent: 200 (tickets refuse it with AF505).
3. Deactivating an agent (离职) leaves their open chats assigned to them, while a colleague of the
   auto-assigning team is 示闲 with nothing to do: the customers wait for nobody.
4. Correcting a ticket's cause after its result was fed back (反映) moves the ledger entry to the
   new cause's department with state "sent": a department is counted as having received
   feedback it never got, and the one that got it loses it.
5. Reopening a ticket leaves its 回访 "scheduled": it can be completed neither as solved (AF641,
   a ledger error) nor as unsolved (AF602), and it goes overdue on a ticket being worked on.
6. Closing a resolved ticket leaves its 回访 "scheduled" on the closed ticket, overdue for ever.
7. After a low CSAT score reopened a ticket and it was resolved again, no survey can be sent any
   more (AF608 "it is resolved or already rated"): the low score stays the ticket's for ever.
8. A ticket opened at 07:30 Beijing time on 3 March… is numbered by the UTC day (TS-<previous
   day>-…), unlike every date the pages show.

Held (kept as informative passes): the SLA warning/breach is recorded once per target and the
clock pauses while waiting on the customer; business-calendar arithmetic over a Friday evening
and the National Day holiday with its 调休 Saturday.

SQLite only (`sqlite_world`): nothing here depends on the database engine."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.security.probe import COMPLAINT, code_of, resolved_ticket

_REFS = itertools.count(1)
BEIJING = ZoneInfo("Asia/Shanghai")
OUTAGE = "宽带又断了，三天了还没人上门修，我的手机号13912345678，再不来人我就投诉到工信部！"


def _agent(world: Any, team_id: int, label: str) -> Any:
    """A new active agent of team `team_id` in tenant A, signed in as `world.users[name]`."""
    from anfu.security.passwords import hash_password
    from tests.server.conftest import PASSWORD

    name = f"s16-{label}-{next(_REFS)}"
    user = world.store.create_user(world.tenants["a"].id, name, hash_password(PASSWORD), "agent",
                                   team_id=team_id, display_name=label)
    world.users[name] = user
    return name, user


def _clock_at(monkeypatch: pytest.MonkeyPatch, world: Any, at: datetime) -> list[datetime]:
    """Point the complaint desk's clock at `at`; move it by changing the returned list."""
    now = [at]
    monkeypatch.setattr(world.ctx.desk, "clock", lambda: now[0])
    return now


# ----------------------------------------------------------------------------- assignment
def test_admin_cannot_hand_a_ticket_or_a_chat_to_the_read_only_auditor(sqlite_world: Any) -> None:
    """Expected: handing a ticket (PATCH owner_id) or a conversation (POST …/assign) to an auditor,
    who reads only and can act on neither, is a coded 4xx and nothing changes.
    Actual: both are 200; the ticket's owner_id and the chat's agent_id become the auditor's."""
    world = sqlite_world
    admin = world.client("admin_a")
    auditor = world.users["auditor_a"]
    ticket_id, _ = resolved_ticket(world, f"s16-aud-{next(_REFS)}", COMPLAINT)
    reply = admin.patch(f"/api/v1/tickets/{ticket_id}", json={"owner_id": auditor.id, "note": "转审计跟进"})
    chat = world.conversation("agent_a1", f"s16-aud-chat-{next(_REFS)}", [("customer", COMPLAINT)])
    assigned = admin.post(f"/api/v1/conversations/{chat}/assign", json={"agent_id": auditor.id})
    assert [reply.status_code // 100, assigned.status_code // 100] == [4, 4], \
        (reply.status_code, reply.text[:150], assigned.status_code, assigned.text[:150])
    assert admin.get(f"/api/v1/tickets/{ticket_id}").json()["owner_id"] != auditor.id


def test_admin_cannot_hand_a_chat_to_a_deactivated_agent(sqlite_world: Any) -> None:
    """Expected: like tickets (AF505 "user … is deactivated"), a conversation cannot be assigned to
    an agent who has left (deactivated). Actual: POST /conversations/{id}/assign answers 200 and the
    customer's chat now belongs to an account that can no longer sign in."""
    world = sqlite_world
    admin = world.client("admin_a")
    _name, gone = _agent(world, world.teams["a1"].id, "离职坐席")
    world.store.update_user(gone.id, active=False)
    ticket_id, _ = resolved_ticket(world, f"s16-gone-{next(_REFS)}", COMPLAINT)
    refused = admin.patch(f"/api/v1/tickets/{ticket_id}", json={"owner_id": gone.id})
    assert refused.status_code == 422 and code_of(refused) == "AF505"  # tickets refuse it
    chat = world.conversation("agent_a1", f"s16-gone-chat-{next(_REFS)}", [("customer", COMPLAINT)])
    reply = admin.post(f"/api/v1/conversations/{chat}/assign", json={"agent_id": gone.id})
    assert reply.status_code == 422 and code_of(reply) == "AF505", (reply.status_code, reply.text[:200])


def test_deactivating_an_agent_hands_their_open_chats_back_to_the_queue(sqlite_world: Any) -> None:
    """An auto-assigning 宽带投诉组: 张 is 示闲 and gets two chats, 李 becomes 示闲 with none; the
    admin deactivates 张 (离职, PATCH /api/v1/users/{id} {"active": false}).
    Expected: as on sign-out (签出), 张's open chats go back to the queue and on to 李.
    Actual: both stay assigned to the deactivated 张; 李 keeps open_count 0."""
    world = sqlite_world
    admin = world.client("admin_a")
    team = world.store.create_team(world.tenants["a"].id, f"宽带投诉组{next(_REFS)}")
    assert admin.patch(f"/api/v1/teams/{team.id}", json={"auto_assign": True}).status_code == 200
    made = admin.post("/api/v1/routing/queues", json={"team_id": team.id, "name": f"宽带队列{team.id}",
                                                     "industry": "telecom"})
    assert made.status_code == 201, made.text
    zhang, zhang_user = _agent(world, team.id, "张")
    li, _li_user = _agent(world, team.id, "李")
    assert world.client(zhang).put("/api/v1/routing/presence", json={"presence": "available"}).status_code == 200
    gateway = world.token_client("admin_a")
    chats = []
    for i in range(2):
        reply = gateway.post("/api/v1/messages", json={"conversation_ref": f"s16-bb-{team.id}-{i}",
                                                       "industry": "telecom", "text": OUTAGE})
        assert reply.json()["conversation"]["agent_id"] == zhang_user.id, reply.text[:300]
        chats.append(reply.json()["conversation"]["id"])
    assert world.client(li).put("/api/v1/routing/presence", json={"presence": "available"}).status_code == 200
    assert admin.patch(f"/api/v1/users/{zhang_user.id}", json={"active": False}).status_code == 200
    holders = [admin.get(f"/api/v1/conversations/{c}").json()["conversation"]["agent_id"] for c in chats]
    assert zhang_user.id not in holders, f"chats {chats} still assigned to the deactivated agent: {holders}"


# ----------------------------------------------------------------------------- 四个不漏 ledger
def test_correcting_the_cause_after_feedback_keeps_the_department_that_received_it(sqlite_world: Any) -> None:
    """A billing complaint is resolved, 回访 confirms it, the supervisor feeds it back (反映) to 计费账务部门;
    then corrects the cause to outage (PATCH {"cause": "outage"}).
    Expected: the feedback already sent stays with billing (or the cause change is refused / the
    feedback goes back to pending for the new department). Actual: the ledger entry now reads
    department "network", feedback_state "sent", the history note "请计费部门核查重复扣费" with it:
    /api/v1/ledger counts network as informed and billing as never informed."""
    world = sqlite_world
    agent, sup = world.client("agent_a1"), world.client("sup_a1")
    ticket_id, _ = resolved_ticket(world, f"s16-ledger-{next(_REFS)}", COMPLAINT)
    url = f"/api/v1/tickets/{ticket_id}"
    assert agent.post(f"{url}/followup", json={"reached": True, "solved": True,
                                               "note": "客户确认已退还多扣的两百元"}).status_code == 200
    sent = sup.post(f"{url}/ledger/feedback", json={"note": "请计费部门核查重复扣费"})
    assert sent.status_code == 200 and sent.json()["department"] == "billing", sent.text[:300]
    assert sup.patch(url, json={"cause": "outage", "note": "核实为停电导致表计异常"}).status_code == 200
    entry = sup.get(f"{url}/ledger").json()
    assert not (entry["department"] != "billing" and entry["data"]["feedback_state"] == "sent"), \
        f"feedback sent to billing now shows as sent to {entry['department']}: {entry['data']['feedback_history']}"


# ----------------------------------------------------------------------------- 回访 (follow-up)
def test_reopening_cancels_the_scheduled_followup(sqlite_world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Resolve a ticket (回访 scheduled), then the customer calls back and the agent reopens it.
    Expected: the scheduled 回访 is cancelled (`cancel_followup` exists for this) and a new one is
    scheduled at the next resolution. Actual: it stays "scheduled"; recording it as solved is 422
    AF641 (a ledger message), as unsolved 409 AF602 (reopened → reopened), and once its due time
    passes GET …/followup says overdue: true for a ticket that is being worked on."""
    world = sqlite_world
    agent = world.client("agent_a1")
    ticket_id, _ = resolved_ticket(world, f"s16-reopen-fu-{next(_REFS)}", COMPLAINT)
    url = f"/api/v1/tickets/{ticket_id}"
    assert agent.post(f"{url}/reopen", json={"reason": "客户来电称又被多扣了一次"}).status_code == 200
    _clock_at(monkeypatch, world, datetime.now(timezone.utc) + timedelta(days=10))
    follow = agent.get(f"{url}/followup").json()
    assert follow["state"] != "scheduled" and follow["overdue"] is False, follow


def test_closing_a_resolved_ticket_leaves_no_overdue_followup(sqlite_world: Any,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A supervisor closes a resolved ticket before its 回访 (POST …/close {} → 200).
    Expected: closing either needs the 回访 (or a note why it is skipped) or settles it; a closed
    ticket has no open 回访. Actual: the 回访 stays "scheduled" on the closed ticket and, once due,
    GET …/followup reports overdue: true for ever (the ticket page still offers 记录回访)."""
    world = sqlite_world
    sup = world.client("sup_a1")
    ticket_id, _ = resolved_ticket(world, f"s16-close-fu-{next(_REFS)}", COMPLAINT)
    url = f"/api/v1/tickets/{ticket_id}"
    closed = sup.post(f"{url}/close", json={})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    _clock_at(monkeypatch, world, datetime.now(timezone.utc) + timedelta(days=30))
    follow = sup.get(f"{url}/followup").json()
    assert not (follow["state"] == "scheduled" and follow["overdue"]), follow


# ----------------------------------------------------------------------------- CSAT
def test_a_ticket_resolved_again_after_a_low_score_can_be_surveyed_again(sqlite_world: Any) -> None:
    """The customer scores 1 (还是没退), the ticket reopens, the agent fixes it and resolves it again.
    Expected: a new survey link can be sent for the new resolution (the old token stays spent).
    Actual: GET …/survey-link is 409 AF608 "has no survey link to send: it is resolved or already
    rated" — the ticket keeps csat_score 1 for ever and the fix is never measured."""
    world = sqlite_world
    agent, customer = world.client("agent_a1"), world.client()
    ticket_id, token = resolved_ticket(world, f"s16-csat-{next(_REFS)}", COMPLAINT)
    low = customer.post(f"/api/v1/survey/{token}", json={"score": 1, "comment": "还是没退钱"})
    assert low.status_code == 200 and low.json()["low"] is True
    url = f"/api/v1/tickets/{ticket_id}"
    assert agent.get(url).json()["status"] == "reopened"
    for stage in ("提供方案", "执行方案"):
        assert agent.post(f"{url}/stage", json={"to": stage}).status_code == 200
    assert agent.post(f"{url}/resolve", json={"note": "已原路退回两百元"}).status_code == 200
    again = agent.get(f"{url}/survey-link")
    assert again.status_code == 200, (again.status_code, again.text[:300])


# ----------------------------------------------------------------------------- numbering
def test_ticket_number_uses_the_centres_local_day(sqlite_world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A ticket opened on 2025-03-04 at 07:30 Beijing time (23:30 UTC the day before).
    Expected: TS-20250304-…, the day the pages show (they show Beijing time) and the SLA pack's
    time zone. Actual: TS-20250303-0001; the daily sequence also restarts at 08:00 Beijing."""
    world = sqlite_world
    # the desk's clock is UTC (datetime.now(timezone.utc)), as in production
    _clock_at(monkeypatch, world, datetime(2025, 3, 4, 7, 30, tzinfo=BEIJING).astimezone(timezone.utc))
    chat = world.conversation("agent_a1", f"s16-number-{next(_REFS)}", [("customer", COMPLAINT)])
    made = world.client("agent_a1").post("/api/v1/tickets", json={"conversation_id": chat})
    assert made.status_code == 201, made.text
    assert made.json()["number"].startswith("TS-20250304-"), made.json()["number"]


# ----------------------------------------------------------------------------- held
def test_held_sla_warning_and_breach_once_and_paused_while_waiting(sqlite_world: Any,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Held: a normal ticket opened Monday 09:00 Beijing warns once at 20h30 (24 h response, warn
    4 h before), a second sweep adds nothing, 30 hours waiting on the customer add nothing, and the
    breach comes (once, with the supervisor alert) 4 hours after the customer came back."""
    world = sqlite_world
    desk = world.ctx.desk
    now = _clock_at(monkeypatch, world, datetime(2025, 3, 3, 9, 0, tzinfo=BEIJING))
    agent = world.client("agent_a1")
    chat = world.conversation("agent_a1", f"s16-sla-{next(_REFS)}", [("customer", COMPLAINT)])
    made = agent.post("/api/v1/tickets", json={"conversation_id": chat}).json()
    url = f"/api/v1/tickets/{made['id']}"

    def swept() -> list[tuple[str, Any]]:
        return [(e.name, e.payload.get("target")) for e in desk.sweep_sla()
                if e.payload.get("ticket_id") == made["number"]]
    now[0] += timedelta(hours=20, minutes=30)
    assert swept() == [("sla.warned", "response")]
    assert swept() == []
    paused = agent.post(f"{url}/pause", json={"note": "等客户提供缴费凭证"}).json()["sla"]
    assert paused["state"] == "paused" and paused["elapsed_seconds"] == 73800
    now[0] += timedelta(hours=30)
    assert swept() == []
    assert agent.post(f"{url}/resume", json={"note": "客户已上传凭证"}).status_code == 200
    now[0] += timedelta(hours=4)
    assert swept() == [("sla.breached", "response"), ("supervisor.alerted", None)]
    assert swept() == []


def test_held_business_calendar_friday_evening_and_national_day() -> None:
    """Held: on the `business` calendar (08:30-12:00, 13:30-17:30), 4 working hours from Friday
    17:59 end Monday 14:00; 37.5 working hours from Tuesday 2025-09-30 17:00 skip 国庆 (10-01…08),
    count the 调休 Saturday 10-11 and end Tuesday 10-14 17:00."""
    from anfu.workflow.sla import SlaPolicies

    business = SlaPolicies.load().calendars["business"]
    friday = business.add(datetime(2025, 3, 7, 17, 59, tzinfo=BEIJING), 4 * 3600)
    assert friday == datetime(2025, 3, 10, 14, 0, tzinfo=BEIJING)
    national = business.add(datetime(2025, 9, 30, 17, 0, tzinfo=BEIJING), 37.5 * 3600)
    assert national == datetime(2025, 10, 14, 17, 0, tzinfo=BEIJING)
