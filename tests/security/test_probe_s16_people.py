"""Probe D (session 16): agents' wellbeing, the training simulator and analytics — employees'
personal data and who may read or write it. Each failing test pins one defect.

1. The case library (案例库, readable by every agent of the tenant) keeps customers' full names:
   "王建国先生" and a four-character self-introduction (我叫欧阳娜娜) survive anonymisation.
2. `GET /api/v1/wellbeing/team` and `POST /api/v1/wellbeing/requests/{id}/handled` answer an API
   token (an integration), though the wellbeing routes "belong to a person: an API token gets AF417".
3. An API token reads trainees' simulator sessions (transcript, score, skills) and assigns training,
   though "API tokens get AF417 (a session belongs to a person)".
4. An agent moved to another team: their open request for the team lead (找组长) stays with the
   former lead and never reaches the new one; the former lead keeps reading their training scores.
5. An admin assigns a training scenario to an auditor, a supervisor or themselves ("agent_id" is
   any user of the tenant), where the docs promise AF503 for "no such agent you may assign".
SQLite only (`sqlite_world`): nothing here depends on the database engine."""

from __future__ import annotations

from typing import Any

import pytest

from tests.security.probe import code_of

SCENARIO = "power_outage_elderly"


@pytest.fixture(scope="module")
def w(sqlite_world: Any) -> Any:
    return sqlite_world


def _session(w: Any, who: str = "agent_a1") -> int:
    """A finished simulator session of `who` with one reply; its id."""
    client = w.client(who)
    made = client.post("/api/v1/training/sessions", json={"scenario_id": SCENARIO})
    assert made.status_code == 201, made.text
    sid = made.json()["id"]
    assert client.post(f"/api/v1/training/sessions/{sid}/reply",
                       json={"text": "非常抱歉让您久等了，我马上帮您查询抢修进度，两小时内给您回电。"}).status_code == 200
    assert client.post(f"/api/v1/training/sessions/{sid}/finish").status_code == 200
    return sid


# 1. the case library ------------------------------------------------------------------------------
def test_a_case_keeps_the_customers_full_name(w: Any) -> None:
    """Expected: a case made from a closed conversation names nobody ("[客户]", "某先生", "我叫某某"),
    as the case library promises ("names replaced") — every agent of the tenant reads it.
    Actual: "王建国先生" (a full name before 先生) and "我叫欧阳娜娜" (a compound surname) are
    kept verbatim on /training/cases/{id}; only a bare surname before 先生 or a name of at most
    three characters is caught (anfu/simulator/cases.py: _ADDRESS_FORM, _SELF_INTRO)."""
    cid = w.conversation("agent_a1", "s16-people-case", [
        ("customer", "我叫欧阳娜娜，家里停电三天了，老人在家没法做饭，你们到底管不管？"),
        ("agent", "王建国先生您好，非常抱歉给您添麻烦了，我马上为您查询抢修进度。"),
        ("customer", "我不是王建国，王建国是我爱人，你们快点派人来！"),
    ])
    assert w.client("agent_a1").post(f"/api/v1/conversations/{cid}/close").status_code == 200
    made = w.client("sup_a1").post("/api/v1/training/cases", json={"conversation_id": cid})
    assert made.status_code == 201, made.text
    page = w.client("agent_a1b").get(f"/training/cases/{made.json()['id']}")
    assert page.status_code == 200
    leaked = [name for name in ("欧阳娜娜", "王建国") if name in page.text]
    assert leaked == [], f"names left in the case an agent of another conversation reads: {leaked}"


# 2./3. API tokens and a person's data --------------------------------------------------------------
@pytest.mark.parametrize("who", ["sup_a1", "admin_a"])
def test_an_api_token_reads_team_wellbeing(w: Any, who: str) -> None:
    """Expected (docs/api.md, wellbeing: "These routes belong to a person: an API token gets
    AF417 (403)"; `/wellbeing/me` does refuse it): 403 AF417 for a supervisor's or admin's token.
    Actual: 200 with each agent's emotional-load index, angry/abusive minutes and requests for
    support by name (anfu/server/routes/wellbeing.py: wellbeing_team does not call _user_principal)."""
    reply = w.token_client(who).get("/api/v1/wellbeing/team")
    assert reply.status_code == 403 and code_of(reply) == "AF417", (reply.status_code, reply.text[:300])


def test_an_api_token_marks_a_request_for_support_handled(w: Any) -> None:
    """Expected: an integration's token cannot close an agent's request for the team lead (403
    AF417; it has no person to have handled it). Actual: 200, handled_at set, handled_by NULL —
    the lead never sees it open (routes/wellbeing.py: handle_support_request)."""
    asked = w.client("agent_a1").post("/api/v1/wellbeing/checkins",
                                      json={"kind": "lead", "note": "刚才客户一直辱骂，想和组长聊聊"})
    assert asked.status_code == 201, asked.text
    reply = w.token_client("sup_a1").post(f"/api/v1/wellbeing/requests/{asked.json()['id']}/handled")
    assert reply.status_code == 403 and code_of(reply) == "AF417", (reply.status_code, reply.text[:300])
    still_open = [r for r in w.client("sup_a1").get("/api/v1/wellbeing/team").json()["support_requests"]
                  if r["id"] == asked.json()["id"]]
    assert still_open and still_open[0]["handled_at"] is None


