"""Routing (anfu.service.routing, issue 13): a new conversation lands in the queue of the team
whose industry and channel match it; with auto-assignment on it goes to the free, skilled agent
with the fewest open conversations (ties: idle longest), under each agent's cap; with nobody
free it waits and is handed out when a slot frees. Every assignment is audited; nothing ever
crosses tenants; only admins configure. The cap holds under concurrent arrivals on PostgreSQL
(row lock on the team), run in a private schema so other suites' truncations cannot interfere."""

from __future__ import annotations

import os
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import pytest

from anfu.channels.base import CustomerHints
from anfu.errors import AuthError, NotFoundError, StoreError
from anfu.service.live import Hub
from anfu.service.routing import Routing, match_queue, pick_agent
from anfu.service.turns import TurnService
from anfu.store import Principal, Store, make_engine
from anfu.store.records import ConversationRecord
from anfu.store.routing_repo import AgentProfile, Queue
from anfu.store.testing import migrated_sqlite, postgres_test_url

T0 = datetime(2026, 12, 6, 9, 0, tzinfo=timezone.utc)
OUTAGE = "你好，是95598吗？我们小区从早上八点就停电了，到现在还没来电，冰箱里的东西都要坏了，到底什么时候能修好？"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def tick(self, minutes: int = 1) -> None:
        self.now += timedelta(minutes=minutes)


@dataclass
class Centre:
    store: Store
    routing: Routing
    turns: TurnService
    clock: Clock
    tenant: Any
    power: Any
    shop: Any
    admin: Principal
    token: Principal


def _centre(store: Store, clock: Clock, slug: str = "gd95598") -> Centre:
    hub = Hub()
    routing = Routing(store, hub)
    turns = TurnService(store, None, hub, route=routing.route_new)  # type: ignore[arg-type]  (resolve only)
    tenant = store.create_tenant(slug, "供电服务中心")
    power = store.create_team(tenant.id, "电力抢修组")
    shop = store.create_team(tenant.id, "电商售后组")
    admin = Principal.of_user(store.create_user(tenant.id, f"{slug}-admin", "x", "admin"))
    token = Principal(tenant_id=tenant.id, role="admin", user_id=None, name="webchat-gateway")
    return Centre(store, routing, turns, clock, tenant, power, shop, admin, token)


def _agent(c: Centre, name: str, team: Any, *, presence: str = "available", **profile: Any) -> Principal:
    user = c.store.create_user(c.tenant.id, name, "x", "agent", team_id=team.id, display_name=name)
    principal = Principal.of_user(user)
    if profile:
        c.routing.set_profile(c.admin, user.id, **profile)
    if presence != "offline":
        c.routing.set_presence(principal, presence)
    c.clock.tick()
    return principal


def _busy_with(c: Centre, agent: Principal, n: int) -> None:
    """Give `agent` n open conversations by hand (the load routing counts)."""
    for _ in range(n):
        record = c.store.create_conversation(c.tenant.id, channel="webchat", industry="power", team_id=agent.team_id)
        c.store.update_conversation(record.id, agent_id=agent.user_id)


def _arrive(c: Centre, *, industry: str = "power", channel: str = "webchat", phone: str | None = None,
            by: Principal | None = None) -> ConversationRecord:
    hints = CustomerHints(phone=phone) if phone else None
    return c.turns.resolve(by or c.token, channel=channel, industry=industry, customer=hints)


@pytest.fixture
def centre(tmp_path: Path) -> Iterator[Centre]:
    clock = Clock()
    store = Store(make_engine(url=migrated_sqlite(tmp_path / "anfu.db")), clock=clock)
    c = _centre(store, clock)
    c.routing.create_queue(c.admin, c.power.id, "95598 停电报修", industry="power")
    c.routing.create_queue(c.admin, c.shop.id, "电商售后", industry="ecommerce")
    c.routing.update_team(c.admin, c.power.id, auto_assign=True)
    yield c
    store.engine.dispose()


