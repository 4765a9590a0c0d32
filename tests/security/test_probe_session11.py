"""Probe (session 11): the last commits attacked as an attacker and as a clumsy integrator.

1. `anfu.server.web.page_errors`: the error page for a browser — reflected paths, odd Accept
   headers, HEAD/OPTIONS, bad path parameters, another tenant's record, the API staying JSON.
2. Ticket optimistic concurrency: If-Match values (`W/"3"`, `*`, lists, junk, huge), the ticket
   page forms' `version` field (non-ASCII digits, 5000 digits, NUL, negative) and the 话术 edit
   form's version: a coded 4xx or a correct acceptance, never a 500, never a silent overwrite,
   never a write on a refused request; no version or conflict of another tenant's ticket.
3. `anfu.persona.v2`'s `corroboration` / `confident_probability` (and its other options): a bad
   value is a coded configuration error (AF102) when the pipeline is built, not a traceback when
   a conversation is analysed.

Runs on SQLite and, with ANFU_TEST_POSTGRES_URL, PostgreSQL (the `world` fixture)."""

from __future__ import annotations

import itertools
import math
import re
from typing import Any

import pytest

from anfu.errors import ConfigError
from anfu.store import WorkflowStore
from tests.security.probe import HTML, code_of
from tests.security import probe

_REFS = itertools.count(1)


# helpers ------------------------------------------------------------------------------------------
def _coded_4xx(response: Any, *codes: str) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    code = code_of(response)
    assert code is not None and (not codes or code in codes), (response.status_code, response.text[:300])


def _ticket(world: Any, agent: str = "agent_a1") -> dict[str, Any]:
    return probe.ticket(world, agent, "probe-s11")


def _stored(world: Any, ticket_id: int) -> Any:
    return WorkflowStore(world.store.engine).get_ticket(ticket_id)


def _bumped(world: Any, ticket: dict[str, Any]) -> int:
    """Someone else saved the ticket (a supervisor raised its priority): its version now."""
    done = world.client("sup_a1").patch(f"/api/v1/tickets/{ticket['id']}", json={"priority": "urgent"})
    assert done.status_code == 200, done.text
    return int(done.json()["version"])


# ==================================================================================================
# 1. If-Match on the API
# ==================================================================================================
# (a list such as '"1", "2"' is no junk: RFC 9110 allows it, test_probe_s16_contract.py)
JUNK_IF_MATCH = ["abc", "-1", "", " ", '"1", W/"2"', "1, x", '"1.0"', '""', "version-3", "9" * 19,
                 '"' + "9" * 19 + '"', "0x10", "+1", '"\u0663"', '"\uff13"', "1\x00"]


def test_a_junk_if_match_is_a_coded_refusal_that_writes_nothing(world: Any) -> None:
    ticket = _ticket(world)
    before = _stored(world, ticket["id"])
    agent = world.client("agent_a1")
    for value in JUNK_IF_MATCH:
        headers = {"If-Match": value.encode("utf-8")}
        _coded_4xx(agent.patch(f"/api/v1/tickets/{ticket['id']}", json={"priority": "low"}, headers=headers))
        _coded_4xx(agent.post(f"/api/v1/tickets/{ticket['id']}/notes", json={"note": "客户来电催办"},
                              headers=headers))
    after = _stored(world, ticket["id"])
    assert after.version == before.version and after.priority == before.priority


