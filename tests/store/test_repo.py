from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from anfu.errors import AuthError, InputError, NotFoundError, StoreError
from anfu.store import ConversationFilter, Principal, Store
from anfu.types import Conversation


@pytest.fixture
def tenant(store: Store):
    return store.create_tenant("power-95598", "国网客服中心")


@pytest.fixture
def admin(store: Store, tenant):
    user = store.create_user(tenant.id, "wang.admin", "hash", "admin", display_name="王管理")
    return Principal.of_user(user)


def test_tenants_teams_users_crud(store: Store, tenant) -> None:
    team = store.create_team(tenant.id, "抢修一班")
    user = store.create_user(tenant.id, "li.agent", "argon2-hash", "agent", team_id=team.id, display_name="李坐席")
    assert store.get_user_by_username("li.agent") == user
    assert store.list_users(tenant.id) == [user]
    assert store.list_teams(tenant.id) == [team]
    assert store.get_tenant_by_slug("power-95598") == tenant
    assert "password_hash" not in user.to_dict() and "totp_secret" not in user.to_dict()
    changed = store.update_user(user.id, role="supervisor", display_name="李班长")
    assert (changed.role, changed.display_name) == ("supervisor", "李班长")
    with pytest.raises(StoreError) as dup:
        store.create_user(tenant.id, "li.agent", "h", "agent")
    assert dup.value.code == "AF504"
    with pytest.raises(StoreError) as role:
        store.create_user(tenant.id, "zhao", "h", "root")
    assert role.value.code == "AF505"
    with pytest.raises(StoreError):
        store.update_user(user.id, username="other")
    other = store.create_tenant("telecom", "电信客服")
    with pytest.raises(StoreError):  # a team of another tenant
        store.create_user(other.id, "x.agent", "h", "agent", team_id=team.id)
    with pytest.raises(NotFoundError):
        store.get_user(99999)


def test_login_counters_lock_and_reset(store: Store, tenant) -> None:
    user = store.create_user(tenant.id, "zhang", "h", "agent")
    for _ in range(2):
        user = store.register_login_failure(user.id, max_attempts=3, lockout=timedelta(minutes=15))
    assert user.failed_logins == 2 and user.locked_until is None
    user = store.register_login_failure(user.id, max_attempts=3, lockout=timedelta(minutes=15))
    assert user.locked_until is not None and user.locked_until > datetime.now(timezone.utc)
    user = store.register_login_success(user.id)
    assert user.failed_logins == 0 and user.locked_until is None


def test_sessions_expire_and_revoke(store: Store, tenant) -> None:
    user = store.create_user(tenant.id, "zhou", "h", "agent")
    now = datetime.now(timezone.utc)
    live = store.create_session(user.id, "a" * 64, now + timedelta(hours=1), ip="10.0.0.8", user_agent="UA")
    store.create_session(user.id, "b" * 64, now - timedelta(seconds=1))
    assert store.get_session("a" * 64) == live
    assert store.get_session("b" * 64) is None  # expired
    assert store.revoke_session(live.id) and not store.revoke_session(live.id)
    assert store.get_session("a" * 64) is None
    store.create_session(user.id, "c" * 64, now + timedelta(hours=1))
    store.update_user(user.id, active=False)
    assert store.get_session("c" * 64) is None  # deactivated user
    assert store.revoke_user_sessions(user.id) == 2  # the expired one and "c"


def test_api_tokens(store: Store, tenant) -> None:
    token = store.create_api_token(tenant.id, "呼叫中心对接", "admin", "f" * 64, "anfu_abcdefg")
    assert store.get_api_token("f" * 64) == token
    other = store.create_tenant("ecommerce", "电商客服")
    with pytest.raises(NotFoundError):  # not across tenants: another tenant's token is a missing one
        store.revoke_api_token(token.id, tenant_id=other.id)
    assert store.revoke_api_token(token.id, tenant_id=tenant.id)
    assert not store.revoke_api_token(token.id, tenant_id=tenant.id)  # revoked already
    assert store.get_api_token("f" * 64) is None
    assert len(store.list_api_tokens(tenant.id)) == 1


