"""Probe: the quality-inspection workflow over the API (run, 复核, 申诉, decisions, corrections
export), the helpdesk connectors' webhooks (Chatwoot, Zammad, server-wide and per tenant), and
`GET /metrics` with the JSON access log — attacked across tenants, teams and agents, with wrong
credentials, replays, wrong types, huge bodies and arbitrary paths and methods.

Every refusal must be a coded `AF###` error (never a 500) and leave the database as it was; an
object of another tenant must answer exactly as an id that does not exist. Tests with a "Found
by this probe" note reproduce defects this probe found."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import re
import threading
from typing import Any

import httpx
import pytest

from tests.security import probe

QA = ("inspections", "inspection_findings", "inspection_appeals")
CHAT = ("customers", "conversations", "messages")
MISSING = 2_000_000_001  # no such row, within PostgreSQL's integer ids (larger ones are AF505 by design)
CW_TOKEN, ZM_SECRET = "cw-probe-inspection-5d1", "zm-probe-inspection-8e2"
HELPDESKS = {"chatwoot_url": "https://chat.example.com", "chatwoot_api_token": "cw-api",
             "chatwoot_webhook_token": CW_TOKEN, "chatwoot_tenant": "tenant-a/班组a1",
             "zammad_url": "https://desk.example.com", "zammad_api_token": "zm-api",
             "zammad_webhook_secret": ZM_SECRET, "zammad_tenant": "tenant-a/班组a1"}
ID_NUMBER, PHONE = "110101199003074514", "13912345678"
# the probe sends hundreds of requests from one address: rate limits (tested elsewhere) off
UNLIMITED = {"rate_limit_per_minute": 0, "rate_limit_ip_per_minute": 0, "rate_limit_auth_failures_per_minute": 0}


# helpers ------------------------------------------------------------------------------------------
def _snapshot(world: Any, tables: tuple[str, ...] = QA) -> dict[str, list[tuple[Any, ...]]]:
    from sqlalchemy import text

    with world.store.engine.connect() as conn:
        return {name: sorted((tuple(r) for r in conn.execute(text(f'SELECT * FROM "{name}"'))), key=repr)
                for name in tables}


def _refused(reply: Any, status: int | tuple[int, ...], code: str | None = None) -> str:
    """Assert a coded refusal; its code."""
    statuses = (status,) if isinstance(status, int) else status
    assert reply.status_code in statuses, (reply.status_code, reply.text[:500])
    error = reply.json()["error"]
    assert re.fullmatch(r"AF\d{3}", error["code"]) and "Traceback" not in reply.text, reply.text[:500]
    if code is not None:
        assert error["code"] == code, reply.text[:500]
    return error["code"]



def _findings(world: Any, who: str, inspection_id: int) -> dict[str, int]:
    detail = world.client(who).get(f"/api/v1/inspection/inspections/{inspection_id}")
    assert detail.status_code == 200, detail.text
    return {f["item_id"]: f["id"] for f in detail.json()["findings"]}


def _inspect(world: Any, who: str, ids: list[int]) -> dict[int, int]:
    run = world.client(who).post("/api/v1/inspection/run", json={"conversation_ids": ids})
    assert run.status_code == 200, run.text
    return {i["conversation_id"]: i["id"] for i in run.json()["items"]}


BUCK = "这不归我们管，你自己去找供电所。"


@pytest.fixture(scope="module")
def world(make_world: Any) -> Any:
    return make_world(**UNLIMITED)


@pytest.fixture(scope="module")
def qa(world: Any) -> dict[str, Any]:
    """Four inspected conversations: two of agent_a1 (team a1), one of agent_a2 (team a2), one of
    tenant B; B's finding appealed by its agent and upheld by its admin."""
    convs = {
        "a_pii": world.conversation("agent_a1", "qa-probe-pii", [
            ("customer", f"我手机{PHONE}，身份证号{ID_NUMBER}，停电三天了还没人来修！再不来我就打12345投诉！"),
            ("agent", f"这不归我们管，你自己去找供电所，你的身份证{ID_NUMBER}我记下了。"),
            ("customer", "你们什么态度？气死我了！")]),
        "a_two": world.conversation("agent_a1", "qa-probe-two", [
            ("customer", "宽带断了一整天了，再不修我就投诉！"), ("agent", BUCK), ("customer", "太气人了！")]),
        "a_team2": world.conversation("agent_a2", "qa-probe-team2", [
            ("customer", "快递一周都没到，太气人了！"), ("agent", "这不归我们管，你自己去问快递公司。")]),
        "b": world.conversation("agent_b1", "qa-probe-b", [
            ("customer", "电费多扣了两百块，我要投诉到12345！"), ("agent", "这不归我们管，你去营业厅问，B租户专用回复。")]),
    }
    inspections = _inspect(world, "auditor_a", [convs["a_pii"], convs["a_two"], convs["a_team2"]])
    inspections.update(_inspect(world, "sup_b1", [convs["b"]]))
    ids = {name: inspections[cid] for name, cid in convs.items()}
    findings = {name: _findings(world, "auditor_a" if name != "b" else "admin_b", ids[name]) for name in convs}
    for name in convs:
        assert "no_forbidden" in findings[name], (name, findings[name])
    appeal = world.client("agent_b1").post(f"/api/v1/inspection/findings/{findings['b']['no_forbidden']}/appeal",
                                           json={"reason": "客户问的是物业的事"})
    assert appeal.status_code == 201, appeal.text
    decided = world.client("admin_b").post(f"/api/v1/inspection/appeals/{appeal.json()['id']}/decision",
                                           json={"decision": "upheld"})
    assert decided.status_code == 200, decided.text
    return {"conv": convs, "insp": ids, "finding": findings, "b_appeal": appeal.json()["id"]}


