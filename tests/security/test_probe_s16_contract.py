"""Probe E (session 16): the REST API as an integrator's contract (spec vs reality, PATCH semantics,
conditional writes, DELETE, natural keys, 405s). Each failing test pins one defect; SQLite only
(none is specific to a database).

1. A PATCH of a ticket that changes nothing (`{}`, the value it already has, a `note` alone) still
   bumps its version and `updated_at`: another user's If-Match is then refused (412 AF609
   "changed by someone else") though the history shows no change, and the note is silently lost.
2. The same for a 话术: `PATCH {}` gives it a new ETag, so a colleague's edit is refused (412 AF673).
3. A 405 names only one route's methods in `Allow` (`PUT /replies/{id}` says `Allow: GET`, hiding
   PATCH; `PUT /routing/queues/{id}` says `PATCH`, hiding DELETE) - RFC 9110 §15.5.6.
4. `DELETE /api/v1/auth/tokens/{id}` of an id that does not exist (or another tenant's) answers 200
   `{"ok": false}`; the same revoke on the admin page and every other DELETE answer AF503 (404).
5. `POST /messages` with `"customer": {"name": "王芳"}` answers 201 and silently drops the customer
   (customer_id null), while `{"phone": "   "}` is refused AF505 "give external_ref, phone or email".
6. `If-Match` with a list of ETags (RFC 9110 §13.1.1: `If-Match: "3", "4"`) is refused 422 AF505
   even when the list holds the current ETag.
7. `GET /api/v1/replies?emotion=愤怒` (a label that does not exist) answers 200 with no items, while
   every other API that takes an emotion refuses an unknown one with AF010.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.security.probe import code_of, coded, conversation, ticket

REPLY = "非常抱歉给您带来不便，这件事由我负责跟进，30分钟内给您回复。"


@pytest.fixture(scope="module")
def w(sqlite_world: Any) -> Any:
    return sqlite_world


def test_noop_ticket_patch_keeps_the_version(w: Any) -> None:
    """docs/api.md (tickets): "Every ticket has a `version`, one more at each change". Expected: a
    PATCH that changes nothing leaves version, ETag and updated_at alone (so a colleague's If-Match
    still holds), and a `note` with no field change is refused or kept. Actual: `{}`, the same
    priority and a note alone each bumped the version (1→2→3→4) with no history entry; the
    colleague holding ETag "1" got 412 AF609 "changed by someone else"; the note was nowhere.
    Fixed: nothing changed is nothing written; a note alone is kept as a note (one change)."""
    made = ticket(w, prefix="s16e-noop")
    url = f"/api/v1/tickets/{made['id']}"
    agent, sup = w.client("agent_a1"), w.client("sup_a1")
    first = agent.get(url)
    etag, history, updated = first.headers["ETag"], len(first.json()["history"]), first.json()["updated_at"]
    for body in ({}, {"priority": made["priority"]}):
        assert agent.patch(url, json=body).status_code == 200
    after = agent.get(url)
    assert len(after.json()["history"]) == history and after.json()["updated_at"] == updated
    assert after.headers["ETag"] == etag, (etag, after.headers["ETag"])
    colleague = sup.patch(url, json={"priority": "high"}, headers={"If-Match": etag})
    assert colleague.status_code == 200, colleague.text
    noted = agent.patch(url, json={"note": "客户再次来电，情绪激动"})
    assert noted.status_code == 200
    notes = [h for h in agent.get(url).json()["history"] if h["kind"] == "note"]
    assert [h["note"] for h in notes][-1:] == ["客户再次来电，情绪激动"]
    assert noted.headers["ETag"] != colleague.headers["ETag"]  # a note is a change


def test_noop_reply_patch_keeps_the_etag(w: Any) -> None:
    """docs/api.md (话术库): PATCH with If-Match refuses "a 话术 changed since". Expected: `PATCH {}`
    changes nothing, so its ETag stays and a colleague's edit over that ETag goes through. Actual:
    the ETag (updated_at) moves on every empty PATCH and the colleague gets 412 AF673."""
    sup = w.client("sup_a1")
    made = sup.post("/api/v1/replies", json={"title": "抢修致歉-s16e", "text": REPLY, "category": "停电抢修"})
    assert made.status_code == 201, made.text
    url, etag = f"/api/v1/replies/{made.json()['id']}", made.headers["ETag"]
    assert sup.patch(url, json={}).status_code == 200
    assert sup.get(url).headers["ETag"] == etag
    colleague = w.client("admin_a").patch(url, json={"category": "停电抢修（夜间）"}, headers={"If-Match": etag})
    assert colleague.status_code == 200, colleague.text


@pytest.mark.parametrize("method, path, missing", [
    ("PUT", "/api/v1/replies/1", "PATCH"),
    ("PUT", "/api/v1/routing/queues/1", "DELETE"),
    ("PUT", "/api/v1/users", "GET"),
])
def test_405_allow_names_every_method(w: Any, method: str, path: str, missing: str) -> None:
    """RFC 9110 §15.5.6: a 405 "MUST generate an Allow header field ... containing a list of the
    target resource's currently supported methods". Expected: `Allow` lists all of them. Actual:
    only the first route's (e.g. `PUT /api/v1/replies/1` → `Allow: GET`, no PATCH)."""
    reply = w.client("admin_a").request(method, path, json={})
    coded(reply, 405, "AF435")
    allowed = {m.strip() for m in reply.headers.get("allow", "").split(",")}
    assert missing in allowed, reply.headers.get("allow")


