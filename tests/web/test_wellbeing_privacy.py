"""Wellbeing privacy: an agent's check-ins (self-check answers, private notes) are theirs alone;
supervisors see team load, rotation suggestions and requests for support, nothing private;
agents cannot read the team view; API tokens read no person's wellbeing."""

from __future__ import annotations

import pytest

from anfu.store import CareStore

ANGRY = "我们小区停电都三天了！！！报了两次修都没人来，你们到底管不管？"
THREAT = "排队排三天？今天再不来人我就打12345投诉，还要发抖音让大家看看你们的服务！"

NOTE = "其实我刚才被骂得很难受，想哭"


@pytest.fixture(scope="module")
def hard_contact(web):
    first = web.customer_says(ANGRY)
    conversation_id = first["conversation"]["id"]
    web.customer_says(THREAT, conversation_id)
    web.customer_says("你们都是一群废物！垃圾客服！", conversation_id)
    return conversation_id


def test_no_prompt_while_the_contact_is_still_going_on(web, hard_contact) -> None:
    assert web.client("li").get("/api/v1/wellbeing/me").json()["prompt"] is None
    assert 'id="care-banner"' not in web.client("li").get("/wellbeing/prompt").text


def test_the_agent_sees_load_and_the_pending_prompt(web, hard_contact) -> None:
    closed = web.client("li").patch(f"/api/v1/conversations/{hard_contact}", json={"status": "closed"})
    assert closed.status_code == 200, closed.text  # the contact is over: now the prompt comes
    me = web.client("li").get("/api/v1/wellbeing/me")
    assert me.status_code == 200, me.text
    body = me.json()
    assert body["today"]["hard_contacts"] >= 1 and body["today"]["index"] > 0
    assert body["prompt"]["conversation_id"] == hard_contact
    assert body["prompt"]["breathing"]["inhale"] > 0 and body["prompt"]["reframes"]
    page = web.client("li").get("/wellbeing/prompt")
    assert page.status_code == 200 and 'id="care-banner"' in page.text and "第三者" in page.text


def test_private_parts_reach_only_their_author(web, hard_contact) -> None:
    li = web.client("li")
    posted = li.post("/api/v1/wellbeing/checkins", json={"kind": "lead", "conversation_id": hard_contact,
                                                          "self_check": [4, 3, 2], "note": NOTE})
    assert posted.status_code == 201, posted.text
    mine = li.get("/api/v1/wellbeing/me").json()
    assert mine["checkins"][0]["note"] == NOTE and mine["checkins"][0]["self_check"] == [4, 3, 2]
    assert mine["prompt"] is None  # answered: the prompt goes away
    assert 'id="care-banner"' not in li.get("/wellbeing/prompt").text
    assert NOTE in li.get("/wellbeing").text

    team = web.client("wang").get("/api/v1/wellbeing/team")
    assert team.status_code == 200, team.text
    data = team.json()
    assert NOTE not in team.text and "self_check" not in team.text and "note" not in team.text
    assert any(r["kind"] == "lead" and r["name"] == "李强" for r in data["support_requests"])
    assert {m["name"] for m in data["members"]} == {"李强", "赵敏"}
    li_load = next(m["load"] for m in data["members"] if m["name"] == "李强")
    assert li_load["hard_contacts"] >= 1
    page = web.client("wang").get("/wellbeing/team")
    assert page.status_code == 200 and "李强" in page.text and NOTE not in page.text

    # nobody else reads it: the supervisor's own view, another agent, the auditor
    for who in ("wang", "zhao", "qa"):
        other = web.client(who).get("/api/v1/wellbeing/me")
        assert other.status_code == 200 and NOTE not in other.text
        assert NOTE not in web.client(who).get("/wellbeing").text


def test_agents_and_auditors_cannot_read_the_team_view(web) -> None:
    for who in ("li", "qa"):
        response = web.client(who).get("/api/v1/wellbeing/team")
        assert response.status_code == 403 and response.json()["error"]["code"] == "AF417"
    assert web.client("li").get("/wellbeing/team").status_code == 403


def test_api_tokens_read_no_persons_wellbeing(web) -> None:
    response = web.integration().get("/api/v1/wellbeing/me")
    assert response.status_code == 403 and response.json()["error"]["code"] == "AF417"


def test_the_store_never_hands_private_fields_to_a_supervisor(web, hard_contact) -> None:
    care = CareStore(web.store.engine)
    from anfu.store.access import Principal

    wang = Principal.of_user(web.users["wang"])
    li = Principal.of_user(web.users["li"])
    requests = care.support_requests(wang)
    assert requests and not hasattr(requests[0], "note") and not hasattr(requests[0], "self_check")
    assert all(c.user_id == wang.user_id for c in care.my_checkins(wang))
    assert any(c.note == NOTE for c in care.my_checkins(li))
    with pytest.raises(Exception) as err:
        care.support_requests(li)
    assert getattr(err.value, "code", None) == "AF417"


def test_bad_checkins_are_refused(web) -> None:
    li = web.client("li")
    assert li.post("/api/v1/wellbeing/checkins", json={"kind": "vent"}).status_code == 422
    assert li.post("/api/v1/wellbeing/checkins", json={"kind": "break", "self_check": [9]}).status_code == 422
    assert li.post("/api/v1/wellbeing/checkins", json={"kind": "break", "note": "很" * 3000}).status_code == 422
    other = web.client("li").post("/api/v1/wellbeing/checkins", json={"kind": "break", "conversation_id": 999999})
    assert other.status_code == 404


def test_peer_support_opt_in(web) -> None:
    zhao = web.client("zhao")
    assert zhao.put("/api/v1/wellbeing/me/peer-support", json={"enabled": True}).json() == {"enabled": True}
    assert web.client("li").get("/api/v1/wellbeing/me").json()["peers"] == ["赵敏"]
    assert zhao.get("/api/v1/wellbeing/me").json()["peer_support"] is True
    assert zhao.put("/api/v1/wellbeing/me/peer-support", json={"enabled": False}).json() == {"enabled": False}
    assert web.client("li").get("/api/v1/wellbeing/me").json()["peers"] == []


def test_wellbeing_routes_are_in_openapi(web) -> None:
    paths = web.client().get("/api/v1/openapi.json").json()["paths"]
    assert "get" in paths["/api/v1/wellbeing/me"] and "get" in paths["/api/v1/wellbeing/team"]


def test_team_view_of_another_shift_and_handling_requests(web, hard_contact) -> None:
    wang = web.client("wang")
    past = wang.get("/api/v1/wellbeing/team", params={"shift": "2020-01-06"}).json()
    assert past["shift"] == "2020-01-06" and all(m["load"]["contacts"] == 0 for m in past["members"])
    assert past["rotation"] == []
    bad = wang.get("/wellbeing/team", params={"shift": "yesterday"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "AF714"
    web.client("li").post("/api/v1/wellbeing/checkins", json={"kind": "peer"})
    open_requests = [r for r in wang.get("/api/v1/wellbeing/team").json()["support_requests"] if r["handled_at"] is None]
    assert open_requests
    done = wang.post(f"/wellbeing/requests/{open_requests[0]['id']}/handled")
    assert done.status_code == 303
    after = {r["id"]: r for r in wang.get("/api/v1/wellbeing/team").json()["support_requests"]}
    assert after[open_requests[0]["id"]]["handled_at"] is not None
    assert web.client("zhao").post(f"/wellbeing/requests/{open_requests[0]['id']}/handled").status_code == 403