def _appeal(world: Any, who: str, finding_id: int, reason: str = "客户要找的是物业，我随后给了供电所电话") -> Any:
    return world.client(who).post(f"/api/v1/inspection/findings/{finding_id}/appeal", json={"reason": reason})


# 1. quality inspection: authentication, role, tenant, object --------------------------------------
ENDPOINTS = [
    ("post", "/api/v1/inspection/run", {"conversation_ids": [1]}),
    ("get", "/api/v1/inspection/inspections", None),
    ("get", "/api/v1/inspection/inspections/1", None),
    ("post", "/api/v1/inspection/inspections/1/review", {"final_score": 90}),
    ("post", "/api/v1/inspection/findings/1/appeal", {"reason": "理由"}),
    ("get", "/api/v1/inspection/appeals", None),
    ("post", "/api/v1/inspection/appeals/1/decision", {"decision": "overturned"}),
    ("get", "/api/v1/inspection/corrections", None),
    ("get", "/api/v1/inspection/trends", None),
    ("get", "/api/v1/inspection/scorecards", None),
]


@pytest.mark.parametrize("method, path, body", ENDPOINTS, ids=[f"{m} {p}" for m, p, _ in ENDPOINTS])
def test_every_inspection_endpoint_needs_sign_in(world: Any, qa: Any, method: str, path: str, body: Any) -> None:
    before = _snapshot(world)
    kwargs = {"json": body} if body is not None else {}
    _refused(getattr(world.client(), method)(path, **kwargs), 401, "AF437")
    forged = world.client()
    forged.cookies.set("anfu_session", "forged-session-token")
    forged.headers["Authorization"] = "Bearer anfu_forged_token_value"
    _refused(getattr(forged, method)(path, **kwargs), 401)
    assert _snapshot(world) == before


def _normalised(reply: Any, object_id: int) -> tuple[int, str, str]:
    error = reply.json()["error"]
    return reply.status_code, error["code"], error["message"].replace(str(object_id), "<id>")


@pytest.mark.parametrize("who, method, template, body, kind", [
    ("admin_a", "get", "/api/v1/inspection/inspections/{}", None, "insp"),
    ("auditor_a", "post", "/api/v1/inspection/inspections/{}/review", {"final_score": 95, "note": "改分"}, "insp"),
    ("agent_a1", "post", "/api/v1/inspection/findings/{}/appeal", {"reason": "这不是我的会话"}, "finding"),
    ("auditor_a", "post", "/api/v1/inspection/appeals/{}/decision", {"decision": "overturned"}, "appeal"),
    ("admin_a", "post", "/api/v1/inspection/appeals/{}/decision", {"decision": "upheld", "note": "维持"}, "appeal"),
], ids=["get", "review", "appeal", "decide-auditor", "decide-admin"])
def test_other_tenants_objects_answer_exactly_as_missing_ones(world: Any, qa: Any, who: str, method: str,
                                                              template: str, body: Any, kind: str) -> None:
    theirs = {"insp": qa["insp"]["b"], "finding": qa["finding"]["b"]["no_forbidden"], "appeal": qa["b_appeal"]}[kind]
    before = _snapshot(world)
    client = world.client(who)
    kwargs = {"json": body} if body is not None else {}
    real = getattr(client, method)(template.format(theirs), **kwargs)
    missing = getattr(client, method)(template.format(MISSING), **kwargs)
    _refused(real, 404, "AF503")
    assert _normalised(real, theirs) == _normalised(missing, MISSING)
    assert _snapshot(world) == before


def test_other_tenants_inspections_stay_out_of_lists_trends_and_run(world: Any, qa: Any) -> None:
    b_conv = qa["conv"]["b"]
    for who in ("admin_a", "auditor_a", "sup_a1"):
        client = world.client(who)
        listed = client.get("/api/v1/inspection/inspections", params={"page_size": 500}).json()
        assert qa["insp"]["b"] not in [i["id"] for i in listed["items"]]
        assert qa["b_appeal"] not in [a["id"] for a in client.get("/api/v1/inspection/appeals").json()]
        assert "B租户专用回复" not in client.get("/api/v1/inspection/trends").text
    before = _snapshot(world)
    for who in ("admin_a", "auditor_a", "sup_a1"):
        real = world.client(who).post("/api/v1/inspection/run", json={"conversation_ids": [b_conv]})
        missing = world.client(who).post("/api/v1/inspection/run", json={"conversation_ids": [MISSING]})
        _refused(real, 404, "AF503")
        assert _normalised(real, b_conv) == _normalised(missing, MISSING)
    assert _snapshot(world) == before