def test_revoking_a_missing_token_is_404(w: Any) -> None:
    """docs/api.md Conventions: "An id that exists but is not visible answers exactly like a missing
    one: AF503 (404)"; the admin page's revoke (`POST /admin/tokens/{id}/revoke`) documents "another
    tenant's or an unknown id AF503 (404)", and DELETE /webhooks/{unknown} is AF503 too. Actual:
    `DELETE /api/v1/auth/tokens/999999` (a typo, or tenant B's token) answers 200 {"ok": false}, so
    an integrator's script reports success."""
    admin = w.client("admin_a")
    theirs = w.client("admin_b").post("/api/v1/auth/tokens", json={"name": "B的CTI", "role": "supervisor"})
    assert theirs.status_code == 201
    coded(admin.delete("/api/v1/webhooks/999999"), 404, "AF503")  # how the API answers elsewhere
    coded(admin.delete(f"/api/v1/auth/tokens/{theirs.json()['id']}"), 404, "AF503")
    coded(admin.delete("/api/v1/auth/tokens/999999"), 404, "AF503")


def test_name_only_customer_is_not_silently_dropped(w: Any) -> None:
    """docs/api.md POST /messages: body `"customer"?: {"name", "phone", "email", "external_ref"}`.
    Expected: a customer object the API cannot use is refused like `{"phone": "   "}` (422 AF505
    "give external_ref, phone or email"), or the name is kept. Actual: `{"name": "王芳"}` answers
    201 with `customer_id: null`: the name the CTI sent is gone and the call is on no timeline."""
    agent = w.client("agent_a1")
    blank = agent.post("/api/v1/messages", json={"conversation_ref": "s16e-blank", "speaker": "customer",
                                                  "text": "我家停电了！", "customer": {"phone": "   "}})
    coded(blank, 422, "AF505")
    named = agent.post("/api/v1/messages", json={"conversation_ref": "s16e-name", "speaker": "customer",
                                                  "text": "我家停电了，快来修！", "customer": {"name": "王芳"}})
    assert named.status_code == 422 or named.json()["conversation"]["customer_id"] is not None, named.text[:300]


def test_if_match_list_with_the_current_etag(w: Any) -> None:
    """RFC 9110 §13.1.1: `If-Match = "*" / #entity-tag`; the condition holds when any listed tag
    matches strongly. docs/api.md: "If-Match compares strongly (RFC 9110)". Expected: `If-Match:
    "0", <current>` applies the change. Actual: 422 AF505 "Invalid precondition"."""
    made = ticket(w, prefix="s16e-list")
    url = f"/api/v1/tickets/{made['id']}"
    agent = w.client("agent_a1")
    current = agent.get(url).headers["ETag"]
    reply = agent.patch(url, json={"priority": "high"}, headers={"If-Match": f'"0", {current}'})
    assert reply.status_code == 200, reply.text[:300]


def test_reply_list_refuses_an_unknown_emotion(w: Any) -> None:
    """docs/api.md: POST /replies answers AF010 (422) for an unknown emotion, as GET /conversations
    and the saved views do. Expected: `GET /api/v1/replies?emotion=愤怒` (the Chinese word, not the
    label `angry`) is AF010 too. Actual: 200 `{"items": []}`: the integrator's picker is empty."""
    agent = w.client("agent_a1")
    coded(agent.get("/api/v1/conversations", params={"emotion": "愤怒"}), 422, "AF010")
    coded(agent.get("/api/v1/replies", params={"emotion": "愤怒"}), 422, "AF010")


# --- checked and held (informative passes) -----------------------------------------------------

def test_paging_walks_every_row_once(w: Any) -> None:
    """Held: page_size=1 walks of the conversation and ticket lists see each row once and
    `total` matches (ties ordered by id)."""
    agent = w.client("agent_a1")
    for _ in range(3):
        ticket(w, prefix="s16e-page")
    for base in ("/api/v1/conversations", "/api/v1/tickets?sort=priority"):
        first = agent.get(base, params={"page_size": 1}).json()
        seen = [item["id"] for page in range(1, first["total"] + 1)
                for item in agent.get(base, params={"page": page, "page_size": 1}).json()["items"]]
        assert len(seen) == len(set(seen)) == first["total"] == first["pages"]


def test_body_edge_cases_are_coded(w: Any) -> None:
    """Held: a JSON array, `null`, 1e309, 2**63 and a body labelled charset=gbk get AF4xx, never 500."""
    agent = w.client("agent_a1")
    cid = conversation(w, prefix="s16e-body")
    json_h = {"content-type": "application/json"}
    for raw in (b"[]", b"null", b'{"conversation_id": 1e309}', b'{"conversation_id": 9223372036854775808}'):
        reply = agent.post("/api/v1/tickets", content=raw, headers=json_h)
        assert reply.status_code == 422 and code_of(reply) == "AF431", (raw, reply.text[:200])
    gbk = agent.post("/api/v1/notes", content=f'{{"conversation_id": {cid}, "text": "客户要求回电"}}'.encode("gbk"),
                     headers={"content-type": "application/json; charset=gbk"})
    assert gbk.status_code in (400, 415) and code_of(gbk) == "AF433"
