"""anfu.store.notify: LISTEN/NOTIFY between server processes (PostgreSQL only)."""

from __future__ import annotations

import json
import queue
import random
import secrets
from typing import Any

import pytest
from sqlalchemy import text

from anfu.store import make_engine
from anfu.store.notify import MAX_PAYLOAD, Notifier


@pytest.fixture
def schema_url(postgres_url: str) -> Any:
    schema = f"anfu_notify_{secrets.token_hex(4)}"
    admin = make_engine(url=postgres_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    from anfu.store import upgrade

    url = f"{postgres_url}{'&' if '?' in postgres_url else '?'}options=-csearch_path%3D{schema}"
    engine = make_engine(url=url)
    upgrade(engine)
    engine.dispose()
    yield url
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


def test_messages_reach_the_other_process_small_and_spilled(schema_url: str) -> None:
    """What one notifier publishes (a live turn in one statement without a transaction, a large
    message through the spill table) reaches the other's listener, and only the other's."""
    sender_engine, receiver_engine = make_engine(url=schema_url), make_engine(url=schema_url)
    try:
        sender, receiver = Notifier(sender_engine), Notifier(receiver_engine)
        assert sender.channel == receiver.channel
        got_there: queue.Queue[dict[str, Any]] = queue.Queue()
        got_here: queue.Queue[dict[str, Any]] = queue.Queue()
        receiver.start(got_there.put)
        sender.start(got_here.put)
        small = {"type": "turn", "text": "停电三天了还没人来修，你们到底管不管？"}
        # random characters do not compress: this one must go through the spill table
        rng = random.Random(15)
        big = {"type": "turn", "text": "".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(MAX_PAYLOAD))}
        sender.publish(small)
        sender.publish(big)
        first, second = got_there.get(timeout=10), got_there.get(timeout=10)
        assert (first["text"], second["text"]) == (small["text"], big["text"])
        with sender_engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM live_spill")).scalar() == 1
        assert got_here.empty()  # a process does not hear itself
        # the connection the small message used went back to the pool as a normal one: a
        # transaction on it still rolls back
        with sender_engine.connect() as conn:
            conn.execute(text("CREATE TEMP TABLE t_notify (x int)"))
            conn.execute(text("INSERT INTO t_notify VALUES (1)"))
            conn.rollback()
            assert conn.execute(text("SELECT to_regclass('pg_temp.t_notify')")).scalar() is None
    finally:
        sender_engine.dispose()
        receiver_engine.dispose()


def test_a_burst_arrives_whole_and_in_order_equal_messages_included(schema_url: str) -> None:
    """Publishing only queues: the sender thread sends a burst in batches, in order, and two
    equal messages (a customer who sends "在吗？" twice) both arrive: PostgreSQL folds equal
    notifications of one transaction, so each message carries its own number."""
    sender_engine, receiver_engine = make_engine(url=schema_url), make_engine(url=schema_url)
    try:
        sender, receiver = Notifier(sender_engine), Notifier(receiver_engine)
        got: queue.Queue[dict[str, Any]] = queue.Queue()
        receiver.start(got.put)
        texts = ["在吗？", "在吗？", *(f"第{i}次催单，订单号6088{i:04d}还没发货" for i in range(150)), "在吗？"]
        for text_ in texts:
            sender.publish({"type": "turn", "text": text_})
        assert sender.flush(10)
        received = [got.get(timeout=10)["text"] for _ in texts]
        assert received == texts
        assert got.empty()
    finally:
        sender_engine.dispose()
        receiver_engine.dispose()


def test_a_live_turn_over_the_limit_travels_compressed_not_spilled(schema_url: str) -> None:
    """Issue 15: a live turn's message is about 9 KB of JSON (the assessment with its 话术), over
    NOTIFY's limit; it is sent compressed in the one NOTIFY statement, without the spill table's
    transaction, INSERT and the receivers' SELECT, and arrives equal."""
    sender_engine, receiver_engine = make_engine(url=schema_url), make_engine(url=schema_url)
    try:
        sender, receiver = Notifier(sender_engine), Notifier(receiver_engine)
        got: queue.Queue[dict[str, Any]] = queue.Queue()
        receiver.start(got.put)
        suggestions = [{"text": f"非常理解您的心情，给您带来不便真的很抱歉。我马上为您查询订单{i}的物流进度，"
                                f"二十分钟内给您回电，请您保持电话畅通。", "why": ["先共情", "给出时限"], "score": 0.9 - i / 100}
                       for i in range(40)]
        turn = {"type": "turn", "message": {"text": "快递五天了还没到，你们到底管不管？"},
                "assessment": {"emotion": "angry", "intensity": 3, "suggestions": suggestions}}
        assert len(json.dumps(turn, ensure_ascii=False).encode("utf-8")) > MAX_PAYLOAD
        sent: list[str] = []
        original = sender._send

        def spy(bodies: list[str]) -> None:
            sent.extend(bodies)
            original(bodies)

        sender._send = spy  # type: ignore[method-assign]
        sender.publish(turn)
        arrived = got.get(timeout=10)
        assert {k: arrived[k] for k in turn} == turn
        assert len(sent) == 1 and sender._fit(sent[0]) is not None and sender._fit(sent[0]) != sent[0]
        with sender_engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM live_spill")).scalar() == 0
    finally:
        sender_engine.dispose()
        receiver_engine.dispose()