def test_run_refusals_write_nothing_not_even_partly(world: Any, qa: Any) -> None:
    fresh = world.conversation("agent_a1", "qa-probe-fresh", [("customer", "停电了！"), ("agent", BUCK)])
    before = _snapshot(world)
    # the supervisor's own fresh conversation first, then one of another team / another tenant
    for ids in ([fresh, qa["conv"]["a_team2"]], [fresh, qa["conv"]["b"]], [fresh, MISSING]):
        _refused(world.client("sup_a1").post("/api/v1/inspection/run", json={"conversation_ids": ids}), 404, "AF503")
    for who in ("agent_a1", "agent_b1"):
        _refused(world.client(who).post("/api/v1/inspection/run", json={"conversation_ids": [fresh]}), 403, "AF417")
    _refused(world.token_client("agent_a1").post("/api/v1/inspection/run", json={}), 403, "AF417")
    assert _snapshot(world) == before


@pytest.mark.parametrize("body", [
    {"conversation_ids": "12"}, {"conversation_ids": [0]}, {"conversation_ids": [-5]}, {"conversation_ids": [2**63]},
    {"conversation_ids": [{"id": 1}]}, {"conversation_ids": list(range(1, 502))},
    {"scorecard": "../../../etc/passwd"}, {"scorecard": "不存在的评分表"}, {"scorecard": "nope_card"},
    {"scorecard": 7}, {"since": "昨天下午"}, {"since": 10**20},
    ["conversation_ids"], "质检",
], ids=lambda b: repr(b)[:30])
def test_run_with_bad_bodies_is_coded_and_writes_nothing(world: Any, qa: Any, body: Any) -> None:
    before = _snapshot(world)
    _refused(world.client("auditor_a").post("/api/v1/inspection/run", json=body), (400, 404, 422))
    assert _snapshot(world) == before


def test_supervisor_of_another_team_neither_reads_nor_rechecks(world: Any, qa: Any) -> None:
    mine, theirs = qa["insp"]["a_team2"], qa["insp"]["a_pii"]
    sup2 = world.client("sup_a2")
    assert sup2.get(f"/api/v1/inspection/inspections/{mine}").status_code == 200
    listed = sup2.get("/api/v1/inspection/inspections", params={"page_size": 500}).json()["items"]
    assert [i["id"] for i in listed] == [mine]
    before = _snapshot(world)
    _refused(sup2.get(f"/api/v1/inspection/inspections/{theirs}"), 404, "AF503")
    _refused(sup2.post(f"/api/v1/inspection/inspections/{theirs}/review", json={"final_score": 100}), 404, "AF503")
    _refused(world.client("agent_a1").post(f"/api/v1/inspection/inspections/{theirs}/review",
                                           json={"final_score": 100, "note": "给自己打满分"}), 403, "AF417")
    assert "你的身份证" not in sup2.get("/api/v1/inspection/corrections").text
    assert _snapshot(world) == before


@pytest.mark.parametrize("who, status, code", [
    ("agent_a1b", 404, "AF503"),   # a colleague of the same team
    ("agent_a2", 404, "AF503"),    # another team
    ("agent_b1", 404, "AF503"),    # another tenant
    ("sup_a1", 403, "AF417"), ("admin_a", 403, "AF417"), ("auditor_a", 403, "AF417"),
])
def test_only_the_conversations_agent_may_appeal(world: Any, qa: Any, who: str, status: int, code: str) -> None:
    before = _snapshot(world)
    _refused(_appeal(world, who, qa["finding"]["a_two"]["no_forbidden"], "替同事申诉"), status, code)
    assert _snapshot(world) == before


def test_appeal_decision_lifecycle_refusals_change_nothing(world: Any, qa: Any) -> None:
    finding = qa["finding"]["a_two"]["no_forbidden"]
    made = _appeal(world, "agent_a1", finding)
    assert made.status_code == 201, made.text
    decision = f"/api/v1/inspection/appeals/{made.json()['id']}/decision"
    before = _snapshot(world)
    _refused(_appeal(world, "agent_a1", finding, "再申诉一次"), 409, "AF802")
    for who, status, code in (("agent_a1", 403, "AF417"),  # deciding one's own appeal
                              ("sup_a1", 403, "AF417"), ("admin_b", 404, "AF503")):
        _refused(world.client(who).post(decision, json={"decision": "overturned"}), status, code)
    for bad in ({"decision": "OVERTURNED"}, {"decision": "驳回"}, {"decision": True}, {"decision": None}, {},
                {"decision": "overturned", "note": "备注" * 1001}, {"decision": "overturned", "note": 42}):
        _refused(world.client("auditor_a").post(decision, json=bad), 422)
    assert _snapshot(world) == before
    done = world.client("auditor_a").post(decision, json={"decision": "overturned", "note": "情况属实"})
    assert done.status_code == 200 and done.json()["status"] == "overturned", done.text
    after = _snapshot(world)
    for who, verdict in (("auditor_a", "upheld"), ("admin_a", "overturned")):  # deciding twice
        _refused(world.client(who).post(decision, json={"decision": verdict}), 409, "AF802")
    _refused(_appeal(world, "agent_a1", finding, "被推翻的还能申诉吗"), 409, "AF802")  # an overturned finding
    assert _snapshot(world) == after