# decisions ------------------------------------------------------------------------------
def _queue(qid: int, team: int, industry: str | None = None, channel: str | None = None) -> Queue:
    return Queue(id=qid, tenant_id=1, team_id=team, name=f"q{qid}", industry=industry, channel=channel, created_at=T0)


def test_the_most_specific_queue_wins() -> None:
    queues = [_queue(1, 1), _queue(2, 2, channel="call"), _queue(3, 3, industry="power"),
              _queue(4, 4, industry="power", channel="call"), _queue(5, 5, industry="power")]
    assert match_queue(queues, industry="power", channel="call").id == 4
    assert match_queue(queues, industry="power", channel="webchat").id == 3   # oldest of two equal
    assert match_queue(queues, industry="telecom", channel="call").id == 2
    assert match_queue(queues, industry=None, channel="email").id == 1
    assert match_queue(queues, industry="power", channel="call", team_id=5).id == 5
    assert match_queue(queues[1:], industry="banking", channel="email") is None


def _profile(uid: int, *, load: int, idle: int, cap: int = 5, presence: str = "available",
             industries: list[str] | None = None, channels: list[str] | None = None) -> AgentProfile:
    return AgentProfile(user_id=uid, tenant_id=1, username=f"a{uid}", display_name="", team_id=1, active=True,
                        industries=industries or [], channels=channels or [], max_open=cap, presence=presence,
                        presence_since=T0, last_assigned_at=T0 + timedelta(minutes=idle), open_count=load)


def test_pick_agent_by_load_then_longest_idle_within_skills_and_cap() -> None:
    chat = ConversationRecord(id=1, tenant_id=1, customer_id=None, team_id=1, agent_id=None, taken_over_by=None,
                              external_ref=None, channel="webchat", industry="power", status="open", last_seq=0,
                              emotion=None, intensity=None, escalation_level=0, created_at=T0, updated_at=T0)
    agents = [_profile(1, load=2, idle=0), _profile(2, load=1, idle=5), _profile(3, load=1, idle=3),
              _profile(4, load=0, idle=0, presence="busy"), _profile(5, load=0, idle=0, industries=["telecom"]),
              _profile(6, load=0, idle=0, channels=["call"]), _profile(7, load=3, idle=0, cap=3)]
    assert pick_agent(agents, chat).user_id == 3          # load 1, idle since minute 3 (longer than 2's)
    assert pick_agent(agents[:2], chat).user_id == 2
    assert pick_agent(agents[3:], chat) is None           # busy, unskilled, wrong channel, full


# the service on a store -------------------------------------------------------------------
def test_a_95598_outage_chat_goes_to_the_power_agent_with_the_lowest_load(centre: Centre) -> None:
    c = centre
    wang = _agent(c, "wang", c.power)
    li = _agent(c, "li", c.power)
    zhao = _agent(c, "zhao", c.power, presence="offline")            # lowest load, but signed out
    qian = _agent(c, "qian", c.power, industries=["telecom"])         # free, but not a power agent
    shop = _agent(c, "sun", c.shop)                                   # another team
    _busy_with(c, wang, 2)
    _busy_with(c, li, 1)
    record = _arrive(c, phone="13800138000")
    assert (record.team_id, record.agent_id) == (c.power.id, li.user_id)
    assert record.queue_id == c.routing.queues(c.admin)[0].id
    turn = c.turns.add_turn(c.token, record, "customer", OUTAGE, analyse=False)
    assert turn.conversation.agent_id == li.user_id
    # li now has 2 like wang, and was assigned a moment ago: wang has been idle longer
    second = _arrive(c)
    assert second.agent_id == wang.user_id
    assert zhao.user_id not in (record.agent_id, second.agent_id)
    assert {qian.user_id, shop.user_id}.isdisjoint({record.agent_id, second.agent_id})
    entries = c.store.list_audit(c.admin, action="conversation.assigned").items
    assert {(e.actor, e.target, e.detail["how"]) for e in entries} == {
        ("system:routing", f"conversation:{record.id}", "auto"), ("system:routing", f"conversation:{second.id}", "auto")}
    assert c.store.list_events(c.admin, name="conversation.assigned", conversation_id=record.id)[0].payload["load"] == 1


