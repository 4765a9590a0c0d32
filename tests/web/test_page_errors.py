"""`anfu.server.web.page_errors`: a browser that opens a page it may not use, or a record that
is not there, gets the error page in its language; the API and HTMX keep the JSON body."""

from __future__ import annotations

from typing import Any

import pytest

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def _page(response: Any) -> str:
    assert response.headers["content-type"].startswith("text/html"), response.text[:200]
    return response.text


@pytest.mark.parametrize("who, path", [("li", "/wallboard"), ("li", "/review"), ("qa", "/wellbeing/team"),
                                       ("wang", "/admin/teams"), ("li", "/training/trainer")])
def test_a_refused_page_is_the_error_page(web: Any, who: str, path: str) -> None:
    response = web.client(who).get(path, headers=HTML)
    assert response.status_code == 403
    html = _page(response)
    assert 'id="forbidden"' in html and "AF417" in html
    assert "你的角色无权使用此页面或操作" in html


@pytest.mark.parametrize("path", ["/tickets/999999", "/console/999999", "/review/999999",
                                  "/training/cases/999999"])
def test_a_missing_record_is_the_not_found_page(web: Any, path: str) -> None:
    response = web.client("wang").get(path, headers=HTML)
    assert response.status_code == 404
    html = _page(response)
    assert 'id="not-found"' in html and "AF503" in html
    assert "找不到此页面或记录" in html


def test_the_error_page_speaks_english_when_asked(web: Any) -> None:
    html = _page(web.client("li", lang="en").get("/wallboard", headers=HTML))
    assert "This page cannot be shown" in html and "你的角色" not in html


def test_an_unknown_page_path_is_escaped_on_the_not_found_page(web: Any) -> None:
    response = web.client("li").get("/no-such-page/<script>alert(1)</script>", headers=HTML)
    assert response.status_code == 404
    html = _page(response)
    assert "AF434" in html and "<script>alert(1)" not in html


def test_the_api_htmx_and_plain_clients_keep_json(web: Any) -> None:
    agent = web.client("li")
    api = agent.get("/api/v1/tickets/999999", headers=HTML)
    assert api.status_code == 404 and api.json()["error"]["code"] == "AF503"
    htmx = agent.get("/wallboard", headers={**HTML, "HX-Request": "true"})
    assert htmx.status_code == 403 and htmx.json()["error"]["code"] == "AF417"
    plain = agent.get("/wallboard")  # an integrator's client asks for no HTML
    assert plain.status_code == 403 and plain.json()["error"]["code"] == "AF417"


def test_a_signed_out_browser_is_still_sent_to_sign_in(web: Any) -> None:
    response = web.client().get("/wallboard", headers=HTML)
    assert response.status_code == 303 and response.headers["location"].startswith("/signin")


def test_a_refused_page_form_post_is_the_error_page(web: Any) -> None:
    agent = web.client("li")
    response = agent.post("/admin/teams", data={"name": "投诉专班"}, headers=HTML)
    assert response.status_code == 403
    assert "AF417" in _page(response)


def test_a_page_form_naming_a_missing_object_answers_404(web: Any) -> None:
    """A wellbeing check-in naming a conversation the agent cannot see (another tenant's, or
    none) was refused as 422 with AF503 in the text; the status now says what the code says."""
    response = web.client("li").post("/wellbeing/checkin", data={"kind": "break", "conversation_id": "999999"},
                                      headers=HTML)
    assert response.status_code == 404 and "AF503" in response.text
    assert web.client("li").post("/wellbeing/checkin", data={"kind": "无此项"}).status_code == 422
