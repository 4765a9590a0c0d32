"""CareStore access rules: check-ins private to their author, support requests without private
fields for the team's supervisor only, assignments within the team, sessions visible to their
trainee and the team's supervisor, cases within the tenant."""

from __future__ import annotations

import pytest

from anfu.errors import AuthError, NotFoundError, TrainingError, WellbeingError
from anfu.store import CareStore, Principal, Store, make_engine


@pytest.fixture()
def world(db_url: str):
    """On SQLite, and on PostgreSQL when ANFU_TEST_POSTGRES_URL is set (tests/store/conftest.py)."""
    engine = make_engine(url=db_url)
    store = Store(engine)
    care = CareStore(engine)
    t1 = store.create_tenant("a", "A")
    t2 = store.create_tenant("b", "B")
    team1 = store.create_team(t1.id, "一组")
    team2 = store.create_team(t1.id, "二组")
    users = {}
    for name, tenant, team, role in (("li", t1, team1, "agent"), ("zhao", t1, team1, "agent"), ("wu", t1, team2, "agent"),
                                     ("wang", t1, team1, "supervisor"), ("sun", t1, team2, "supervisor"),
                                     ("admin", t1, None, "admin"), ("qa", t1, None, "auditor"), ("far", t2, None, "agent")):
        users[name] = Principal.of_user(store.create_user(tenant.id, name, "x", role, team_id=team.id if team else None))
    yield care, users
    engine.dispose()


def test_checkins_and_requests(world) -> None:
    care, u = world
    care.add_checkin(u["li"], "lead", self_check=[4, 4, 3], note="很难受")
    care.add_checkin(u["li"], "break")
    care.add_checkin(u["wu"], "peer", note="二组的事")
    assert [c.kind for c in care.my_checkins(u["li"])] == ["break", "lead"]
    assert care.my_checkins(u["zhao"]) == [] and care.my_checkins(u["wang"]) == []
    team1 = care.support_requests(u["wang"])
    assert [(r.user_id, r.kind) for r in team1] == [(u["li"].user_id, "lead")]
    assert {r.kind for r in care.support_requests(u["admin"])} == {"lead", "peer"}
    assert [r.kind for r in care.support_requests(u["sun"])] == ["peer"]
    for who in ("li", "qa", "far"):
        with pytest.raises(AuthError):
            care.support_requests(u[who])
    handled = care.handle_request(u["wang"], team1[0].id)
    assert handled.handled_at is not None and care.support_requests(u["wang"], open_only=True) == []
    with pytest.raises(NotFoundError):
        care.handle_request(u["sun"], team1[0].id)  # another team's supervisor
    with pytest.raises(WellbeingError) as err:
        care.add_checkin(u["li"], "nap")
    assert err.value.code == "AF711"
    with pytest.raises(WellbeingError) as err:
        care.add_checkin(u["li"], "break", self_check=[5])
    assert err.value.code == "AF712"
    with pytest.raises(WellbeingError) as err:
        care.add_checkin(u["li"], "break", note="x" * 2001)
    assert err.value.code == "AF713"
    token = Principal(tenant_id=u["li"].tenant_id, role="agent", name="gateway")
    with pytest.raises(AuthError):
        care.add_checkin(token, "break")


def test_peer_support_within_the_team(world) -> None:
    care, u = world
    care.set_peer_support(u["zhao"], True)
    care.set_peer_support(u["wu"], True)
    assert care.peers(u["li"]) == [u["zhao"].user_id]
    assert care.peers(u["zhao"]) == []
    assert care.peer_support(u["zhao"]) and not care.peer_support(u["li"])


def test_assignments_sessions_and_cases(world) -> None:
    care, u = world
    with pytest.raises(AuthError):
        care.assign(u["li"], u["zhao"].user_id, "power_outage_elderly")
    with pytest.raises(NotFoundError):
        care.assign(u["wang"], u["wu"].user_id, "power_outage_elderly")  # not in wang's team
    with pytest.raises(NotFoundError):
        care.assign(u["admin"], u["far"].user_id, "power_outage_elderly")  # another tenant
    a = care.assign(u["wang"], u["li"].user_id, "power_outage_elderly")
    assert [x.id for x in care.list_assignments(u["li"])] == [a.id] and care.list_assignments(u["zhao"]) == []
    with pytest.raises(NotFoundError):
        care.start_session(u["zhao"], "x", 1, assignment_id=a.id)
    s = care.start_session(u["li"], "ignored", 7, assignment_id=a.id)
    assert s.scenario_id == "power_outage_elderly" and s.status == "active"
    care.add_reply(u["li"], s.id, "您好")
    with pytest.raises(NotFoundError):
        care.add_reply(u["wang"], s.id, "冒名")
    assert care.get_session(u["wang"], s.id).replies == ["您好"]
    assert care.get_session(u["qa"], s.id).id == s.id
    for who in ("zhao", "sun", "far"):
        with pytest.raises(NotFoundError):
            care.get_session(u[who], s.id)
    done = care.finish_session(u["li"], s.id, score=80, outcome="resolved", skills={"empathy": 1.0}, summary={"score": 80})
    assert done.status == "finished" and care.list_assignments(u["li"], open_only=True) == []
    assert care.list_assignments(u["li"])[0].session_id == s.id
    with pytest.raises(TrainingError) as err:
        care.add_reply(u["li"], s.id, "再来")
    assert err.value.code == "AF704"
    assert [x.id for x in care.list_sessions(u["wang"], finished_only=True)] == [s.id]
    assert care.list_sessions(u["sun"]) == []
    with pytest.raises(AuthError):
        care.save_case(u["li"], title="t", data={}, source_conversation_id=None, industry=None, cause=None, persona=None)
    case = care.save_case(u["qa"], title="t", data={"turns": []}, source_conversation_id=None, industry="power",
                          cause="outage", persona="刚强型")
    assert care.get_case(u["li"], case.id).title == "t"
    with pytest.raises(NotFoundError):
        care.get_case(u["far"], case.id)
    with pytest.raises(AuthError):
        care.save_scenario(u["li"], {"id": "x"})
    care.save_scenario(u["wang"], {"id": "own_one"})
    with pytest.raises(TrainingError) as err:
        care.save_scenario(u["admin"], {"id": "own_one"})
    assert err.value.code == "AF707"
    assert [r.scenario_id for r in care.list_scenarios(u["li"].tenant_id)] == ["own_one"]
    assert care.list_scenarios(u["far"].tenant_id) == []
