"""Global search in the service layer (anfu.service.search): Chinese queries cut like the index,
results per kind, masked by role like the customer panel, only what the principal may open,
coded errors for bad queries — on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest
from sqlalchemy import text

from anfu.errors import InputError
from anfu.pii import mask_identity
from anfu.service.search import Search, snippet
from anfu.store import Principal, Store, WorkflowStore, make_engine, upgrade
from anfu.store.testing import copy_sqlite, migrated_sqlite, postgres_test_url, reset

_SCHEMAS = itertools.count(1)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("search") / "anfu.db"
    migrated_sqlite(path)
    return path


@pytest.fixture(scope="module")
def pg_schema() -> str:
    """A migrated schema of its own in the PostgreSQL test database (other suites downgrade and
    upgrade the shared one while these run), dropped afterwards."""
    base = postgres_test_url()
    if base is None:
        pytest.skip("ANFU_TEST_POSTGRES_URL is not set")
    name = f"anfu_search_{os.getpid()}_{next(_SCHEMAS)}"
    engine = make_engine(url=base)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{name}"'))
    url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{name}"
    upgrade(make_engine(url=url))
    yield url
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, template: Path, tmp_path: Path):
    if request.param == "sqlite":
        url = copy_sqlite(template, tmp_path / "anfu.db")
    else:
        url = request.getfixturevalue("pg_schema")
        engine = make_engine(url=url)
        reset(engine)
        engine.dispose()
    store = Store(make_engine(url=url))
    yield store
    store.engine.dispose()


def centre(store: Store, slug: str = "grid") -> dict[str, Principal | int]:
    tenant = store.create_tenant(slug, "供电服务中心")
    team = store.create_team(tenant.id, "投诉组")
    other = store.create_team(tenant.id, "抢修组")
    who: dict = {}
    for name, role, team_id in (("agent", "agent", team.id), ("agent2", "agent", other.id), ("sup", "supervisor", team.id),
                                ("admin", "admin", None), ("auditor", "auditor", None)):
        who[name] = Principal.of_user(store.create_user(tenant.id, f"{slug}.{name}", "h", role, team_id=team_id))
    customer, _ = store.upsert_customer(tenant.id, phone="13812345678", display_name="王小明",
                                        email="wxm@example.com")
    conv = store.create_conversation(tenant.id, customer_id=customer.id, team_id=team.id,
                                     agent_id=who["agent"].user_id)
    store.append_message(conv.id, "customer", "你好，我的电话是13812345678，电费账单重复扣费了，请尽快退款。")
    store.append_message(conv.id, "customer", "退款到现在还没到账，我要投诉！")
    store.append_message(conv.id, "agent", "非常抱歉，退款申请已经提交，预计三个工作日内到账。")
    other_conv = store.create_conversation(tenant.id, team_id=other.id, agent_id=who["agent2"].user_id)
    store.append_message(other_conv.id, "customer", "光纤断了，宽带断网一整天，退款怎么算？")
    ticket = WorkflowStore(store.engine).create_ticket(
        tenant.id, {"id": "TS-20261206-0042", "status": "open", "stage": "接收反馈", "priority": "high",
                    "cause": "billing", "summary": "重复扣费退款，客户电话13812345678", "history": []},
        conversation_id=conv.id, team_id=team.id, owner_id=who["agent"].user_id)
    who.update(conv=conv.id, other_conv=other_conv.id, customer=customer.id, ticket=ticket.id)
    return who


def test_conversations_tickets_and_customers_are_found_by_chinese_words(store: Store) -> None:
    c = centre(store)
    found = Search(store).search(c["admin"], "退款")
    assert [r.id for r in found.results["conversation"]] == [c["conv"], c["other_conv"]] or \
        {r.id for r in found.results["conversation"]} == {c["conv"], c["other_conv"]}
    assert len(found.results["conversation"]) == 2          # one result per conversation
    assert [r.id for r in found.results["ticket"]] == [c["ticket"]]
    assert found.results["customer"] == []
    assert found.terms == ["退款"] and found.elapsed_ms >= 0
    mine = next(r for r in found.results["conversation"] if r.id == c["conv"])
    assert mine.link == f"/console/{c['conv']}" and mine.message_id is not None
    for start, end in mine.highlights:
        assert mine.snippet[start:end] == "退款"
    # every word must be there: 重复 + 扣费 is in one conversation only
    assert [r.id for r in Search(store).search(c["admin"], "重复扣费", "conversation").results["conversation"]] == [c["conv"]]
    assert Search(store).search(c["admin"], "TS-20261206-0042", "ticket").results["ticket"][0].title == "TS-20261206-0042"


def test_identity_and_text_are_masked_for_roles_that_do_not_handle_cases(store: Store) -> None:
    c = centre(store)
    search = Search(store)
    for role in ("agent", "sup"):
        found = search.search(c[role], "王小明")
        assert found.masked is False
        assert found.results["customer"][0].title == "王小明"
        assert "13812345678" in found.results["customer"][0].snippet
        text = search.search(c[role], "扣费", "conversation").results["conversation"][0].snippet
        assert "13812345678" in text
    for role in ("admin", "auditor"):
        found = search.search(c[role], "王小明")
        assert found.masked is True
        hit = found.results["customer"][0]
        assert hit.title == mask_identity("display_name", "王小明") == "王**"
        assert "13812345678" not in hit.snippet and "wxm@example.com" not in hit.snippet
        assert "王小明" not in hit.snippet
        text = search.search(c[role], "扣费", "conversation").results["conversation"][0].snippet
        assert "13812345678" not in text and "5678" in text      # masked as the console shows it
        ticket = search.search(c[role], "扣费", "ticket").results["ticket"][0].snippet
        assert "13812345678" not in ticket
    audited = search.search(c["auditor"], "扣费", "conversation").results["conversation"][0]
    assert audited.link == f"/review/{c['conv']}"                 # auditors read in the review screen


def test_an_agent_finds_only_what_they_can_open(store: Store) -> None:
    c = centre(store)
    search = Search(store)
    assert {r.id for r in search.search(c["agent"], "退款").results["conversation"]} == {c["conv"]}
    assert {r.id for r in search.search(c["agent2"], "退款").results["conversation"]} == {c["other_conv"]}
    assert search.search(c["agent2"], "退款", "ticket").results["ticket"] == []
    assert search.search(c["agent2"], "王小明", "customer").results["customer"] == []
    # every result opens for them: the conversation and the ticket are visible by the same rules
    for r in search.search(c["agent"], "退款").results["conversation"]:
        store.get_conversation(r.id, visible_to=c["agent"])
    customer = search.search(c["agent"], "王小明", "customer").results["customer"][0]
    assert customer.conversation_id == c["conv"] and customer.link == f"/console/{c['conv']}"


def test_tenant_b_finds_nothing_of_tenant_a(store: Store) -> None:
    a = centre(store, "grid-a")
    b = centre(store, "grid-b")
    store.append_message(a["conv"], "customer", "只有甲公司有的词：蓝色火烈鸟")
    for role in ("agent", "sup", "admin", "auditor"):
        assert Search(store).search(b[role], "火烈鸟").total == 0
        found = Search(store).search(b[role], "退款")
        assert {r.id for r in found.results["conversation"]} <= {b["conv"], b["other_conv"]}
        assert {r.id for r in found.results["ticket"]} <= {b["ticket"]}
    assert Search(store).search(a["admin"], "火烈鸟").total == 1


@pytest.mark.parametrize("query, kind, code", [
    ("", None, "AF680"), ("   ", None, "AF680"), (None, None, "AF680"), ("，。！？……", None, "AF680"),
    ("退款" * 51, None, "AF681"), ("退款", "emails", "AF682"),
])
def test_bad_queries_are_coded_errors(store: Store, query: str | None, kind: str | None, code: str) -> None:
    c = centre(store)
    with pytest.raises(InputError) as err:
        Search(store).search(c["admin"], query, kind)
    assert err.value.code == code


def test_limit_and_more(store: Store) -> None:
    c = centre(store)
    for i in range(4):
        conv = store.create_conversation(c["admin"].tenant_id, agent_id=c["agent"].user_id)
        store.append_message(conv.id, "customer", f"第{i}次来问：电表读数不对，要求退款")
    found = Search(store).search(c["agent"], "退款", "conversation", limit=2)
    assert len(found.results["conversation"]) == 2 and found.more["conversation"] is True
    assert Search(store).search(c["agent"], "退款", "conversation", limit=10).more["conversation"] is False
    with pytest.raises(InputError) as err:
        Search(store).search(c["agent"], "退款", limit=0)
    assert err.value.code == "AF505"


def test_snippet_marks_the_words_in_a_window() -> None:
    text = "客户说：" + "前面的话" * 20 + "我要退款，马上退款！" + "后面的话" * 20
    cut, spans = snippet(text, ["退款"])
    assert cut.startswith("…") and cut.endswith("…") and len(cut) <= 82
    assert [cut[s:e] for s, e in spans] == ["退款", "退款"]
    cut, spans = snippet("退款", ["退款"])
    assert (cut, spans) == ("退款", [(0, 2)])
    cut, spans = snippet("ＲＥＦＵＮＤ please", ["refund"])          # full-width and case folded
    assert cut[spans[0][0]:spans[0][1]] == "ＲＥＦＵＮＤ"


def test_any_spelling_of_a_phone_number_or_e_mail_finds_the_customer(store: Store) -> None:
    c = centre(store)
    search = Search(store)
    for query in ("+86 138-1234-5678", "138 1234 5678", "0086 13812345678", "WXM@Example.com"):
        assert [r.id for r in search.search(c["agent"], query, "customer").results["customer"]] == [c["customer"]], query
        assert search.search(c["agent2"], query, "customer").results["customer"] == []   # not theirs
    masked = search.search(c["auditor"], "138-1234-5678", "customer").results["customer"][0]
    assert "13812345678" not in masked.snippet and masked.title == "王**"
    assert search.search(c["agent"], "139-0000-0000", "customer").results["customer"] == []
