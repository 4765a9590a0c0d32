"""Conversation lists (anfu.service.lists): mine / team / unassigned / closed per role, the
filters, and saved views that belong to their user — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from anfu.errors import InputError, NotFoundError, StoreError
from anfu.service.lists import ConversationLists, ListFilters
from anfu.store import Principal, Store
from tests.service.test_search import pg_schema, store, template  # noqa: F401  (SQLite and PostgreSQL stores)


def centre(store: Store) -> dict:  # noqa: F811
    tenant = store.create_tenant("lists", "电信客服中心")
    team, other = store.create_team(tenant.id, "宽带组"), store.create_team(tenant.id, "手机组")
    who: dict = {}
    for name, role, team_id in (("agent", "agent", team.id), ("mate", "agent", team.id), ("far", "agent", other.id),
                                ("sup", "supervisor", team.id), ("admin", "admin", None),
                                ("auditor", "auditor", None)):
        who[name] = Principal.of_user(store.create_user(tenant.id, f"l.{name}", "h", role, team_id=team_id))
    make = store.create_conversation
    convs = {
        "mine_open": make(tenant.id, team_id=team.id, agent_id=who["agent"].user_id, channel="webchat", industry="telecom"),
        "mine_pending": make(tenant.id, team_id=team.id, agent_id=who["agent"].user_id, channel="email",
                             industry="telecom", status="pending"),
        "mine_closed": make(tenant.id, team_id=team.id, agent_id=who["agent"].user_id, status="closed"),
        "mate_open": make(tenant.id, team_id=team.id, agent_id=who["mate"].user_id, channel="call"),
        "queued": make(tenant.id, team_id=team.id),
        "far_open": make(tenant.id, team_id=other.id, agent_id=who["far"].user_id),
        "far_queued": make(tenant.id, team_id=other.id),
    }
    store.save_assessment(convs["mine_open"].id, {"emotion": "angry", "intensity": 3, "escalation": {"level": 2}})
    who["convs"] = {k: v.id for k, v in convs.items()}
    return who


def ids(page) -> set[int]:  # noqa: ANN001
    return {c.id for c in page.items}


def test_each_list_per_role(store: Store) -> None:  # noqa: F811
    c = centre(store)
    v = c["convs"]
    lists = ConversationLists(store)
    assert ids(lists.conversations(c["agent"], "mine")) == {v["mine_open"], v["mine_pending"]}
    assert ids(lists.conversations(c["agent"], "closed")) == {v["mine_closed"]}
    # an agent's team list is still only what they may read; the queue shows their team's waiting
    assert ids(lists.conversations(c["agent"], "team")) == {v["mine_open"], v["mine_pending"]}
    assert ids(lists.conversations(c["agent"], "unassigned")) == {v["queued"]}
    # the team's active conversations, those still waiting in its queue included
    assert ids(lists.conversations(c["sup"], "team")) == {v["mine_open"], v["mine_pending"], v["mate_open"], v["queued"]}
    assert ids(lists.conversations(c["sup"], "unassigned")) == {v["queued"]}
    assert ids(lists.conversations(c["sup"], "mine")) == set()
    assert ids(lists.conversations(c["admin"], "team")) == {v["mine_open"], v["mine_pending"], v["mate_open"], v["queued"],
                                                            v["far_open"], v["far_queued"]}
    assert ids(lists.conversations(c["admin"], "unassigned")) == {v["queued"], v["far_queued"]}
    assert ids(lists.conversations(c["auditor"], "closed")) == {v["mine_closed"]}
    assert lists.counts(c["agent"]) == {"mine": 2, "team": 2, "unassigned": 1, "closed": 1}


def test_filters(store: Store) -> None:  # noqa: F811
    c = centre(store)
    v = c["convs"]
    lists = ConversationLists(store)
    sup = c["sup"]
    assert ids(lists.conversations(sup, "team", ListFilters(status="pending"))) == {v["mine_pending"]}
    assert ids(lists.conversations(sup, "team", ListFilters(channel="call"))) == {v["mate_open"]}
    assert ids(lists.conversations(sup, "team", ListFilters(industry="telecom"))) == {v["mine_open"], v["mine_pending"]}
    assert ids(lists.conversations(sup, "team", ListFilters(emotion="angry"))) == {v["mine_open"]}
    assert ids(lists.conversations(sup, "team", ListFilters(min_level=2))) == {v["mine_open"]}
    today = datetime.now(timezone.utc).date()
    assert len(ids(lists.conversations(sup, "team", ListFilters(date_from=today, date_to=today)))) == 4
    assert ids(lists.conversations(sup, "team", ListFilters(date_to=today - timedelta(days=1)))) == set()
    parsed = ListFilters.parse({"status": "", "channel": " call ", "min_level": "1", "date_from": "2026-12-01"})
    assert parsed == ListFilters(channel="call", min_level=1, date_from=date(2026, 12, 1))
    assert ListFilters.parse(parsed.to_dict()) == parsed


@pytest.mark.parametrize("raw, code", [
    ({"status": "archived"}, "AF682"), ({"industry": "railway"}, "AF682"), ({"emotion": "furious"}, "AF010"),
    ({"min_level": "9"}, "AF682"), ({"min_level": "高"}, "AF682"), ({"date_from": "2026-13-01"}, "AF682"),
    ({"channel": "Web Chat!"}, "AF682"), ({"colour": "red"}, "AF682"),
])
def test_bad_filters_are_coded_errors(raw: dict, code: str) -> None:
    with pytest.raises(InputError) as err:
        ListFilters.parse(raw)
    assert err.value.code == code


def test_bad_lists_are_coded_errors(store: Store) -> None:  # noqa: F811
    c = centre(store)
    lists = ConversationLists(store)
    with pytest.raises(InputError) as err:
        lists.conversations(c["agent"], "everything")
    assert err.value.code == "AF682"
    with pytest.raises(InputError) as err:
        lists.conversations(c["agent"], "closed", ListFilters(status="open"))
    assert err.value.code == "AF684"
    token = Principal(tenant_id=c["agent"].tenant_id, role="supervisor", team_id=c["sup"].team_id, name="crm")
    with pytest.raises(InputError):
        lists.conversations(token, "mine")
    assert ids(lists.conversations(token, "team")) == ids(lists.conversations(c["sup"], "team"))


def test_saved_views_belong_to_their_user(store: Store) -> None:  # noqa: F811
    c = centre(store)
    lists = ConversationLists(store)
    view = lists.save_view(c["sup"], "  高风险愤怒客户 ", "team", ListFilters(emotion="angry", min_level=2))
    assert view.name == "高风险愤怒客户" and view.filters == {"emotion": "angry", "min_level": 2}
    lists.save_view(c["sup"], "今日排队", "unassigned", ListFilters())
    assert [x.name for x in lists.views(c["sup"])] == ["今日排队", "高风险愤怒客户"]
    shown = lists.view(c["sup"], view.id)
    assert ids(lists.conversations(c["sup"], shown.scope, ListFilters.parse(shown.filters))) == {c["convs"]["mine_open"]}
    # nobody else lists, reads or deletes it — not even an admin of the tenant
    for other in ("agent", "admin", "auditor"):
        assert lists.views(c[other]) == []
        with pytest.raises(NotFoundError):
            lists.view(c[other], view.id)
        with pytest.raises(NotFoundError):
            lists.delete_view(c[other], view.id)
    with pytest.raises(StoreError) as err:
        lists.save_view(c["sup"], "高风险愤怒客户", "closed", ListFilters())
    assert err.value.code == "AF504"
    for name in ("", "   ", "名" * 101):
        with pytest.raises(InputError) as err:
            lists.save_view(c["sup"], name, "team", ListFilters())
        assert err.value.code == "AF683"
    with pytest.raises(InputError) as err:
        lists.save_view(c["sup"], "坏的", "closed", ListFilters(status="open"))
    assert err.value.code == "AF684"
    lists.delete_view(c["sup"], view.id)
    assert [x.name for x in lists.views(c["sup"])] == ["今日排队"]
    with pytest.raises(NotFoundError):
        lists.delete_view(c["sup"], view.id)