def test_concurrent_decisions_decide_once(world: Any, qa: Any) -> None:
    detail = world.client("agent_a1").get(f"/api/v1/inspection/inspections/{qa['insp']['a_two']}").json()
    finding = next((f["id"] for f in detail["findings"] if f["status"] == "open"), None)
    assert finding is not None, detail["findings"]
    made = _appeal(world, "agent_a1", finding)
    assert made.status_code == 201, made.text
    url = f"/api/v1/inspection/appeals/{made.json()['id']}/decision"
    clients = [world.client("auditor_a" if i % 2 else "admin_a") for i in range(8)]
    barrier, replies = threading.Barrier(8), [None] * 8

    def decide(i: int) -> None:
        barrier.wait()
        replies[i] = clients[i].post(url, json={"decision": ("upheld", "overturned")[i % 2]})
    threads = [threading.Thread(target=decide, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    codes = sorted(r.status_code for r in replies)
    assert codes.count(200) == 1 and set(codes) <= {200, 409}, [r.text[:200] for r in replies]


@pytest.mark.parametrize("body, status", [
    ({"reason": ""}, 422), ({"reason": "   \n\t"}, 422), ({"reason": "申" * 2001}, 422),
    ({"reason": 12345}, 422), ({"reason": None}, 422), ({"reason": ["理由"]}, 422), ({"reason": {"text": "理由"}}, 422),
    ({}, 422), ({"reason": "理" * 300_000}, (413, 422)),
], ids=["empty", "blank", "2001", "int", "null", "list", "dict", "missing", "huge"])
def test_bad_appeal_reasons_are_coded_and_write_nothing(world: Any, qa: Any, body: dict[str, Any],
                                                        status: Any) -> None:
    before = _snapshot(world)
    url = f"/api/v1/inspection/findings/{qa['finding']['a_pii']['no_forbidden']}/appeal"
    _refused(world.client("agent_a1").post(url, json=body), status)
    _refused(world.client("agent_a1").post(url, content=b'{"reason": "\xe7\x90', headers={
        "content-type": "application/json"}), (400, 422))
    assert _snapshot(world) == before


@pytest.mark.parametrize("score", [-1, 100.5, "八十", None, [80], "NaN", "Infinity"])
def test_bad_recheck_scores_are_coded_and_write_nothing(world: Any, qa: Any, score: Any) -> None:
    before = _snapshot(world)
    url = f"/api/v1/inspection/inspections/{qa['insp']['a_team2']}/review"
    body = json.dumps({"final_score": score}) if not isinstance(score, str) or score not in ("NaN", "Infinity") \
        else '{"final_score": %s}' % score
    _refused(world.client("auditor_a").post(url, content=body, headers={"content-type": "application/json"}), 422)
    assert _snapshot(world) == before


def test_nul_in_reasons_and_notes_is_neither_stored_nor_a_server_error(world: Any, qa: Any) -> None:
    """Found by this probe: the inspection bodies were plain models, not `_In`: a NUL in an appeal
    reason, a decision note or a re-check note was stored as it came (PostgreSQL cannot store U+0000
    in text and refused the write, a misleading AF505), and unknown fields were silently ignored."""
    cid = world.conversation("agent_a1", "qa-probe-nul", [("customer", "停电了，快来修！"), ("agent", BUCK)])
    inspection = _inspect(world, "auditor_a", [cid])[cid]
    finding = _findings(world, "agent_a1", inspection)["no_forbidden"]
    made = _appeal(world, "agent_a1", finding, "客户\x00要找的是物业")
    assert made.status_code in (201, 422), made.text
    if made.status_code == 201:
        decided = world.client("auditor_a").post(f"/api/v1/inspection/appeals/{made.json()['id']}/decision",
                                                 json={"decision": "upheld", "note": "维持\x00原判"})
        assert decided.status_code in (200, 422), decided.text
    review = world.client("auditor_a").post(f"/api/v1/inspection/inspections/{inspection}/review",
                                            json={"final_score": 60, "note": "复核\x00意见"})
    assert review.status_code in (200, 422), review.text
    assert "\\x00" not in repr(_snapshot(world))
    extra = world.client("auditor_a").post(f"/api/v1/inspection/inspections/{inspection}/review",
                                           json={"final_score": 70, "reviewed_by": world.users["admin_a"].id})
    _refused(extra, 422, "AF431")


def test_masked_roles_read_no_personal_data_in_findings_appeals_or_corrections(world: Any, qa: Any) -> None:
    """Found by this probe: admins and auditors read message text masked everywhere else, but an
    inspection's evidence (`text`, `reply`), the appeals' reasons and the corrections export gave
    them the agent's reply and the customer's words in clear: ID and phone numbers."""
    finding = qa["finding"]["a_pii"]["no_forbidden"]
    made = _appeal(world, "agent_a1", finding, f"客户身份证{ID_NUMBER}、电话{PHONE}都是客户自己报的")
    assert made.status_code == 201, made.text
    decided = world.client("auditor_a").post(f"/api/v1/inspection/appeals/{made.json()['id']}/decision",
                                             json={"decision": "upheld", "note": f"回访{PHONE}核实，维持"})
    assert decided.status_code == 200, decided.text
    url = f"/api/v1/inspection/inspections/{qa['insp']['a_pii']}"
    for who in ("auditor_a", "admin_a"):
        client = world.client(who)
        seen = client.get(url).text + client.get("/api/v1/inspection/appeals").text + decided.text
        export = client.get("/api/v1/inspection/corrections")
        assert export.status_code == 200, export.text
        rows = [json.loads(line) for line in export.text.splitlines()]
        mine = [r for r in rows if r["id"].startswith(f"inspection-{qa['insp']['a_pii']}-")]
        assert mine and mine[0]["violation"] is True and mine[0]["text"].startswith("这不归我们管")
        for secret in (ID_NUMBER, PHONE):
            assert secret not in seen and secret not in export.text, (who, secret)
        assert "B租户专用回复" not in export.text  # another tenant's upheld appeal
    # the agent and the team's supervisor handle the case: they read it as it was
    assert ID_NUMBER in world.client("agent_a1").get(url).text
    assert ID_NUMBER in world.client("sup_a1").get("/api/v1/inspection/corrections").text
    assert "B租户专用回复" not in world.client("sup_a1").get("/api/v1/inspection/corrections").text
    for who in ("agent_a1", "agent_b1"):
        _refused(world.client(who).get("/api/v1/inspection/corrections"), 403, "AF417")
    b_export = world.client("admin_b").get("/api/v1/inspection/corrections").text
    assert "B租户专用回复" in b_export and "这不归我们管，你自己去找供电所" not in b_export


# 2. helpdesk connectors' webhooks -----------------------------------------------------------------
@pytest.fixture(scope="module")
def desk(make_world: Any) -> Any:
    """Server-wide connectors for tenant A (team a1), and tenant connectors: Chatwoot for A
    (account 1) and B (account 2), Zammad for A only."""
    from anfu.store import Principal

    world = make_world(**HELPDESKS, **UNLIMITED)
    world.app.state.connector_transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"id": 1}))
    helpdesks = world.ctx.services.helpdesks
    secrets = {}
    for slug, kind, account in (("a", "chatwoot", "1"), ("b", "chatwoot", "2"), ("a", "zammad", "")):
        admin = Principal.of_user(world.users[f"admin_{slug}"])
        secret = f"whsec-{slug}-{kind}-probe-4711"
        helpdesks.save(admin, kind, base_url=f"https://{kind}.{slug}.example.cn", account=account,
                       api_token=f"{kind}-token-{slug}-0001", webhook_secret=secret)
        secrets[(slug, kind)] = secret
    world.secrets = secrets
    return world


