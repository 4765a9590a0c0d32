"""Probe: the parts of the server that run across processes and in the background — the live
hub's PostgreSQL LISTEN/NOTIFY fan-out, the scheduler lease (background work once per cluster),
outgoing webhooks (SSRF, signatures, retries, timeouts, tenants) and the survey (回访) links —
attacked like an attacker and like a clumsy integrator would.

Nothing here contacts the internet: receivers are `httpx.MockTransport`s or small servers on
127.0.0.1, and DNS answers are monkeypatched (`socket.getaddrinfo`). Tests that need PostgreSQL
run only with ANFU_TEST_POSTGRES_URL (CI sets it). "Found by this probe" notes mark the tests
that reproduced a defect before it was fixed."""

from __future__ import annotations

import asyncio
import base64
import json
import random
import socket
import threading
import time
import zlib
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
from sqlalchemy import text

from anfu.service.webhooks import Webhooks, check_url, verify
from anfu.store.access import Principal
from anfu.store.testing import postgres_test_url
from tests.security import probe

CUSTOMER = "我的手机号是13812345678，停电三天了，再不修我就投诉！"
PHONE = "13812345678"
ANGRY = "停电三天了还没人来修，再不来人我就打12345投诉！"
PUBLIC_IP = "93.184.216.34"  # a public address (never contacted: the transport is mocked or refused)


# helpers ------------------------------------------------------------------------------------------
class Receiver:
    """An `httpx.MockTransport` handler that records what it was sent."""

    def __init__(self, answer: Any = 200) -> None:
        self.requests: list[httpx.Request] = []
        self.answer = answer
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        with self.lock:
            self.requests.append(request)
        return self.answer(request) if callable(self.answer) else httpx.Response(self.answer)

    def deliveries(self) -> list[str]:
        return [r.headers["X-Anfu-Delivery"] for r in self.requests]


def _hook(world: Any, who: str, url: str, events: list[str]) -> tuple[int, str]:
    reply = world.client(who).post("/api/v1/webhooks", json={"url": url, "events": events})
    assert reply.status_code == 201, reply.text
    return reply.json()["id"], reply.json()["secret"]


def _deliveries(world: Any, hook_id: int) -> list[tuple[str, str, int]]:
    with world.store.engine.connect() as conn:
        rows = conn.execute(text("SELECT event, state, attempts FROM webhook_deliveries WHERE webhook_id = :h "
                                 "ORDER BY id"), {"h": hook_id}).all()
    return [tuple(r) for r in rows]


