"""Probe I (session 16): are the figures a supervisor trusts right? Analytics, wallboard, ledger,
each figure compared with a hand count over a small world (SQLite: the figures' logic, not the
engine, is under test)."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

import pytest

from tests.security.probe import conversation, count

ANGRY = "你们到底怎么回事！停电三天了没人管，我要打12345投诉你们，马上给我派人来修！"


def _kpi(page: str, label: str) -> int:
    found = re.search(rf'kpi-label">{label}</span><span class="kpi-value"[^>]*>(\d+)<', page)
    assert found, page[:2000]
    return int(found.group(1))


def _report(world: Any, who: str = "admin_a", **query: str) -> dict[str, Any]:
    reply = world.client(who).get("/api/v1/analytics", params=query)
    assert reply.status_code == 200, reply.text[:400]
    return reply.json()["report"]


def test_analytics_day_is_when_the_conversation_happened_not_when_it_was_pushed(sqlite_world: Any) -> None:
    """An integrator pushes last week's e-mail thread / call transcript with its real `sent_at`
    (2025-02-20 10:00 Beijing time). Expected: the analytics board counts it on 2025-02-20 (the
    date filter 2025-02-20..2025-02-20 shows 1 conversation). Actual: the day is the moment the
    server stored the conversation (today), so the filter for 2025-02-20 shows 0 and today's
    figures carry last week's contacts."""
    world = sqlite_world
    client = world.client("agent_a2")
    reply = client.post("/api/v1/messages", json={"conversation_ref": "mail-20250220-001", "channel": "email",
                                                   "text": ANGRY, "sent_at": "2025-02-20T10:00:00+08:00"})
    assert reply.status_code == 201, reply.text
    report = _report(world, date_from="2025-02-20", date_to="2025-02-20", channel="email")
    assert report["conversations"] == 1, report["emotion_trend"]



def test_team_view_counts_a_handed_over_ticket_under_the_team_that_now_owns_it(sqlite_world: Any) -> None:
    """班组a1's agent opens a complaint ticket; the admin hands it to agent_a2 (班组a2), who now
    works it. Hand count: 班组a2 has 1 ticket, 班组a1 has 0; the agent view and the team view must
    agree (agent_a2 belongs to 班组a2). Actual: `GET /api/v1/analytics?team=班组a2` shows 0 tickets
    while the agents view of the same report gives agent_a2 1 ticket; the ticket stays counted for
    班组a1 (its stored team name and `team_id` are never updated on hand-over), and 班组a2's
    supervisor sees neither the ticket nor its figures."""
    world = sqlite_world
    cid = conversation(world, "agent_a1", "handover", ANGRY)
    made = world.client("agent_a1").post("/api/v1/tickets", json={"conversation_id": cid})
    assert made.status_code == 201, made.text
    tid = made.json()["id"]
    moved = world.client("admin_a").patch(f"/api/v1/tickets/{tid}",
                                          json={"owner_id": world.users["agent_a2"].id, "note": "转二组处理"})
    assert moved.status_code == 200, moved.text
    report = _report(world)
    by_agent = {r["agent"]: r["tickets"] for r in report["agents"]}
    by_team = {r["team"]: r["tickets"] for r in report["teams"]}
    assert by_agent.get("agent_a2") == 1
    assert (by_team.get("班组a2", 0), by_team.get("班组a1", 0)) == (1, 0), (by_agent, by_team)
    assert _report(world, team="班组a2")["tickets"] == 1
    assert _report(world, "sup_a2")["tickets"] == 1


