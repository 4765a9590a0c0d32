"""The "customer waiting" alert fires on time (issue 11): a scheduler job raises the ladder
once the customer's unanswered turn has waited as long as a wait rule says, without waiting
for the customer's next message; an agent reply stops the clock; nothing is raised twice."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from anfu.service.turns import TurnService
from anfu.service.waiting import WaitingWatch, wait_rules


def _setup(d: Any, analyzer: Any) -> tuple[TurnService, Any]:
    service = TurnService(d.store, analyzer, d.hub)
    conv = d.store.create_conversation(d.tenant.id, channel="webchat", team_id=d.team.id, agent_id=d.agent.user_id)
    return service, conv


def test_alert_on_time_from_the_unanswered_turn(service_store: Any, analyzer: Any) -> None:
    d = service_store
    service, conv = _setup(d, analyzer)
    start = datetime.now(timezone.utc) - timedelta(minutes=40)
    service.add_turn(d.agent, conv, "customer", "你好，我家停电了。", sent_at=start)
    service.add_turn(d.agent, conv, "agent", "您好，我帮您查一下。", sent_at=start + timedelta(minutes=1))
    service.add_turn(d.agent, conv, "customer", "查到了吗？", sent_at=start + timedelta(minutes=2))
    service.add_turn(d.agent, conv, "customer", "怎么没人回？", sent_at=start + timedelta(minutes=5))
    assert d.store.get_conversation(conv.id).escalation_level == 0
    heard: list[str] = []
    clock = {"now": start + timedelta(minutes=11)}  # 9 minutes after the first unanswered turn
    watch = WaitingWatch(d.store, d.hub, clock=lambda: clock["now"], listeners=[lambda t, n, p: heard.append(n)])
    assert watch.check() == []
    clock["now"] = start + timedelta(minutes=12, seconds=30)  # 10.5 minutes: the 10-minute rule
    raised = watch.check()
    assert len(raised) == 1 and raised[0].payload["level"] == 1 and raised[0].payload["wait_minutes"] == 10
    assert raised[0].payload["rule_id"] == "response_wait" and "等待" in raised[0].payload["reasons"][0]
    assert heard == ["escalation.raised"]
    assert d.store.get_conversation(conv.id).escalation_level == 1
    assert watch.check() == []  # once only
    clock["now"] = start + timedelta(minutes=33)  # 31 minutes: the 30-minute rule, level 2
    assert [e.payload["level"] for e in watch.check()] == [2]
    events = d.store.list_events(d.supervisor, name="escalation.raised", conversation_id=conv.id)
    assert [e.payload["level"] for e in events] == [1, 2]


def test_an_agent_reply_stops_the_clock(service_store: Any, analyzer: Any) -> None:
    d = service_store
    service, conv = _setup(d, analyzer)
    start = datetime.now(timezone.utc) - timedelta(minutes=30)
    service.add_turn(d.agent, conv, "customer", "我的快递到哪了？", sent_at=start)
    service.add_turn(d.agent, conv, "agent", "您好，已在派送中。", sent_at=start + timedelta(minutes=2))
    watch = WaitingWatch(d.store, d.hub, clock=lambda: start + timedelta(minutes=29))
    assert watch.check() == []
    closed = d.store.create_conversation(d.tenant.id, channel="webchat", team_id=d.team.id,
                                         agent_id=d.agent.user_id)
    service.add_turn(d.agent, closed, "customer", "在吗？", sent_at=start)
    d.store.update_conversation(closed.id, status="closed")
    assert watch.check() == []


def test_the_next_turn_does_not_raise_the_same_step_again(service_store: Any, analyzer: Any) -> None:
    d = service_store
    service, conv = _setup(d, analyzer)
    start = datetime.now(timezone.utc) - timedelta(minutes=15)
    service.add_turn(d.agent, conv, "customer", "请问电费怎么交？", sent_at=start)
    watch = WaitingWatch(d.store, d.hub, clock=lambda: start + timedelta(minutes=12))
    assert len(watch.check()) == 1
    later = service.add_turn(d.agent, conv, "customer", "还有人吗？", sent_at=start + timedelta(minutes=13))
    assert later.conversation.escalation_level == 1
    assert [e.name for e in later.events if e.name == "escalation.raised"] == []


def test_wait_rules_come_from_the_ladder_pack() -> None:
    rules = wait_rules()
    assert [(r.minutes, r.level) for r in rules] == sorted((r.minutes, r.level) for r in rules)
    assert rules and all(r.minutes > 0 and 1 <= r.level <= 3 for r in rules)