def _drain(world: Any) -> None:
    """Fail every pending delivery left by an earlier test of the same world."""
    with world.store.engine.begin() as conn:
        conn.execute(text("UPDATE webhook_deliveries SET state = 'failed' WHERE state = 'pending'"))


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """`fake_dns[name] = [addresses]`: what `socket.getaddrinfo` answers for `name` (other names
    resolve as usual)."""
    answers: dict[str, list[str]] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name in answers:
            port_n = int(port or 0)
            out = []
            for address in answers[name]:
                family = socket.AF_INET6 if ":" in address else socket.AF_INET
                sockaddr = (address, port_n, 0, 0) if family == socket.AF_INET6 else (address, port_n)
                out.append((family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", sockaddr))
            return out
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


class LocalServer:
    """An HTTP receiver on 127.0.0.1 (what an attacker's SSRF would reach: an internal service)."""

    def __init__(self) -> None:
        self.hits: list[tuple[str, bytes]] = []
        hits = self.hits

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                hits.append((self.path, self.rfile.read(length)))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def local_server() -> Iterator[LocalServer]:
    server = LocalServer()
    yield server
    server.close()


# ==================================================================================================
# 1. the live hub's LISTEN/NOTIFY fan-out (PostgreSQL only)
# ==================================================================================================
@pytest.fixture(scope="module")
def pg_world(tmp_path_factory: pytest.TempPathFactory, analyzer: Any) -> Any:
    if postgres_test_url() is None:
        pytest.skip("ANFU_TEST_POSTGRES_URL is not set (.ci/run starts PostgreSQL and sets it)")
    from tests.security.conftest import _server_fixtures

    server = _server_fixtures()
    built = server.build_world(tmp_path_factory.mktemp("probe-cluster-pg"), analyzer, "postgresql",
                               store_masked_text=True, scheduler_interval_s=0)
    yield built
    server.drop_world(built)


@pytest.fixture
def other_process(pg_world: Any) -> Iterator[Any]:
    """A second server process's hub on the same database (its own engine and listener)."""
    from anfu.service.fanout import ClusterHub
    from anfu.store import make_engine
    from anfu.store.notify import Notifier

    engine = make_engine(url=pg_world.settings.database_url)
    hub = ClusterHub(Notifier(engine))
    yield hub
    hub.close()
    engine.dispose()


def _principal(world: Any, who: str) -> Principal:
    return Principal.of_user(world.users[who])


class _Conv:
    def __init__(self, world: Any, cid: int, team: str, agent: str) -> None:
        self.id = cid
        self.tenant_id = world.teams[team].tenant_id
        self.team_id = world.teams[team].id
        self.agent_id = world.users[agent].id
        self.taken_over_by = None


async def _collect(world: Any, hub: Any, publish: Any, subscribers: dict[str, tuple[str, set[int]]],
                   wait_s: float = 3.0) -> dict[str, list[dict[str, Any]]]:
    """Subscribe `subscribers` ({name: (kind, joined)}) to `hub`, run `publish()` in a thread,
    and return what each received within `wait_s`."""
    subs = {}
    for name, (kind, joined) in subscribers.items():
        sub = hub.subscribe(_principal(world, name), kind)
        sub.joined.update(joined)
        subs[name] = sub
    try:
        await asyncio.to_thread(publish)
        await asyncio.sleep(wait_s)
        out: dict[str, list[dict[str, Any]]] = {}
        for name, sub in subs.items():
            got = []
            while not sub.queue.empty():
                got.append(sub.queue.get_nowait())
            out[name] = got
        return out
    finally:
        for sub in subs.values():
            hub.unsubscribe(sub)


def test_fanout_reaches_exactly_whom_the_in_memory_hub_reaches(pg_world: Any, other_process: Any) -> None:
    """An alert, a turn and a control notice of tenant A's team 1 published in one process reach,
    in the other, exactly the subscribers the in-memory hub reaches: never tenant B (even one that
    'joined' the same conversation id), never another team's supervisor or another agent."""
    from anfu.service.live import Hub

    conv = _Conv(pg_world, 4242, "a1", "agent_a1")
    subscribers = {"sup_a1": ("supervisor", {4242}), "sup_a2": ("supervisor", {4242}),
                   "admin_a": ("supervisor", set()), "sup_b1": ("supervisor", {4242}),
                   "admin_b": ("supervisor", {4242}), "agent_a1": ("agent", set()),
                   "agent_a1b": ("agent", set()), "agent_b1": ("agent", {4242})}

    def publish_on(hub: Any) -> Any:
        def publish() -> None:
            hub.publish_alert(conv, {"type": "alert", "level": 2, "text": CUSTOMER, "conversation": {"id": 4242}})
            hub.publish_turn(conv, {"type": "turn", "message": {"text": CUSTOMER}})
            hub.publish_control(conv, {"type": "whisper", "conversation_id": 4242, "text": "先道歉，再给出抢修时限"})
            flush = getattr(getattr(hub, "notifier", None), "flush", None)
            if flush:
                assert flush()
        return publish

    memory = Hub()
    expected = asyncio.run(_collect(pg_world, memory, publish_on(memory), subscribers, 0.2))
    remote = asyncio.run(_collect(pg_world, other_process, publish_on(pg_world.ctx.hub), subscribers))
    kinds = {name: [m["type"] for m in got] for name, got in remote.items()}
    assert kinds == {name: [m["type"] for m in got] for name, got in expected.items()}
    assert kinds == {"sup_a1": ["alert", "turn", "whisper"], "sup_a2": [], "admin_a": ["alert", "whisper"],
                     "sup_b1": [], "admin_b": [], "agent_a1": ["whisper"], "agent_a1b": [], "agent_b1": []}


def test_fanout_carries_a_message_over_the_notify_limit_whole(pg_world: Any, other_process: Any) -> None:
    """A long customer message with many findings (over NOTIFY's 8,000 bytes even compressed)
    arrives in the other process whole."""
    rng = random.Random(8000)
    long_text = CUSTOMER + "".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(6000))
    findings = [{"kind": "threat", "span": [i, i + 4], "text": long_text[i:i + 4]} for i in range(0, 2000, 10)]
    conv = _Conv(pg_world, 4343, "a1", "agent_a1")
    message = {"type": "turn", "message": {"text": long_text}, "assessment": {"findings": findings}}

    def publish() -> None:
        pg_world.ctx.hub.publish_turn(conv, message)
        assert pg_world.ctx.hub.notifier.flush()

    got = asyncio.run(_collect(pg_world, other_process, publish, {"sup_a1": ("supervisor", {4343})}))["sup_a1"]
    assert len(got) == 1
    assert got[0]["message"]["text"] == long_text and got[0]["assessment"]["findings"] == findings


def _notify_raw(world: Any, channel: str, payloads: list[str]) -> None:
    import psycopg

    conninfo = world.store.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for payload in payloads:
            conn.execute("SELECT pg_notify(%s, %s)", (channel, payload))


def test_fanout_shrugs_off_forged_and_malformed_notifications(pg_world: Any, other_process: Any) -> None:
    """Anyone with database access can NOTIFY on the channel: garbage, half envelopes, a
    decompression of nonsense, a spill id that does not exist or is not a number. None is
    delivered, and the listener still delivers the next real message."""
    channel = other_process.notifier.channel
    conv = {"id": 4444, "tenant_id": pg_world.tenants["a"].id, "team_id": pg_world.teams["a1"].id,
            "agent_id": pg_world.users["agent_a1"].id, "taken_over_by": None}
    forged = [
        "not json at all", "[]", "null", "{}", json.dumps({"kind": "alert"}),
        json.dumps({"kind": "alert", "conversation": "4444", "message": {}}),
        json.dumps({"kind": "alert", "conversation": {**conv, "tenant_id": str(conv["tenant_id"])},
                    "message": {"type": "alert"}}),
        json.dumps({"kind": "alert", "conversation": {**conv, "extra": 1}, "message": ["not", "a", "dict"]}),
        json.dumps({"kind": "__class__", "conversation": conv, "message": {}}),
        json.dumps({"z": "!!!not base64!!!"}),
        json.dumps({"z": base64.b64encode(zlib.compress(b"[1, 2, 3]")).decode()}),
        json.dumps({"spill": 987654321}), json.dumps({"spill": "1 OR 1=1"}),
    ]

    async def run() -> list[dict[str, Any]]:
        sub = other_process.subscribe(_principal(pg_world, "sup_a1"), "supervisor")
        try:
            await asyncio.to_thread(_notify_raw, pg_world, channel, forged)
            await asyncio.sleep(1.0)

            def real() -> None:
                pg_world.ctx.hub.publish_alert(_Conv(pg_world, 4444, "a1", "agent_a1"),
                                               {"type": "alert", "level": 2, "text": "真实告警"})
                assert pg_world.ctx.hub.notifier.flush()
            await asyncio.to_thread(real)
            got = [await asyncio.wait_for(sub.queue.get(), 10)]
            await asyncio.sleep(0.5)
            while not sub.queue.empty():
                got.append(sub.queue.get_nowait())
            return got
        finally:
            other_process.unsubscribe(sub)

    got = asyncio.run(run())
    assert [m.get("text") for m in got] == ["真实告警"]
    assert other_process.notifier._thread.is_alive()


def _listener_pids(world: Any, channel: str) -> list[int]:
    with world.store.engine.connect() as conn:
        return [r[0] for r in conn.execute(text(
            "SELECT pid FROM pg_stat_activity WHERE query = :q AND pid <> pg_backend_pid()"),
            {"q": f'LISTEN "{channel}"'})]


def test_fanout_listener_reconnects_and_tells_clients_they_may_have_missed_messages(
        pg_world: Any, other_process: Any) -> None:
    """The listener's connection is killed (a database restart, a failover, an idle timeout): it
    listens again, and its subscribers are told to catch up (GET /api/v1/events) instead of
    silently missing what was published meanwhile. Found by this probe: the messages published
    while it reconnected were lost without a word."""
    channel = other_process.notifier.channel

    async def run() -> list[dict[str, Any]]:
        sub = other_process.subscribe(_principal(pg_world, "sup_a1"), "supervisor")
        try:
            before = set(_listener_pids(pg_world, channel))
            assert before
            with pg_world.store.engine.connect() as conn:
                for pid in before:
                    conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})

            def lost() -> None:  # published while the other process is not listening
                pg_world.ctx.hub.publish_alert(_Conv(pg_world, 4545, "a1", "agent_a1"),
                                               {"type": "alert", "level": 2, "text": "断线期间的告警"})
                assert pg_world.ctx.hub.notifier.flush()
            await asyncio.to_thread(lost)
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                now = set(_listener_pids(pg_world, channel))
                if now - before:
                    break
                await asyncio.sleep(0.2)
            assert set(_listener_pids(pg_world, channel)) - before, "the listener did not come back"

            def after() -> None:
                pg_world.ctx.hub.publish_alert(_Conv(pg_world, 4545, "a1", "agent_a1"),
                                               {"type": "alert", "level": 2, "text": "重连后的告警"})
                assert pg_world.ctx.hub.notifier.flush()
            await asyncio.to_thread(after)
            got: list[dict[str, Any]] = []
            end = time.monotonic() + 10
            while time.monotonic() < end and not any(m.get("text") == "重连后的告警" for m in got):
                try:
                    got.append(await asyncio.wait_for(sub.queue.get(), 0.5))
                except asyncio.TimeoutError:
                    pass
            return got
        finally:
            other_process.unsubscribe(sub)

    got = asyncio.run(run())
    assert any(m.get("text") == "重连后的告警" for m in got), got
    # either the alert made it, or the client was told it may have missed something
    assert any(m.get("text") == "断线期间的告警" or m.get("type") == "resync" for m in got), got
    resync = [m for m in got if m.get("type") == "resync"]
    assert resync and resync[0].get("catch_up") == "/api/v1/events", got


