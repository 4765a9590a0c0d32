"""anfu.store.notify: LISTEN/NOTIFY between server processes (PostgreSQL only)."""

from __future__ import annotations

import queue
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
        big = {"type": "turn", "text": "我要投诉！" * (MAX_PAYLOAD // 5)}
        sender.publish(small)
        sender.publish(big)
        first, second = got_there.get(timeout=10), got_there.get(timeout=10)
        assert (first["text"], second["text"]) == (small["text"], big["text"])
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