def _cw_payload(conversation_id: int, message_id: Any, content: Any = "停电三天了还没人来修，再不来我就投诉！",
                account: int = 1, **extra: Any) -> dict[str, Any]:
    contact = {"id": 4200 + int(conversation_id), "name": "王女士", "phone_number": "+86 13912340042"}
    payload = {"event": "message_created", "id": message_id, "content": content, "message_type": "incoming",
               "private": False, "sender": contact,
               "conversation": {"id": conversation_id, "labels": [], "meta": {"sender": contact}, "status": "open"},
               "account": {"id": account}}
    payload.update(extra)
    return payload


def _cw(world: Any, payload: Any, token: str = CW_TOKEN, tenant: str | None = None) -> Any:
    params = {"token": token, **({"tenant": tenant} if tenant else {})}
    return world.client().post("/api/v1/connectors/chatwoot", params=params, json=payload)


def _zm_body(ticket_id: Any, article_id: Any = 1, body: Any = "宽带断了一整天了，你们到底管不管？", **article: Any) -> bytes:
    payload = {"ticket": {"id": ticket_id, "state": "open",
                          "customer": {"id": 77, "lastname": "王", "firstname": "女士", "mobile": "13912340077"}},
               "article": {"id": article_id, "sender": "Customer", "body": body, "content_type": "text/plain",
                           **article}}
    return json.dumps(payload, ensure_ascii=False).encode()


def _zm(world: Any, body: bytes, secret: str | None = ZM_SECRET, tenant: str | None = None,
        signature: str | None = None) -> Any:
    headers = {"content-type": "application/json"}
    if signature is None and secret is not None:
        signature = "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
    if signature is not None:
        headers["X-Hub-Signature"] = signature
    return world.client().post("/api/v1/connectors/zammad", content=body, headers=headers,
                               params={"tenant": tenant} if tenant else None)


