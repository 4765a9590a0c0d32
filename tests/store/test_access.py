"""Cross-tenant, cross-team and cross-role access matrix: every principal against every object,
through every read path of the store. The rule it checks is written here independently of
anfu.store.access; the test counts leaks (seen but forbidden) and misses (allowed but hidden)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from anfu.errors import AuthError, NotFoundError
from anfu.store import Principal, Store, can


@dataclass
class World:
    principals: dict[str, Principal] = field(default_factory=dict)
    conversations: list = field(default_factory=list)
    customers: list = field(default_factory=list)


def expected_visible(p: Principal, conv) -> bool:
    if conv.tenant_id != p.tenant_id:
        return False
    if p.role in ("admin", "auditor"):
        return True
    if p.role == "supervisor":
        return p.team_id is not None and conv.team_id == p.team_id
    return p.role == "agent" and conv.agent_id == p.user_id


def build_world(store: Store) -> World:
    world = World()
    for t in ("north", "south"):
        tenant = store.create_tenant(f"grid-{t}", f"{t}供电公司")
        teams = [store.create_team(tenant.id, name) for name in ("抢修组", "投诉组")]
        for role in ("admin", "auditor"):
            user = store.create_user(tenant.id, f"{t}.{role}", "h", role)
            world.principals[user.username] = Principal.of_user(user)
        lone = store.create_user(tenant.id, f"{t}.sup-noteam", "h", "supervisor")
        world.principals[lone.username] = Principal.of_user(lone)
        token = store.create_api_token(tenant.id, "crm", "auditor", f"{t}".ljust(64, "0"), "anfu_x")
        world.principals[f"{t}.token"] = Principal.of_token(token)
        shared, _ = store.upsert_customer(tenant.id, phone=f"1390000{len(world.customers):04d}", display_name="周女士")
        world.customers.append(shared)
        for ti, team in enumerate(teams):
            sup = store.create_user(tenant.id, f"{t}.sup{ti}", "h", "supervisor", team_id=team.id)
            world.principals[sup.username] = Principal.of_user(sup)
            for ai in range(2):
                agent = store.create_user(tenant.id, f"{t}.agent{ti}{ai}", "h", "agent", team_id=team.id)
                world.principals[agent.username] = Principal.of_user(agent)
                own, _ = store.upsert_customer(tenant.id, external_ref=f"{t}-{ti}-{ai}", display_name="客户")
                world.customers.append(own)
                for customer in (own, shared):
                    conv = store.create_conversation(tenant.id, channel="webchat", customer_id=customer.id,
                                                     team_id=team.id, agent_id=agent.id)
                    world.conversations.append(conv)
            # a queued conversation of the team, not yet assigned
            world.conversations.append(store.create_conversation(tenant.id, team_id=team.id, customer_id=shared.id))
        world.conversations.append(store.create_conversation(tenant.id, customer_id=shared.id))  # no team
        store.add_event(tenant.id, "sla.report", {"tenant": t})
    for conv in world.conversations:
        store.append_message(conv.id, "customer", f"第{conv.id}号会话：抄表数据不对，电费多扣了两百块！")
        store.save_assessment(conv.id, {"id": str(conv.id), "emotion": "dissatisfied", "intensity": 2})
        store.add_event(conv.tenant_id, "escalation.raised", {"conversation": conv.id}, conversation_id=conv.id)
    return world


def test_access_matrix_has_no_leaks(store: Store) -> None:
    world = build_world(store)
    leaks: list[str] = []
    checks = 0

    def check(ok: bool, what: str) -> None:
        nonlocal checks
        checks += 1
        if not ok:
            leaks.append(what)

    for name, p in world.principals.items():
        expected = {c.id for c in world.conversations if expected_visible(p, c)}
        for conv in world.conversations:
            visible = conv.id in expected
            try:
                store.get_conversation(conv.id, p)
                seen = True
            except NotFoundError:
                seen = False
            check(seen == visible, f"{name} get_conversation {conv.id}: seen={seen}")
            try:
                messages = store.list_messages(conv.id, p)
                assessment = store.latest_assessment(conv.id, p)
                check(visible and len(messages) == 1 and assessment is not None, f"{name} reads {conv.id}")
            except NotFoundError:
                check(not visible, f"{name} cannot read {conv.id}")
            check(can(p, "conversation.view", conv) == visible, f"{name} can view {conv.id}")
            writable = visible and p.role != "auditor"
            check(can(p, "conversation.write", conv) == writable, f"{name} can write {conv.id}")
        listed = set()
        page = 1
        while True:
            result = store.list_conversations(p, page=page, page_size=7)
            listed |= {c.id for c in result.items}
            if page >= result.pages:
                break
            page += 1
        check(listed == expected, f"{name} list_conversations {sorted(listed ^ expected)}")
        for customer in world.customers:
            convs = {c.id for c in world.conversations if c.customer_id == customer.id}
            tenant_wide = p.role in ("admin", "auditor") and customer.tenant_id == p.tenant_id
            customer_visible = tenant_wide or bool(convs & expected)
            try:
                timeline = store.customer_timeline(customer.id, p, page_size=200)
                shown = {item.conversation_id for item in timeline.items}
                check(customer_visible and shown == convs & expected, f"{name} timeline {customer.id}")
            except NotFoundError:
                check(not customer_visible, f"{name} timeline hidden {customer.id}")
        listed_customers = {c.id for c in store.list_customers(p, page_size=200).items}
        should = {c.id for c in world.customers if (p.role in ("admin", "auditor") and c.tenant_id == p.tenant_id)
                  or {x.id for x in world.conversations if x.customer_id == c.id} & expected}
        check(listed_customers == should, f"{name} list_customers")
        events = store.list_events(p, limit=1000)
        check(all(e.tenant_id == p.tenant_id for e in events), f"{name} events cross tenants")
        event_convs = {e.conversation_id for e in events if e.conversation_id is not None}
        check(event_convs == expected, f"{name} conversation events {sorted(event_convs ^ expected)}")
        tenant_events = [e for e in events if e.conversation_id is None]
        check(len(tenant_events) == (0 if p.role == "agent" else 1), f"{name} tenant events")

    assert checks > 1500
    assert leaks == [], f"{len(leaks)} leaks/misses of {checks} checks: {leaks[:10]}"


def test_writes_follow_the_same_rules(store: Store) -> None:
    world = build_world(store)
    for name in ("north.agent00", "north.sup1", "north.auditor", "south.admin"):
        p = world.principals[name]
        for conv in world.conversations[:12] + world.conversations[-12:]:
            allowed = expected_visible(p, conv) and p.role != "auditor"
            try:
                store.append_message(conv.id, "customer", "还要等多久？", by=p)
                done = True
            except (NotFoundError, AuthError):
                done = False
            assert done == allowed, (name, conv)
