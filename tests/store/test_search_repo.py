"""The search index in the store: kept current by the write paths, tenant-scoped, access-checked
in the query, emptied by a deletion request, rebuilt by the migration — on SQLite (FTS5) and
PostgreSQL (GIN over the jieba tokens)."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select, text

from anfu.store import Principal, SearchStore, Store, WorkflowStore, downgrade, make_engine, upgrade
from anfu.store.testing import postgres_test_url
# SQLite, and PostgreSQL in a schema of its own (other suites reset the shared one meanwhile)
from tests.service.test_search import pg_schema, store, template  # noqa: F401
from anfu.store.search_tables import SearchDocumentRow
from anfu.text.segment import query_terms


@dataclass
class Centre:
    admin: Principal
    auditor: Principal
    supervisor: Principal
    other_supervisor: Principal
    agent: Principal
    other_agent: Principal
    mine: int          # the agent's conversation
    theirs: int        # the other team's conversation
    customer: int
    ticket: int


def _ticket(number: str, summary: str, **extra: object) -> dict:
    return {"id": number, "status": "open", "stage": "接收反馈", "priority": "high", "cause": "billing",
            "summary": summary, "history": [], **extra}


def build(store: Store, slug: str, name: str) -> Centre:  # noqa: F811
    tenant = store.create_tenant(slug, name)
    team, other = store.create_team(tenant.id, "投诉组"), store.create_team(tenant.id, "抢修组")
    users = {}
    for username, role, team_id in (("admin", "admin", None), ("auditor", "auditor", None),
                                    ("sup", "supervisor", team.id), ("sup2", "supervisor", other.id),
                                    ("agent", "agent", team.id), ("agent2", "agent", other.id)):
        users[username] = Principal.of_user(store.create_user(tenant.id, f"{slug}.{username}", "h", role,
                                                              team_id=team_id))
    customer, _ = store.upsert_customer(tenant.id, phone="13812345678", display_name="王小明")
    mine = store.create_conversation(tenant.id, customer_id=customer.id, team_id=team.id,
                                     agent_id=users["agent"].user_id, industry="power")
    store.append_message(mine.id, "customer", "我家已经停电三天了，电费账单还重复扣费，我要投诉！")
    store.append_message(mine.id, "agent", "非常抱歉给您添麻烦了，我马上为您核实扣费记录。")
    theirs = store.create_conversation(tenant.id, team_id=other.id, agent_id=users["agent2"].user_id)
    store.append_message(theirs.id, "customer", "宽带断网了，师傅什么时候上门维修？")
    workflow = WorkflowStore(store.engine)
    ticket = workflow.create_ticket(tenant.id, _ticket(f"TS-20261206-{len(slug):04d}", "重复扣费退款申请"),
                                    conversation_id=mine.id, team_id=team.id, owner_id=users["agent"].user_id)
    return Centre(users["admin"], users["auditor"], users["sup"], users["sup2"], users["agent"], users["agent2"],
                  mine.id, theirs.id, customer.id, ticket.id)


def found(store: Store, who: Principal, query: str, kind: str = "message") -> set[int]:  # noqa: F811
    hits = SearchStore(store.engine).search(who, query_terms(query), kinds=(kind,))
    return {h.id if kind != "message" else h.conversation_id for h in hits[kind]}


def test_messages_are_found_by_their_words_right_after_the_write(store: Store) -> None:  # noqa: F811
    c = build(store, "grid-a", "甲供电公司")
    assert found(store, c.admin, "扣费") == {c.mine}
    assert found(store, c.admin, "重复扣费") == {c.mine}        # every word, anywhere in the message
    assert found(store, c.admin, "断网") == {c.theirs}
    assert found(store, c.admin, "停電") == {c.mine}            # Traditional finds Simplified
    assert found(store, c.admin, "扣费 断网") == set()           # AND, not OR
    hit = SearchStore(store.engine).search(c.admin, query_terms("投诉"), kinds=("message",))["message"][0]
    assert hit.speaker == "customer" and "投诉" in hit.text and hit.status == "open"


def test_tenant_b_never_finds_tenant_a(store: Store) -> None:  # noqa: F811
    a = build(store, "grid-a", "甲供电公司")
    b = build(store, "grid-b", "乙供电公司")
    store.append_message(a.mine, "customer", "甲公司独有的暗号：紫色长颈鹿")
    for who in (b.admin, b.auditor, b.supervisor, b.agent):
        assert found(store, who, "长颈鹿") == set()
        assert found(store, who, "扣费") <= {b.mine, b.theirs}
        assert found(store, who, "王小明", "customer") <= {b.customer}
        assert found(store, who, "退款", "ticket") <= {b.ticket}
    assert found(store, a.admin, "长颈鹿") == {a.mine}


def test_each_role_finds_only_what_it_may_open(store: Store) -> None:  # noqa: F811
    c = build(store, "grid-a", "甲供电公司")
    words = "扣费"  # in the agent's conversation (team 投诉组) only
    assert found(store, c.agent, words) == {c.mine}
    assert found(store, c.other_agent, words) == set()
    assert found(store, c.supervisor, words) == {c.mine}
    assert found(store, c.other_supervisor, words) == set()
    assert found(store, c.other_agent, "断网") == {c.theirs}
    assert found(store, c.agent, "断网") == set()
    # tickets: the owner and the team's supervisor; customers: through a visible conversation
    assert found(store, c.agent, "退款", "ticket") == {c.ticket}
    assert found(store, c.other_agent, "退款", "ticket") == set()
    assert found(store, c.other_supervisor, "退款", "ticket") == set()
    assert found(store, c.auditor, "退款", "ticket") == {c.ticket}
    assert found(store, c.agent, "王小明", "customer") == {c.customer}
    assert found(store, c.other_agent, "王小明", "customer") == set()
    # an unassigned conversation of the team: the agent may not read it, so cannot find it
    queued = store.create_conversation(c.agent.tenant_id, team_id=c.agent.team_id)
    store.append_message(queued.id, "customer", "排队中的客户想咨询峰谷电价")
    assert found(store, c.agent, "峰谷电价") == set()
    assert found(store, c.supervisor, "峰谷电价") == {queued.id}


def test_tickets_and_customers_follow_their_changes(store: Store) -> None:  # noqa: F811
    c = build(store, "grid-a", "甲供电公司")
    workflow = WorkflowStore(store.engine)
    number = workflow.get_ticket(c.ticket).number
    assert found(store, c.admin, number, "ticket") == {c.ticket}          # by its number
    workflow.save_ticket(c.ticket, _ticket(number, "已改为电表故障上门检测",
                                           history=[{"note": "客户同意周六上午上门"}]))
    assert found(store, c.admin, "退款", "ticket") == set()
    assert found(store, c.admin, "电表故障", "ticket") == {c.ticket}
    assert found(store, c.admin, "周六上午", "ticket") == {c.ticket}       # history notes count
    store.upsert_customer(c.admin.tenant_id, phone="13812345678", email="wxm@example.com")
    assert found(store, c.admin, "wxm@example.com", "customer") == {c.customer}
    assert found(store, c.admin, "13812345678", "customer") == {c.customer}
    with store.engine.connect() as conn:  # one document per thing, not one per write
        assert conn.scalar(select(func.count()).select_from(SearchDocumentRow)
                           .where(SearchDocumentRow.kind == "customer")) == 1


def test_a_deletion_request_leaves_nothing_to_find(store: Store) -> None:  # noqa: F811
    c = build(store, "grid-a", "甲供电公司")
    store.delete_customer_data(c.customer, by=c.admin)
    assert found(store, c.admin, "扣费") == set()
    assert found(store, c.admin, "王小明", "customer") == set()
    assert found(store, c.admin, "退款", "ticket") == set()
    assert found(store, c.admin, "断网") == {c.theirs}                       # someone else's stays
    with store.engine.connect() as conn:
        left = conn.execute(select(SearchDocumentRow.terms)).scalars().all()
        assert not any("扣费" in t or "王小明" in t for t in left)
        if store.engine.dialect.name == "sqlite":  # nor in the FTS5 segments after the merge
            assert conn.scalar(text("SELECT count(*) FROM search_fts WHERE search_fts MATCH '\"扣费\"'")) == 0
            assert conn.scalar(text("SELECT count(*) FROM search_fts_data WHERE instr(block, :w) > 0"),
                               {"w": "扣费".encode()}) == 0


def test_reindex_rebuilds_the_documents(store: Store) -> None:  # noqa: F811
    c = build(store, "grid-a", "甲供电公司")
    with store.engine.begin() as conn:
        conn.execute(SearchDocumentRow.__table__.delete())
    assert found(store, c.admin, "扣费") == set()
    assert SearchStore(store.engine).reindex(c.admin.tenant_id) == 3 + 1 + 1
    assert found(store, c.admin, "扣费") == {c.mine}
    assert found(store, c.admin, "退款", "ticket") == {c.ticket}
    assert found(store, c.admin, "王小明", "customer") == {c.customer}


def test_a_query_without_words_finds_nothing_and_syntax_is_inert(store: Store) -> None:  # noqa: F811
    c = build(store, "grid-a", "甲供电公司")
    search = SearchStore(store.engine)
    assert search.search(c.admin, [], kinds=("message",)) == {"message": []}
    for query in ('"扣费" OR *', "扣费' | '断网", "NEAR(扣费 断网)", "扣费) & !(断网"):
        assert found(store, c.admin, query) <= {c.mine}  # tokens only: no operator survives


def test_the_like_scan_peer_agrees_with_the_index(store: Store) -> None:  # noqa: F811
    c = build(store, "grid-a", "甲供电公司")
    scan = SearchStore(store.engine).scan(c.admin, "重复扣费")
    assert {h.conversation_id for h in scan} == {c.mine} == found(store, c.admin, "重复扣费")
    assert SearchStore(store.engine).scan(c.other_agent, "重复扣费") == []
    assert SearchStore(store.engine).scan(c.admin, "100%_") == []


@pytest.fixture(params=["sqlite", "postgresql"])
def private_store(request: pytest.FixtureRequest, tmp_path) -> Store:  # noqa: ANN001
    """A store of its own: the migration test downgrades it, which must not touch the shared
    PostgreSQL schema other suites are using at the same time."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'own.db'}"
        drop = None
    else:
        base = postgres_test_url()
        if base is None:
            pytest.skip("ANFU_TEST_POSTGRES_URL is not set")
        name = f"anfu_search_migration_{os.getpid()}"
        admin = make_engine(url=base)
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{name}"'))
        url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{name}"
        drop = (admin, name)
    engine = make_engine(url=url)
    upgrade(engine)
    yield Store(engine)
    engine.dispose()
    if drop is not None:
        with drop[0].begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{drop[1]}" CASCADE'))
        drop[0].dispose()