def test_fanout_messages_the_database_refused_are_not_lost_silently(pg_world: Any, other_process: Any,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The publishing process's NOTIFY fails (the database refused it: a failover, a full
    queue): the alert is dropped, but the next message that goes out tells the other processes'
    clients to catch up. Found by this probe: the drop was only logged where it happened."""
    notifier = pg_world.ctx.hub.notifier
    real_send = notifier._send
    calls = [0]

    def refuse_once(bodies: list[str]) -> None:
        calls[0] += 1
        if calls[0] == 1:
            raise RuntimeError("could not send notification: the queue is full")
        real_send(bodies)
    monkeypatch.setattr(notifier, "_send", refuse_once)
    conv = _Conv(pg_world, 4646, "a1", "agent_a1")

    def publish() -> None:
        pg_world.ctx.hub.publish_alert(conv, {"type": "alert", "level": 2, "text": "被丢弃的告警"})
        assert notifier.flush()
        pg_world.ctx.hub.publish_alert(conv, {"type": "alert", "level": 2, "text": "之后的告警"})
        assert notifier.flush()

    got = asyncio.run(_collect(pg_world, other_process, publish, {"sup_a1": ("supervisor", set())}))["sup_a1"]
    assert [m.get("type") for m in got] == ["resync", "alert"], got
    assert got[1]["text"] == "之后的告警"


def test_spilled_customer_words_do_not_stay_in_the_database(pg_world: Any, other_process: Any,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A spilled live message (a long turn, the customer's words) is deleted after SPILL_TTL_S by
    the listeners, even when no process spills again. Found by this probe: only the next spill of
    the same process deleted old rows, so the last long turn before a quiet night (or a crash)
    stayed in `live_spill` indefinitely."""
    import anfu.store.notify as notify

    with pg_world.store.engine.begin() as conn:
        old_id = conn.execute(text("INSERT INTO live_spill (payload, created_at) VALUES (CAST(:p AS JSON), :c) "
                                   "RETURNING id"), {"p": json.dumps({"text": CUSTOMER}, ensure_ascii=False),
                                                     "c": datetime.now(timezone.utc).replace(tzinfo=None)
                                                     - timedelta(hours=2)}).scalar()
        new_id = conn.execute(text("INSERT INTO live_spill (payload, created_at) VALUES (CAST(:p AS JSON), :c) "
                                   "RETURNING id"), {"p": json.dumps({"text": "刚刚的长消息"}, ensure_ascii=False),
                                                     "c": datetime.now(timezone.utc).replace(tzinfo=None)}).scalar()
    monkeypatch.setattr(notify, "SPILL_SWEEP_S", 0.5)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and probe.count(pg_world, "SELECT count(*) FROM live_spill WHERE id = :i", i=old_id):
        time.sleep(0.3)
    assert probe.count(pg_world, "SELECT count(*) FROM live_spill WHERE id = :i", i=old_id) == 0
    assert probe.count(pg_world, "SELECT count(*) FROM live_spill WHERE id = :i", i=new_id) == 1


def test_fanout_payloads_are_masked_under_store_masked_text(pg_world: Any) -> None:
    """Under ANFU_STORE_MASKED_TEXT, what crosses the database for the live hub (NOTIFY payloads,
    the spill table) holds no raw phone number, as nothing else the store keeps does."""
    import psycopg

    channel = pg_world.ctx.hub.notifier.channel
    conninfo = pg_world.store.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    rng = random.Random(7)
    long_text = CUSTOMER + "".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(5000)) + f"回电{PHONE}"
    seen: list[str] = []
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'LISTEN "{channel}"')
        agent = pg_world.client("agent_a1")
        for ref, body in (("mask-1", CUSTOMER), ("mask-2", long_text)):
            reply = agent.post("/api/v1/messages", json={"conversation_ref": ref, "text": body})
            assert reply.status_code == 201, reply.text
        assert pg_world.ctx.hub.notifier.flush()
        for note in conn.notifies(timeout=3.0):
            seen.append(note.payload)
    assert seen
    decoded, spill_ids = [], []
    for raw in seen:
        message = json.loads(raw)
        if "z" in message:
            message = json.loads(zlib.decompress(base64.b64decode(message["z"])))
        if "spill" in message:
            spill_ids.append(int(message["spill"]))
        decoded.append(json.dumps(message, ensure_ascii=False))
    with pg_world.store.engine.connect() as conn:
        spilled = [json.dumps(r[0], ensure_ascii=False) for r in conn.execute(
            text("SELECT payload FROM live_spill WHERE id = ANY(:ids)"), {"ids": spill_ids})]
    assert spilled, "the long turn should have gone through the spill table"
    for payload in decoded + spilled:
        assert PHONE not in payload, payload[:300]


