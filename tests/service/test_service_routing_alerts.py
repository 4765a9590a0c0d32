"""Routing of stranded conversations and the alert lifecycle in the service layer (issue 13):
an agent claims an unassigned conversation of their own team only, first come first served;
the unassigned queue follows the same scope; an alert is acknowledged, assigned and resolved
once each, every change in the audit log with who and when."""

from __future__ import annotations

from typing import Any

import pytest

from anfu.errors import AuthError, NotFoundError
from anfu.service.alerts import Alerts
from anfu.service.routing import Routing
from anfu.store import Principal


def _stranded(d: Any, team_id: int | None = None) -> Any:
    return d.store.create_conversation(d.tenant.id, channel="webchat", team_id=team_id or d.team.id, agent_id=None)


def test_agent_claims_only_their_teams_unassigned_conversations(service_store: Any) -> None:
    d = service_store
    routing = Routing(d.store, d.hub)
    other_team = d.store.create_team(d.tenant.id, "二组")
    rival = Principal.of_user(d.store.create_user(d.tenant.id, "agent2", "x", "agent", team_id=d.team.id))
    outsider = Principal.of_user(d.store.create_user(d.tenant.id, "agent3", "x", "agent", team_id=other_team.id))
    mine, theirs = _stranded(d), _stranded(d, other_team.id)
    assert [c.id for c in routing.unassigned(d.agent)] == [mine.id]
    assert [c.id for c in routing.unassigned(outsider)] == [theirs.id]
    assert {c.id for c in routing.unassigned(d.supervisor)} == {mine.id}
    claimed = routing.claim(d.agent, mine.id, ip="10.0.0.1")
    assert claimed.agent_id == d.agent.user_id
    assert routing.unassigned(d.agent) == []
    with pytest.raises(AuthError):
        routing.claim(rival, mine.id)  # first come, first served
    with pytest.raises(NotFoundError):
        routing.claim(d.agent, theirs.id)  # another team's: as if it did not exist
    admin = Principal(tenant_id=d.tenant.id, role="admin", user_id=None, name="svc-admin")
    entries = d.store.list_audit(admin, action="conversation.claimed").items
    assert [(e.actor, e.target, e.ip) for e in entries] == [("user:agent1", f"conversation:{mine.id}", "10.0.0.1")]


def test_alert_acknowledged_assigned_resolved_once_each_and_audited(service_store: Any) -> None:
    d = service_store
    conversation = d.store.create_conversation(d.tenant.id, channel="webchat", team_id=d.team.id,
                                               agent_id=d.agent.user_id)
    raised = d.store.add_event(d.tenant.id, "escalation.raised", {"level": 2, "reasons": ["12345 投诉"]},
                               conversation_id=conversation.id)
    alerts = Alerts(d.store)
    assert alerts.get(d.supervisor, raised.id).state == "open"
    with pytest.raises(AuthError):
        alerts.acknowledge(d.agent, raised.id)
    alerts.acknowledge(d.supervisor, raised.id, "我来跟", ip="10.0.0.2")
    alerts.acknowledge(d.supervisor, raised.id)  # once only
    alerts.assign(d.supervisor, raised.id, d.agent.user_id, ip="10.0.0.2")
    done = alerts.resolve(d.supervisor, raised.id, "已回电", ip="10.0.0.2")
    alerts.resolve(d.supervisor, raised.id)
    assert done.state == "resolved" and done.resolved_by == "user:sup1" and done.resolved_at is not None
    assert [a.event.id for a in alerts.list(d.supervisor, state="resolved")] == [raised.id]
    admin = Principal(tenant_id=d.tenant.id, role="admin", user_id=None, name="svc-admin")
    log = d.store.list_audit(admin, action="alert.").items
    assert sorted(e.action for e in log) == ["alert.acknowledged", "alert.assigned", "alert.resolved"]
    assert all(e.actor == "user:sup1" and e.target == f"alert:{raised.id}" and e.ip == "10.0.0.2" and e.at
               for e in log)