def test_chatwoot_wrong_missing_or_foreign_credentials_write_nothing(desk: Any) -> None:
    before = _snapshot(desk, CHAT)
    payload = _cw_payload(501, 9501)
    _refused(desk.client().post("/api/v1/connectors/chatwoot", json=payload), (401, 422))
    for token in ("", CW_TOKEN[:-1], CW_TOKEN + "x", CW_TOKEN.upper(), "t" * 201):
        _refused(_cw(desk, payload, token=token), (401, 422))
    a_secret, b_secret = desk.secrets[("a", "chatwoot")], desk.secrets[("b", "chatwoot")]
    _refused(_cw(desk, payload, token=a_secret, tenant="tenant-b"), 401, "AF676")      # A's secret, B's connector
    _refused(_cw(desk, payload, token=b_secret), 401, "AF676")                         # B's secret, server-wide
    _refused(_cw(desk, payload, token=a_secret, tenant="tenant-a/../tenant-b"), 404, "AF675")
    foreign = _cw_payload(501, 9501, account=2)                                         # B's account, A's connector
    _refused(_cw(desk, foreign, token=a_secret, tenant="tenant-a"), 401, "AF676")
    assert _snapshot(desk, CHAT) == before


def test_zammad_wrong_missing_or_foreign_signatures_write_nothing(desk: Any) -> None:
    before = _snapshot(desk, CHAT)
    body = _zm_body(8501)
    a_secret = desk.secrets[("a", "zammad")]
    good = "sha1=" + hmac.new(ZM_SECRET.encode(), body, hashlib.sha1).hexdigest()
    for signature in ("", "sha1=", good[:-1], good.upper(), "sha256=" + good[5:], good + " ", "sha1=" + "0" * 40):
        _refused(_zm(desk, body, signature=signature), 401, "AF676")
    _refused(_zm(desk, body, secret=None), 401, "AF676")
    _refused(_zm(desk, body, secret=a_secret), 401, "AF676")                 # a tenant's secret, server-wide hook
    _refused(_zm(desk, body, secret=ZM_SECRET, tenant="tenant-a"), 401, "AF676")
    assert _snapshot(desk, CHAT) == before


def test_unauthenticated_zammad_body_is_not_parsed_before_the_signature(desk: Any) -> None:
    """Found by this probe: the Zammad endpoint parsed the JSON before checking the signature, so an
    unsigned caller got AF677 "not JSON" for junk (and made the server parse up to 1 MB of it)
    instead of AF676."""
    for junk in (b"not json", b"[" * 50_000, "质检".encode("utf-8") * 10):
        _refused(_zm(desk, junk, secret=None), 401, "AF676")
        _refused(_zm(desk, junk, signature="sha1=" + "0" * 40), 401, "AF676")


def test_unknown_tenant_and_tenant_without_connector_answer_alike(desk: Any) -> None:
    """A caller cannot tell which tenant slugs exist from the webhook's answers."""
    body = _zm_body(8601)
    exists = _zm(desk, body, secret="anything", tenant="tenant-b")     # a tenant without a Zammad connector
    unknown = _zm(desk, body, secret="anything", tenant="tenant-zz")
    _refused(exists, 404, "AF675")
    assert (exists.status_code, exists.json()) == (unknown.status_code, unknown.json())
    # a deactivated connector answers as a missing one too
    from anfu.store import Principal

    admin = Principal.of_user(desk.users["admin_a"])
    helpdesks = desk.ctx.services.helpdesks
    helpdesks.save(admin, "zammad", base_url="https://zammad.a.example.cn", active=False)
    try:
        off = _zm(desk, body, secret=desk.secrets[("a", "zammad")], tenant="tenant-a")
        assert (off.status_code, off.json()) == (unknown.status_code, unknown.json())
    finally:
        helpdesks.save(admin, "zammad", base_url="https://zammad.a.example.cn", active=True)


