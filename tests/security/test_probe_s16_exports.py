"""Probe A (session 16): exports, reports, search and customer history, attacked as an auditor
exporting, an agent searching and an integrator paging through the API. Each defect is pinned by
one test that failed before its fix (session 16); the last tests pin what held.

Defects
1. Search: when the newest matching messages (limit × 3) all belong to a few conversations, the
   other matching conversations are never returned, though fewer than `limit` were given and the
   search has no page to reach them (`more` is true, and nothing leads further).
2. Tickets: `GET /api/v1/tickets?q=…` matches a substring of the ticket's summary as stored (in
   clear), so an auditor or admin, who read the customer's number masked (139****5678), recovers it
   digit by digit from the totals.
3. Search: after a dotted capital I (İ, a Turkish name) `normalize` is one character longer than
   the text, so every highlight of the snippet points past the query's words.
4. PostgreSQL: a message with an unbroken letters/digits run of 2,048+ characters (a pasted log or
   hex dump) corrupts its tsvector (`array_to_tsvector` wraps lexeme lengths at 2,048 bytes), and
   words of the same message that the long run begins with are no longer found.
Runs on SQLite; test 4 (which failed on PostgreSQL only) and the query-syntax check also on
PostgreSQL (ANFU_TEST_POSTGRES_URL)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from tests.security.probe import COMPLAINT, code_of, ticket

_REFS = itertools.count(1)
PHONE = "13912345678"


def _ref(label: str) -> str:
    return f"s16a-{label}-{next(_REFS)}"


# 1. search -----------------------------------------------------------------------------------------
def test_search_a_chatty_conversation_does_not_hide_other_matching_conversations(sqlite_world: Any) -> None:
    """Expected: `GET /api/v1/search?q=电表&kind=conversation&limit=2` returns both conversations
    that mention 电表 (two ≤ limit). Actual: only the newer one; its 7 messages fill the limit × 3
    window the store reads, the older conversation is dropped, `more` is true and the API has no
    page/offset to reach it."""
    w = sqlite_world
    older = w.conversation("agent_a1", _ref("meter-old"), [("customer", "我家电表坏了，电表一直不走字")])
    newer = w.conversation("agent_a1", _ref("meter-new"),
                           [("customer", f"第{i + 1}次反映了，电表还是不转，电表到底谁来修") for i in range(7)])
    reply = w.client("agent_a1").get("/api/v1/search", params={"q": "电表", "kind": "conversation", "limit": 2})
    assert reply.status_code == 200, reply.text[:300]
    found = [r["id"] for r in reply.json()["results"]["conversation"]]
    assert found == [newer, older], reply.json()


# 2. ticket list text filter --------------------------------------------------------------------------
@pytest.mark.parametrize("who", ["auditor_a", "admin_a"])
def test_the_ticket_text_filter_does_not_reveal_a_masked_phone_number(sqlite_world: Any, who: str) -> None:
    """Expected: a role that reads the number masked (auditor, admin: 139****5678) cannot learn the
    hidden digits: `GET /api/v1/tickets?q=1391234` answers like `q=1390000`. Actual: q=1391234 →
    total 1, q=1390000 → total 0, so ten requests per digit recover 13912345678 from the summary
    (TicketDesk.list matches the stored, unmasked summary)."""
    made = ticket(sqlite_world, prefix="s16a-oracle", first=COMPLAINT)
    client = sqlite_world.client(who)
    shown = client.get(f"/api/v1/tickets/{made['id']}").json()
    assert "139****5678" in str(shown) and PHONE not in str(shown)  # masked for this role
    totals = {q: client.get("/api/v1/tickets", params={"q": q}).json()["total"] for q in ("1391234", "1390000")}
    assert totals["1391234"] == totals["1390000"], totals


# 3. snippet highlights ------------------------------------------------------------------------------
def test_search_highlights_mark_the_query_words_after_a_dotted_capital_i(sqlite_world: Any) -> None:
    """Expected: each highlight [start, end) of the snippet covers 退款. Actual (customer
    "İlkay İnce：我要退款，退款什么时候到账"): highlights cover "，退" and "什么"; `normalize("İ")` is
    "i̇" (two characters), against its own invariant len(normalize(t)) == len(t)."""
    w = sqlite_world
    w.conversation("agent_a1", _ref("dotted"), [("customer", "İlkay İnce：我要退款，退款什么时候到账")])
    reply = w.client("agent_a1").get("/api/v1/search", params={"q": "退款", "kind": "conversation"})
    hit = next(r for r in reply.json()["results"]["conversation"] if r["snippet"].startswith("İlkay"))
    assert hit["highlights"], hit
    assert [hit["snippet"][s:e] for s, e in hit["highlights"]] == ["退款", "退款"], hit


# 4. PostgreSQL full text ---------------------------------------------------------------------------
def test_a_long_unbroken_run_does_not_hide_the_messages_words(world: Any) -> None:
    """Expected: the customer's message "APP报错 error，退款页面打不开，日志：error0000…" (a pasted
    log: "error" and 2,043 digits, one 2,048-character token) is found by `q=error`, as on SQLite.
    Actual on PostgreSQL: not found; array_to_tsvector stores the lexeme with its length wrapped
    at 2,048 (here 0: an empty lexeme), the tsvector's order breaks and `@@` misses "error"
    (runs of 2,048–2,052 characters; longer runs wrap to other lengths and corrupt silently).
    Fixed: tokens longer than a query can be are not indexed (`anfu.text.segment.MAX_TERM`)."""
    cid = world.conversation("agent_a1", _ref("longrun"),
                             [("customer", "APP报错 error，退款页面打不开，日志：error" + "0" * 2043)])
    client = world.client("agent_a1")
    found = client.get("/api/v1/search", params={"q": "退款", "kind": "conversation"}).json()
    assert cid in [r["id"] for r in found["results"]["conversation"]]  # other words still work
    reply = client.get("/api/v1/search", params={"q": "error", "kind": "conversation"})
    assert reply.status_code == 200, reply.text[:300]
    assert cid in [r["id"] for r in reply.json()["results"]["conversation"]], reply.json()


# What held ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("q", ['"退款" OR 电费', "退款 & !电费 | (a:*)", "电费' & '1", "NEAR(电费 退款)",
                               "退款\\", "%退款_"])
def test_fts_and_tsquery_syntax_in_a_query_is_plain_words(world: Any, q: str) -> None:
    """Held: FTS5 / tsquery operators, quotes and LIKE wildcards are cut away; never a 500."""
    reply = world.client("agent_a1").get("/api/v1/search", params={"q": q})
    assert reply.status_code in (200, 422), (reply.status_code, reply.text[:300])
    if reply.status_code == 422:
        assert code_of(reply) == "AF680"


def test_another_tenants_customer_answers_like_a_missing_one(sqlite_world: Any) -> None:
    """Held: tenant B's admin neither finds tenant A's customer by phone nor opens their history:
    the timeline answers AF503 404 exactly as an id that does not exist."""
    w = sqlite_world
    made = w.client("agent_a1").post("/api/v1/messages", json={
        "conversation_ref": _ref("tenant"), "text": COMPLAINT, "customer": {"phone": PHONE, "name": "王小明"}})
    assert made.status_code == 201, made.text
    customer_id = made.json()["conversation"]["customer_id"]
    assert customer_id
    other = w.client("admin_b")
    assert other.get("/api/v1/search", params={"q": PHONE}).json()["total"] == 0
    theirs = other.get(f"/api/v1/customers/{customer_id}/timeline")
    missing = other.get("/api/v1/customers/987654321/timeline")
    assert (theirs.status_code, code_of(theirs)) == (missing.status_code, code_of(missing)) == (404, "AF503")
