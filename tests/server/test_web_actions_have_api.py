"""Every web action has its REST operation (issue 11, "Done when: every web action has its API
route and test"). The test walks every non-GET route of the web workspace (the pages' routers,
`anfu.server.web.make_web_router`, all `include_in_schema=False`) and looks each up in ACTIONS,
an explicit table of the REST operation(s) of the OpenAPI document that do the same thing
through the same service. It fails naming

- a web action that is in neither ACTIONS, BROWSER_ONLY nor KNOWN_GAPS (a new form without an
  API: add the REST route, then the row);
- a table entry whose REST operation is not in the OpenAPI document (renamed or removed);
- a KNOWN_GAPS entry that has since got its REST operation, or that is also in the table;
- a ticket action (`anfu.service.desk.ACTIONS`, all posted to `/tickets/{ticket_id}/{action}`)
  without its REST operation.

BROWSER_ONLY holds the actions that only make sense in a browser, each with its reason.
KNOWN_GAPS are real gaps still open: they are not excused, they are listed so that closing one
(moving it to ACTIONS) is checked, and they are named in the report of issue 11.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest

API = "/api/v1"

# web action -> the REST operations that do the same (one or several calls)
ACTIONS: dict[str, tuple[str, ...]] = {
    # account (the REST sign-in is the session/login of the API itself)
    "POST /account/mfa/begin": ("POST /api/v1/auth/mfa/begin",),
    "POST /account/mfa/confirm": ("POST /api/v1/auth/mfa/confirm",),
    "POST /account/password": ("POST /api/v1/auth/password",),
    # agent console
    "POST /console/{conversation_id}/claim": ("POST /api/v1/conversations/{conversation_id}/claim",),
    "POST /console/{conversation_id}/check": ("POST /api/v1/check-reply",),
    "POST /console/{conversation_id}/send": ("POST /api/v1/messages",),
    "POST /console/{conversation_id}/escalate": ("POST /api/v1/conversations/{conversation_id}/escalate",),
    # supervisor wallboard
    "POST /wallboard/{conversation_id}/join": ("POST /api/v1/conversations/{conversation_id}/join",),
    "POST /wallboard/{conversation_id}/take-over": ("POST /api/v1/conversations/{conversation_id}/take-over",),
    "POST /wallboard/{conversation_id}/assign": ("POST /api/v1/conversations/{conversation_id}/assign",),
    "POST /wallboard/{conversation_id}/whisper": ("POST /api/v1/conversations/{conversation_id}/whisper",),
    "POST /wallboard/alerts/{alert_id}/{action}": ("POST /api/v1/alerts/{alert_id}/acknowledge",
                                                   "POST /api/v1/alerts/{alert_id}/assign",
                                                   "POST /api/v1/alerts/{alert_id}/resolve"),
    # tickets (the per-action operations are checked against TICKET_ACTIONS below)
    "POST /tickets/bulk": ("POST /api/v1/tickets/bulk-assign", "POST /api/v1/tickets/bulk-close"),
    "POST /tickets/{ticket_id}/fields": ("PATCH /api/v1/tickets/{ticket_id}",),
    "POST /tickets/{ticket_id}/{action}": (),  # filled from TICKET_ACTIONS
    # wellbeing
    "POST /wellbeing/checkin": ("POST /api/v1/wellbeing/checkins",),
    "POST /wellbeing/peer-support": ("PUT /api/v1/wellbeing/me/peer-support",),
    "POST /wellbeing/requests/{request_id}/handled": ("POST /api/v1/wellbeing/requests/{request_id}/handled",),
    # quality review: score a conversation = run the inspection, then review it
    "POST /review/{conversation_id}": ("POST /api/v1/inspection/run",
                                       "POST /api/v1/inspection/inspections/{inspection_id}/review"),
    # the customer's CSAT answer behind the signed link (public, no sign-in, like the page)
    "POST /survey/{token}": ("POST /api/v1/survey/{token}",),
    # 话术库 and notes
    "POST /replies": ("POST /api/v1/replies",),
    "POST /replies/{reply_id}": ("PATCH /api/v1/replies/{reply_id}",),
    "POST /notes/{kind}/{target_id}": ("POST /api/v1/notes",),
    # conversation lists: saved views
    "POST /conversations/views": ("POST /api/v1/saved-views",),
    "POST /conversations/views/{view_id}/delete": ("DELETE /api/v1/saved-views/{view_id}",),
    # routing
    "POST /routing/presence": ("PUT /api/v1/routing/presence",),
    "POST /admin/teams": ("POST /api/v1/teams",),
    "POST /admin/teams/{team_id}": ("PATCH /api/v1/teams/{team_id}",),
    "POST /admin/teams/{team_id}/queues": ("POST /api/v1/routing/queues",),
    "POST /admin/queues/{queue_id}/delete": ("DELETE /api/v1/routing/queues/{queue_id}",),
    "POST /admin/agents/{user_id}": ("PATCH /api/v1/routing/agents/{user_id}",),
    # training: the simulator sessions, the trainer's assignments and scenarios, the case library
    "POST /training/sessions": ("POST /api/v1/training/sessions",),
    "POST /training/sessions/{session_id}/reply": ("POST /api/v1/training/sessions/{session_id}/reply",),
    "POST /training/sessions/{session_id}/finish": ("POST /api/v1/training/sessions/{session_id}/finish",),
    "POST /training/assignments": ("POST /api/v1/training/assignments",),
    "POST /training/scenarios": ("POST /api/v1/training/scenarios",),
    "POST /training/cases": ("POST /api/v1/training/cases",),
    # admin console
    "POST /admin/users": ("POST /api/v1/users",),
    "POST /admin/users/{user_id}": ("PATCH /api/v1/users/{user_id}", "PUT /api/v1/users/{user_id}/role",
                                    "DELETE /api/v1/users/{user_id}/mfa"),
    "POST /admin/users/{user_id}/password": ("POST /api/v1/users/{user_id}/password",),
    "POST /admin/tokens": ("POST /api/v1/auth/tokens",),
    "POST /admin/tokens/{token_id}/revoke": ("DELETE /api/v1/auth/tokens/{token_id}",),
    "POST /admin/webhooks": ("POST /api/v1/webhooks",),
    "POST /admin/webhooks/{webhook_id}/disable": ("DELETE /api/v1/webhooks/{webhook_id}",),
    "POST /admin/connectors/{kind}": ("PUT /api/v1/admin/connectors/{kind}",),
    "POST /admin/connectors/{kind}/test": ("POST /api/v1/admin/connectors/{kind}/test",),
    "POST /admin/settings": ("PATCH /api/v1/admin/settings",),
}

# `anfu.service.desk.ACTIONS`, each posted to /tickets/{ticket_id}/{action} by the ticket page
TICKET_ACTIONS: dict[str, tuple[str, ...]] = {
    "respond": ("POST /api/v1/tickets/{ticket_id}/respond",),
    "advance": ("POST /api/v1/tickets/{ticket_id}/stage",),
    "wait": ("POST /api/v1/tickets/{ticket_id}/pause",),
    "customer_replied": ("POST /api/v1/tickets/{ticket_id}/resume",),
    "resolve": ("POST /api/v1/tickets/{ticket_id}/resolve",),
    "followup": ("POST /api/v1/tickets/{ticket_id}/followup",),
    "close": ("POST /api/v1/tickets/{ticket_id}/close",),
    "reopen": ("POST /api/v1/tickets/{ticket_id}/reopen",),
    "feed_back": ("POST /api/v1/tickets/{ticket_id}/ledger/feedback",),
    "feedback_reply": ("POST /api/v1/tickets/{ticket_id}/ledger/feedback",),
    "note": ("POST /api/v1/tickets/{ticket_id}/notes",),
}

# intrinsically browser-only, with the reason
BROWSER_ONLY: dict[str, str] = {
    "POST /signin": "the sign-in form sets the browser's session and CSRF cookies (API: POST /api/v1/auth/login)",
    "POST /signout": "ends the browser's cookie session (API: POST /api/v1/auth/logout, or drop the token)",
}

# real gaps still open: a web action with no REST operation yet (named in the issue-11 report)
KNOWN_GAPS: dict[str, str] = {}


def web_actions() -> list[str]:
    """`METHOD /path` of every non-GET route of the web workspace's routers."""
    from fastapi.routing import APIRoute

    from anfu.server.web import make_web_router

    found: list[str] = []

    def walk(routes: Iterable[Any], prefix: str) -> None:
        for route in routes:
            original = getattr(route, "original_router", None)  # FastAPI >= 0.165 keeps routers wrapped
            if original is not None:
                context = getattr(route, "include_context", None)
                walk(original.routes, prefix + (getattr(context, "prefix", "") or getattr(original, "prefix", "")))
                continue
            if isinstance(route, APIRoute):
                assert route.include_in_schema is False, f"web route {route.path} is in the API's OpenAPI document"
                found.extend(f"{m} {prefix}{route.path}" for m in sorted(route.methods - {"GET", "HEAD"}))

    walk(make_web_router().routes, "")
    return found