def test_a_full_team_leaves_it_queued_until_a_slot_frees(centre: Centre) -> None:
    c = centre
    wang = _agent(c, "wang", c.power, max_open=1)
    li = _agent(c, "li", c.power, max_open=1)
    first, second = _arrive(c), _arrive(c)
    assert {first.agent_id, second.agent_id} == {wang.user_id, li.user_id}
    c.clock.tick()
    stranded = _arrive(c)
    assert stranded.agent_id is None and stranded.team_id == c.power.id
    figures = {f.queue_id: f for f in c.routing.figures(c.admin)}
    assert figures[stranded.queue_id].unassigned == 1 and figures[stranded.queue_id].open == 3
    assert figures[stranded.queue_id].oldest_unassigned_at == stranded.created_at
    # the customer writes: the queue shows them waiting for a reply
    c.turns.add_turn(c.token, stranded, "customer", OUTAGE, analyse=False)
    assert {f.queue_id: f for f in c.routing.figures(c.admin)}[stranded.queue_id].waiting == 1
    # wang closes a conversation: the waiting one is his at once
    owner = Principal.of_user(c.store.get_user(first.agent_id))
    c.routing.close(owner, first.id)
    assert c.store.get_conversation(stranded.id).agent_id == owner.user_id


def test_auto_assignment_off_keeps_it_for_the_wallboard_and_on_hands_it_out(centre: Centre) -> None:
    c = centre
    c.routing.update_team(c.admin, c.power.id, auto_assign=False)
    wang = _agent(c, "wang", c.power)
    record = _arrive(c)
    assert record.agent_id is None and record.team_id == c.power.id
    supervisor = Principal.of_user(c.store.create_user(c.tenant.id, "banzhang", "x", "supervisor", team_id=c.power.id))
    assert [f.unassigned for f in c.routing.figures(supervisor) if f.queue_id == record.queue_id] == [1]
    assert [x.id for x in c.routing.unassigned(supervisor)] == [record.id]
    c.routing.update_team(c.admin, c.power.id, auto_assign=True)      # switching on hands out the queue
    assert c.store.get_conversation(record.id).agent_id == wang.user_id
    # presence: an agent who becomes available gets what waits
    c.routing.set_presence(wang, "busy")
    later = _arrive(c)
    assert later.agent_id is None
    c.routing.set_presence(wang, "available")
    assert c.store.get_conversation(later.id).agent_id == wang.user_id


def test_unmatched_conversations_stay_tenant_wide_and_supervisors_stay_in_their_team(centre: Centre) -> None:
    c = centre
    _agent(c, "wang", c.power)
    bank = _arrive(c, industry="banking")
    assert (bank.team_id, bank.queue_id, bank.agent_id) == (None, None, None)
    shop_sup = Principal.of_user(c.store.create_user(c.tenant.id, "shopsup", "x", "supervisor", team_id=c.shop.id))
    # a supervisor's new power chat stays in their (shop) team: the power queue is not theirs
    own = _arrive(c, by=shop_sup)
    assert (own.team_id, own.agent_id) == (c.shop.id, None)