def test_day_boundary_is_beijing_midnight(sqlite_world: Any) -> None:
    """(Holds) 23:30 Beijing time (15:30 UTC) counts on 03-01, 00:30 (16:30 UTC) and 07:59
    (23:59 UTC) on 03-02, both in the day filter and the daily trend."""
    world = sqlite_world
    old = world.store.clock
    try:
        for ref, at in (("night-2330", datetime(2025, 3, 1, 15, 30, tzinfo=timezone.utc)),
                        ("night-0030", datetime(2025, 3, 1, 16, 30, tzinfo=timezone.utc)),
                        ("morning-0759", datetime(2025, 3, 1, 23, 59, tzinfo=timezone.utc))):
            world.store.clock = lambda at=at: at
            world.conversation("agent_a1", ref, [("customer", ANGRY)])
    finally:
        world.store.clock = old
    first = _report(world, date_from="2025-03-01", date_to="2025-03-01")
    second = _report(world, date_from="2025-03-02", date_to="2025-03-02")
    both = _report(world, date_from="2025-03-01", date_to="2025-03-02")
    assert (first["conversations"], second["conversations"], both["conversations"]) == (1, 2, 3)
    assert [(d["date"], d["conversations"]) for d in both["emotion_trend"]] == [("2025-03-01", 1), ("2025-03-02", 2)]


def test_low_csat_reopens_and_the_ledger_follows(sqlite_world: Any) -> None:
    """(Holds) A 1-star answer reopens the ticket: its ledger entry is no longer handled, the
    report counts 1 low score with the comment, once."""
    from tests.security.probe import resolved_ticket
    world = sqlite_world
    before = _report(world)["csat"]["low"]["numerator"]
    tid, token = resolved_ticket(world, "csat-low-1", ANGRY)
    answer = world.client().post(f"/api/v1/survey/{token}", json={"score": 1, "comment": "根本没修好，还是停电"})
    assert answer.json() == {"score": 1, "low": True}
    assert world.client("admin_a").get(f"/api/v1/tickets/{tid}").json()["status"] == "reopened"
    assert "handled" in world.client("admin_a").get(f"/api/v1/tickets/{tid}/ledger").json()["missing"]
    report = _report(world)
    assert report["csat"]["low"]["numerator"] == before + 1
    assert sum(r["comment"] == "根本没修好，还是停电" for r in report["low_csat"]) == 1


def _open_in_tenant(world: Any, hot: bool = False) -> int:
    return count(world, "select count(*) from conversations where tenant_id=:t and status='open'"
                 + (" and intensity>=3" if hot else ""), t=world.tenants["a"].id)


def test_wallboard_hot_kpi_counts_unassigned_angry_customers(sqlite_world: Any) -> None:
    """An integration (API token) pushes an angry customer's chat that no agent has claimed yet
    (待分配). Hand count: every open conversation of tenant a is an angry one (intensity 4), so
    the admin's 强烈情绪 KPI must equal 进行中会话. Actual: 强烈情绪 is one short: it sums the agents'
    rows only (`board`: `sum(r["hot"] for r in staff)`), so the unassigned angry customer — the
    one most at risk — is left out, while 升级告警 and 待分配 count it."""
    world = sqlite_world
    pushed = world.token_client("sup_a1").post("/api/v1/messages", json={"conversation_ref": "bot-hot-1", "text": ANGRY})
    assert pushed.status_code == 201 and pushed.json()["conversation"]["agent_id"] is None
    page = world.client("admin_a").get("/wallboard").text
    assert _kpi(page, "待分配") >= 1
    assert _kpi(page, "强烈情绪") == _open_in_tenant(world, hot=True), page.count("kpi-value")


def test_wallboard_open_kpi_is_not_capped_at_200(sqlite_world: Any) -> None:
    """A busy evening: more than 200 chats open at once (a big 95598 centre after an outage).
    Hand count: the 进行中会话 and 待分配 KPIs equal the open (and unassigned) conversations in the
    database. Actual: both stop at 200 — the board reads one page of 200 conversations
    (`list_conversations(..., page_size=200)`) and counts `len(queue)`."""
    world = sqlite_world
    tenant, team = world.tenants["a"].id, world.teams["a1"].id
    for i in range(201):
        world.store.create_conversation(tenant, channel="webchat", team_id=team, external_ref=f"outage-{i}")
    page = world.client("admin_a").get("/wallboard").text
    open_now = _open_in_tenant(world)
    assert open_now > 200
    assert _kpi(page, "进行中会话") == open_now