def test_customer_has_one_timeline_across_channels(store: Store, tenant, admin) -> None:
    by_phone, created = store.upsert_customer(tenant.id, phone="+86 138-1234-5678", display_name="刘女士")
    assert created and by_phone.phone == "13812345678"
    same, created = store.upsert_customer(tenant.id, phone="13812345678", email="Liu@Example.com")
    assert not created and same.id == by_phone.id and same.email == "liu@example.com"
    by_mail, created = store.upsert_customer(tenant.id, email="liu@example.com ")
    assert not created and by_mail.id == by_phone.id
    call = store.create_conversation(tenant.id, channel="call", customer_id=same.id)
    mail = store.create_conversation(tenant.id, channel="email", customer_id=same.id)
    t0 = datetime(2024, 7, 1, 9, 0, tzinfo=timezone.utc)
    store.append_message(call.id, "customer", "我家又停电了，这个月第三次了！", sent_at=t0)
    store.append_message(call.id, "agent", "非常抱歉给您带来不便，我马上为您查询。", sent_at=t0 + timedelta(minutes=1))
    store.append_message(mail.id, "customer", "昨天电话里说今天来修，到现在还没人来。", sent_at=t0 + timedelta(days=1))
    timeline = store.customer_timeline(same.id, admin)
    assert [item.channel for item in timeline.items] == ["call", "call", "email"]
    assert timeline.total == 3 and timeline.items[0].message.text.startswith("我家又停电")
    page2 = store.customer_timeline(same.id, admin, page=2, page_size=2)
    assert [i.channel for i in page2.items] == ["email"] and page2.pages == 2
    with pytest.raises(InputError):
        store.upsert_customer(tenant.id)


def test_append_message_is_idempotent_and_ordered(store: Store, tenant) -> None:
    conv = store.create_conversation(tenant.id, channel="webchat", industry="power")
    first, created = store.append_message(conv.id, "customer", "电费怎么这么高？", client_msg_id="wx-001")
    again, created_again = store.append_message(conv.id, "customer", "电费怎么这么高？", client_msg_id="wx-001")
    assert created and not created_again and again == first
    second, _ = store.append_message(conv.id, "agent", "您好，我帮您核对一下账单。", client_msg_id="wx-002")
    third, _ = store.append_message(conv.id, "customer", "快点！")
    assert [m.seq for m in store.list_messages(conv.id)] == [1, 2, 3]
    assert (second.seq, third.seq) == (2, 3)
    assert store.get_conversation(conv.id).last_seq == 3
    other = store.create_conversation(tenant.id)
    with pytest.raises(StoreError) as reuse:
        store.append_message(other.id, "customer", "另一段对话", client_msg_id="wx-001")
    assert reuse.value.code == "AF505"
    for bad, code in ((("robot", "你好"), "AF007"), (("customer", "   "), "AF004"),
                      (("customer", "长" * 20_001), "AF005")):
        with pytest.raises(InputError) as err:
            store.append_message(conv.id, *bad)
        assert err.value.code == code
    with pytest.raises(NotFoundError):
        store.append_message(424242, "customer", "你好")
    loaded = store.load_conversation(conv.id)
    assert isinstance(loaded, Conversation) and loaded.industry == "power"
    assert [t.speaker for t in loaded.turns] == ["customer", "agent", "customer"]


def test_masked_storage_keeps_no_personal_information(db_url: str) -> None:
    from anfu.store import make_engine

    engine = make_engine(url=db_url)
    store = Store(engine, mask_text=True)
    tenant = store.create_tenant("t", "租户")
    conv = store.create_conversation(tenant.id)
    message, _ = store.append_message(conv.id, "customer", "我的手机号是13912345678，快给我回电话！")
    assert message.text == "我的手机号是139****5678，快给我回电话！" and message.masked
    assert "13912345678" not in store.list_messages(conv.id)[0].text
    engine.dispose()


@pytest.fixture(scope="module")
def analyzer():
    import anfu

    # the threat (12398 投诉) reaches the ladder through the escalation-risk component
    return anfu.load({"pipeline": {"components": ["anfu.normalize.v1", "anfu.risk.v1", "anfu.emotion.v1",
                                                  "anfu.trajectory.v1", "anfu.escalation.v1"]}})


