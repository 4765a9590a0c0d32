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


def _count(monkeypatch: Any, store: Any, name: str) -> list[int]:
    calls = [0]
    original = getattr(store, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return original(*args, **kwargs)
    monkeypatch.setattr(store, name, counted)
    return calls


def test_ingest_resolves_a_chat_once_and_upserts_its_customer_once(service_store: Any, analyzer: Any,
                                                                    monkeypatch: Any) -> None:
    """`POST /messages` (TurnService.ingest): the later messages of a chat do no customer upsert
    and no conversation lookup before their turn; new customer hints are upserted again."""
    from anfu.channels.base import CustomerHints

    d = service_store
    service = TurnService(d.store, analyzer, d.hub)
    upserts = _count(monkeypatch, d.store, "_upsert_customer_row")
    lookups = _count(monkeypatch, d.store, "open_conversation")
    hints = CustomerHints(name="王女士", phone="13912345678")
    lines = [("customer", "宽带又断了，这都第三次了！"), ("agent", "非常抱歉，我马上为您登记加急工单。"),
             ("customer", "再修不好我就去工信部投诉！")]
    results = [service.ingest(d.supervisor, speaker, text, conversation_ref="chatwoot:1:77", customer=hints,
                              client_msg_id=f"m{i}") for i, (speaker, text) in enumerate(lines)]
    assert upserts[0] == 1 and lookups[0] == 1
    assert len({r.conversation.id for r in results}) == 1
    assert [r.message.seq for r in results] == [1, 2, 3] and all(r.created for r in results)
    assert results[-1].live["escalation"]["level"] >= 1
    # the same chat now also names the customer's e-mail: one more upsert fills it in
    more = CustomerHints(name="王女士", phone="13912345678", email="wang@example.cn")
    fourth = service.ingest(d.supervisor, "customer", "我的邮箱是wang@example.cn，结果发我邮箱。",
                            conversation_ref="chatwoot:1:77", customer=more, client_msg_id="m3")
    assert upserts[0] == 2 and fourth.conversation.id == results[0].conversation.id
    customer = d.store.get_customer(fourth.conversation.customer_id)
    assert customer.email is not None and customer.phone is not None
    # a retry answers from the store and writes nothing
    again = service.ingest(d.supervisor, "customer", "我的邮箱是wang@example.cn，结果发我邮箱。",
                           conversation_ref="chatwoot:1:77", customer=more, client_msg_id="m3")
    assert not again.created and again.message.id == fourth.message.id and upserts[0] == 2


def test_ingest_after_the_conversation_was_erased_starts_a_new_one(service_store: Any, analyzer: Any) -> None:
    """A remembered conversation that was deleted (个人信息删除请求) is resolved afresh: the
    next message opens a new conversation and customer, as without the cache."""
    from anfu.channels.base import CustomerHints
    from anfu.store import Principal

    d = service_store
    service = TurnService(d.store, analyzer, d.hub)
    hints = CustomerHints(phone="13800001111")
    first = service.ingest(d.supervisor, "customer", "退款十天了还没到账。", conversation_ref="zammad:9",
                           customer=hints, client_msg_id="z1")
    admin = Principal.of_user(d.store.create_user(d.tenant.id, "admin1", "x", "admin"))
    d.store.delete_customer_data(first.conversation.customer_id, by=admin)
    second = service.ingest(d.supervisor, "customer", "我又来问退款的事了。", conversation_ref="zammad:9",
                            customer=hints, client_msg_id="z2")
    # (SQLite may hand out the freed ids again: compare what the conversation holds)
    assert second.created and second.message.seq == 1 and second.conversation.customer_id is not None
    assert [m.text for m in d.store.list_messages(second.conversation.id)] == ["我又来问退款的事了。"]


def test_ingest_cache_never_widens_access(service_store: Any, analyzer: Any) -> None:
    """An agent's remembered conversation, reassigned to another agent, is refused (AF503)
    exactly as without the cache, and nothing is stored for the refused message."""
    from anfu.errors import NotFoundError
    from anfu.store import Principal

    d = service_store
    service = TurnService(d.store, analyzer, d.hub)
    first = service.ingest(d.agent, "customer", "快递显示已签收，可我根本没收到。", conversation_ref="web:5",
                           client_msg_id="w1")
    other = d.store.create_user(d.tenant.id, "agent2", "x", "agent", team_id=d.team.id)
    d.store.update_conversation(first.conversation.id, by=d.supervisor, agent_id=other.id)
    with pytest.raises(NotFoundError) as caught:
        service.ingest(d.agent, "customer", "到底谁来负责？", conversation_ref="web:5", client_msg_id="w2")
    assert caught.value.code == "AF503"
    assert [m.seq for m in d.store.list_messages(first.conversation.id)] == [1]
    # the agent who has it now writes on as usual
    taken = service.ingest(Principal.of_user(other), "agent", "您好，我来为您跟进，马上联系快递核实。",
                           conversation_ref="web:5", client_msg_id="w3")
    assert taken.conversation.id == first.conversation.id and taken.message.seq == 2
