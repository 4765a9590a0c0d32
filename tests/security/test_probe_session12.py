"""Probe (session 12): defects found by the earlier adversarial probes, each pinned here.

1. Retried creates: `POST /api/v1/notes` and `POST /api/v1/webhooks` honour an
   `Idempotency-Key` header (same key, same user, same body: the original result, no second
   row; same key, another body: a coded 409; a malformed key: a coded 422).
2. `POST /api/v1/messages` with a reused `client_msg_id` but another text is a coded 409, not
   the original turn passed off as the new one.
3. A tenant keeps at least one active admin: demoting or deactivating the last one (API, API
   token, admin page) is a coded 409 that says how to fix it.
4. The 话术 API has an ETag and honours If-Match like tickets.
5. If-Match compares strongly: a weak ETag (`W/"3"`) is refused (AF505); a failed If-Match on
   the API is 412 Precondition Failed (RFC 9110), the page forms keep 409.
6. A browser posting to a GET-only page gets the translated error page (405), not JSON.
7. The not-found page does not repeat the requested path (a phone number typed into it).
8. `save_connector` maps only the unique-constraint race to AF679.
9. The ticket and 话术 page forms answer input errors with 422 (`form_status`), conflicts 409.
10. `anfu.rules.checked.number` refuses NaN and infinity.

Runs on SQLite and, with ANFU_TEST_POSTGRES_URL, PostgreSQL (the `world` fixture)."""

from __future__ import annotations

import itertools
import math
from typing import Any

import pytest

from anfu.errors import ConflictError
from anfu.store import WorkflowStore
from tests.security import probe
from tests.security.probe import HTML, code_of

ADMIN_TOTP = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
_REFS = itertools.count(1)


def _conversation(world: Any, agent: str = "agent_a1") -> int:
    return probe.conversation(world, agent, "probe-s12")


def _ticket(world: Any, agent: str = "agent_a1") -> dict[str, Any]:
    return probe.ticket(world, agent, "probe-s12")


# ==================================================================================================
# 1. Idempotency-Key on notes and webhooks
# ==================================================================================================
def test_a_retried_note_with_the_same_key_is_stored_once(world: Any) -> None:
    cid = _conversation(world)
    agent = world.client("agent_a1")
    body = {"conversation_id": cid, "text": "客户下午三点后方便接电话，已报抢修单 QX-1123"}
    key = {"Idempotency-Key": f"note-{next(_REFS)}-7f3a9c"}
    first = agent.post("/api/v1/notes", json=body, headers=key)
    again = agent.post("/api/v1/notes", json=body, headers=key)
    assert first.status_code == 201, first.text
    assert again.status_code == 201 and again.json() == first.json(), again.text
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert len(agent.get("/api/v1/notes", params={"conversation_id": cid}).json()["items"]) == 1


def test_a_note_key_reused_with_another_body_is_a_coded_409(world: Any) -> None:
    cid = _conversation(world)
    agent = world.client("agent_a1")
    key = {"Idempotency-Key": f"note-{next(_REFS)}-b2"}
    assert agent.post("/api/v1/notes", json={"conversation_id": cid, "text": "客户要求明天上午回电"},
                      headers=key).status_code == 201
    other = agent.post("/api/v1/notes", json={"conversation_id": cid, "text": "客户已同意退费方案"}, headers=key)
    probe.coded(other, 409, "AF445")
    assert "Idempotency-Key" in other.json()["error"]["message"]
    items = agent.get("/api/v1/notes", params={"conversation_id": cid}).json()["items"]
    assert [n["text"] for n in items] == ["客户要求明天上午回电"]