def test_save_assessment_from_the_analyzer(store: Store, tenant, admin, analyzer) -> None:
    conv = store.create_conversation(tenant.id, channel="call", industry="power")
    store.append_message(conv.id, "customer", "你们到底管不管？停电一整天了，再不来人我就打12398投诉！")
    assessment = analyzer(store.load_conversation(conv.id))
    record = store.save_assessment(conv.id, assessment)
    assert record.data == assessment.to_dict()
    last = assessment.turns[-1]
    assert (record.emotion, record.intensity) == (last.emotion, last.intensity)
    assert record.upto_seq == 1 and record.emotion == "angry"
    assert assessment.escalation is not None
    assert record.escalation_level == assessment.escalation.level >= 1
    refreshed = store.get_conversation(conv.id)
    assert (refreshed.emotion, refreshed.escalation_level) == (record.emotion, record.escalation_level)
    assert store.latest_assessment(conv.id) == record
    store.save_assessment(conv.id, {"id": "u", "emotion": "angry", "intensity": 4, "escalation": {"level": 2}})
    assert store.get_conversation(conv.id).escalation_level == 2
    angry = store.list_conversations(admin, ConversationFilter(min_escalation=2))
    assert [c.id for c in angry.items] == [conv.id]
    assert len(store.list_assessments(conv.id)) == 2


def test_list_conversations_filters_and_pages(store: Store, tenant, admin) -> None:
    ids = [store.create_conversation(tenant.id, channel=ch, industry="telecom").id
           for ch in ("webchat", "email", "webchat", "call", "webchat")]
    webchat = store.list_conversations(admin, ConversationFilter(channel="webchat"), page_size=2)
    assert webchat.total == 3 and len(webchat.items) == 2 and webchat.pages == 2
    rest = store.list_conversations(admin, ConversationFilter(channel="webchat"), page=2, page_size=2)
    assert {c.id for c in webchat.items + rest.items} == {ids[0], ids[2], ids[4]}
    store.update_conversation(ids[1], by=admin, status="closed")
    assert [c.id for c in store.list_conversations(admin, ConversationFilter(status="closed")).items] == [ids[1]]
    with pytest.raises(InputError):
        store.list_conversations(admin, page=0)
    with pytest.raises(InputError):
        store.list_conversations(admin, page_size=1000)


def test_events_and_polling(store: Store, tenant, admin) -> None:
    conv = store.create_conversation(tenant.id)
    first = store.add_event(tenant.id, "escalation.raised", {"level": 2, "reason": "扬言投诉12398"},
                            conversation_id=conv.id)
    store.add_event(tenant.id, "sla.breached", {"minutes": 30})
    events = store.list_events(admin)
    assert [e.name for e in events] == ["escalation.raised", "sla.breached"]
    assert events[0].payload["reason"] == "扬言投诉12398"
    assert [e.name for e in store.list_events(admin, after_id=first.id)] == ["sla.breached"]
    with pytest.raises(InputError):
        store.add_event(tenant.id, "Escalation Raised")


def test_audit_masks_personal_information(store: Store, tenant, admin) -> None:
    entry = store.audit(tenant.id, admin.actor, "export.conversations",
                        detail={"query": "客户 13812345678 的通话", "rows": 12}, ip="10.1.1.1")
    assert entry.detail == {"query": "客户 138****5678 的通话", "rows": 12}
    page = store.list_audit(admin)
    assert page.items[0].action == "export.conversations"
    agent = Principal(tenant_id=tenant.id, role="agent", user_id=999)
    with pytest.raises(AuthError):
        store.list_audit(agent)


def test_delete_customer_data_removes_it_everywhere(store: Store, tenant, admin) -> None:
    customer, _ = store.upsert_customer(tenant.id, phone="13812345678", display_name="陈先生")
    keep, _ = store.upsert_customer(tenant.id, phone="13700001111")
    conv = store.create_conversation(tenant.id, customer_id=customer.id)
    kept_conv = store.create_conversation(tenant.id, customer_id=keep.id)
    store.append_message(conv.id, "customer", "我叫陈明，电话13812345678，地址北京市朝阳区建国路88号")
    store.append_message(kept_conv.id, "customer", "我的问题解决了，谢谢")
    store.save_assessment(conv.id, {"id": "x", "emotion": "angry", "intensity": 3})
    store.add_event(tenant.id, "escalation.raised", {"text": "陈明要投诉"}, conversation_id=conv.id)
    supervisor = Principal(tenant_id=tenant.id, role="supervisor", user_id=5, team_id=None)
    with pytest.raises(AuthError):
        store.delete_customer_data(customer.id, by=supervisor)
    report = store.delete_customer_data(customer.id, by=admin)
    assert (report.conversations, report.messages, report.assessments, report.events) == (1, 1, 1, 1)
    with pytest.raises(NotFoundError):
        store.get_customer(customer.id)
    with pytest.raises(NotFoundError):
        store.get_conversation(conv.id)
    assert store.list_events(admin) == []
    assert store.list_messages(kept_conv.id)[0].text == "我的问题解决了，谢谢"
    audit = store.list_audit(admin, action="customer.deleted").items[0]
    assert audit.detail["messages"] == 1 and "陈明" not in str(audit.to_dict())
    other_admin = Principal(tenant_id=tenant.id + 1000, role="admin", user_id=1)
    with pytest.raises(NotFoundError):
        store.delete_customer_data(keep.id, by=other_admin)