def test_if_match_forms_a_client_may_send(world: Any) -> None:
    """The ETag as sent (`"3"`), bare (`3`) or `*` is the version it names; a version never
    issued (0, a huge one) is the coded precondition failure (412 since session 12), nothing
    written. A weak ETag (`W/"3"`) was accepted here until session 12: If-Match compares strongly,
    so it is refused (AF505, tests/security/test_probe_session12.py)."""
    ticket = _ticket(world)
    path = f"/api/v1/tickets/{ticket['id']}"
    agent = world.client("agent_a1")
    for form in ('"{v}"', "{v}", " {v} "):
        version = _stored(world, ticket["id"]).version
        done = agent.post(f"{path}/notes", json={"note": "已致电客户说明情况"},
                          headers={"If-Match": form.format(v=version)})
        assert done.status_code == 201, (form, done.text)
        assert done.headers["ETag"] == f'"{version + 1}"'
    assert agent.post(f"{path}/notes", json={"note": "已致电"}, headers={"If-Match": "*"}).status_code == 201
    for stale in ("0", '"999999999999999999"', str(_stored(world, ticket["id"]).version - 1)):
        before = _stored(world, ticket["id"])
        refused = agent.patch(path, json={"priority": "low"}, headers={"If-Match": stale})
        _coded_4xx(refused, "AF609")
        assert refused.status_code == 412
        after = _stored(world, ticket["id"])
        assert after.version == before.version and after.priority == before.priority


def test_another_tenants_ticket_gives_away_no_version_under_if_match(world: Any) -> None:
    """A stale or junk If-Match on another tenant's ticket is the same 404 as no ticket at all:
    no ETag, no version, no number."""
    ticket = _ticket(world)
    outsider = world.client("agent_b1")
    stored = _stored(world, ticket["id"])
    for value in ('"1"', '"999"', "*", None):
        headers = {} if value is None else {"If-Match": value}
        for reply in (outsider.patch(f"/api/v1/tickets/{ticket['id']}", json={"priority": "low"}, headers=headers),
                      outsider.post(f"/api/v1/tickets/{ticket['id']}/notes", json={"note": "看看"}, headers=headers)):
            assert reply.status_code == 404 and code_of(reply) == "AF503", reply.text
            assert "etag" not in {k.lower() for k in reply.headers}
            assert stored.number not in reply.text and "version" not in reply.text.lower()
    missing = outsider.patch("/api/v1/tickets/99999999", json={"priority": "low"}, headers={"If-Match": '"1"'})
    assert missing.status_code == 404 and code_of(missing) == "AF503"
    assert _stored(world, ticket["id"]).version == stored.version


def test_an_auditor_with_a_stale_if_match_is_refused_as_an_auditor(world: Any) -> None:
    """An auditor reads only: a write with a stale If-Match was answered 409 AF609 ("reload and
    apply your change again") — advice that could never work; the refusal is the role's (AF417)."""
    ticket = _ticket(world)
    _bumped(world, ticket)
    auditor = world.client("auditor_a")
    reply = auditor.patch(f"/api/v1/tickets/{ticket['id']}", json={"priority": "low"}, headers={"If-Match": '"1"'})
    assert reply.status_code == 403 and code_of(reply) == "AF417", reply.text
    note = auditor.post(f"/api/v1/tickets/{ticket['id']}/notes", json={"note": "质检备注"}, headers={"If-Match": '"1"'})
    assert note.status_code == 403 and code_of(note) == "AF417", note.text


# ==================================================================================================
# 2. the ticket page forms' version
# ==================================================================================================
BAD_VERSIONS = ["abc", "-1", "\uff13", "\u0663", "1\x00", "1 2", "9" * 19, "9" * 5000, "+1", "0x1", "1.0"]


def test_the_fields_form_refuses_a_malformed_version(world: Any) -> None:
    """Found by this probe: a `version` field that was not ASCII digits (a negative number,
    full-width or Arabic-Indic digits, a NUL, 19+ digits) counted as "no version", so the stale
    form's priority silently overwrote the supervisor's change. Now a coded refusal."""
    ticket = _ticket(world)
    _bumped(world, ticket)
    before = _stored(world, ticket["id"])
    agent = world.client("agent_a1")
    for bad in BAD_VERSIONS:
        reply = agent.post(f"/tickets/{ticket['id']}/fields", headers=HTML, data={
            "priority": "low", "cause": "refund", "note": "退费问题", "version": bad})
        _coded_4xx(reply, "AF505", "AF431")
        after = _stored(world, ticket["id"])
        assert after.version == before.version and after.priority == "urgent", repr(bad)[:40]
        assert after.cause == before.cause


