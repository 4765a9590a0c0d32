"""The turn service (anfu.service.turns): one locked transaction per turn driven from the
service (no callback from the store), and one owner of the escalation level, which never
falls back mid-conversation (issue 11)."""

from __future__ import annotations

from typing import Any

import pytest

from anfu.errors import StoreError
from anfu.service.turns import LIVE_WINDOW, TurnService, hold_level, ladder_level


def _conversation(d: Any) -> Any:
    return d.store.create_conversation(d.tenant.id, channel="webchat", team_id=d.team.id, agent_id=d.agent.user_id)


def test_level_never_falls_back_after_calm_turns(service_store: Any, analyzer: Any) -> None:
    d = service_store
    service = TurnService(d.store, analyzer, d.hub)
    conv = _conversation(d)
    first = service.add_turn(d.agent, conv, "customer", "再不来人我就打12345投诉！")
    assert first.conversation.escalation_level == 1
    assert [e.name for e in first.events] == ["escalation.raised"]
    # more calm turns than the live window holds: the threat leaves the analysed window
    for i in range(LIVE_WINDOW + 4):
        speaker, text = ("agent", "非常抱歉，我们马上为您处理。") if i % 2 else ("customer", "好的，知道了。")
        result = service.add_turn(d.agent, conv, speaker, text)
        assert result.conversation.escalation_level == 1, f"level fell back at turn {i + 2}"
        assert result.live["escalation"]["level"] == 1
    # a new threat of the same level raises nothing again (it was 0 -> 1 before the fix)
    again = service.add_turn(d.agent, conv, "customer", "你们到底管不管？我要打12345投诉你们！")
    assert again.conversation.escalation_level == 1
    assert [e for e in again.events if e.name == "escalation.raised"] == []
    raised = d.store.list_events(d.supervisor, name="escalation.raised", conversation_id=conv.id)
    assert len(raised) == 1
    stored = d.store.latest_assessment(conv.id)
    assert stored.escalation_level == 1 and stored.data["escalation"]["level"] == 1


def test_ladder_level_and_hold() -> None:
    assert ladder_level(2, 0) == 2 and ladder_level(1, 3) == 3 and ladder_level(0, 0) == 0
    data = {"escalation": {"level": 0, "reasons": []}}
    held = hold_level(data, 2)
    assert held["escalation"]["level"] == 2 and "不回落" in held["escalation"]["reasons"][-1]
    labelled = hold_level({"escalation": {"level": 0, "label": "坐席自行处理", "reasons": []}}, 1)
    assert labelled["escalation"]["label"] == "通知班长"
    assert hold_level({"escalation": {"level": 3, "reasons": ["x"]}}, 2)["escalation"]["level"] == 3


def test_open_turn_without_record_stores_nothing(service_store: Any) -> None:
    d = service_store
    conv = _conversation(d)
    with pytest.raises(StoreError) as err:
        with d.store.open_turn(conv.id, "customer", "宽带又断了！", client_msg_id="x-1", by=d.agent) as turn:
            assert turn.created and turn.window[-1].text == "宽带又断了！"
    assert err.value.code == "AF505"
    assert d.store.list_messages(conv.id) == []
    assert d.store.get_conversation(conv.id).last_seq == 0


def test_open_turn_retry_writes_nothing(service_store: Any, analyzer: Any) -> None:
    d = service_store
    service = TurnService(d.store, analyzer, d.hub)
    conv = _conversation(d)
    first = service.add_turn(d.agent, conv, "customer", "退款十天了还没到账。", client_msg_id="r-1")
    again = service.add_turn(d.agent, conv, "customer", "退款十天了还没到账。", client_msg_id="r-1")
    assert first.created and not again.created and again.message.id == first.message.id
    assert again.live is not None and again.events == []
    assert len(d.store.list_messages(conv.id)) == 1


def test_listeners_hear_committed_events(service_store: Any, analyzer: Any) -> None:
    d = service_store
    heard: list[tuple[int, str, dict]] = []
    service = TurnService(d.store, analyzer, d.hub, listeners=[lambda t, n, p: heard.append((t, n, p))])
    conv = _conversation(d)
    service.add_turn(d.agent, conv, "customer", "再不来人我就打12345投诉！")
    assert [(t, n) for t, n, _ in heard] == [(d.tenant.id, "escalation.raised")]
    assert heard[0][2]["conversation_id"] == conv.id and heard[0][2]["level"] == 1


def test_stored_unknown_industry_falls_back_to_generic(service_store: Any, analyzer: Any) -> None:
    """A conversation whose industry has no pack (e.g. "water", stored before the edge checked
    it, or a pack removed since) still stores and analyses every turn (generic pack), and no
    error names a server path."""
    d = service_store
    service = TurnService(d.store, analyzer, d.hub)
    conv = d.store.create_conversation(d.tenant.id, channel="webchat", team_id=d.team.id,
                                       agent_id=d.agent.user_id, industry="water")
    result = service.add_turn(d.agent, conv, "customer", "小区停水一整天了，到底什么时候来水？")
    assert result.created and result.live["emotion"] is not None
    assert d.store.latest_assessment(conv.id) is not None and len(d.store.list_messages(conv.id)) == 1