def test_routing_never_crosses_tenants(centre: Centre) -> None:
    c = centre
    other = _centre(c.store, c.clock, slug="rival")
    other.routing.create_queue(other.admin, other.power.id, "对手停电", industry="power")
    other.routing.update_team(other.admin, other.power.id, auto_assign=True)
    stranger = _agent(other, "rival-agent", other.power)
    busy = _agent(c, "wang", c.power, max_open=0)
    record = _arrive(c)
    assert record.agent_id is None and record.team_id == c.power.id and record.tenant_id == c.tenant.id
    assert stranger.user_id not in {p.user_id for p in c.routing.profiles(c.admin)}
    assert busy.user_id in {p.user_id for p in c.routing.profiles(c.admin)}
    theirs = _arrive(other)
    assert theirs.agent_id == stranger.user_id and theirs.tenant_id == other.tenant.id
    with pytest.raises(NotFoundError):
        c.routing.set_profile(c.admin, stranger.user_id, max_open=9)          # another tenant's agent
    with pytest.raises(NotFoundError):
        c.routing.create_queue(c.admin, other.power.id, "偷来的队列")         # another tenant's team
    with pytest.raises(NotFoundError):
        c.routing.update_team(c.admin, other.power.id, auto_assign=False)
    with pytest.raises(NotFoundError):
        c.routing.delete_queue(c.admin, other.routing.queues(other.admin)[0].id)
    assert {f.team_id for f in c.routing.figures(c.admin)} <= {c.power.id, c.shop.id, None}


def test_only_admins_configure_and_agents_set_only_their_own_presence(centre: Centre) -> None:
    c = centre
    wang = _agent(c, "wang", c.power)
    sup = Principal.of_user(c.store.create_user(c.tenant.id, "banzhang", "x", "supervisor", team_id=c.power.id))
    auditor = Principal.of_user(c.store.create_user(c.tenant.id, "zhijian", "x", "auditor"))
    for who in (wang, sup, auditor):
        with pytest.raises(AuthError):
            c.routing.set_profile(who, wang.user_id, max_open=9)
        with pytest.raises(AuthError):
            c.routing.create_queue(who, c.power.id, "新队列")
        with pytest.raises(AuthError):
            c.routing.update_team(who, c.power.id, name="改名")
    for who in (sup, auditor, c.admin, c.token):
        with pytest.raises(AuthError):
            c.routing.set_presence(who, "available")
    with pytest.raises(AuthError):
        c.routing.figures(wang)
    assert [p.user_id for p in c.routing.profiles(wang)] == [wang.user_id]
    assert [p.user_id for p in c.routing.profiles(sup)] == [wang.user_id]
    assert len(c.routing.figures(auditor)) >= 2
    with pytest.raises(StoreError) as bad:
        c.routing.set_profile(c.admin, wang.user_id, industries=["电力"])
    assert bad.value.code == "AF505"
    with pytest.raises(StoreError):
        c.routing.set_presence(wang, "lunch")
    renamed = c.routing.update_team(c.admin, c.power.id, name="电力抢修一组", ip="10.1.1.1")
    assert renamed.name == "电力抢修一组"
    with pytest.raises(StoreError) as dup:
        c.routing.update_team(c.admin, c.power.id, name="电商售后组")
    assert dup.value.code == "AF504"
    audit = c.store.list_audit(c.admin, action="team.updated").items
    assert audit[0].detail == {"name": "电力抢修一组"} and audit[0].ip == "10.1.1.1"


def test_deleting_a_queue_keeps_its_conversations_in_the_team(centre: Centre) -> None:
    c = centre
    record = _arrive(c)
    queue = c.routing.queues(c.admin)[0]
    c.routing.delete_queue(c.admin, queue.id)
    after = c.store.get_conversation(record.id)
    assert (after.team_id, after.queue_id) == (c.power.id, None)
    assert [f.unassigned for f in c.routing.figures(c.admin) if f.team_id == c.power.id and f.queue_id is None] == [1]


def test_transfer_joins_the_new_teams_queue_and_is_routed_there(centre: Centre) -> None:
    c = centre
    c.routing.update_team(c.admin, c.shop.id, auto_assign=True)
    seller = _agent(c, "sun", c.shop)
    c.routing.create_queue(c.admin, c.shop.id, "电商转电力", industry="power")
    record = _arrive(c)
    moved = c.routing.transfer(c.admin, record.id, c.shop.id)
    assert (moved.team_id, moved.agent_id) == (c.shop.id, seller.user_id)
    assert moved.queue_id == c.routing.queues(c.admin)[-1].id


