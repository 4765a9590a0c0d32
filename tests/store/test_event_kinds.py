"""Several event kinds in one query (issue 13, the wallboard and the alert list):
`Store.list_events(names=…)` returns exactly the union of one query per kind, in id order, under
the same visibility rules (an agent never sees another agent's conversation's events, nobody sees
another tenant's); the wallboard's `_first_events` keeps the first `limit` of each kind as one
query per kind did, also when a kind has more than `limit`. On SQLite and PostgreSQL."""

from __future__ import annotations

from types import SimpleNamespace

from anfu.server.web.wallboard import _first_events
from anfu.store import Principal, Store

KINDS = ("escalation.raised", "supervisor.alerted", "negative_energy.flagged")


def test_event_kinds_in_one_query(store: Store) -> None:
    tenant = store.create_tenant("kinds", "告警租户")
    other = store.create_tenant("kinds-b", "另一租户")
    team = store.create_team(tenant.id, "一组")
    li = store.create_user(tenant.id, "kinds-li", "x", "agent", team_id=team.id)
    zhao = store.create_user(tenant.id, "kinds-zhao", "x", "agent", team_id=team.id)
    mine = store.create_conversation(tenant.id, team_id=team.id, agent_id=li.id)
    theirs = store.create_conversation(tenant.id, team_id=team.id, agent_id=zhao.id)
    foreign = store.create_conversation(other.id)
    for n in range(7):  # escalation.raised outnumbers the wallboard's per-kind limit below
        store.add_event(tenant.id, "escalation.raised", {"level": 2, "n": n}, conversation_id=mine.id)
    store.add_event(tenant.id, "supervisor.alerted", {"ticket_id": "T1"}, conversation_id=theirs.id)
    store.add_event(tenant.id, "negative_energy.flagged", {"signals": ["辱骂"]}, conversation_id=mine.id)
    store.add_event(tenant.id, "ticket.created", {"ticket_id": "T2"}, conversation_id=mine.id)  # another kind
    store.add_event(tenant.id, "supervisor.alerted", {"note": "全组"})  # tenant-wide
    store.add_event(other.id, "escalation.raised", {"level": 3}, conversation_id=foreign.id)

    supervisor = Principal(tenant_id=tenant.id, role="supervisor", team_id=team.id, name="sup")
    for who in (supervisor, Principal.of_user(li), Principal.of_user(zhao)):
        per_kind = sorted((e for k in KINDS for e in store.list_events(who, name=k, limit=1000)), key=lambda e: e.id)
        together = store.list_events(who, names=KINDS, limit=1000)
        assert [e.id for e in together] == [e.id for e in per_kind]
        assert all(e.name in KINDS for e in together)
    assert {e.conversation_id for e in store.list_events(Principal.of_user(zhao), names=KINDS)} == {theirs.id}
    assert len(store.list_events(supervisor, names=KINDS)) == 10

    ctx = SimpleNamespace(store=store)
    user = SimpleNamespace(principal=supervisor)
    first = _first_events(ctx, user, KINDS, 3)
    expected = [e for k in KINDS for e in store.list_events(supervisor, name=k, limit=3)]
    assert sorted(e.id for e in first) == sorted(e.id for e in expected)
    assert sum(e.name == "escalation.raised" for e in first) == 3