def test_an_idempotency_key_belongs_to_its_user_and_tenant(world: Any) -> None:
    """The same key from a colleague is their own request (a new note); nothing leaks across."""
    ticket = _ticket(world)
    key = {"Idempotency-Key": f"shared-{next(_REFS)}"}
    body = {"ticket_id": ticket["id"], "text": "已与客户确认抄表时间"}
    mine = world.client("agent_a1").post("/api/v1/notes", json=body, headers=key)
    theirs = world.client("sup_a1").post("/api/v1/notes", json=body, headers=key)
    assert mine.status_code == 201 and theirs.status_code == 201, theirs.text
    assert mine.json()["id"] != theirs.json()["id"] and theirs.json()["author"] == "sup_a1"
    outsider = world.client("agent_b1").post("/api/v1/notes", json=body, headers=key)
    assert outsider.status_code == 404 and code_of(outsider) == "AF503"
    assert "已与客户确认抄表时间" not in outsider.text


@pytest.mark.parametrize("value", ["", " ", "k" * 256, "键-中文", "a\tb", "a b"])
def test_a_malformed_idempotency_key_is_refused_before_anything_is_written(world: Any, value: str) -> None:
    cid = _conversation(world)
    agent = world.client("agent_a1")
    reply = agent.post("/api/v1/notes", json={"conversation_id": cid, "text": "测试备注"},
                       headers={"Idempotency-Key": value.encode("utf-8")})
    probe.coded(reply, 422, "AF505")
    assert "Idempotency-Key" in reply.json()["error"]["message"]
    assert agent.get("/api/v1/notes", params={"conversation_id": cid}).json()["items"] == []


def test_a_failed_request_does_not_use_up_its_key(world: Any) -> None:
    """A refused first try (an auditor, a missing ticket) records nothing: the key still works."""
    ticket = _ticket(world)
    key = {"Idempotency-Key": f"retry-after-failure-{next(_REFS)}"}
    agent = world.client("agent_a1")
    missing = agent.post("/api/v1/notes", json={"ticket_id": 99999999, "text": "催办"}, headers=key)
    assert missing.status_code == 404
    done = agent.post("/api/v1/notes", json={"ticket_id": ticket["id"], "text": "催办"}, headers=key)
    assert done.status_code == 201, done.text


def test_a_retried_webhook_registration_is_registered_once(world: Any) -> None:
    admin = world.client("admin_a")
    body = {"url": f"https://crm.example.com/anfu/{next(_REFS)}", "events": ["ticket.*", "csat.low"]}
    key = {"Idempotency-Key": f"hook-{next(_REFS)}"}
    first = admin.post("/api/v1/webhooks", json=body, headers=key)
    again = admin.post("/api/v1/webhooks", json=body, headers=key)
    assert first.status_code == 201, first.text
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"], again.text
    assert again.json()["secret"] == first.json()["secret"]  # the caller lost the first reply
    hooks = [h for h in admin.get("/api/v1/webhooks").json()["items"] if h["url"] == body["url"]]
    assert len(hooks) == 1
    changed = admin.post("/api/v1/webhooks", json={**body, "events": ["escalation.raised"]}, headers=key)
    probe.coded(changed, 409, "AF445")
    assert len([h for h in admin.get("/api/v1/webhooks").json()["items"] if h["url"] == body["url"]]) == 1


# ==================================================================================================
# 2. a reused client_msg_id with another text
# ==================================================================================================
def test_a_reused_client_msg_id_with_another_text_is_a_coded_409(world: Any) -> None:
    agent = world.client("agent_a1")
    msg_id = f"wx-{next(_REFS)}-0001"
    ref = f"probe-s12-msg-{next(_REFS)}"
    first = agent.post("/api/v1/messages", json={"conversation_ref": ref, "client_msg_id": msg_id,
                                                 "text": "停电三天了还没人来修，我的电话13912345678"})
    assert first.status_code == 201, first.text
    same = agent.post("/api/v1/messages", json={"conversation_ref": ref, "client_msg_id": msg_id,
                                                "text": "停电三天了还没人来修，我的电话13912345678"})
    assert same.status_code == 200 and same.json()["message"]["id"] == first.json()["message"]["id"]
    # a different phone number masks the same: the comparison is of the text as sent
    for other in ("我要投诉！马上给我恢复供电！", "停电三天了还没人来修，我的电话13800001111"):
        reused = agent.post("/api/v1/messages", json={"conversation_ref": ref, "client_msg_id": msg_id, "text": other})
        probe.coded(reused, 409, "AF446")
        assert "client_msg_id" in reused.json()["error"]["message"]
    cid = first.json()["conversation"]["id"]
    assert probe.count(world, "SELECT count(*) FROM messages WHERE conversation_id = :c", c=cid) == 1


