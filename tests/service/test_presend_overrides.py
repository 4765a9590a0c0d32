"""anfu.service.presend_overrides: sends the pre-send check stopped and sends confirmed anyway,
stored as events and reported per rule, within what the reader may see (issue 10)."""

from __future__ import annotations

import pytest

from anfu.errors import AuthError
from anfu.service.presend import check_draft
from anfu.service.presend_overrides import SENT_EVENT, must_fix, override_rates, record_blocked
from anfu.store import Principal

CUSTOMER = "我家停电三天了，报修两次都没人来，你们到底管不管？"
POLICY = "这是我们公司的规定，抢修要排队，您再等等吧。"       # fp.policy_wall, must fix
NOT_MINE = "这个不归我们管，您去找物业吧。"                  # buck-passing, must fix


def _sent(store, conversation, actor: str, check: dict) -> None:
    """What the console records when the agent ticks "仍要发送" (anfu.server.web.console)."""
    store.add_event(conversation.tenant_id, SENT_EVENT,
                    {"message_id": 1, "rules": [f["rule_id"] for f in must_fix(check)], "by": actor},
                    conversation_id=conversation.id)


def _check(draft: str) -> dict:
    check = check_draft(draft, None, CUSTOMER, [("customer", CUSTOMER)])
    assert check["violation"], check
    return check


def test_rates_per_rule_from_stopped_and_confirmed_sends(service_store) -> None:
    d = service_store
    conv = d.store.create_conversation(d.tenant.id, team_id=d.team.id, agent_id=d.agent.user_id)
    policy, passing = _check(POLICY), _check(NOT_MINE)
    policy_rules = {f["rule_id"] for f in must_fix(policy)}
    passing_rules = {f["rule_id"] for f in must_fix(passing)} - policy_rules
    assert policy_rules and passing_rules
    # the policy wording is stopped three times, sent anyway once; the buck-passing one stopped
    # twice and sent anyway both times (a noisy rule, or agents who do not read)
    for _ in range(3):
        record_blocked(d.store, conv, "agent1", policy)
    _sent(d.store, conv, "agent1", policy)
    for _ in range(2):
        record_blocked(d.store, conv, "agent1", passing)
        _sent(d.store, conv, "agent1", passing)
    rows = {r.rule_id: r for r in override_rates(d.store, d.supervisor)}
    for rule in policy_rules:
        assert (rows[rule].blocked, rows[rule].sent_anyway) == (3, 1)
        assert rows[rule].rate == pytest.approx(1 / 3)
    for rule in passing_rules:
        assert (rows[rule].blocked, rows[rule].sent_anyway, rows[rule].rate) == (2, 2, 1.0)
    ordered = [r.rule_id for r in override_rates(d.store, d.supervisor)]
    assert ordered.index(next(iter(passing_rules))) < ordered.index(next(iter(policy_rules)))  # noisiest first
    row = rows[next(iter(policy_rules))]
    assert row.category and row.category_name and row.to_dict()["rate"] == 0.333


def test_a_clean_reply_records_nothing(service_store) -> None:
    d = service_store
    conv = d.store.create_conversation(d.tenant.id, team_id=d.team.id, agent_id=d.agent.user_id)
    clean = check_draft("非常抱歉让您久等了，我已为您加急派单，抢修师傅30分钟内联系您。", None, CUSTOMER,
                        [("customer", CUSTOMER)])
    assert not clean["violation"]
    record_blocked(d.store, conv, "agent1", clean)
    assert override_rates(d.store, d.supervisor) == []


def test_agents_and_auditors_may_not_read_the_rates(service_store) -> None:
    d = service_store
    auditor = Principal.of_user(d.store.create_user(d.tenant.id, "qa1", "x", "auditor"))
    for principal in (d.agent, auditor):
        with pytest.raises(AuthError) as err:
            override_rates(d.store, principal)
        assert err.value.code == "AF417"


def test_a_supervisor_sees_their_team_an_admin_the_tenant_nobody_another_tenant(service_store) -> None:
    d = service_store
    other_team = d.store.create_team(d.tenant.id, "二组")
    other_agent = d.store.create_user(d.tenant.id, "agent2", "x", "agent", team_id=other_team.id)
    admin = Principal.of_user(d.store.create_user(d.tenant.id, "admin1", "x", "admin"))
    ours = d.store.create_conversation(d.tenant.id, team_id=d.team.id, agent_id=d.agent.user_id)
    theirs = d.store.create_conversation(d.tenant.id, team_id=other_team.id, agent_id=other_agent.id)
    policy = _check(POLICY)
    record_blocked(d.store, ours, "agent1", policy)
    record_blocked(d.store, theirs, "agent2", policy)
    record_blocked(d.store, theirs, "agent2", policy)
    rule = must_fix(policy)[0]["rule_id"]
    assert {r.rule_id: r.blocked for r in override_rates(d.store, d.supervisor)}[rule] == 1
    assert {r.rule_id: r.blocked for r in override_rates(d.store, admin)}[rule] == 3
    tenant2 = d.store.create_tenant("other", "另一家公司")
    admin2 = Principal.of_user(d.store.create_user(tenant2.id, "admin2", "x", "admin"))
    assert override_rates(d.store, admin2) == []