def test_the_migration_indexes_what_was_stored_before_it(private_store: Store) -> None:
    own = private_store
    c = build(own, "grid-a", "甲供电公司")
    downgrade(own.engine, "0006")                    # before the workspace branches: no index at all
    assert "search_documents" not in _tables(own)
    upgrade(own.engine)                              # back to the heads: 0007_search backfills
    assert found(own, c.admin, "扣费") == {c.mine}
    assert found(own, c.admin, "退款", "ticket") == {c.ticket}
    assert found(own, c.admin, "13812345678", "customer") == {c.customer}
    assert found(own, c.other_agent, "扣费") == set()


def _tables(own: Store) -> set[str]:
    from sqlalchemy import inspect

    return set(inspect(own.engine).get_table_names())


def test_a_caller_is_found_by_part_of_the_name_or_the_phone_tail(store: Store) -> None:  # noqa: F811
    """What an agent types to find a caller: 小明 (or 王) for 王小明, and 5678 — the 手机尾号 —
    for 138 1234 5678; only within what the role may see."""
    c = build(store, "grid-a", "甲供电公司")
    for query in ("小明", "王小明", "王", "5678", "13812345678"):
        assert found(store, c.admin, query, "customer") == {c.customer}, query
    assert found(store, c.agent, "5678", "customer") == {c.customer}
    assert found(store, c.other_agent, "5678", "customer") == set()   # not a customer of theirs
    assert found(store, c.admin, "1234", "customer") == set()         # a tail, not any four digits
    assert found(store, c.admin, "小红", "customer") == set()


def test_the_customer_terms_migration_rewrites_older_documents(private_store: Store) -> None:
    own = private_store
    c = build(own, "grid-a", "甲供电公司")
    downgrade(own.engine, "0009_page_indexes")      # documents as the store wrote them before
    assert found(own, c.admin, "5678", "customer") == set()
    assert found(own, c.admin, "13812345678", "customer") == {c.customer}
    upgrade(own.engine)
    assert found(own, c.admin, "5678", "customer") == {c.customer}
    assert found(own, c.admin, "小明", "customer") == {c.customer}