def test_take_over_records_event_and_audit(store: Store, tenant, admin) -> None:
    team = store.create_team(tenant.id, "投诉组")
    agent = store.create_user(tenant.id, "agent.a", "h", "agent", team_id=team.id)
    sup = store.create_user(tenant.id, "sup.a", "h", "supervisor", team_id=team.id)
    conv = store.create_conversation(tenant.id, team_id=team.id, agent_id=agent.id)
    taken = store.take_over(conv.id, by=Principal.of_user(sup))
    assert taken.taken_over_by == sup.id
    with pytest.raises(AuthError):  # the agent can no longer answer as the agent
        store.append_message(conv.id, "agent", "我来处理", by=Principal.of_user(agent))
    store.append_message(conv.id, "agent", "您好，我是值班长，由我来为您处理。", by=Principal.of_user(sup))
    assert [e.name for e in store.list_events(admin)] == ["conversation.taken_over"]
    assert store.list_audit(admin, action="conversation.taken_over").total == 1
    with pytest.raises(AuthError):
        store.take_over(conv.id, by=Principal.of_user(agent))
    released = store.take_over(conv.id, by=Principal.of_user(sup), release=True)
    assert released.taken_over_by is None


def test_latest_assessments_in_one_query_respect_visibility(tmp_path) -> None:  # noqa: ANN001
    """The review queue reads the newest assessment of many conversations at once; a
    conversation the principal may not see is absent (issue 13)."""
    from anfu.store import Principal, Store, make_engine
    from anfu.store.testing import migrated_sqlite

    store = Store(make_engine(url=migrated_sqlite(tmp_path / "a.db")))
    tenant = store.create_tenant("t13", "租户")
    team, other = store.create_team(tenant.id, "一组"), store.create_team(tenant.id, "二组")
    sup = Principal.of_user(store.create_user(tenant.id, "s", "x", "supervisor", team_id=team.id))
    mine = store.create_conversation(tenant.id, channel="webchat", team_id=team.id)
    theirs = store.create_conversation(tenant.id, channel="webchat", team_id=other.id)
    for conversation, scores in ((mine, (40, 70)), (theirs, (10,))):
        for score in scores:
            store.save_assessment(conversation.id, {"quality_score": score})
    latest = store.latest_assessments(sup, [mine.id, theirs.id])
    assert set(latest) == {mine.id} and latest[mine.id].data["quality_score"] == 70
    assert store.latest_assessments(sup, []) == {}
    store.engine.dispose()


def _desk(store: Store) -> tuple[Any, Principal, Principal, Principal]:
    tenant = store.create_tenant("open", "开单租户")
    team = store.create_team(tenant.id, "客服一组")
    other_team = store.create_team(tenant.id, "客服二组")
    zhang = Principal.of_user(store.create_user(tenant.id, "zhang", "x", "agent", team_id=team.id))
    li = Principal.of_user(store.create_user(tenant.id, "li", "x", "agent", team_id=team.id))
    boss = Principal.of_user(store.create_user(tenant.id, "wang", "x", "supervisor", team_id=other_team.id))
    return tenant, zhang, li, boss


def test_open_conversation_matches_customer_and_conversation_in_one_transaction(store: Store) -> None:
    """Issue 15: the first message of a chat opens its conversation in one transaction (the
    agent checked, the customer matched or created, the conversation found or created); the
    later uses of the same reference find it and create no second customer."""
    tenant, zhang, _, _ = _desk(store)
    hints = {"phone": "139 1234 5678", "display_name": "王女士"}
    first, created = store.open_conversation(zhang, external_ref="chatwoot:1:77", agent_id=zhang.user_id,
                                             customer=hints)
    assert created and first.agent_id == zhang.user_id and first.team_id == zhang.team_id
    again, created_again = store.open_conversation(zhang, external_ref="chatwoot:1:77", agent_id=zhang.user_id,
                                                   customer={**hints, "email": "wang@example.cn"})
    assert not created_again and again.id == first.id and again.customer_id == first.customer_id
    customer = store.get_customer(first.customer_id)
    assert customer.phone == "13912345678" and customer.email == "wang@example.cn"
    assert store.list_customers(zhang).total == 1
    # no reference: a new conversation every time, for the same customer
    fresh, created_fresh = store.open_conversation(zhang, agent_id=zhang.user_id, customer=hints)
    assert created_fresh and fresh.id != first.id and fresh.customer_id == first.customer_id


