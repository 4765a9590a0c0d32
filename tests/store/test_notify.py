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


def test_a_process_with_nobody_connected_does_not_unpack_messages(schema_url: str) -> None:
    """Issue 15: every turn of every other process reaches each listener, compressed. While the
    receiving hub has no subscriber (`unwanted()`), a message is dropped before it is unpacked
    (or read from the spill table); as soon as someone is connected, messages arrive again.
    `ClusterHub` drops them as fanned out to nobody: each still takes its `hub_seq`."""
    from anfu.service.fanout import ClusterHub

    sender_engine, receiver_engine = make_engine(url=schema_url), make_engine(url=schema_url)
    try:
        sender, receiver = Notifier(sender_engine), Notifier(receiver_engine)
        nobody = [True]
        asked: queue.Queue[bool] = queue.Queue()

        def unwanted() -> bool:
            asked.put(nobody[0])
            return nobody[0]

        got: queue.Queue[dict[str, Any]] = queue.Queue()
        receiver.start(got.put, unwanted=unwanted)
        unpacked: list[str] = []
        original = json.loads

        def counting_loads(raw: Any, *args: Any, **kwargs: Any) -> Any:
            unpacked.append(raw if isinstance(raw, str) else raw.decode())
            return original(raw, *args, **kwargs)

        big = {"type": "turn", "text": "快递五天了还没到，你们到底管不管？" * 400}  # compressed on the way
        import anfu.store.notify as notify

        notify.json.loads = counting_loads  # type: ignore[attr-defined]
        try:
            sender.publish(big)
            sender.publish({"type": "turn", "text": "在吗？"})
            assert sender.flush(10)
            assert [asked.get(timeout=10), asked.get(timeout=10)] == [True, True]  # both dropped
            marker = {"type": "turn", "text": "marker"}
            nobody[0] = False
            sender.publish(marker)
            assert got.get(timeout=10)["text"] == "marker"  # the first two were dropped, in order
            assert got.empty()
            # only the envelopes were parsed while nobody listened: nothing was decompressed
            assert not any("快递五天" in raw for raw in unpacked)
            sender.publish(big)
            assert got.get(timeout=10)["text"] == big["text"]
        finally:
            notify.json.loads = original  # type: ignore[attr-defined]

        hub = ClusterHub.__new__(ClusterHub)
        from anfu.service.live import Hub

        Hub.__init__(hub)
        assert hub._idle() and hub._idle()  # two messages fanned out to nobody
        assert next(hub._seq) == 3
    finally:
        sender_engine.dispose()
        receiver_engine.dispose()


def test_a_turn_is_compressed_fast_unless_only_the_tight_level_fits(schema_url: str) -> None:
    """Issue 15: a payload over the limit is compressed at zlib level 1 (half the CPU of level 6);
    one that fits only at level 6 still travels compressed, as before, not through the spill table."""
    import base64
    import zlib

    engine = make_engine(url=schema_url)
    try:
        notifier = Notifier(engine)
        words = ["退款", "快递", "投诉", "经理", "电话", "订单", "物流", "态度", "赔偿", "解决"]

        def packed(raw: bytes, level: int) -> int:
            return len(json.dumps({"origin": notifier.origin, "z": base64.b64encode(zlib.compress(raw, level)).decode()}))

        levels = []
        for n in (1000, 2400, 4000, 5000):  # fits at level 1 (twice); at level 6 only; not at all
            rng = random.Random(15)
            body = json.dumps({"text": "".join(rng.choice(words) + rng.choice("，。！？") for _ in range(n))},
                              ensure_ascii=False)
            raw = body.encode("utf-8")
            assert len(raw) > MAX_PAYLOAD
            fitted = notifier._fit(body)
            if packed(raw, 6) > MAX_PAYLOAD:
                assert fitted is None  # the spill table's, as before
                levels.append(None)
                continue
            assert fitted is not None and len(fitted) <= MAX_PAYLOAD  # what fitted before fits
            assert zlib.decompress(base64.b64decode(json.loads(fitted)["z"])) == raw
            levels.append(1 if packed(raw, 1) <= MAX_PAYLOAD else 6)
            assert len(fitted) == packed(raw, levels[-1])
        assert levels == [1, 1, 6, None]
    finally:
        engine.dispose()