# ==================================================================================================
# 2. background work once per cluster: the scheduler lease
# ==================================================================================================
def test_lease_two_schedulers_at_once_one_winner(make_world: Any) -> None:
    from anfu.store import Lease

    world = make_world(scheduler_interval_s=0)
    leases = [Lease(world.store.engine, "probe-race", ttl_s=30, holder=f"p{i}") for i in range(6)]
    barrier = threading.Barrier(len(leases))
    won: list[str] = []

    def race(lease: Any) -> None:
        barrier.wait()
        try:
            if lease.acquire():
                won.append(lease.holder)
        except Exception as exc:  # noqa: BLE001 - a lost race must be False, not an error
            won.append(f"error {exc!r}")
    threads = [threading.Thread(target=race, args=(lease,)) for lease in leases]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(won) == 1 and not won[0].startswith("error"), won
    assert probe.count(world, "SELECT count(*) FROM leases WHERE name = 'probe-race'") == 1


def test_lease_is_not_fooled_by_a_process_clock_that_runs_ahead(make_world: Any) -> None:
    """Process B's clock is two minutes ahead (no NTP on that host): it must not take the lease
    process A renewed a second ago. Found by this probe: each process compared the expiry with
    its own clock, so B took over at once and both ran the scheduler."""
    import time_machine

    from anfu.store import Lease

    world = make_world(scheduler_interval_s=0)
    a = Lease(world.store.engine, "probe-skew", ttl_s=30, holder="a")
    assert a.acquire() is True
    with time_machine.travel(datetime.now(timezone.utc) + timedelta(minutes=2), tick=True):
        b = Lease(world.store.engine, "probe-skew", ttl_s=30, holder="b")
        assert b.acquire() is False
    # and a holder whose clock runs behind does not write an expiry that is already past
    with time_machine.travel(datetime.now(timezone.utc) - timedelta(minutes=2), tick=True):
        assert a.acquire() is True
    assert Lease(world.store.engine, "probe-skew", ttl_s=30, holder="c").acquire() is False


def test_two_schedulers_delivering_at_once_send_each_delivery_once(make_world: Any) -> None:
    """A tick that runs longer than the lease (a slow receiver) lets a second process start its
    own tick while the first still sends: each delivery must still go out once. Found by this
    probe: both sent every pending delivery."""
    from anfu.store import IntegrationStore

    world = make_world(scheduler_interval_s=0)
    hook_id, _secret = _hook(world, "admin_a", "https://crm.example.com/anfu", ["escalation.raised"])
    hooks = world.ctx.services.webhooks
    for i in range(3):
        hooks.enqueue(world.tenants["a"].id, "escalation.raised", {"conversation_id": str(100 + i), "level": 2})
    first_in = threading.Event()
    release = threading.Event()

    def slow(request: httpx.Request) -> httpx.Response:
        first_in.set()
        release.wait(10)
        return httpx.Response(200)
    slow_receiver, fast_receiver = Receiver(slow), Receiver(200)
    hooks.transport = httpx.MockTransport(slow_receiver)
    other = Webhooks(IntegrationStore(world.store.engine, mask_text=world.store.mask_text),
                     world.settings.secret_key.get_secret_value(), transport=httpx.MockTransport(fast_receiver))
    first = threading.Thread(target=hooks.deliver_due)
    first.start()
    assert first_in.wait(10)
    other.deliver_due()  # the second process's tick, while the first is stuck on one delivery
    release.set()
    first.join(20)
    sent = slow_receiver.deliveries() + fast_receiver.deliveries()
    assert sorted(sent) == sorted(set(sent)) and len(sent) == 3, sent
    assert [state for _e, state, _a in _deliveries(world, hook_id)] == ["delivered"] * 3


class Killed(BaseException):
    """The process dies in the middle of sending (SIGKILL, OOM): nothing after it runs."""


def test_a_delivery_whose_sender_died_is_sent_later_not_lost_and_not_at_once(make_world: Any) -> None:
    from anfu.store import IntegrationStore

    world = make_world(scheduler_interval_s=0)
    hook_id, _ = _hook(world, "admin_a", "https://crm.example.com/died", ["csat.low"])
    hooks = world.ctx.services.webhooks
    hooks.enqueue(world.tenants["a"].id, "csat.low", {"score": 1, "ticket": 7})

    def die(request: httpx.Request) -> httpx.Response:
        raise Killed()
    hooks.transport = httpx.MockTransport(die)
    with pytest.raises(Killed):
        hooks.deliver_due()
    receiver = Receiver(200)
    successor = Webhooks(IntegrationStore(world.store.engine), world.settings.secret_key.get_secret_value(),
                         transport=httpx.MockTransport(receiver))
    successor.deliver_due()  # at once: the dead process may still be sending it (its claim holds)
    assert receiver.deliveries() == []
    later = datetime.now(timezone.utc) + timedelta(minutes=10)
    successor.clock = lambda: later
    successor.deliver_due()
    successor.deliver_due()
    assert len(receiver.deliveries()) == 1
    assert _deliveries(world, hook_id) == [("csat.low", "delivered", 2)]  # the dead attempt counts