@pytest.mark.parametrize("who", ["sup_a1", "admin_a", "auditor_a"])
def test_an_api_token_reads_a_trainees_simulator_session(w: Any, who: str) -> None:
    """Expected (docs/api.md, training: "API tokens get AF417 (a session belongs to a person)"):
    403 AF417. Actual: 200 with the trainee's transcript, score and skills for any
    supervisor/admin/auditor token (care_repo.get_session scopes by role only; the routes never
    check principal.user_id)."""
    sid = _session(w)
    reply = w.token_client(who).get(f"/api/v1/training/sessions/{sid}")
    assert reply.status_code == 403 and code_of(reply) == "AF417", (reply.status_code, reply.text[:300])


# 4. an agent moved to another team ----------------------------------------------------------------
def test_a_moved_agents_open_request_reaches_the_new_lead_not_the_old(w: Any) -> None:
    """agent_a1b asks for the team lead (kind "lead") and finishes a simulator session in team a1,
    then the admin moves them to team a2 (调班).
    Expected: the new lead (sup_a2) sees the open request on /api/v1/wellbeing/team and the agent's
    training session; the former lead (sup_a1) no longer reads either.
    Actual: the request stays with sup_a1 (who can still mark it handled) and sup_a2 never sees it;
    sup_a1 keeps reading the session (200), sup_a2 gets 404 — the team is stamped on the row at
    write time (care_repo: add_checkin / start_session team_id, filtered by scope_clause)."""
    agent = w.users["agent_a1b"]
    asked = w.client("agent_a1b").post("/api/v1/wellbeing/checkins", json={"kind": "lead", "note": "压力很大"})
    assert asked.status_code == 201, asked.text
    sid = _session(w, "agent_a1b")
    w.store.update_user(agent.id, team_id=w.teams["a2"].id)
    try:
        new_lead = [r["id"] for r in w.client("sup_a2").get("/api/v1/wellbeing/team").json()["support_requests"]]
        old_lead = [r["id"] for r in w.client("sup_a1").get("/api/v1/wellbeing/team").json()["support_requests"]]
        sessions = {who: w.client(who).get(f"/api/v1/training/sessions/{sid}").status_code
                    for who in ("sup_a1", "sup_a2")}
    finally:
        w.store.update_user(agent.id, team_id=w.teams["a1"].id)
    rid = asked.json()["id"]
    assert (rid in new_lead, rid in old_lead, sessions) == (True, False, {"sup_a1": 404, "sup_a2": 200})


# 5. assignments -----------------------------------------------------------------------------------
@pytest.mark.parametrize("target", ["auditor_a", "sup_a2", "admin_a"])
def test_training_is_assigned_only_to_agents(w: Any, target: str) -> None:
    """Expected (docs/api.md: "Assign a scenario to an agent … AF503 (404: no such agent you may
    assign)"): 404 AF503 and nothing stored when agent_id names an auditor, a supervisor or an
    admin. Actual: 201, an open assignment for a non-agent (care_repo.CareStore.assign never
    checks the user's role, nor that they are active)."""
    reply = w.client("admin_a").post("/api/v1/training/assignments",
                                     json={"agent_id": w.users[target].id, "scenario_id": SCENARIO})
    assert reply.status_code == 404 and code_of(reply) == "AF503", (reply.status_code, reply.text[:300])


# what held --------------------------------------------------------------------------------------
@pytest.mark.parametrize("who", ["agent_a1b", "sup_a2", "agent_b1", "admin_b"])
def test_another_persons_session_is_not_found_for_read_reply_and_finish(w: Any, who: str) -> None:
    """Held: a colleague, another team's lead and another tenant get the same 404 AF503 as an
    unknown id for reading, replying to and finishing agent_a1's session, on the API and pages."""
    made = w.client("agent_a1").post("/api/v1/training/sessions", json={"scenario_id": SCENARIO})
    sid = made.json()["id"]
    client = w.client(who)
    for reply in (client.get(f"/api/v1/training/sessions/{sid}"),
                  client.post(f"/api/v1/training/sessions/{sid}/reply", json={"text": "您好"}),
                  client.post(f"/api/v1/training/sessions/{sid}/finish"),
                  client.post(f"/training/sessions/{sid}/finish", follow_redirects=False)):
        assert reply.status_code == 404 and code_of(reply) == "AF503", (reply.status_code, reply.text[:200])
    assert w.client("agent_a1").get(f"/api/v1/training/sessions/{sid}").json()["status"] == "active"


def test_private_checkin_parts_never_reach_the_team_view(w: Any) -> None:
    """Held: the self-check answers and the private note stay with their author; the lead sees
    only that a request for a peer was made."""
    note = "客户骂我祖宗十八代，我在厕所哭了十分钟"
    made = w.client("agent_a1").post("/api/v1/wellbeing/checkins",
                                     json={"kind": "peer", "self_check": [4, 4, 3], "note": note})
    assert made.status_code == 201
    for who in ("sup_a1", "admin_a"):
        team = w.client(who).get("/api/v1/wellbeing/team")
        assert team.status_code == 200 and note not in team.text and "self_check" not in team.text
    assert note not in w.client("sup_a1").get("/wellbeing/team").text
