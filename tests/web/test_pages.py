"""Every page of the web workspace without a browser: signed in it answers 200, signed out
it sends you to the sign-in page; Chinese by default, English after the switch; a CSP
without unsafe-eval and no inline script that would need it."""

from __future__ import annotations

import re

import pytest

PAGES = ["/console", "/wallboard", "/tickets", "/ledger", "/analytics", "/analytics/emotion", "/analytics/causes",
         "/analytics/escalation", "/analytics/csat", "/analytics/sla", "/analytics/agents", "/analytics/teams"]


@pytest.fixture(scope="module")
def conversation_id(web) -> int:
    return web.customer_says("我们小区停电都三天了！！！报了两次修都没人来，你们到底管不管？")["conversation"]["id"]


@pytest.mark.parametrize("path", PAGES)
def test_page_answers_when_signed_in(web, conversation_id, path):
    response = web.client("wang").get(path)
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    assert '<html lang="zh-CN"' in response.text


@pytest.mark.parametrize("path", PAGES + ["/console/1", "/tickets/1"])
def test_page_redirects_to_sign_in_when_signed_out(web, path):
    response = web.client().get(path)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/signin?next=")


def test_conversation_view_for_its_agent(web, conversation_id):
    page = web.client("li").get(f"/console/{conversation_id}")
    assert page.status_code == 200
    assert "停电" in page.text and 'id="emotion-gauge"' in page.text and 'id="trajectory-chart"' in page.text
    assert "推荐话术" in page.text and "处理流程（SOP）" in page.text


def test_other_agent_cannot_open_the_conversation(web, conversation_id):
    # a conversation that is not yours is reported like a missing one (AF503), not shown
    response = web.client("zhao").get(f"/console/{conversation_id}")
    assert response.status_code == 404
    assert "停电" not in response.text


def test_chinese_by_default_and_english_after_switch(web):
    client = web.client("li")
    assert "坐席工作台" in client.get("/console").text
    switched = client.get("/lang/en?next=/console")
    assert switched.status_code == 303 and switched.headers["location"] == "/console"
    assert switched.cookies.get("anfu_lang") == "en"
    client.cookies.set("anfu_lang", "en")
    page = client.get("/console").text
    assert '<html lang="en"' in page and "Agent console" in page and "坐席工作台" not in page
    assert 'data-chart-locale="EN"' in page


def test_language_switch_refuses_foreign_redirects(web):
    response = web.client().get("/lang/en?next=https://evil.example/")
    assert response.headers["location"] == "/"
    response = web.client().get("/lang/en?next=//evil.example/")
    assert response.headers["location"] == "/"


def test_unknown_language_is_ignored(web):
    response = web.client().get("/lang/xx?next=/signin")
    assert "anfu_lang" not in response.cookies


@pytest.mark.parametrize("path", ["/signin", "/console", "/analytics"])
def test_csp_without_unsafe_eval_and_no_inline_scripts(web, path):
    response = web.client("wang").get(path)
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-eval" not in csp and "unsafe-inline" not in csp
    html = response.text
    for tag in re.findall(r"<script\b[^>]*>", html):
        # every script is either a file of ours or inert JSON data
        assert 'src="/static/' in tag or 'type="application/json"' in tag, tag
    assert not re.search(r"\son[a-z]+\s*=", html), "inline event handler attribute"
    assert "style=" not in html
    # Alpine runs the CSP build; htmx may not evaluate code
    if "alpine" in html:
        assert "/static/vendor/alpine-csp.min.js" in html
    assert '"allowEval": false' in html


def test_static_assets_are_vendored(web):
    client = web.client()
    for path in ("/static/vendor/htmx.min.js", "/static/vendor/alpine-csp.min.js",
                 "/static/vendor/echarts/echarts.min.js", "/static/css/anfu.css", "/static/js/charts.js"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert len(response.content) > 1000 or path.endswith(".js")


def test_sign_in_form_sets_session_and_redirects(web):
    client = web.client()
    form = client.get("/signin?next=/tickets")
    token = re.search(r'name="login_csrf" value="([^"]+)"', form.text).group(1)
    response = client.post("/signin", data={"username": "li", "password": "Lan-Hua-Shan-2024!",
                                            "login_csrf": token, "next": "/tickets"})
    assert response.status_code == 303 and response.headers["location"] == "/tickets"
    assert client.get("/tickets").status_code == 200


def test_sign_in_with_wrong_password_shows_error(web):
    client = web.client()
    token = re.search(r'name="login_csrf" value="([^"]+)"', client.get("/signin").text).group(1)
    response = client.post("/signin", data={"username": "li", "password": "wrong-password-123",
                                            "login_csrf": token})
    assert response.status_code == 401 and "用户名或密码错误" in response.text


def test_sign_in_without_form_token_is_refused(web):
    response = web.client().post("/signin", data={"username": "li", "password": "Lan-Hua-Shan-2024!",
                                                  "login_csrf": "forged"})
    assert response.status_code == 403 and "anfu_session" not in response.cookies


def test_form_post_without_csrf_is_refused(web, conversation_id):
    client = web.client("li")
    del client.headers["X-CSRF-Token"]
    response = client.post(f"/console/{conversation_id}/send", data={"draft": "您好，我马上为您处理。"})
    assert response.status_code == 403


def test_sign_out_revokes_the_session(web):
    from anfu.security.tokens import hash_token

    client = web.client("li")
    token = client.cookies.get("anfu_session")
    assert web.store.get_session(hash_token(token)) is not None
    assert client.post("/signout", data={"csrf_token": client.headers["X-CSRF-Token"]}).status_code == 303
    assert web.store.get_session(hash_token(token)) is None  # revoked server-side, not just forgotten