def test_replayed_deliveries_store_each_message_once(desk: Any) -> None:
    a_secret = desk.secrets[("a", "chatwoot")]
    for tenant, token in ((None, CW_TOKEN), ("tenant-a", a_secret)):
        conv = 700 if tenant is None else 701
        mid = 9000 + conv
        replies = [_cw(desk, _cw_payload(conv, m), token=token, tenant=tenant) for m in (mid, mid, str(mid))]
        assert [r.status_code for r in replies] == [200] * 3, [r.text for r in replies]
        assert replies[0].json()["note"] and replies[1].json()["note"] is None  # no second write-back
        ref = f"chatwoot:1:{conv}"
        assert probe.count(desk, "SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id "
                            "WHERE c.external_ref = :r", r=ref) == 1
    body = _zm_body(8700, article_id=5)
    replies = [_zm(desk, body) for _ in range(3)]
    assert [r.status_code for r in replies] == [200] * 3
    assert probe.count(desk, "SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id "
                        "WHERE c.external_ref = 'zammad:8700'") == 1
    # the same delivery from many helpdesk workers at once
    barrier, out = threading.Barrier(6), []

    def deliver() -> None:
        barrier.wait()
        out.append(_cw(desk, _cw_payload(702, 9702)).status_code)
    threads = [threading.Thread(target=deliver) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert out == [200] * 6
    assert probe.count(desk, "SELECT count(*) FROM messages WHERE client_msg_id = 'chatwoot:1:9702'") == 1


@pytest.mark.parametrize("payload", [
    _cw_payload(801, 9801, content=["停电了"]), _cw_payload(802, 9802, content={"text": "停电了"}),
    _cw_payload(803, 9803, content=12345), _cw_payload("804", 9804), _cw_payload(805, 9805, account="1"),
    _cw_payload(806, 9806, message_type=["incoming"]), _cw_payload(807, 9807, sender=["王女士"]),
    _cw_payload(808, 9808, event=["message_created"]), _cw_payload(809, 9809, conversation=[809]),
    _cw_payload(810, 9810, private="false"), _cw_payload(811, [9811]), _cw_payload(812, 9812.5),
    _cw_payload(813, 9813, conversation={"id": 813, "labels": 5, "meta": {}, "status": "open"}),
    _cw_payload(814, 9814, conversation={"id": 814, "labels": [None, 3, {"x": 1}], "meta": [], "status": ["open"]}),
    {"event": "conversation_status_changed", "id": 815, "account_id": 1, "status": "resolved", "meta": "王女士"},
    [1, 2, 3], "message_created", None, {"event": None},
], ids=lambda p: repr(p)[:40])
def test_chatwoot_wrong_types_are_coded_never_500(desk: Any, payload: Any) -> None:
    before = _snapshot(desk, CHAT)
    reply = _cw(desk, payload)
    assert reply.status_code in (200, 422), reply.text[:500]
    if reply.status_code == 422:
        _refused(reply, 422)
        assert _snapshot(desk, CHAT) == before


@pytest.mark.parametrize("ticket, article", [
    ({"id": "8801"}, {}), ({"id": 8802, "customer": ["王女士"]}, {}), ({"id": 8803, "state": ["closed"]}, {}),
    ({"id": 8804}, {"body": 12345}), ({"id": 8805}, {"body": "<p>停电</p>", "content_type": 1}),
    ({"id": 8806}, {"sender": {"name": ["Customer"]}}), ({"id": 8807}, {"id": [1, 2]}),
    ({"id": 8808, "state": {"name": None}}, {"internal": "no"}), ({"id": 2**60}, {}),
    ({"id": 8809, "customer": {"id": {"x": 1}, "mobile": ["139"], "email": 5, "lastname": 9}}, {}),
], ids=lambda v: repr(v)[:40])
def test_zammad_wrong_types_are_coded_never_500(desk: Any, ticket: dict[str, Any], article: dict[str, Any]) -> None:
    payload = json.loads(_zm_body(0))
    payload["ticket"].update(ticket)
    payload["article"].update(article)
    before = _snapshot(desk, CHAT)
    reply = _zm(desk, json.dumps(payload, ensure_ascii=False).encode())
    assert reply.status_code in (200, 422), reply.text[:500]
    if reply.status_code == 422:
        _refused(reply, 422)
        assert _snapshot(desk, CHAT) == before


def test_huge_and_long_fields_neither_overflow_nor_fail_unhelpfully(desk: Any) -> None:
    before = _snapshot(desk, CHAT)
    huge = _cw_payload(901, 9901, content="停电了" * 400_000)  # about 3.6 MB
    _refused(_cw(desk, huge), 413, "AF432")
    _refused(_zm(desk, _zm_body(8901, body="断网了" * 400_000)), 413, "AF432")
    assert _snapshot(desk, CHAT) == before
    # Found by this probe: a 300-character delivery id became a 312-character client_msg_id (the
    # column holds 200): SQLite stored it past the column, PostgreSQL refused the write.
    for reply in (_cw(desk, _cw_payload(902, "9" * 300)), _zm(desk, _zm_body(8902, article_id="8" * 300))):
        _refused(reply, 422, "AF677")
    assert _snapshot(desk, CHAT) == before
    long = _cw(desk, _cw_payload(903, 9903, content="停电三天了，" * 5000))  # 30 000 characters
    assert long.status_code in (200, 422) and "out of range" not in long.text, long.text[:300]
    assert probe.count(desk, "SELECT max(length(client_msg_id)) FROM messages") <= 200


def test_events_naming_another_tenants_or_teams_conversation_touch_nothing_of_theirs(desk: Any) -> None:
    # tenant B's own connector stores its chat chatwoot:2:950; A's hooks name the same numbers
    b = _cw(desk, _cw_payload(950, 9950, account=2), token=desk.secrets[("b", "chatwoot")], tenant="tenant-b")
    assert b.status_code == 200, b.text
    # agent_a2 (team a2) owns chatwoot:1:951 in tenant A; the server-wide hook acts for team a1
    theirs = desk.client("agent_a2").post("/api/v1/messages",
                                          json={"text": "我的快递呢？", "conversation_ref": "chatwoot:1:951"})
    assert theirs.status_code == 201, theirs.text
    from sqlalchemy import text

    def rows_of(conversation_id: int) -> Any:
        with desk.store.engine.connect() as conn:
            return (conn.execute(text("SELECT * FROM conversations WHERE id = :i"), {"i": conversation_id}).all(),
                    conn.execute(text("SELECT * FROM messages WHERE conversation_id = :i ORDER BY id"),
                                 {"i": conversation_id}).all())
    b_rows, a2_rows = rows_of(b.json()["conversation_id"]), rows_of(theirs.json()["conversation"]["id"])
    closing = {"event": "conversation_status_changed", "id": 950, "account_id": 2, "status": "resolved"}
    for reply in (_cw(desk, _cw_payload(950, 9950, account=2)), _cw(desk, closing),
                  _cw(desk, {**closing, "account_id": 1}, token=desk.secrets[("a", "chatwoot")], tenant="tenant-a")):
        assert reply.status_code in (200, 401, 404), reply.text
    mine = _cw(desk, _cw_payload(951, 9951))  # team a2's chat, named through team a1's connector
    assert mine.status_code in (200, 404), mine.text
    if mine.status_code == 404:
        _refused(mine, 404, "AF503")
    assert rows_of(b.json()["conversation_id"]) == b_rows
    assert rows_of(theirs.json()["conversation"]["id"]) == a2_rows


# 3. /metrics and the JSON access log --------------------------------------------------------------
def _metrics(world: Any) -> str:
    reply = world.client().get("/metrics")
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/plain")
    return reply.text


def _labels(text: str, name: str) -> set[str]:
    return set(re.findall(rf'{name}="([^"]*)"', text))


def test_metrics_are_open_by_design_and_documented_for_a_private_network() -> None:
    from pathlib import Path

    api = (Path(__file__).parents[2] / "docs" / "api.md").read_text(encoding="utf-8")
    section = api.split("### `GET /metrics`", 1)[1].split("\n## ", 1)[0]
    assert "no sign-in" in section and "monitoring\nnetwork" in section


def test_metric_labels_cannot_be_blown_up_by_callers(make_world: Any) -> None:
    """Found by this probe: the `method` label was the request's method as sent, so a caller could
    make one new time series per request with invented methods (PROBE0001, PROBE0002, …)."""
    world = make_world(**UNLIMITED)
    client = world.client("agent_a1")
    baseline = _metrics(world)
    for i in range(40):
        token = f"zz{i:04d}probe"
        client.get(f"/api/v1/{token}")
        client.get(f"/{token}/{token}")
        client.get(f"/static/{token}/{token}/{token}.js")
        client.get(f"/api/v1/conversations/{token}")
        client.get(f"/api/v1/inspection/inspections/{i + 1}")
        client.request(f"PROBE{i:04d}", "/api/v1/messages")
        client.request(f"X{i:04d}", f"/{token}")
    text = _metrics(world)
    assert "probe" not in text.lower(), [line for line in text.splitlines() if "probe" in line.lower()][:5]
    routes, methods = _labels(text, "route"), _labels(text, "method")
    assert len(routes) <= len(_labels(baseline, "route")) + 6, sorted(routes)
    assert methods <= {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"}, sorted(methods)


def test_metrics_and_access_log_carry_no_personal_data_or_secrets(make_world: Any) -> None:
    """Found by this probe: the access log wrote the Chatwoot webhook's `token` query parameter (the
    webhook secret that authenticates the helpdesk) in clear into every log line of a delivery."""
    from anfu.server.observability import JsonFormatter

    world = make_world(**HELPDESKS)
    world.app.state.connector_transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"id": 1}))
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    access = logging.getLogger("anfu.server.access")
    access.addHandler(handler)
    old_level = access.level
    access.setLevel(logging.INFO)
    words = f"王秀英的身份证{ID_NUMBER}，电话{PHONE}，停电三天了"
    try:
        agent = world.client("agent_a1")
        posted = agent.post("/api/v1/messages", json={"text": words, "conversation_ref": f"chatwoot:9:{PHONE}",
                                                      "customer": {"phone": PHONE, "name": "王秀英"}})
        assert posted.status_code == 201, posted.text
        agent.get("/api/v1/search", params={"q": f"王秀英 {PHONE} {ID_NUMBER}"})
        agent.get(f"/api/v1/customers/by-phone/{PHONE}")
        assert _cw(world, _cw_payload(990, 9990)).status_code == 200
    finally:
        access.removeHandler(handler)
        access.setLevel(old_level)
    log, text = stream.getvalue(), _metrics(world)
    assert "/api/v1/connectors/chatwoot" in log and "/api/v1/messages" in log
    for secret in (PHONE, ID_NUMBER, "王秀英", "停电三天了", CW_TOKEN):
        assert secret not in text, secret
    # a name typed into a search matches no masking pattern: the search text is not logged at all
    for secret in (PHONE, ID_NUMBER, "停电三天了", CW_TOKEN, "王秀英", "%E7%8E%8B"):
        assert secret not in log, (secret, [line for line in log.splitlines() if secret in line][:2])
    assert "/api/v1/search?q=***" in log
    for line in log.splitlines():
        json.loads(line)


def test_access_log_never_writes_a_survey_link_token(make_world: Any) -> None:
    """A survey link's token answers the survey without sign-in (a capability): the access log
    used to write it in full for every page view and answer. Now its segment is `***`."""
    world = make_world(**UNLIMITED)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    access = logging.getLogger("anfu.server.access")
    access.addHandler(handler)
    old_level = access.level
    access.setLevel(logging.INFO)
    token = "t7Kq9ZsurveyCapability2026"
    try:
        world.client().get(f"/survey/{token}")
        world.client().post(f"/api/v1/survey/{token}", json={"score": 5})
    finally:
        access.removeHandler(handler)
        access.setLevel(old_level)
    log = stream.getvalue()
    assert "/survey/***" in log and "/api/v1/survey/***" in log
    assert token not in log