@pytest.fixture(scope="module")
def operations(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """`METHOD /path` of every operation of the API's OpenAPI document."""
    from anfu.server import create_app
    from anfu.settings import get_settings

    data_dir = tmp_path_factory.mktemp("web-actions")
    settings = get_settings(data_dir=data_dir, environment="test", database_url=f"sqlite:///{data_dir / 'a.db'}",
                            secret_key="web-actions-Ki7q2Lw9Xz4Rt6Yp1Vb8Nm3Hc5Jf0Dg")
    app = create_app(settings, analyzer=object(), check_schema=False, scheduler=False)  # type: ignore[arg-type]
    try:
        spec = app.openapi()
    finally:
        app.state.ctx.store.engine.dispose()
    return {f"{method.upper()} {path}" for path, ops in spec["paths"].items() for method in ops
            if method in ("get", "post", "put", "patch", "delete")}


def table() -> dict[str, tuple[str, ...]]:
    rows = dict(ACTIONS)
    rows["POST /tickets/{ticket_id}/{action}"] = tuple(dict.fromkeys(
        op for ops in TICKET_ACTIONS.values() for op in ops))
    return rows


def test_the_walk_finds_the_web_actions() -> None:
    actions = web_actions()
    assert {"POST /signin", "POST /admin/connectors/{kind}", "POST /tickets/{ticket_id}/{action}",
            "POST /conversations/views"} <= set(actions)
    assert all(a.split()[0] != "GET" for a in actions) and len(actions) == len(set(actions))


def test_every_web_action_has_a_rest_operation() -> None:
    missing = [a for a in web_actions() if a not in ACTIONS and a not in BROWSER_ONLY and a not in KNOWN_GAPS]
    assert missing == [], f"web actions with no REST counterpart in the table: {missing}"


def test_every_table_entry_is_a_web_action_and_in_the_openapi_document(operations: set[str]) -> None:
    actions = set(web_actions())
    stale = [a for a in [*ACTIONS, *BROWSER_ONLY, *KNOWN_GAPS] if a not in actions]
    assert stale == [], f"table rows for web actions that no longer exist: {stale}"
    absent = {a: [op for op in ops if op not in operations] for a, ops in table().items()}
    absent = {a: ops for a, ops in absent.items() if ops}
    assert absent == {}, f"REST operations named in the table but not in the OpenAPI document: {absent}"
    assert all(table()[a] for a in ACTIONS), "a table row without any REST operation"
    assert all(op.startswith(("GET ", "POST ", "PUT ", "PATCH ", "DELETE ")) and f" {API}/" in op
               for ops in table().values() for op in ops)


def test_every_ticket_action_has_a_rest_operation(operations: set[str]) -> None:
    from anfu.service.desk import ACTIONS as DESK_ACTIONS

    assert sorted(TICKET_ACTIONS) == sorted(DESK_ACTIONS), \
        f"ticket actions without a REST row: {sorted(set(DESK_ACTIONS) - set(TICKET_ACTIONS))}"
    assert all(op in operations for ops in TICKET_ACTIONS.values() for op in ops)


def test_exclusions_have_reasons_and_known_gaps_are_still_gaps(operations: set[str]) -> None:
    assert all(len(reason) > 20 for reason in BROWSER_ONLY.values())
    assert not set(KNOWN_GAPS) & (set(ACTIONS) | set(BROWSER_ONLY)), "a row is both a gap and mapped/excluded"
    # a gap whose obvious REST path now exists must move to ACTIONS
    closed = [a for a in KNOWN_GAPS if f"{a.split()[0]} {API}{a.split()[1]}" in operations]
    assert closed == [], f"known gaps that now have a REST operation, move them to ACTIONS: {closed}"
    assert all(reason for reason in KNOWN_GAPS.values())


def test_the_checks_catch_a_missing_row_and_a_wrong_operation(operations: set[str]) -> None:
    """The table's checks can fail: without a row, or with a misspelt operation, they name it."""
    without = {a for a in ACTIONS if a != "POST /admin/settings"}
    assert [a for a in web_actions() if a not in without and a not in BROWSER_ONLY
            and a not in KNOWN_GAPS] == ["POST /admin/settings"]
    assert "PATCH /api/v1/admin/setting" not in operations and "PATCH /api/v1/admin/settings" in operations