def test_an_action_form_refuses_a_malformed_version(world: Any) -> None:
    """Found by this probe: the same for the action buttons (respond, note, …) — and a version
    over 2,000 characters was dropped with the form's long fields before it was even read."""
    ticket = _ticket(world)
    _bumped(world, ticket)
    before = _stored(world, ticket["id"])
    agent = world.client("agent_a1")
    for bad in BAD_VERSIONS:
        reply = agent.post(f"/tickets/{ticket['id']}/note", headers=HTML,
                           data={"note": "客户再次来电催办", "version": bad})
        _coded_4xx(reply, "AF505")
        after = _stored(world, ticket["id"])
        assert after.version == before.version and "客户再次来电催办" not in str(after.data), repr(bad)[:40]
    # a version sent as a file (multipart) is no version either
    reply = agent.post(f"/tickets/{ticket['id']}/note", headers=HTML, data={"note": "客户再次来电催办"},
                       files={"version": ("version.txt", str(before.version).encode(), "text/plain")})
    _coded_4xx(reply, "AF505")
    assert _stored(world, ticket["id"]).version == before.version


def test_the_page_forms_accept_their_own_version_and_none(world: Any) -> None:
    ticket = _ticket(world)
    agent = world.client("agent_a1")
    version = _stored(world, ticket["id"]).version
    done = agent.post(f"/tickets/{ticket['id']}/note", data={"note": "已电话联系客户", "version": f" {version} "})
    assert done.status_code == 200 and _stored(world, ticket["id"]).version == version + 1
    # a form without the field (an older page, a script) is a change over the ticket as it is
    assert agent.post(f"/tickets/{ticket['id']}/note", data={"note": "客户表示理解"}).status_code == 200
    assert agent.post(f"/tickets/{ticket['id']}/note", data={"note": "客户表示理解", "version": ""}).status_code == 200


def test_another_tenants_ticket_form_with_a_version_is_not_found(world: Any) -> None:
    ticket = _ticket(world)
    stored = _stored(world, ticket["id"])
    outsider = world.client("agent_b1")
    for path, data in ((f"/tickets/{ticket['id']}/fields", {"priority": "low", "version": "1"}),
                       (f"/tickets/{ticket['id']}/note", {"note": "看看", "version": "999"}),
                       (f"/tickets/{ticket['id']}/note", {"note": "看看", "version": "abc"})):
        reply = outsider.post(path, data=data, headers=HTML)
        assert reply.status_code == 404 and "AF503" in reply.text, reply.text[:300]
        assert stored.number not in reply.text and "13912345678" not in reply.text
        assert "AF609" not in reply.text
    assert _stored(world, ticket["id"]).version == stored.version


# ==================================================================================================
# 3. the 话术 edit form's version
# ==================================================================================================
def _reply(world: Any) -> dict[str, Any]:
    made = world.client("sup_a1").post("/api/v1/replies", json={
        "title": f"电费账单异常核实{next(_REFS)}", "text": "您好，非常理解您的心情，我马上为您核实这个月的电费账单，请稍等。",
        "category": "电费账单"})
    assert made.status_code == 201, made.text
    return made.json()


REPLY_VERSIONS = ["abc", "\uff12\uff10\uff12\uff16-12-07T09:00:00+00:00", "2026-12-07T09:00:00", "-1", "9" * 5000,
                  "2026-13-45T99:00:00+00:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-23:59",
                  "2020-01-01T00:00:00+00:00"]


def test_the_reply_form_refuses_a_malformed_or_stale_version(world: Any) -> None:
    reply = _reply(world)
    admin = world.client("admin_a")
    form = {"title": "被覆盖的标题", "text": "您好，账单核实结果会在今天下班前短信告知您。", "category": "电费账单",
            "emotion": "", "persona": "", "active": "yes"}
    for bad in REPLY_VERSIONS:
        refused = admin.post(f"/replies/{reply['id']}", data={**form, "version": bad}, headers=HTML,
                             follow_redirects=False)
        _coded_4xx(refused, "AF505", "AF673", "AF431")
        stored = world.client("sup_a1").get(f"/api/v1/replies/{reply['id']}").json()
        assert stored["title"] == reply["title"] and stored["updated_at"] == reply["updated_at"], repr(bad)[:40]