def test_a_delivery_that_kills_every_sender_is_not_retried_forever(make_world: Any) -> None:
    """A delivery whose sending kills the process each time (the claim is never followed by a
    result) is given up after the last attempt, like one that always fails."""
    from anfu.service.webhooks import MAX_ATTEMPTS

    world = make_world(scheduler_interval_s=0)
    hook_id, _ = _hook(world, "admin_a", "https://crm.example.com/poison", ["csat.low"])
    hooks = world.ctx.services.webhooks
    hooks.enqueue(world.tenants["a"].id, "csat.low", {"score": 1})
    sent = []

    def die(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        raise Killed()
    hooks.transport = httpx.MockTransport(die)
    now = datetime.now(timezone.utc)
    for _ in range(MAX_ATTEMPTS + 3):
        hooks.clock = lambda now=now: now
        try:
            hooks.deliver_due()
        except Killed:
            pass
        now += timedelta(minutes=10)
    assert len(sent) == MAX_ATTEMPTS
    assert _deliveries(world, hook_id) == [("csat.low", "failed", MAX_ATTEMPTS + 1)]


def test_a_failing_scheduler_job_does_not_starve_the_others(make_world: Any) -> None:
    """The waiting check raises (a bad rule, a database hiccup): the webhook deliveries of the same
    tick still go out, and the failure still reaches the tick's log. Found by this probe: one
    exception ended the tick before any delivery."""
    world = make_world(scheduler_interval_s=0)
    _hook(world, "admin_a", "https://crm.example.com/tick", ["escalation.raised"])
    services = world.ctx.services
    receiver = Receiver(200)
    services.webhooks.transport = httpx.MockTransport(receiver)
    services.webhooks.enqueue(world.tenants["a"].id, "escalation.raised", {"conversation_id": "1", "level": 2})

    def broken() -> list[Any]:
        raise RuntimeError("等待规则损坏")
    services.waiting.check = broken
    with pytest.raises(RuntimeError, match="等待规则损坏"):
        services.run_scheduled()
    assert len(receiver.deliveries()) == 1


# ==================================================================================================
# 3. outgoing webhooks
# ==================================================================================================
SSRF_URLS = [
    "http://127.0.0.1/x", "http://localhost/x", "http://LOCALHOST./x", "http://api.localhost/x",
    "http://[::1]/x", "http://10.1.2.3/x", "http://172.16.0.9/x", "http://192.168.1.1/x",
    "http://169.254.169.254/latest/meta-data/", "http://0.0.0.0/x", "http://0/x",
    "http://2130706433/x", "http://0x7f000001/x", "http://0177.0.0.1/x", "http://127.1/x", "http://0x7f.1/x",
    "http://[::ffff:127.0.0.1]/x", "http://[::ffff:7f00:1]/x", "http://[0:0:0:0:0:ffff:a9fe:a9fe]/x",
    "http://[::127.0.0.1]/x", "http://[64:ff9b::a9fe:a9fe]/x", "http://[fe80::1%25eth0]/x", "http://[fc00::1]/x",
    "http://100.64.0.1/x", "http://224.0.0.1/x", "http://[::]/x",
    "file:///etc/passwd", "gopher://127.0.0.1:6379/_INFO", "ftp://crm.example.com/", "javascript:alert(1)",
    "https://admin:secret@crm.example.com/", "https://@crm.example.com/", "http://crm.example.com@127.0.0.1/",
    "http://[::1/x", "https://crm.example.com:99999/x", "https://crm.example.com:-1/x", "https:///nohost",
]


@pytest.mark.parametrize("url", SSRF_URLS)
def test_webhook_urls_that_reach_inside_are_refused(world: Any, url: str) -> None:
    """Private, loopback, link-local and metadata addresses in every spelling, other schemes,
    credentials and broken URLs: a coded AF671 (never a 500), nothing stored."""
    before = probe.count(world, "SELECT count(*) FROM webhooks")
    reply = world.client("admin_a").post("/api/v1/webhooks", json={"url": url, "events": ["ticket.*"]})
    assert reply.status_code == 422 and probe.code_of(reply) in ("AF671", "AF431"), (url, reply.status_code, reply.text)
    assert probe.count(world, "SELECT count(*) FROM webhooks") == before
    with pytest.raises(Exception) as refused:
        check_url(url)
    assert getattr(refused.value, "code", None) == "AF671", (url, refused.value)


@pytest.mark.parametrize("url", ["http://2130706433/x", "http://[::ffff:169.254.169.254]/latest/meta-data/",
                                 "http://LOCALHOST./x", "https://crm.example.com:99999/x"])
def test_the_admin_page_refuses_the_same_urls(world: Any, url: str) -> None:
    """The admin page (/admin/webhooks) registers through the same service: the same refusals."""
    before = probe.count(world, "SELECT count(*) FROM webhooks")
    page = world.client("admin_a").post("/admin/webhooks", data={"url": url, "events": ["ticket.*"]})
    assert page.status_code == 422 and "AF671" in page.text, (url, page.status_code)
    assert probe.count(world, "SELECT count(*) FROM webhooks") == before


def test_webhook_name_resolving_to_a_private_address_is_refused(world: Any, fake_dns: dict[str, list[str]]) -> None:
    fake_dns["intranet.partner.example"] = ["10.20.30.40"]
    fake_dns["mixed.partner.example"] = [PUBLIC_IP, "127.0.0.1"]
    fake_dns["fine.partner.example"] = [PUBLIC_IP]
    for name in ("intranet", "mixed"):
        reply = world.client("admin_a").post("/api/v1/webhooks", json={
            "url": f"https://{name}.partner.example/anfu", "events": ["ticket.*"]})
        assert reply.status_code == 422 and probe.code_of(reply) == "AF671", reply.text
    ok = world.client("admin_a").post("/api/v1/webhooks", json={"url": "https://fine.partner.example/anfu",
                                                                "events": ["ticket.*"]})
    assert ok.status_code == 201, ok.text
    world.client("admin_a").delete(f"/api/v1/webhooks/{ok.json()['id']}")


def test_dns_rebinding_is_checked_when_delivering(make_world: Any, fake_dns: dict[str, list[str]],
                                                  local_server: LocalServer) -> None:
    """The name resolved to a public address when the admin registered it; at delivery it resolves
    to 127.0.0.1 (an internal service listens there). Nothing may reach it. Found by this probe:
    the delivery went to the internal service."""
    world = make_world(scheduler_interval_s=0)
    name = "hooks.partner.example"
    fake_dns[name] = [PUBLIC_IP]
    hook_id, _ = _hook(world, "admin_a", f"http://{name}:{local_server.port}/anfu", ["csat.low"])
    hooks = world.ctx.services.webhooks
    hooks.transport = None  # the real network transport
    hooks.enqueue(world.tenants["a"].id, "csat.low", {"score": 1, "comment": CUSTOMER})
    fake_dns[name] = ["127.0.0.1"]  # rebound
    done = hooks.deliver_due()
    assert local_server.hits == []
    assert len(done) == 1 and done[0].state == "pending" and "AF671" in (done[0].last_error or ""), done
    # the same name and receiver, allowed (ANFU_WEBHOOK_ALLOW_PRIVATE): it does arrive, so the
    # refusal above was the check, not a broken test set-up
    hooks.allow_private = True
    hooks.clock = lambda: datetime.now(timezone.utc) + timedelta(minutes=10)
    done = hooks.deliver_due()
    assert [d.state for d in done] == ["delivered"] and len(local_server.hits) == 1
    assert _deliveries(world, hook_id) == [("csat.low", "delivered", 2)]


def test_a_redirect_to_the_metadata_service_is_not_followed(make_world: Any) -> None:
    world = make_world(scheduler_interval_s=0)
    hook_id, _ = _hook(world, "admin_a", "https://crm.example.com/redirect", ["csat.low"])
    receiver = Receiver(lambda r: httpx.Response(302, headers={"Location": "http://169.254.169.254/latest/meta-data/"}))
    hooks = world.ctx.services.webhooks
    hooks.transport = httpx.MockTransport(receiver)
    hooks.enqueue(world.tenants["a"].id, "csat.low", {"score": 1})
    done = hooks.deliver_due()
    assert [str(r.url) for r in receiver.requests] == ["https://crm.example.com/redirect"]
    assert done[0].state == "pending" and done[0].last_status == 302


def test_a_huge_answer_is_not_read(make_world: Any) -> None:
    """A receiver answers 200 with an endless body: the delivery is done after the status line;
    the scheduler does not read (or keep) gigabytes. Found by this probe: the whole body was read."""
    world = make_world(scheduler_interval_s=0)
    _hook(world, "admin_a", "https://crm.example.com/huge", ["csat.low"])
    chunks = [0]

    def endless() -> Iterator[bytes]:
        for _ in range(64):  # 64 MiB, then the test would notice anyway
            chunks[0] += 1
            yield b"x" * (1 << 20)

    hooks = world.ctx.services.webhooks
    hooks.transport = httpx.MockTransport(lambda r: httpx.Response(200, content=endless()))
    hooks.enqueue(world.tenants["a"].id, "csat.low", {"score": 2})
    done = hooks.deliver_due()
    assert [d.state for d in done] == ["delivered"]
    assert chunks[0] <= 1, f"{chunks[0]} MiB of the answer were read"


def test_a_receiver_that_trickles_its_answer_does_not_hold_the_scheduler(make_world: Any) -> None:
    """A receiver sends its status line and then one header byte every 0.2 s, forever: no read ever
    waits past the read timeout, yet the delivery must end within its time limit. Found by this
    probe: the scheduler's tick hung (the timeout was per read, not per delivery)."""
    world = make_world(scheduler_interval_s=0, webhook_allow_private=True)
    stop = threading.Event()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    port = listener.getsockname()[1]

    def serve() -> None:
        listener.settimeout(0.5)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            with conn:
                conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                end = time.monotonic() + 60
                while not stop.is_set() and time.monotonic() < end:
                    try:
                        conn.sendall(b"a")
                    except OSError:
                        break
                    time.sleep(0.2)
    server = threading.Thread(target=serve, daemon=True)
    server.start()
    try:
        hook_id, _ = _hook(world, "admin_a", f"http://127.0.0.1:{port}/slow", ["csat.low"])
        hooks = world.ctx.services.webhooks
        hooks.transport = None
        hooks.timeout = 1.0
        hooks.enqueue(world.tenants["a"].id, "csat.low", {"score": 1})
        result: list[Any] = []
        tick = threading.Thread(target=lambda: result.append(hooks.deliver_due()), daemon=True)
        started = time.monotonic()
        tick.start()
        tick.join(15)
        assert not tick.is_alive(), "the delivery is still waiting for the receiver"
        assert time.monotonic() - started < 10
        assert result and result[0][0].state == "pending" and result[0][0].last_error
    finally:
        stop.set()
        server.join(5)
        listener.close()
    assert _deliveries(world, hook_id)[0][1:] == ("pending", 1)


def test_a_broken_webhook_of_one_tenant_does_not_block_the_others(make_world: Any) -> None:
    """A webhook row whose URL cannot be sent at all (an old row from before the checks, an
    operator's manual fix): its delivery fails on its own; the next tenant's still goes out.
    Found by this probe: the error escaped `deliver_due`, so every tick stopped at the same row."""
    from anfu.security import secretbox
    from anfu.store import IntegrationStore

    world = make_world(scheduler_interval_s=0)
    IntegrationStore(world.store.engine).create_webhook(
        world.tenants["a"].id, url="https://crm.example.com:99999/bad", events=["csat.low"], by="user:admin_a",
        secret=secretbox.seal("whsec_x", world.settings.secret_key.get_secret_value()))
    hook_b, secret_b = _hook(world, "admin_b", "https://crm-b.example.com/anfu", ["csat.low"])
    receiver = Receiver(200)
    hooks = world.ctx.services.webhooks
    hooks.transport = httpx.MockTransport(receiver)
    hooks._active.clear()
    hooks.enqueue(world.tenants["a"].id, "csat.low", {"score": 1})
    hooks.enqueue(world.tenants["b"].id, "csat.low", {"score": 2})
    done = hooks.deliver_due()
    assert sorted(d.state for d in done) == ["delivered", "pending"]
    assert [str(r.url) for r in receiver.requests] == ["https://crm-b.example.com/anfu"]
    assert _deliveries(world, hook_b) == [("csat.low", "delivered", 1)]


def test_deliveries_stay_in_their_tenant_and_are_signed(make_world: Any) -> None:
    """Both tenants subscribe to the same event; a turn of tenant B reaches B's webhook only,
    signed with B's secret (A's does not verify it), and the body names tenant B."""
    world = make_world(scheduler_interval_s=0)
    hook_a, secret_a = _hook(world, "admin_a", "https://crm-a.example.com/anfu", ["escalation.raised"])
    hook_b, secret_b = _hook(world, "admin_b", "https://crm-b.example.com/anfu", ["escalation.raised"])
    receiver = Receiver(200)
    hooks = world.ctx.services.webhooks
    hooks.transport = httpx.MockTransport(receiver)
    reply = world.client("agent_b1").post("/api/v1/messages", json={"conversation_ref": "b-hook", "text": ANGRY})
    assert reply.status_code == 201 and reply.json()["conversation"]["escalation_level"] >= 1, reply.text
    hooks.deliver_due()
    assert {r.url.host for r in receiver.requests} == {"crm-b.example.com"}
    request = receiver.requests[0]
    body = json.loads(request.content)
    assert body["tenant_id"] == world.tenants["b"].id and body["event"] == "escalation.raised"
    stamp, signature = request.headers["X-Anfu-Timestamp"], request.headers["X-Anfu-Signature"]
    assert verify(secret_b, stamp, request.content, signature)
    assert not verify(secret_a, stamp, request.content, signature)
    assert _deliveries(world, hook_a) == []


def test_deactivating_a_webhook_stops_its_deliveries(make_world: Any) -> None:
    world = make_world(scheduler_interval_s=0)
    hook_id, _ = _hook(world, "admin_a", "https://crm.example.com/stop", ["csat.low"])
    receiver = Receiver(200)
    hooks = world.ctx.services.webhooks
    hooks.transport = httpx.MockTransport(receiver)
    hooks.enqueue(world.tenants["a"].id, "csat.low", {"score": 1})
    assert world.client("admin_b").delete(f"/api/v1/webhooks/{hook_id}").status_code == 404
    assert world.client("admin_a").delete(f"/api/v1/webhooks/{hook_id}").status_code == 200
    hooks.enqueue(world.tenants["a"].id, "csat.low", {"score": 1})  # after: not even queued
    hooks.deliver_due()
    assert receiver.requests == []
    assert _deliveries(world, hook_id) == [("csat.low", "failed", 1)]


def test_webhook_payloads_are_masked_under_store_masked_text(make_world: Any) -> None:
    world = make_world(scheduler_interval_s=0, store_masked_text=True)
    _hook(world, "admin_a", "https://crm.example.com/masked", ["escalation.raised", "supervisor.alerted",
                                                               "csat.low", "ticket.*"])
    receiver = Receiver(200)
    hooks = world.ctx.services.webhooks
    hooks.transport = httpx.MockTransport(receiver)
    agent = world.client("agent_a1")
    conv = agent.post("/api/v1/messages", json={"conversation_ref": "masked-hook", "text": CUSTOMER}).json()
    t = agent.post("/api/v1/tickets", json={"conversation_id": conv["conversation"]["id"]}).json()
    for stage in ("确认问题", "提供方案", "执行方案"):
        agent.post(f"/api/v1/tickets/{t['id']}/stage", json={"to": stage})
    agent.post(f"/api/v1/tickets/{t['id']}/resolve", json={"note": f"已回电{PHONE}"})
    token = agent.get(f"/api/v1/tickets/{t['id']}/survey-link").json()["url"].rsplit("/", 1)[1]
    answer = world.client().post(f"/api/v1/survey/{token}", json={"score": 1, "comment": f"还是没修好，打{PHONE}"})
    assert answer.status_code == 200, answer.text
    hooks.deliver_due()
    events = {r.headers["X-Anfu-Event"] for r in receiver.requests}
    assert {"csat.low", "supervisor.alerted"} <= events, events
    for request in receiver.requests:
        assert PHONE not in request.content.decode("utf-8"), request.content[:300]


# ==================================================================================================
# 4. survey (回访) links
# ==================================================================================================
def _resolved_ticket(world: Any, ref: str, who: str = "agent_a1") -> tuple[int, str]:
    return probe.resolved_ticket(world, ref, CUSTOMER, who)


def _ticket_state(world: Any, ticket_id: int) -> tuple[Any, ...]:
    with world.store.engine.connect() as conn:
        row = conn.execute(text("SELECT status, updated_at, data FROM tickets WHERE id = :i"), {"i": ticket_id}).one()
        events = conn.execute(text("SELECT count(*) FROM events WHERE name LIKE 'csat.%'")).scalar()
    return row[0], row[1], json.dumps(row[2], sort_keys=True, default=str), events


def test_survey_replayed_after_the_answer_is_refused_and_writes_nothing(world: Any) -> None:
    ticket_id, token = _resolved_ticket(world, "survey-replay")
    public = world.client()
    assert public.post(f"/api/v1/survey/{token}", json={"score": 4, "comment": "师傅很快"}).status_code == 200
    before = _ticket_state(world, ticket_id)
    for body in ({"score": 1, "comment": "改主意了"}, {"score": 4, "comment": "师傅很快"}):
        again = public.post(f"/api/v1/survey/{token}", json=body)
        assert again.status_code == 409 and probe.code_of(again) == "AF633", again.text
    assert _ticket_state(world, ticket_id) == before


def test_survey_token_of_tenant_a_cannot_reach_a_ticket_of_tenant_b(world: Any) -> None:
    """Even a token signed with the server key (a leaked or mis-built one) that names tenant A with
    tenant B's ticket id, or B's ticket number, reaches nothing: 404, no write."""
    a_ticket, _a_token = _resolved_ticket(world, "survey-cross-a")
    b_ticket, _b_token = _resolved_ticket(world, "survey-cross-b", who="agent_b1")
    links = world.ctx.desk.links
    a_number = world.ctx.desk.workflow.get_ticket(a_ticket).number
    b_number = world.ctx.desk.workflow.get_ticket(b_ticket).number
    before = _ticket_state(world, b_ticket)
    forged = [links.token(a_number, ref=b_ticket, tenant=world.tenants["a"].id),
              links.token(b_number, ref=b_ticket, tenant=world.tenants["a"].id),
              links.token(a_number, ref=a_ticket, tenant=world.tenants["b"].id),
              links.token(b_number, ref=True, tenant=world.tenants["b"].id),  # type: ignore[arg-type]
              links.token(b_number)]
    for token in forged:
        reply = world.client().post(f"/api/v1/survey/{token}", json={"score": 1, "comment": "恶意差评"})
        assert reply.status_code == 404 and probe.code_of(reply) in ("AF503", "AF630"), reply.text
        assert world.client().get(f"/survey/{token}").status_code == 404
    assert _ticket_state(world, b_ticket) == before


def test_survey_expired_tampered_and_foreign_tokens_are_coded(world: Any) -> None:
    import time_machine
    from itsdangerous import URLSafeTimedSerializer

    ticket_id, token = _resolved_ticket(world, "survey-expired")
    before = _ticket_state(world, ticket_id)
    public = world.client()
    with time_machine.travel(datetime.now(timezone.utc) + timedelta(days=8)):
        expired = public.post(f"/api/v1/survey/{token}", json={"score": 5})
    assert expired.status_code == 404 and probe.code_of(expired) == "AF631", expired.text
    payload, stamp, sig = token.split(".")
    other_salt = URLSafeTimedSerializer(world.settings.secret_key.get_secret_value(), salt="anfu.csrf").dumps(
        {"ticket": "T1", "ref": ticket_id, "tenant": world.tenants["a"].id})
    for bad in (f"{payload}.{stamp}.{sig[:-2]}AA", f"{payload}x.{stamp}.{sig}", f"{payload}.{stamp}", other_salt,
                token.replace(".", "..", 1)):
        reply = public.post(f"/api/v1/survey/{bad}", json={"score": 5})
        assert reply.status_code == 404 and probe.code_of(reply) == "AF630", (bad, reply.text)
    assert _ticket_state(world, ticket_id) == before


def test_survey_answered_twice_at_the_same_moment_counts_once(world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two answers to one link at the same moment (a double tap, an SMS gateway retry): one wins,
    the other is AF633; one score, one csat event. Found by this probe: both were stored (the
    second overwrote the first) and the supervisor was alerted twice."""
    from fastapi.testclient import TestClient

    ticket_id, token = _resolved_ticket(world, "survey-race")
    desk = world.ctx.desk
    barrier = threading.Barrier(2)
    read = desk.survey_ticket
    calls = [0]

    def survey_ticket(tok: str) -> Any:
        record = read(tok)
        calls[0] += 1
        if calls[0] <= 2:
            try:
                barrier.wait(5)  # both have read the unanswered ticket before either writes
            except threading.BrokenBarrierError:
                pass
        return record
    monkeypatch.setattr(desk, "survey_ticket", survey_ticket)
    before_events = probe.count(world, "SELECT count(*) FROM events WHERE name = 'csat.submitted'")
    replies: list[Any] = []

    def answer(score: int) -> None:
        client = TestClient(world.app, raise_server_exceptions=False)  # no lifespan: the world's app stays up
        replies.append(client.post(f"/api/v1/survey/{token}", json={"score": score, "comment": "差评"}))
    threads = [threading.Thread(target=answer, args=(score,)) for score in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    statuses = sorted(r.status_code for r in replies)
    assert statuses == [200, 409], [r.text for r in replies]
    assert probe.code_of(next(r for r in replies if r.status_code == 409)) == "AF633"
    assert probe.count(world, "SELECT count(*) FROM events WHERE name = 'csat.submitted'") == before_events + 1
    with world.store.engine.connect() as conn:
        data = conn.execute(text("SELECT data FROM tickets WHERE id = :i"), {"i": ticket_id}).scalar()
    data = json.loads(data) if isinstance(data, str) else data
    won = next(r for r in replies if r.status_code == 200).json()["score"]
    assert data["csat_score"] == won
    assert [h.get("to_value") for h in data["history"] if h.get("kind") == "csat"] == [str(won)], data["history"]


def test_the_scheduler_raises_an_overdue_tickets_sla_breach_once(make_world: Any) -> None:
    """A ticket left unanswered for a month: the scheduler raises its SLA breaches (response and
    resolution), once each, even when two sweeps run at once. Found by this probe: no scheduler
    job swept the SLAs, so `sla.warned` and `sla.breached` (offered to webhooks) never came."""
    import time_machine

    world = make_world(scheduler_interval_s=0)
    hook_id, _ = _hook(world, "admin_a", "https://crm.example.com/sla", ["sla.warned", "sla.breached"])
    receiver = Receiver(200)
    world.ctx.services.webhooks.transport = httpx.MockTransport(receiver)
    agent = world.client("agent_a1")
    conv = agent.post("/api/v1/messages", json={"conversation_ref": "sla-overdue", "text": CUSTOMER}).json()
    ticket = agent.post("/api/v1/tickets", json={"conversation_id": conv["conversation"]["id"]})
    assert ticket.status_code == 201, ticket.text
    with time_machine.travel(datetime.now(timezone.utc) + timedelta(days=30)):
        desk = world.ctx.desk
        barrier = threading.Barrier(2)
        record = desk.workflow.record_sla_alerts

        def together(*args: Any) -> Any:
            try:
                barrier.wait(5)  # two processes' sweeps reach the same ticket at once
            except threading.BrokenBarrierError:
                pass
            return record(*args)
        desk.workflow.record_sla_alerts = together
        sweeps = [threading.Thread(target=desk.sweep_sla) for _ in range(2)]
        for t in sweeps:
            t.start()
        for t in sweeps:
            t.join(30)
        del desk.workflow.record_sla_alerts
        world.ctx.services.run_scheduled()  # a later tick raises nothing new, and delivers
        # and, the alerts being known as recorded, it locks and re-reads nothing for the ticket
        calls: list[Any] = []
        desk.workflow.record_sla_alerts = lambda *args: calls.append(args) or []
        assert desk.sweep_sla() == [] and calls == []
        del desk.workflow.record_sla_alerts
    events = sorted(e for e, _state, _n in _deliveries(world, hook_id))
    assert events == ["sla.breached", "sla.breached"], events  # response and resolution, once each
    assert {state for _e, state, _n in _deliveries(world, hook_id)} == {"delivered"}
    assert probe.count(world, "SELECT count(*) FROM events WHERE name = 'supervisor.alerted'") == 2


def test_a_tenants_helpdesk_rebound_to_an_internal_address_gets_no_write_back(
        make_world: Any, fake_dns: dict[str, list[str]], local_server: LocalServer) -> None:
    """A tenant admin's Chatwoot connector names a host that resolved to a public address when it
    was saved; later it resolves to 127.0.0.1, where an internal service listens. The customer's
    message is still stored, but the write-back (note and labels) reaches nothing: the connector
    connects only to addresses it checked, as webhook deliveries do. Before, it posted the note,
    with the customer's words, to the internal service."""
    world = make_world(scheduler_interval_s=0)
    name = "chat.partner.example"
    fake_dns[name] = [PUBLIC_IP]
    admin = world.client("admin_a")
    saved = admin.put("/api/v1/admin/connectors/chatwoot", json={
        "base_url": f"http://{name}:{local_server.port}", "account": "9", "api_token": "cw-api-token-1"})
    assert saved.status_code == 200, saved.text
    secret = saved.json()["new_webhook_secret"]
    fake_dns[name] = ["127.0.0.1"]  # rebound
    payload = {"event": "message_created", "id": 8101, "content": CUSTOMER, "message_type": "incoming",
               "created_at": "2026-12-07T08:00:00Z", "private": False,
               "sender": {"id": 42, "name": "王先生", "type": "contact"},
               "conversation": {"id": 17, "labels": [], "meta": {"sender": {"id": 42, "name": "王先生"}}},
               "account": {"id": 9}}
    slug = world.tenants["a"].slug
    reply = world.client().post("/api/v1/connectors/chatwoot", params={"tenant": slug, "token": secret}, json=payload)
    assert local_server.hits == []
    assert reply.status_code < 500 and reply.json()["error"]["code"] == "AF671", reply.text
    stored = world.client("admin_a").get("/api/v1/conversations", params={"channel": "chatwoot"}).json()
    assert stored["total"] == 1  # the customer's message itself was kept
