"""`anfu.store.windows`: the live turn's window as this process remembers it (issue 15) is
used only when it equals the messages table; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from anfu.errors import InputError
from anfu.store import Principal, Store
from anfu.store.records import MessageRecord
from anfu.store.windows import RecentWindows

LINES = ["宽带断了两天了，报修三次都没人来。", "非常抱歉给您带来不便，我马上为您查询工单。", "你们每次都这么说！",
         "理解您的心情，师傅今天下午两点前上门。", "再不来我就打12300投诉！", "好的，我给您加急处理，并留下我的工号。"]


def _message(seq: int) -> MessageRecord:
    at = datetime(2026, 12, 6, 8, 0, seq, tzinfo=timezone.utc)
    return MessageRecord(id=100 + seq, tenant_id=1, conversation_id=7, seq=seq, speaker="customer",
                         text=LINES[seq % len(LINES)], masked=False, channel="webchat", client_msg_id=None,
                         sent_at=at, received_at=at)


def test_an_entry_is_used_only_for_the_same_conversation_and_newest_seq() -> None:
    created = datetime(2026, 12, 6, 8, 0, tzinfo=timezone.utc)
    recent = RecentWindows(size=2)
    recent.put(7, created, [_message(s) for s in range(1, 6)], keep=4)   # keeps seq 2..5
    assert [m.seq for m in recent.get(7, created, 5, 3)] == [3, 4, 5]
    assert [m.seq for m in recent.get(7, created, 5, 4)] == [2, 3, 4, 5]
    assert recent.get(7, created, 5, 5) is None          # more than it keeps
    assert recent.get(7, created, 6, 3) is None          # somebody else wrote seq 6
    assert recent.get(7, datetime(2026, 12, 7, tzinfo=timezone.utc), 5, 3) is None  # a reused id
    assert recent.get(7, created, 5, 0) == ()
    recent.put(8, created, [_message(1)], keep=4)         # a short conversation: all it has
    assert [m.seq for m in recent.get(8, created, 1, 15)] == [1]
    recent.put(9, created, [_message(1)], keep=4)         # size 2: the least recently used goes
    assert recent.get(7, created, 5, 3) is None and recent.get(8, created, 1, 1) is not None


def _setup(store: Store) -> tuple[Any, Any, Principal]:
    tenant = store.create_tenant("windows", "窗口租户")
    team = store.create_team(tenant.id, "客服一组")
    agent = store.create_user(tenant.id, "wang", "x", "agent", team_id=team.id)
    conv = store.create_conversation(tenant.id, channel="webchat", team_id=team.id, agent_id=agent.id)
    return tenant, conv, Principal.of_user(agent)


def _turn(store: Store, conv_id: int, text: str, by: Principal, seen: list[list[str]], window: int = 4,
          fail: bool = False) -> Any:
    def assess(conversation: Any, messages: list[Any]) -> Any:
        seen.append([m.text for m in messages])
        if fail:
            raise InputError("AF004")
        return {"turns": [{"speaker": m.speaker, "emotion": "angry", "intensity": 2} for m in messages],
                "escalation": {"level": 0}}, []
    return store.append_turn(conv_id, "customer", text, assess, by=by, window=window)


def test_the_window_always_equals_the_table(store: Store) -> None:
    """Whatever wrote in between (another process, an import, a turn that failed and stored
    nothing), each turn analyses exactly the latest messages the table holds."""
    _, conv, agent = _setup(store)
    other = Store(store.engine)  # a second server process on the same database
    seen: list[list[str]] = []
    texts: list[str] = []

    def check() -> None:
        stored = [m.text for m in store.list_messages(conv.id)]
        assert seen[-1] == stored[-4:] and stored == texts

    for i in range(12):
        text = f"第{i}次：{LINES[i % len(LINES)]}"
        writer = other if i in (5, 6) else store
        _turn(writer, conv.id, text, agent, seen)
        texts.append(text)
        check()
        if i == 8:   # an import appends without analysis
            store.append_message(conv.id, "agent", "系统：已为您转接人工。", by=agent)
            texts.append("系统：已为您转接人工。")
        if i == 9:   # a turn whose analysis fails stores nothing, and is not remembered
            with pytest.raises(InputError):
                _turn(store, conv.id, "这条不会被保存", agent, seen, fail=True)
    assert len(seen) == 13


def test_a_remembered_window_saves_the_read(store: Store) -> None:
    from sqlalchemy import event

    _, conv, agent = _setup(store)
    selects: list[str] = []

    @event.listens_for(store.engine, "before_cursor_execute")
    def _sent(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "FROM messages" in statement:
            selects.append(statement)

    seen: list[list[str]] = []
    for i in range(6):
        _turn(store, conv.id, LINES[i], agent, seen)
    assert selects == []   # the first turn has nothing to read, the others remember
    assert seen[-1] == LINES[2:6]
