"""Training over REST (anfu/server/routes/training.py, issue 11): what the training pages do,
through the same store and simulator: a trainee practises a scenario (the simulated customer
answers in Chinese), finishes with a score and skills; trainers assign scenarios to their team
and write new ones validated like the packs; case writers turn a closed conversation into an
anonymised case. Roles, teams and tenants are checked; bad input is a coded 4xx. On SQLite and
PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from anfu.rules import RULES_ROOT


def code(response: Any) -> str:
    return response.json()["error"]["code"]


def test_a_trainee_practises_and_finishes(world: Any) -> None:
    agent = world.client("agent_a1")
    started = agent.post("/api/v1/training/sessions", json={"scenario_id": "power_outage_elderly"})
    assert started.status_code == 201, started.text
    session = started.json()
    assert session["status"] == "active" and session["agent_id"] == world.users["agent_a1"].id
    assert session["transcript"][0]["speaker"] == "customer" and session["transcript"][0]["text"]
    url = f"/api/v1/training/sessions/{session['id']}"
    answered = agent.post(f"{url}/reply", json={"text": "大爷您别着急，我马上帮您查一下停电原因和抢修时间。"})
    assert answered.status_code == 200, answered.text
    transcript = answered.json()["transcript"]
    assert [t["speaker"] for t in transcript[-2:]] == ["agent", "customer"] and len(transcript) == 3
    # the supervisor of the team may read it; another team's agent and another tenant may not
    assert world.client("sup_a1").get(url).json()["transcript"] == transcript
    for who in ("agent_a2", "admin_b"):
        other = world.client(who).get(url)
        assert other.status_code == 404 and code(other) == "AF503", who
    not_theirs = world.client("sup_a1").post(f"{url}/reply", json={"text": "我替他回一句"})
    assert not_theirs.status_code == 404 and code(not_theirs) == "AF503"
    finished = agent.post(f"{url}/finish")
    assert finished.status_code == 200, finished.text
    body = finished.json()
    assert body["status"] == "finished" and isinstance(body["score"], int) and body["outcome"]
    assert set(body["skills"]) >= {"empathy"}
    late = agent.post(f"{url}/reply", json={"text": "还有别的问题吗？"})
    assert late.status_code == 409 and code(late) == "AF704"


@pytest.mark.parametrize(("body", "status", "expected"), [
    ({"scenario_id": "no_such_scenario"}, 404, "AF702"),
    ({"scenario_id": "power_outage_elderly", "seed": 1}, 422, "AF431"),
    ({"assignment_id": 0}, 422, "AF431"),
])
def test_bad_starts_are_coded(world: Any, body: dict[str, Any], status: int, expected: str) -> None:
    response = world.client("agent_a1").post("/api/v1/training/sessions", json=body)
    assert response.status_code == status and code(response) == expected, response.text


def test_an_api_token_cannot_train(world: Any) -> None:
    response = world.token_client("agent_a1").post("/api/v1/training/sessions",
                                                   json={"scenario_id": "power_outage_elderly"})
    assert response.status_code == 403 and code(response) == "AF417", response.text


def test_empty_reply_is_422(world: Any) -> None:
    agent = world.client("agent_a1")
    session = agent.post("/api/v1/training/sessions", json={"scenario_id": "power_outage_elderly"}).json()
    for text in ("", "   "):
        response = agent.post(f"/api/v1/training/sessions/{session['id']}/reply", json={"text": text})
        assert response.status_code == 422 and code(response) in ("AF431", "AF004"), response.text
    assert len(agent.get(f"/api/v1/training/sessions/{session['id']}").json()["transcript"]) == 1


def test_trainers_assign_in_their_team(world: Any) -> None:
    sup = world.client("sup_a1")
    made = sup.post("/api/v1/training/assignments",
                    json={"agent_id": world.users["agent_a1"].id, "scenario_id": "telecom_signal_weak"})
    assert made.status_code == 201, made.text
    assignment = made.json()
    assert assignment["scenario_id"] == "telecom_signal_weak" and assignment["completed_at"] is None
    session = world.client("agent_a1").post("/api/v1/training/sessions", json={"assignment_id": assignment["id"]})
    assert session.status_code == 201 and session.json()["scenario_id"] == "telecom_signal_weak"
    other_team = sup.post("/api/v1/training/assignments",
                          json={"agent_id": world.users["agent_a2"].id, "scenario_id": "telecom_signal_weak"})
    assert (other_team.status_code, code(other_team)) == (404, "AF503"), other_team.text
    other_tenant = world.client("admin_b").post("/api/v1/training/assignments",
                                                json={"agent_id": world.users["agent_a1"].id,
                                                      "scenario_id": "telecom_signal_weak"})
    assert other_tenant.status_code == 404 and code(other_tenant) == "AF503"
    for who in ("agent_a1", "auditor_a"):
        refused = world.client(who).post("/api/v1/training/assignments",
                                         json={"agent_id": world.users["agent_a1"].id,
                                               "scenario_id": "telecom_signal_weak"})
        assert refused.status_code == 403 and code(refused) == "AF417"


def test_trainers_write_scenarios(world: Any) -> None:
    data = yaml.safe_load((RULES_ROOT / "zh_CN" / "scenarios" / "power_bill_spike.yaml").read_text(encoding="utf-8"))
    sup = world.client("sup_a1")
    good = {**data, "id": "api_centre_bill", "title": "本中心情景：阶梯电价争议（接口）"}
    saved = sup.post("/api/v1/training/scenarios", json={"yaml": yaml.safe_dump(good, allow_unicode=True)})
    assert saved.status_code == 201 and saved.json()["scenario_id"] == "api_centre_bill", saved.text
    practised = world.client("agent_a1").post("/api/v1/training/sessions", json={"scenario_id": "api_centre_bill"})
    assert practised.status_code == 201
    assert world.client("agent_b1").post("/api/v1/training/sessions",
                                         json={"scenario_id": "api_centre_bill"}).status_code == 404
    duplicate = sup.post("/api/v1/training/scenarios", json={"yaml": yaml.safe_dump(good, allow_unicode=True)})
    assert duplicate.status_code == 409 and code(duplicate) == "AF707"
    broken = sup.post("/api/v1/training/scenarios",
                      json={"yaml": yaml.safe_dump({**data, "id": "api_bad", "persona": "暴躁型"}, allow_unicode=True)})
    assert broken.status_code == 422 and code(broken) == "AF301" and "persona must be one of" in broken.text
    assert "/anfu/" not in broken.text and "Traceback" not in broken.text
    assert sup.post("/api/v1/training/scenarios", json={"yaml": "id: [unclosed"}).status_code == 422
    refused = world.client("agent_a1").post("/api/v1/training/scenarios", json={"yaml": "x"})
    assert refused.status_code == 403 and code(refused) == "AF417"


def test_case_writers_make_a_case_of_a_closed_conversation(world: Any) -> None:
    agent = world.client("agent_a1")
    msg = agent.post("/api/v1/messages", json={"conversation_ref": "training-case-api",
                                               "text": "我是王建国，电话13812345678，电费怎么翻了一倍？",
                                               "customer": {"phone": "13812345678"}})
    conversation_id = msg.json()["conversation"]["id"]
    open_case = world.client("sup_a1").post("/api/v1/training/cases", json={"conversation_id": conversation_id})
    assert open_case.status_code == 404 and code(open_case) == "AF503"
    assert agent.patch(f"/api/v1/conversations/{conversation_id}", json={"status": "closed"}).status_code == 200
    made = world.client("sup_a1").post("/api/v1/training/cases", json={"conversation_id": conversation_id})
    assert made.status_code == 201, made.text
    assert "13812345678" not in made.text and "王建国" not in made.text
    refused = agent.post("/api/v1/training/cases", json={"conversation_id": conversation_id})
    assert refused.status_code == 403 and code(refused) == "AF417"
    other = world.client("admin_b").post("/api/v1/training/cases", json={"conversation_id": conversation_id})
    assert other.status_code == 404 and code(other) == "AF503"
