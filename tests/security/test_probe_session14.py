"""Probe (session 14): defects an adversarial probe of the less-probed endpoints found, each pinned.

1. A trainer's scenario YAML (`POST /api/v1/training/scenarios`, the web form): a date, set or
   binary value was a 500 (the JSON column cannot hold it); 6 KB of nested brackets a 500
   (RecursionError); ~1 KB of anchors and aliases stored 2.5 MB ("billion laughs"). Now each is a
   coded AF703 that writes nothing.
2. A scenario regex that nests a repetition (`^(好+)+$`) made a 27-character trainee reply take
   seconds (exponential backtracking, both tenants waiting): refused at save (AF301); one saved
   before the rule is left out, not run.
3. `GET /api/v1/analytics` gave admins and auditors the customers' low-CSAT comments in clear.
4. A control character in a survey comment or a filter made every Excel export of the report a 500.
5. A refused routing change (`PATCH /api/v1/routing/agents/{id}` of a non-agent) had already moved
   the user to the other team.
6. The wellbeing bodies dropped unknown fields silently and stored NUL.
7. A 话术 with a blank title (spaces, tabs, U+3000) was saved.
Runs on SQLite and, with ANFU_TEST_POSTGRES_URL, PostgreSQL (the `make_world` fixture)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import text

from tests.security import probe
from tests.security.probe import code_of, count

UNLIMITED = {"rate_limit_per_minute": 0, "rate_limit_ip_per_minute": 0, "rate_limit_auth_failures_per_minute": 0}
SCENARIO = (Path(__file__).parents[2] / "anfu" / "rules" / "zh_CN" / "scenarios" / "generic_billing_error.yaml"
            ).read_text(encoding="utf-8")
PHONE, ID_NUMBER = "13812345678", "110101199003074514"


def scenario_yaml(scenario_id: str, extra: str = "") -> str:
    """A valid trainer scenario (the shipped generic_billing_error under another id), plus `extra`."""
    return SCENARIO.replace("id: generic_billing_error", f"id: {scenario_id}") + extra


def resolved_ticket_survey(world: Any, ref: str) -> tuple[int, str]:
    """A resolved ticket of agent_a1 and its survey token."""
    return probe.resolved_ticket(world, ref, "停电三天了，快来修")


@pytest.fixture(scope="module")
def world(make_world: Any) -> Any:
    built = make_world(**UNLIMITED)
    ticket_id, token = resolved_ticket_survey(built, "s14-csat-pii")
    answer = built.client().post(f"/api/v1/survey/{token}",
                                 json={"score": 1, "comment": f"太差了，回电{PHONE}，身份证{ID_NUMBER}"})
    assert answer.status_code == 200, answer.text
    built.ticket_id = ticket_id  # type: ignore[attr-defined]
    return built


def _scenarios(world: Any) -> int:
    return count(world, "SELECT count(*) FROM training_scenarios")


# 1. scenario YAML ---------------------------------------------------------------------------------
@pytest.mark.parametrize("extra", ["notes: 2024-01-01\n", "notes: !!set {a: null}\n", "notes: !!binary aGVsbG8=\n",
                                   "notes: 2024-01-01 08:00:00\n", "notes: .nan\n"],
                         ids=["date", "set", "binary", "timestamp", "nan"])
def test_a_scenario_value_json_cannot_hold_is_a_coded_af703(world: Any, extra: str) -> None:
    before = _scenarios(world)
    reply = world.client("sup_a1").post("/api/v1/training/scenarios",
                                        json={"yaml": scenario_yaml(f"probe_extra_{len(extra)}", extra)})
    assert reply.status_code == 422 and code_of(reply) == "AF703", (reply.status_code, reply.text[:300])
    assert _scenarios(world) == before


@pytest.mark.parametrize("body", ["[" * 3000 + "]" * 3000, "a: " + "[" * 3000 + "]" * 3000, "{" * 3000 + "}" * 3000,
                                  "a: " + "[" * 20 + "]" * 20],
                         ids=["lists", "under-a-key", "mappings", "twenty-levels"])
def test_deeply_nested_scenario_yaml_is_a_coded_af703(world: Any, body: str) -> None:
    before = _scenarios(world)
    reply = world.client("sup_a1").post("/api/v1/training/scenarios", json={"yaml": body})
    assert reply.status_code == 422 and code_of(reply) == "AF703", (reply.status_code, reply.text[:300])
    assert _scenarios(world) == before


@pytest.mark.parametrize("body", ["[" * 3000 + "]" * 3000, scenario_yaml("probe_web_date", "notes: 2024-01-01\n")],
                         ids=["nested", "date"])
def test_the_scenario_web_form_answers_the_same_refusals_without_a_500(world: Any, body: str) -> None:
    client = world.client("sup_a1")
    client.follow_redirects = False
    before = _scenarios(world)
    reply = client.post("/training/scenarios", data={"yaml": body})
    assert reply.status_code < 500 and "AF703" in reply.text, (reply.status_code, reply.text[:300])
    assert _scenarios(world) == before


def _bomb(levels: int) -> str:
    out = "l0: &l0 [x, x, x, x, x, x, x, x, x]\n"
    for i in range(1, levels + 1):
        out += f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]\n"
    return out


def test_anchors_and_aliases_are_refused_before_they_expand(world: Any) -> None:
    """About 1 KB of aliases of aliases used to be stored as 2.5 MB of JSON."""
    body = scenario_yaml("probe_alias_bomb", _bomb(5))
    assert len(body) < 2_000
    before = _scenarios(world)
    reply = world.client("sup_a1").post("/api/v1/training/scenarios", json={"yaml": body})
    assert reply.status_code == 422 and code_of(reply) == "AF703", (reply.status_code, reply.text[:300])
    assert "alias" in reply.json()["error"]["message"]
    assert _scenarios(world) == before


# 2. a trainer's regex runs on every trainee reply --------------------------------------------------
def _nested_scenario(scenario_id: str) -> dict[str, Any]:
    data = yaml.safe_load(scenario_yaml(scenario_id))
    data["worsens"][0]["patterns"] = ["^(好+)+$"]  # compiles; backtracks exponentially
    return data


def test_a_regex_that_nests_a_repetition_is_refused_at_save(world: Any) -> None:
    before = _scenarios(world)
    reply = world.client("sup_a1").post("/api/v1/training/scenarios", json={
        "yaml": yaml.safe_dump(_nested_scenario("probe_nested"), allow_unicode=True)})
    assert reply.status_code == 422 and code_of(reply) == "AF301", (reply.status_code, reply.text[:300])
    assert "(好+)+" in reply.json()["error"]["message"]
    assert _scenarios(world) == before


def test_a_nested_regex_saved_before_the_rule_is_left_out_not_run(world: Any) -> None:
    """A scenario stored before the rule existed (written here past the validator) is no longer
    offered and cannot start a session: a coded AF702, and the training pages still answer."""
    from anfu.store import CareStore
    from anfu.store.access import Principal

    sup = world.users["sup_a1"]
    CareStore(world.store.engine).save_scenario(
        Principal(tenant_id=sup.tenant_id, role="supervisor", user_id=sup.id, team_id=sup.team_id, name="sup"),
        _nested_scenario("probe_nested_legacy"))
    client = world.client("agent_a1")
    assert client.get("/training").status_code == 200
    reply = client.post("/api/v1/training/sessions", json={"scenario_id": "probe_nested_legacy"})
    assert reply.status_code == 404 and code_of(reply) == "AF702", (reply.status_code, reply.text[:300])


# 3. personal data in the report's JSON ---------------------------------------------------------------
@pytest.mark.parametrize("who", ["admin_a", "auditor_a"])
def test_the_analytics_json_masks_customers_words_for_masked_roles(world: Any, who: str) -> None:
    reply = world.client(who).get("/api/v1/analytics")
    assert reply.status_code == 200, reply.text[:300]
    comments = [r["comment"] for r in reply.json()["report"]["low_csat"]]
    assert any("太差了" in (c or "") for c in comments), comments
    assert PHONE not in reply.text and ID_NUMBER not in reply.text, comments


def test_the_supervisor_who_handles_the_case_still_reads_the_comment(world: Any) -> None:
    reply = world.client("sup_a1").get("/api/v1/analytics")
    assert PHONE in reply.text


# 4. control characters in the Excel export -----------------------------------------------------------
@pytest.mark.parametrize("path", ["/api/v1/analytics/export.xlsx", "/analytics-export/report.xlsx"])
@pytest.mark.parametrize("key", ["channel", "team", "agent"])
def test_a_control_character_in_a_filter_does_not_break_the_export(world: Any, path: str, key: str) -> None:
    reply = world.client("sup_a1").get(path, params={key: "web\x0bchat"})
    assert reply.status_code < 500, (reply.status_code, reply.text[:300])


def test_a_customers_survey_comment_with_a_control_character_does_not_break_the_export(make_world: Any) -> None:
    world = make_world(**UNLIMITED)
    _ticket, token = resolved_ticket_survey(world, "s14-csat-ctl")
    answer = world.client().post(f"/api/v1/survey/{token}", json={"score": 1, "comment": "太差了\x0b再也不用了"})
    assert answer.status_code == 200, answer.text
    for who in ("admin_a", "sup_a1", "auditor_a"):
        for path in ("/api/v1/analytics/export.xlsx", "/analytics-export/report.xlsx"):
            reply = world.client(who).get(path)
            assert reply.status_code == 200, (who, path, reply.status_code, reply.text[:200])
    with zipfile.ZipFile(io.BytesIO(world.client("sup_a1").get("/api/v1/analytics/export.xlsx").content)) as book:
        sheets = "".join(book.read(n).decode("utf-8") for n in book.namelist() if n.endswith(".xml"))
    assert "太差了\ufffd再也不用了" in sheets


# 5. a refused routing change writes nothing ---------------------------------------------------------
@pytest.mark.parametrize("who", ["sup_a1", "auditor_a"])
def test_a_refused_routing_change_moves_nobody(world: Any, who: str) -> None:
    user = world.users[who]
    team_before = world.store.get_user(user.id).team_id
    audits = count(world, "SELECT count(*) FROM audit_log WHERE action = 'user.updated'")
    reply = world.client("admin_a").patch(f"/api/v1/routing/agents/{user.id}",
                                          json={"team_id": world.teams["a2"].id, "max_open": 3})
    assert reply.status_code == 404 and code_of(reply) == "AF503", reply.text[:300]
    assert world.store.get_user(user.id).team_id == team_before
    assert count(world, "SELECT count(*) FROM audit_log WHERE action = 'user.updated'") == audits


# 6. wellbeing bodies --------------------------------------------------------------------------------
@pytest.mark.parametrize("method, path, body", [
    ("POST", "/api/v1/wellbeing/checkins", {"kind": "break", "self_checks": [4, 4, 4], "notes": "很难受"}),
    ("POST", "/api/v1/wellbeing/checkins", {"kind": "lead", "conversation": 1}),
    ("PUT", "/api/v1/wellbeing/me/peer-support", {"enabled": True, "enable": False}),
], ids=["misspelt self_check and note", "misspelt conversation_id", "extra key"])
def test_unknown_wellbeing_fields_are_refused(world: Any, method: str, path: str, body: dict[str, Any]) -> None:
    before = count(world, "SELECT count(*) FROM wellbeing_checkins")
    reply = world.client("agent_a1").request(method, path, json=body)
    assert reply.status_code == 422 and code_of(reply), (reply.status_code, reply.text[:300])
    assert count(world, "SELECT count(*) FROM wellbeing_checkins") == before


def test_a_nul_in_the_private_note_is_not_stored(world: Any) -> None:
    reply = world.client("agent_a1").post("/api/v1/wellbeing/checkins", json={"kind": "break", "note": "好累\u0000啊"})
    assert reply.status_code == 201, (reply.status_code, reply.text[:300])
    with world.store.engine.connect() as conn:
        notes = [n for (n,) in conn.execute(text("SELECT note FROM wellbeing_checkins WHERE note IS NOT NULL"))]
    assert "好累\ufffd啊" in notes and not any("\u0000" in n for n in notes), notes


def test_every_api_body_refuses_unknown_fields(world: Any) -> None:
    """Contract: every JSON request body the API documents forbids unknown fields (the API's
    `_In`, which also replaces NUL), so the next endpoint cannot forget it as the wellbeing ones did."""
    spec = world.app.openapi()
    schemas = spec["components"]["schemas"]
    plain, bodies = [], 0
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            body = (operation.get("requestBody") or {}).get("content", {}).get("application/json")
            if not body:
                continue
            ref = body["schema"].get("$ref", "")
            model = schemas.get(ref.rsplit("/", 1)[-1]) if ref else body["schema"]
            bodies += 1
            if model.get("type") == "object" and model.get("additionalProperties") is not False:
                plain.append(f"{method.upper()} {path}: {ref or model}")
    assert bodies > 30 and not plain, (bodies, plain)


# 7. blank 话术 titles ---------------------------------------------------------------------------------
@pytest.mark.parametrize("title", ["   ", "\t\n", "\u3000"], ids=["spaces", "tab-newline", "ideographic-space"])
def test_a_blank_reply_title_is_refused(world: Any, title: str) -> None:
    before = count(world, "SELECT count(*) FROM canned_replies")
    reply = world.client("sup_a1").post("/api/v1/replies", json={"title": title, "text": "您好，我们马上为您处理。"})
    assert reply.status_code == 422 and code_of(reply) == "AF505", (reply.status_code, reply.text[:300])
    assert count(world, "SELECT count(*) FROM canned_replies") == before
    made = world.client("sup_a1").post("/api/v1/replies", json={"title": " 停电致歉 ", "text": "您好，我们马上为您处理。"})
    assert made.status_code == 201 and made.json()["title"] == "停电致歉"
    patched = world.client("sup_a1").patch(f"/api/v1/replies/{made.json()['id']}", json={"title": "\u3000"})
    assert patched.status_code == 422 and code_of(patched) == "AF505"


@pytest.mark.parametrize("name", ["一\u200b组", "\u202e组一", "投诉\u2066专席"], ids=["zero-width", "bidi-override", "bidi-isolate"])
def test_team_and_queue_names_with_invisible_characters_are_refused(world: Any, name: str) -> None:
    """Two teams "一组" and "一\u200b组" would look the same on every page (the tenant name already
    refused such characters; team and queue names did not)."""
    admin = world.client("admin_a")
    teams, queues = count(world, "SELECT count(*) FROM teams"), count(world, "SELECT count(*) FROM routing_queues")
    made = admin.post("/api/v1/teams", json={"name": name})
    assert made.status_code == 422 and code_of(made) == "AF505", made.text[:300]
    queue = admin.post("/api/v1/routing/queues", json={"team_id": world.teams["a1"].id, "name": name})
    assert queue.status_code == 422 and code_of(queue) == "AF505", queue.text[:300]
    renamed = admin.patch(f"/api/v1/teams/{world.teams['a1'].id}", json={"name": name})
    assert renamed.status_code == 422 and code_of(renamed) == "AF505", renamed.text[:300]
    assert count(world, "SELECT count(*) FROM teams") == teams
    assert count(world, "SELECT count(*) FROM routing_queues") == queues