# ==================================================================================================
# 4. the error page
# ==================================================================================================
def test_another_tenants_ticket_page_is_the_plain_not_found_page(world: Any) -> None:
    ticket = _ticket(world)
    page = world.client("agent_b1").get(f"/tickets/{ticket['id']}", headers=HTML)
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert 'id="not-found"' in page.text and "AF503" in page.text
    assert ticket["number"] not in page.text and "13912345678" not in page.text and "电费账单" not in page.text


@pytest.mark.parametrize("path", ["/tickets/abc", "/tickets/99999999999999999999", "/tickets/-1",
                                  "/console/%E4%B8%80", "/review/1e3", "/training/cases/99999999999999999999999"])
def test_a_malformed_record_id_in_a_browser_is_the_error_page(world: Any, path: str) -> None:
    """A bad id in a page's path (a typo, a link cut short, an id past 2^63) is the error page
    with its code — not a 500, not the API's JSON in the browser."""
    reply = world.client("agent_a1").get(path, headers=HTML)
    assert 400 <= reply.status_code < 500, (reply.status_code, reply.text[:300])
    assert reply.headers["content-type"].startswith("text/html"), reply.text[:300]
    assert re.search(r"AF\d{3}", reply.text)
    api = world.client("agent_a1").get("/api/v1" + path, headers=HTML)
    assert 400 <= api.status_code < 500 and api.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize("path", ["/no-such-page/\"><img src=x onerror=alert(1)>",
                                  "/no-such-page/%22%3E%3Csvg%20onload%3Dalert(1)%3E",
                                  "/no-such-page/%0d%0aSet-Cookie:%20anfu_session=evil",
                                  "/no-such-page/{{7*7}}"])
def test_a_reflected_path_is_text_only(world: Any, path: str) -> None:
    for client in (world.client("agent_a1"), world.client()):
        reply = client.get(path, headers=HTML)
        assert reply.status_code == 404 and "AF434" in reply.text
        assert "<img" not in reply.text and "<svg" not in reply.text
        # since session 12 the not-found page repeats no part of the path at all
        shown = re.search(r'id="error-message">([^<]*)<', reply.text)
        assert shown is None or "49" not in shown.group(1), reply.text[-600:]
        assert "no-such-page" not in reply.text
        assert "evil" not in reply.headers.get("set-cookie", "")


def test_other_methods_on_pages_are_coded(world: Any) -> None:
    for who in ("agent_a1", None):
        client = world.client(who)
        for method in ("HEAD", "OPTIONS", "PUT", "DELETE", "PATCH"):
            for path in ("/wallboard", "/tickets/99999999", "/no-such-page"):
                reply = client.request(method, path, headers=HTML, follow_redirects=False)
                assert reply.status_code < 500, (method, path, reply.status_code, reply.text[:300])
                if method != "HEAD" and reply.status_code >= 400:
                    assert code_of(reply), reply.text[:300]


ACCEPTS = ["text/html", "TEXT/HTML", "text/html;q=0.1, application/json", "*/*", "", "text/html" * 2000,
           "application/json, text/html\x7f", "text/html; charset=\u00e9"]


def test_odd_accept_headers_never_fail(world: Any) -> None:
    agent = world.client("agent_a1")
    for accept in ACCEPTS:
        headers = {"Accept": accept.encode("utf-8")}
        for path, status in (("/wallboard", 403), ("/tickets/99999999", 404), ("/no-such-page", 404),
                             ("/api/v1/tickets/99999999", 404)):
            reply = agent.get(path, headers=headers)
            assert reply.status_code == status and code_of(reply), (accept[:40], path, reply.text[:200])
            if path.startswith("/api/"):
                assert reply.headers["content-type"].startswith("application/json")