# PostgreSQL: the cap under concurrent arrivals -------------------------------------------------
@pytest.fixture
def private_postgres() -> Iterator[str]:
    base = postgres_test_url()
    if base is None:
        pytest.skip("ANFU_TEST_POSTGRES_URL is not set")
    from sqlalchemy import text

    from anfu.store import upgrade

    schema = f"routing_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin_engine = make_engine(url=base)
    with admin_engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    try:
        engine = make_engine(url=url)
        upgrade(engine)
        engine.dispose()
        yield url
    finally:
        with admin_engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin_engine.dispose()


def test_the_cap_holds_under_concurrent_arrivals_on_postgresql(private_postgres: str) -> None:
    clock = Clock()
    engine = make_engine(url=private_postgres)
    assert engine.dialect.name == "postgresql"
    store = Store(engine, clock=clock)
    c = _centre(store, clock)
    c.routing.create_queue(c.admin, c.power.id, "95598 停电报修", industry="power")
    c.routing.update_team(c.admin, c.power.id, auto_assign=True)
    agents = [_agent(c, f"agent{i}", c.power, max_open=2) for i in range(3)]
    barrier = threading.Barrier(12)
    results: list[ConversationRecord] = []
    errors: list[BaseException] = []

    def arrive() -> None:
        try:
            barrier.wait(timeout=30)
            results.append(_arrive(c))
        except BaseException as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=arrive) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert len(results) == 12
    final = [store.get_conversation(r.id) for r in results]
    loads = {a.user_id: sum(1 for r in final if r.agent_id == a.user_id) for a in agents}
    assert loads == {a.user_id: 2 for a in agents}                  # every slot used, none over the cap
    assert sum(1 for r in final if r.agent_id is None) == 6
    assert all(p.open_count == 2 for p in c.routing.profiles(c.admin))
    assert len(store.list_audit(c.admin, action="conversation.assigned", page_size=100).items) == 6
    engine.dispose()


def test_an_agent_who_signs_out_hands_open_conversations_back(centre: Centre) -> None:
    c = centre
    wang = _agent(c, "wang", c.power, max_open=3)
    first, second = _arrive(c), _arrive(c)
    assert {first.agent_id, second.agent_id} == {wang.user_id}
    li = _agent(c, "li", c.power, max_open=1)
    supervisor = Principal.of_user(c.store.create_user(c.tenant.id, "banzhang", "x", "supervisor", team_id=c.power.id))
    c.store.take_over(second.id, by=supervisor)            # a supervisor's take-over stays with wang
    third = _arrive(c)                                      # li has room: li gets it
    assert third.agent_id == li.user_id
    c.routing.close(Principal.of_user(c.store.get_user(li.user_id)), third.id)
    c.routing.set_presence(wang, "offline")
    assert c.store.get_conversation(first.id).agent_id == li.user_id      # handed on to li
    assert c.store.get_conversation(second.id).agent_id == wang.user_id   # taken over: untouched
    entries = c.store.list_audit(c.admin, action="conversation.unassigned").items
    assert [(e.target, e.detail["how"], e.detail["previous_agent_id"]) for e in entries] == [
        (f"conversation:{first.id}", "agent_offline", wang.user_id)]
    # nobody free when li signs out: the conversation waits in the queue until wang is back
    c.routing.set_presence(wang, "busy")
    c.routing.set_presence(Principal.of_user(c.store.get_user(li.user_id)), "offline")
    assert c.store.get_conversation(first.id).agent_id is None
    assert [f.unassigned for f in c.routing.figures(c.admin) if f.queue_id == first.queue_id] == [1]
    c.routing.set_presence(wang, "available")
    assert c.store.get_conversation(first.id).agent_id == wang.user_id