def test_open_conversation_refuses_other_peoples_references_and_writes_nothing(store: Store) -> None:
    """A reference naming a conversation the caller may not see is missing (AF503), like an
    unknown id, and the refused request leaves no customer behind; an agent of another team or
    tenant cannot be assigned (AF417 / AF505), and nothing is created either."""
    tenant, zhang, li, boss = _desk(store)
    mine, _ = store.open_conversation(zhang, external_ref="zammad:9", agent_id=zhang.user_id,
                                      customer={"phone": "13800001111"})
    with pytest.raises(NotFoundError) as missing:
        store.open_conversation(li, external_ref="zammad:9", agent_id=li.user_id,
                                customer={"phone": "13922223333"})
    assert missing.value.code == "AF503"
    assert store.list_customers(li).total == 0
    with pytest.raises(AuthError):
        store.open_conversation(boss, external_ref="zammad:10", agent_id=zhang.user_id,
                                customer={"phone": "13944445555"})
    stranger = store.create_tenant("other", "别家")
    outsider = store.create_user(stranger.id, "zhao", "x", "agent")
    with pytest.raises(InputError) as foreign:
        store.open_conversation(boss, external_ref="zammad:11", agent_id=outsider.id)
    assert foreign.value.code == "AF505"
    admin = Principal.of_user(store.create_user(tenant.id, "root", "x", "admin"))
    assert store.list_customers(admin).total == 1
    assert [c.id for c in store.list_conversations(admin).items] == [mine.id]


def test_open_conversation_concurrent_first_use_makes_one_conversation(store: Store) -> None:
    """Eight first messages of the same chat at once (a helpdesk retrying on a timeout): one
    conversation and one customer, every caller gets that conversation."""
    import threading

    _, zhang, _, _ = _desk(store)
    start = threading.Barrier(8)
    results: list[Any] = []
    lock = threading.Lock()

    def first_message() -> None:
        start.wait()
        try:
            outcome: Any = store.open_conversation(zhang, external_ref="chatwoot:3:5", agent_id=zhang.user_id,
                                                   customer={"external_ref": "cw-contact-5", "phone": "13700007777"})
        except Exception as exc:  # noqa: BLE001 - the test reports any failure below
            outcome = exc
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=first_message) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results) == 8 and not [r for r in results if isinstance(r, Exception)]
    assert len({record.id for record, _ in results}) == 1 and sum(created for _, created in results) == 1
    assert store.list_customers(zhang).total == 1


def test_unchanged_customer_is_not_written_again(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """A matched customer whose fields do not change is neither updated nor re-indexed (the
    turn path writes nothing when nothing changed); a new e-mail is."""
    from anfu.store import customers_repo

    tenant = store.create_tenant("same", "同一客户")
    indexed: list[int] = []
    original = customers_repo.index_customer
    monkeypatch.setattr(customers_repo, "index_customer", lambda s, row: (indexed.append(row.id), original(s, row)))
    first, created = store.upsert_customer(tenant.id, phone="13912345678", display_name="王女士")
    again, created_again = store.upsert_customer(tenant.id, phone="139-1234-5678", display_name="王女士")
    assert created and not created_again and again.id == first.id and indexed == [first.id]
    store.upsert_customer(tenant.id, phone="13912345678", email="wang@example.cn")
    assert indexed == [first.id, first.id]
    assert store.get_customer(first.id).email == "wang@example.cn"


@pytest.mark.parametrize("typed,digits", [
    ("１３９ １２３４ ５６７８", "13912345678"),             # full width, from a Chinese IME
    ("+86 139-1234-5678", "13912345678"),
    ("13912345678 / 13812345678 / 010-88886666", "13912345678"),  # several numbers: the first
    ("分机8001 / 139 1234 5678", "13912345678"),              # an extension is no number of its own
    ("010-8888 6666", "01088886666"),
])
def test_phone_numbers_as_people_type_them_match_one_customer(typed: str, digits: str) -> None:
    from anfu.store.customers_repo import normalize_phone

    assert normalize_phone(typed) == digits