# ==================================================================================================
# 3. the last active admin
# ==================================================================================================
def _lone_admin_tenant(world: Any) -> tuple[str, str]:
    """A new tenant with exactly one admin and one agent: (admin's name, agent's name)."""
    from anfu.security.passwords import hash_password

    n = next(_REFS)
    tenant = world.store.create_tenant(f"probe-s12-{n}", f"自来水热线{n}")
    pw = hash_password("Probe-S12-correct-horse-battery")
    admin = world.store.create_user(tenant.id, f"s12_admin_{n}", pw, "admin", display_name="王主任")
    world.users[admin.username] = world.store.update_user(admin.id, mfa_enabled=True, totp_secret=ADMIN_TOTP)
    agent = world.store.create_user(tenant.id, f"s12_agent_{n}", pw, "agent", display_name="李坐席")
    world.users[agent.username] = agent
    return admin.username, agent.username


def test_the_last_admin_cannot_demote_themself(world: Any) -> None:
    admin, _ = _lone_admin_tenant(world)
    client = world.client(admin)
    refused = client.put(f"/api/v1/users/{world.users[admin].id}/role", json={"role": "supervisor"})
    probe.coded(refused, 409, "AF419")
    assert "admin" in refused.json()["error"]["message"].lower()
    assert world.store.get_user(world.users[admin].id).role == "admin"


def test_an_admin_token_cannot_deactivate_or_demote_the_last_admin(world: Any) -> None:
    admin, _ = _lone_admin_tenant(world)
    token = world.token_client(admin)
    uid = world.users[admin].id
    probe.coded(token.patch(f"/api/v1/users/{uid}", json={"active": False}), 409, "AF419")
    probe.coded(token.put(f"/api/v1/users/{uid}/role", json={"role": "auditor"}), 409, "AF419")
    stored = world.store.get_user(uid)
    assert stored.active and stored.role == "admin"


def test_the_admin_page_refuses_to_demote_the_last_admin(world: Any) -> None:
    admin, _ = _lone_admin_tenant(world)
    client = world.client(admin)
    uid = world.users[admin].id
    page = client.post(f"/admin/users/{uid}", data={"role": "agent", "team_id": ""}, headers=HTML)
    assert page.status_code == 409 and "AF419" in page.text, page.text[:300]
    assert world.store.get_user(uid).role == "admin"


def test_with_a_second_admin_the_first_may_step_down(world: Any) -> None:
    admin, agent = _lone_admin_tenant(world)
    client = world.client(admin)
    promoted = client.put(f"/api/v1/users/{world.users[agent].id}/role", json={"role": "admin"})
    assert promoted.status_code == 200, promoted.text
    token = world.token_client(admin)
    assert token.patch(f"/api/v1/users/{world.users[admin].id}", json={"active": False}).status_code == 200
    # now the promoted one is the last
    probe.coded(token.patch(f"/api/v1/users/{world.users[agent].id}", json={"active": False}), 409, "AF419")


# ==================================================================================================
# 4. and 5. ETag / If-Match: 话术, weak ETags, 412
# ==================================================================================================
def _reply(world: Any) -> Any:
    made = world.client("sup_a1").post("/api/v1/replies", json={
        "title": f"停电抢修进度说明{next(_REFS)}", "text": "您好，非常理解您的着急，抢修队已经出发，预计两小时内到达。",
        "category": "停电抢修"})
    assert made.status_code == 201, made.text
    return made


