"""`Store.append_turn`: the live path's one durable transaction (message + assessment +
events), on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from anfu.errors import AuthError, InputError, NotFoundError, StoreError
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


def _statements(store: Store) -> list[str]:
    """Every SQL statement the store's engine sends from now on (first words, normalised)."""
    from sqlalchemy import event

    sent: list[str] = []

    @event.listens_for(store.engine, "before_cursor_execute")
    def _sent(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        words = " ".join(statement.split())
        if not words.upper().startswith(("BEGIN", "PRAGMA")):
            sent.append(words)

    return sent


def _kind(statement: str) -> str:
    words = statement.replace('"', "").split()
    verb = words[0].upper()
    if verb == "WITH":  # PostgreSQL's combined statements: what each of their parts writes, in order
        words = [w.lstrip("(") for w in words]
        return " + ".join(f"INSERT {words[i + 2]}" if w == "INSERT" else f"UPDATE {words[i + 1]}"
                          for i, w in enumerate(words) if w == "INSERT" or w == "UPDATE" and words[i - 1] != "DO")
    if verb == "INSERT":
        return f"INSERT {words[2]}"
    if verb == "UPDATE":
        return f"UPDATE {words[1]}"
    return f"SELECT {words[words.index('FROM') + 1]}" if "FROM" in words else statement


# what a new turn writes after its analysis: PostgreSQL puts it in one statement
_RECORD = {"sqlite": ["INSERT assessments", "UPDATE conversations", "INSERT conversation_facts", "INSERT turn_facts"],
           "postgresql": ["UPDATE conversations + INSERT conversation_facts + INSERT assessments + INSERT turn_facts"]}
# the message and its search document: PostgreSQL inserts both in one statement
_MESSAGE = {"sqlite": ["INSERT messages", "INSERT search_documents"],
            "postgresql": ["INSERT messages + INSERT search_documents"]}


def test_a_turns_statements_and_a_retry_writes_nothing(store: Store) -> None:
    """The live turn's statements (issue 15): the locked conversation, the message (its INSERT
    is the idempotency check: ON CONFLICT DO NOTHING on the tenant's client_msg_id), its search
    document, the window (unless this process wrote the previous turn: `anfu.store.windows`),
    the assessment, ONE update of the conversation and the two facts upserts, plus one INSERT
    for the events when there are any. No read of what the turn wrote. SQLite runs eight
    statements; PostgreSQL four, the message with its document and the assessment with what
    follows from it being one statement each (data-modifying CTEs)."""
    dialect = store.engine.dialect.name
    _, conv, agent = _setup(store)
    store.append_turn(conv.id, "customer", "停电三个小时了，到底什么时候来电？", _assess(0, []),
                      client_msg_id="s-1", by=agent)
    fresh = Store(store.engine)  # another process: it did not write the previous turn
    sent = _statements(fresh)
    written = fresh.append_turn(conv.id, "customer", "你们就是在敷衍我！再不来人我就投诉到12398！",
                                _assess(0, []), client_msg_id="s-2", by=agent)
    assert written.created and written.events == []
    assert [_kind(s) for s in sent] == [
        "SELECT conversations", *_MESSAGE[dialect], "SELECT messages", *_RECORD[dialect]]
    assert "FOR UPDATE" in sent[0] or store.engine.dialect.name == "sqlite"
    assert "ON CONFLICT" in sent[1]
    sent.clear()
    raised = fresh.append_turn(conv.id, "customer", "我要投诉你们！叫你们领导来！", _assess(2, []),
                               client_msg_id="s-3", by=agent)
    assert [e.name for e in raised.events] == ["escalation.raised"]
    assert [_kind(s) for s in sent] == [
        "SELECT conversations", *_MESSAGE[dialect],  # the window is known here
        *({"sqlite": ["INSERT assessments", "INSERT events", "UPDATE conversations", "INSERT conversation_facts",
                      "INSERT turn_facts"],
           "postgresql": [*_RECORD[dialect], "INSERT events"]}[dialect])]
    sent.clear()
    again = fresh.append_turn(conv.id, "customer", "你们就是在敷衍我！再不来人我就投诉到12398！",
                              _assess(3, []), client_msg_id="s-2", by=agent)
    assert not again.created and again.message.id == written.message.id and again.events == []
    assert not any(_kind(s).startswith(("UPDATE", "INSERT search", "INSERT assess", "INSERT ev", "INSERT conv",
                                        "INSERT turn")) for s in sent)
    assert [m.seq for m in store.list_messages(conv.id)] == [1, 2, 3]
    assert store.get_conversation(conv.id).last_seq == 3


def test_what_a_turn_returns_is_what_it_stored(store: Store) -> None:
    """The records a turn returns are built from what it wrote (no read back): they equal the
    stored rows: conversation after the turn, message, assessment and events with their ids."""
    _, conv, agent = _setup(store)
    store.append_turn(conv.id, "customer", "宽带断了两天了，报修三次都没人来。", _assess(1, []),
                      client_msg_id="w-1", by=agent)
    written = store.append_turn(conv.id, "customer", "今天再不修好我就去工信部投诉！", _assess(3, []),
                                client_msg_id="w-2", by=agent)
    assert written.conversation == store.get_conversation(conv.id)
    assert written.conversation.escalation_level == 3 and written.previous_level == 1
    assert written.conversation.updated_at == written.message.received_at
    assert written.message == store.list_messages(conv.id)[-1]
    assert written.assessment == store.list_assessments(conv.id)[-1]
    stored_events = store.list_events(agent, conversation_id=conv.id)
    assert [(e.id, e.name, e.payload) for e in written.events] == \
        [(e.id, e.name, e.payload) for e in stored_events if e.id in {w.id for w in written.events}]


def test_a_read_only_retry_is_answered_and_a_new_message_refused(store: Store) -> None:
    """An auditor may not write, but a retry of a stored message still gets it back (the
    idempotency answer does not depend on the write check), as before issue 15."""
    tenant, conv, agent = _setup(store)
    store.append_turn(conv.id, "customer", "我的快递显示签收了，但我根本没收到！", _assess(0, []),
                      client_msg_id="a-1", by=agent)
    auditor = Principal.of_user(store.create_user(tenant.id, "audit", "x", "auditor"))
    again = store.append_turn(conv.id, "customer", "我的快递显示签收了，但我根本没收到！", _assess(0, []),
                              client_msg_id="a-1", by=auditor)
    assert not again.created and again.message.seq == 1
    with pytest.raises(AuthError):
        store.append_turn(conv.id, "customer", "喂？", _assess(0, []), client_msg_id="a-2", by=auditor)
    message, created = store.append_message(conv.id, "customer", "我的快递显示签收了，但我根本没收到！",
                                            client_msg_id="a-1", by=auditor)
    assert not created and message.seq == 1
    assert len(store.list_messages(conv.id)) == 1


def test_a_client_msg_id_of_another_conversation_is_refused(store: Store) -> None:
    tenant, conv, agent = _setup(store)
    other = store.create_conversation(tenant.id, channel="webchat", team_id=conv.team_id, agent_id=agent.user_id)
    store.append_turn(conv.id, "customer", "退款什么时候到？", _assess(0, []), client_msg_id="x-1", by=agent)
    with pytest.raises(StoreError) as refused:
        store.append_turn(other.id, "customer", "退款什么时候到？", _assess(0, []), client_msg_id="x-1", by=agent)
    assert refused.value.code == "AF505"
    assert store.list_messages(other.id) == [] and store.get_conversation(other.id).last_seq == 0


def test_concurrent_retries_store_one_message(store: Store) -> None:
    """Issue 15: the INSERT … ON CONFLICT DO NOTHING is the idempotency check, also under
    concurrency: eight deliveries of the same client_msg_id at once (a helpdesk retrying on a
    timeout) and one with the same id in another conversation store ONE message, ONE assessment,
    and every other delivery gets that message back (or AF505 in the other conversation)."""
    import threading

    tenant, conv, agent = _setup(store)
    other = store.create_conversation(tenant.id, channel="webchat", team_id=conv.team_id, agent_id=agent.user_id)
    text = "我已经等了四十分钟了，你们的客服电话一直打不通！"
    start = threading.Barrier(9)
    results: list[Any] = []
    lock = threading.Lock()

    def deliver(conversation_id: int) -> None:
        start.wait()
        try:
            outcome: Any = store.append_turn(conversation_id, "customer", text, _assess(1, []),
                                             client_msg_id="dup-1", by=agent)
        except StoreError as exc:
            outcome = exc
        with lock:
            results.append((conversation_id, outcome))

    threads = [threading.Thread(target=deliver, args=(conv.id,)) for _ in range(8)]
    threads.append(threading.Thread(target=deliver, args=(other.id,)))
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results) == 9
    written = [r for _, r in results if not isinstance(r, StoreError)]
    refused = [(c, r) for c, r in results if isinstance(r, StoreError)]
    assert sum(1 for r in written if r.created) == 1
    winner = next(r for r in written if r.created)
    assert all(r.message.id == winner.message.id for r in written)
    assert all(r.code == "AF505" and c != winner.message.conversation_id for c, r in refused)
    stored = store.list_messages(conv.id) + store.list_messages(other.id)
    assert [m.id for m in stored] == [winner.message.id]
    assert len(store.list_assessments(winner.message.conversation_id)) == 1
    assert store.get_conversation(conv.id).last_seq + store.get_conversation(other.id).last_seq == 1
