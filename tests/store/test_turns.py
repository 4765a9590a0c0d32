"""`Store.append_turn`: the live path's one durable transaction (message + assessment +
events), on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from anfu.errors import AuthError, InputError, NotFoundError
from anfu.store import Principal, Store


def _setup(store: Store) -> tuple[Any, Any, Principal]:
    tenant = store.create_tenant("turns", "实时租户")
    team = store.create_team(tenant.id, "客服一组")
    agent = store.create_user(tenant.id, "zhang", "x", "agent", team_id=team.id)
    conv = store.create_conversation(tenant.id, channel="webchat", team_id=team.id, agent_id=agent.id)
    return tenant, conv, Principal.of_user(agent)


def _assess(level: int, seen: list[Any]) -> Any:
    def assess(conversation: Any, messages: list[Any]) -> Any:
        seen.append(([m.text for m in messages], conversation.escalation_level))
        data = {"id": str(conversation.id), "turns": [{"speaker": m.speaker, "emotion": "angry", "intensity": 3}
                                                     for m in messages],
                "escalation": {"level": level, "reasons": ["threat"]}}
        events = [("escalation.raised", {"level": level, "seq": messages[-1].seq})] \
            if level > conversation.escalation_level else []
        return data, events
    return assess


def test_one_transaction_with_window_and_events(store: Store) -> None:
    tenant, conv, agent = _setup(store)
    seen: list[Any] = []
    first = store.append_turn(conv.id, "customer", "停电三个小时了，到底什么时候来电？", _assess(0, seen),
                              client_msg_id="t-1", by=agent, window=2)
    assert first.created and first.message.seq == 1 and first.events == []
    second = store.append_turn(conv.id, "customer", "再不来人我就打12398投诉！", _assess(2, seen),
                               client_msg_id="t-2", by=agent, window=2)
    third = store.append_turn(conv.id, "agent", "非常抱歉，抢修人员已出发。", _assess(2, seen),
                              client_msg_id="t-3", by=agent, window=2)
    # the window holds the latest messages with the new one last; the level before the turn
    assert seen[1] == (["停电三个小时了，到底什么时候来电？", "再不来人我就打12398投诉！"], 0)
    assert seen[2] == (["再不来人我就打12398投诉！", "非常抱歉，抢修人员已出发。"], 2)
    assert second.previous_level == 0 and second.conversation.escalation_level == 2
    assert [e.name for e in second.events] == ["escalation.raised"] and third.events == []
    assert second.assessment is not None and second.assessment.upto_seq == 2
    assert [e.name for e in store.list_events(agent, conversation_id=conv.id)] == ["escalation.raised"]
    assert [a.upto_seq for a in store.list_assessments(conv.id)] == [1, 2, 3]
    assert store.get_conversation(conv.id).last_seq == 3


def test_retry_writes_nothing_and_returns_the_stored_assessment(store: Store) -> None:
    _, conv, agent = _setup(store)
    store.append_turn(conv.id, "customer", "退款十天了还没到账。", _assess(1, []), client_msg_id="r-1", by=agent)
    again = store.append_turn(conv.id, "customer", "退款十天了还没到账。", _assess(3, []), client_msg_id="r-1",
                              by=agent)
    assert not again.created and again.message.seq == 1 and again.events == []
    assert again.assessment is not None and again.assessment.data["escalation"]["level"] == 1
    assert len(store.list_messages(conv.id)) == 1 and len(store.list_assessments(conv.id)) == 1


def test_a_failing_analysis_stores_nothing(store: Store) -> None:
    _, conv, agent = _setup(store)

    def broken(conversation: Any, messages: list[Any]) -> Any:
        raise InputError("AF004")

    with pytest.raises(InputError):
        store.append_turn(conv.id, "customer", "宽带又断了！", broken, client_msg_id="f-1", by=agent)
    assert store.list_messages(conv.id) == [] and store.get_conversation(conv.id).last_seq == 0
    with pytest.raises(InputError):  # a bad event name from the analysis is refused too
        store.append_turn(conv.id, "customer", "宽带又断了！", lambda c, m: ({"turns": []}, [("Bad Name", {})]),
                          client_msg_id="f-2", by=agent)
    assert store.list_messages(conv.id) == []


def test_access_is_checked_in_the_transaction(store: Store) -> None:
    tenant, conv, agent = _setup(store)
    other = store.create_user(tenant.id, "li", "x", "agent")
    with pytest.raises(NotFoundError):
        store.append_turn(conv.id, "customer", "喂？", _assess(0, []), by=Principal.of_user(other))
    auditor = store.create_user(tenant.id, "audit", "x", "auditor")
    with pytest.raises(AuthError):
        store.append_turn(conv.id, "customer", "喂？", _assess(0, []), by=Principal.of_user(auditor))
    assert store.list_messages(conv.id) == []