def test_api_paths_stay_json_for_a_browser(world: Any) -> None:
    agent = world.client("agent_a1")
    for path in ("/api/v1/tickets/abc", "/api/v1/no-such-endpoint", "/api/v1/tickets/1/stage",
                 "/api/v1/tickets/99999999999999999999", "/api/v1/replies/abc"):
        reply = agent.get(path, headers=HTML)
        assert 400 <= reply.status_code < 500 and reply.headers["content-type"].startswith("application/json"), path


def test_a_signed_out_browser_on_a_missing_record_goes_to_sign_in(world: Any) -> None:
    """A signed-out browser learns nothing about records: sent to sign in, no error page."""
    for path in ("/tickets/99999999", f"/tickets/{_ticket(world)['id']}"):
        reply = world.client().get(path, headers=HTML, follow_redirects=False)
        assert reply.status_code == 303 and reply.headers["location"].startswith("/signin?next=")


# ==================================================================================================
# 5. anfu.persona.v2's options
# ==================================================================================================
def _build_persona(options: dict[str, Any]) -> Any:
    from anfu.config import load_config
    from anfu.pipeline import build_component

    config = load_config(overrides={"components": {"anfu.persona.v2": options}})
    return build_component("anfu.persona.v2", config)


@pytest.mark.parametrize("options", [
    {"corroboration": -1.0}, {"corroboration": "3.0"}, {"corroboration": True}, {"corroboration": math.nan},
    {"corroboration": math.inf}, {"corroboration": [3.0]},
    {"confident_probability": 1.5}, {"confident_probability": -0.1}, {"confident_probability": "0.97"},
    {"confident_probability": math.nan}, {"confident_probability": False},
    {"min_chars": "20"}, {"min_chars": -1}, {"min_chars": 2.5}, {"min_probability": 2.0}, {"min_probability": "高"},
    {"model": 3}, {"corroborate": 2.0},
    {"gate": 3}, {"gate": ""}, {"min_typed": 1.5}, {"min_typed": "0.8"}, {"min_typed": math.nan},
    {"strong_cues": -1.0}, {"strong_cues": True}, {"strong_cues": math.inf},
], ids=lambda o: repr(o)[:40])
def test_a_bad_persona_option_is_a_coded_config_error(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigError) as caught:
        _build_persona(options)
    assert caught.value.code == "AF102"
    assert "anfu.persona.v2" in caught.value.message and next(iter(options)) in caught.value.message


def test_a_persona_option_naming_the_wrong_weights_is_a_coded_model_error() -> None:
    """The type model's weights named as the typedness gate (nine labels, not two) were handed back
    from the weights cache and used as a gate; now the labels are checked: AF204. A gate that is
    not there is AF201."""
    from anfu.backends.text_dense import DEFAULT_PERSONA_WEIGHTS
    from anfu.errors import ModelError

    _build_persona({})  # the type model is in the cache now
    with pytest.raises(ModelError) as caught:
        _build_persona({"gate": str(DEFAULT_PERSONA_WEIGHTS)})
    assert caught.value.code == "AF204"
    with pytest.raises(ModelError) as caught:
        _build_persona({"gate": str(DEFAULT_PERSONA_WEIGHTS.with_name("no_such_gate.npz"))})
    assert caught.value.code == "AF201"


@pytest.mark.parametrize("options", [{"corroboration": 0}, {"corroboration": 3}, {"confident_probability": 1},
                                     {"confident_probability": 0.5}, {"min_probability": 0.4}, {"min_chars": 0},
                                     {"gate": "none"}, {"gate": "auto"}, {"min_typed": 0.5}, {"strong_cues": 0}])
def test_good_persona_options_are_accepted(options: dict[str, Any]) -> None:
    persona = _build_persona(options)
    for key, value in options.items():
        assert getattr(persona, key) == value