def test_the_reply_api_honours_if_match(world: Any) -> None:
    made = _reply(world)
    rid = made.json()["id"]
    etag = made.headers.get("ETag")
    sup = world.client("sup_a1")
    read = sup.get(f"/api/v1/replies/{rid}")
    assert etag and read.headers.get("ETag") == etag
    changed = world.client("admin_a").patch(f"/api/v1/replies/{rid}", json={"title": "停电抢修进度（新版）"},
                                            headers={"If-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag, changed.text
    stale = sup.patch(f"/api/v1/replies/{rid}", json={"title": "被覆盖的标题"}, headers={"If-Match": etag})
    probe.coded(stale, 412, "AF673")
    assert sup.get(f"/api/v1/replies/{rid}").json()["title"] == "停电抢修进度（新版）"
    probe.coded(sup.patch(f"/api/v1/replies/{rid}", json={"title": "x"}, headers={"If-Match": "abc"}), 422, "AF505")
    fresh = sup.patch(f"/api/v1/replies/{rid}", json={"category": "抢修"}, headers={"If-Match": changed.headers["ETag"]})
    assert fresh.status_code == 200, fresh.text
    assert sup.patch(f"/api/v1/replies/{rid}", json={"category": "停电"}, headers={"If-Match": "*"}).status_code == 200


def test_a_weak_etag_in_if_match_is_refused(world: Any) -> None:
    ticket = _ticket(world)
    agent = world.client("agent_a1")
    version = agent.get(f"/api/v1/tickets/{ticket['id']}").json()["version"]
    for weak in (f'W/"{version}"', f'w/"{version}"'):
        reply = agent.patch(f"/api/v1/tickets/{ticket['id']}", json={"priority": "low"}, headers={"If-Match": weak})
        probe.coded(reply, 422, "AF505")
        assert "weak" in reply.json()["error"]["message"].lower()
    made = _reply(world)
    weak = "W/" + made.headers["ETag"]
    probe.coded(world.client("sup_a1").patch(f"/api/v1/replies/{made.json()['id']}", json={"title": "弱校验"},
                                        headers={"If-Match": weak}), 422, "AF505")
    assert WorkflowStore(world.store.engine).get_ticket(ticket["id"]).version == version


def test_a_failed_if_match_on_the_api_is_412(world: Any) -> None:
    ticket = _ticket(world)
    agent = world.client("agent_a1")
    etag = agent.get(f"/api/v1/tickets/{ticket['id']}").headers["ETag"]
    assert world.client("sup_a1").patch(f"/api/v1/tickets/{ticket['id']}", json={"priority": "urgent"}).status_code == 200
    probe.coded(agent.patch(f"/api/v1/tickets/{ticket['id']}", json={"priority": "low"}, headers={"If-Match": etag}),
           412, "AF609")
    probe.coded(agent.post(f"/api/v1/tickets/{ticket['id']}/notes", json={"note": "客户来电催办"},
                      headers={"If-Match": etag}), 412, "AF609")
    assert "412" in str(world.app.openapi()["paths"]["/api/v1/tickets/{ticket_id}"]["patch"]["responses"])


# ==================================================================================================
# 6. and 7. the error page
# ==================================================================================================
@pytest.mark.parametrize("path", ["/ledger", "/search", "/wellbeing"])
def test_a_browser_posting_to_a_get_only_page_gets_the_error_page(world: Any, path: str) -> None:
    reply = world.client("agent_a1").post(path, headers=HTML, data={"q": "退费"})
    assert reply.status_code == 405, reply.text[:300]
    assert reply.headers["content-type"].startswith("text/html"), reply.text[:300]
    assert "AF435" in reply.text and "GET" in reply.headers.get("allow", "")
    assert "出错了" in reply.text  # the zh-CN page
    api = world.client("agent_a1").post("/api/v1/ledger-none", headers=HTML)
    assert api.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize("path", ["/客户/13912345678", "/tickets/abc13912345678", "/search/110101199003077777"])
def test_the_not_found_page_does_not_repeat_the_path(world: Any, path: str) -> None:
    reply = world.client("agent_a1").get(path, headers=HTML)
    assert reply.status_code == 404 and 'id="not-found"' in reply.text
    assert "13912345678" not in reply.text and "110101199003077777" not in reply.text
    assert "5678" not in reply.text and "7777" not in reply.text and path not in reply.text


# ==================================================================================================
# 8. save_connector and IntegrityError
# ==================================================================================================
def test_only_the_unique_race_is_af679(world: Any) -> None:
    from anfu.store import ConnectorStore

    store = ConnectorStore(world.store.engine)
    with pytest.raises(Exception) as caught:  # a tenant that does not exist: a foreign-key failure
        store.save_connector(987654321, "chatwoot", by="user:admin_a", create=True,
                             base_url="https://chatwoot.example.com", api_token="sealed-token", token_hint="abcd")
    assert not isinstance(caught.value, ConflictError), caught.value


# ==================================================================================================
# 9. the page forms' status
# ==================================================================================================
def test_the_ticket_forms_answer_input_errors_with_422(world: Any) -> None:
    ticket = _ticket(world)
    agent = world.client("agent_a1")
    bad = agent.post(f"/tickets/{ticket['id']}/note", data={"note": "客户再次来电", "version": "abc"}, headers=HTML)
    assert bad.status_code == 422 and "AF505" in bad.text, bad.text[:300]
    fields = agent.post(f"/tickets/{ticket['id']}/fields", data={"priority": "low", "version": "１"}, headers=HTML)
    assert fields.status_code == 422 and "AF505" in fields.text
    unknown = agent.post(f"/tickets/{ticket['id']}/fly", data={"note": "x"}, headers=HTML)
    assert unknown.status_code == 422 and "AF601" in unknown.text, unknown.text[:300]
    version = WorkflowStore(world.store.engine).get_ticket(ticket["id"]).version
    stale = agent.post(f"/tickets/{ticket['id']}/note", data={"note": "客户再次来电", "version": str(version - 1 or 99)},
                       headers=HTML)
    assert stale.status_code == 409 and "AF609" in stale.text  # a conflict stays 409 on the page


def test_the_reply_form_answers_input_errors_with_422(world: Any) -> None:
    rid = _reply(world).json()["id"]
    admin = world.client("admin_a")
    form = {"title": "停电抢修", "text": "您好，抢修队已出发。", "category": "停电抢修", "emotion": "", "persona": "",
            "active": "yes"}
    bad = admin.post(f"/replies/{rid}", data={**form, "version": "abc"}, headers=HTML, follow_redirects=False)
    assert bad.status_code == 422 and "AF505" in bad.text, bad.text[:300]
    empty = admin.post(f"/replies/{rid}", data={**form, "title": " "}, headers=HTML, follow_redirects=False)
    assert empty.status_code == 422 and "AF505" in empty.text
    made = admin.post("/replies", data={**form, "title": "", "text": ""}, headers=HTML, follow_redirects=False)
    assert made.status_code == 422
    stale = admin.post(f"/replies/{rid}", data={**form, "version": "2020-01-01T00:00:00+00:00"}, headers=HTML,
                       follow_redirects=False)
    assert stale.status_code == 409 and "AF673" in stale.text


# ==================================================================================================
# 10. rules.checked.number
# ==================================================================================================
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, float("nan")])
@pytest.mark.parametrize("bounds", [(None, None), (0, 100000), (1, None), (None, 10)])
def test_a_non_finite_number_in_a_rule_pack_is_a_problem(value: float, bounds: tuple[Any, Any]) -> None:
    from anfu.rules.checked import number

    problems: list[str] = []
    number(value, "levels[0].when.count", problems, *bounds)
    assert problems and "levels[0].when.count" in problems[0]


def test_finite_and_huge_integers_are_still_numbers() -> None:
    from anfu.rules.checked import number

    problems: list[str] = []
    number(3, "a", problems, 0, 10)
    number(2.5, "b", problems)
    number(10 ** 400, "c", problems)
    assert problems == []
