"""Admin console, users (anfu/server/web/admin.py): an admin resets a user's password to a
one-time password shown once (the user must change it at sign-in, their sessions end), the
admin navigation lists every section, the audit log filters by date range and pages, and
anyone else meets the 403 page."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from anfu.store.access import Principal
from tests.web.admin_world import add_admins, audit_actions
from tests.web.conftest import PASSWORD


@pytest.fixture(scope="module")
def world(web: Any) -> Any:
    return add_admins(web)


def test_admin_navigation_lists_every_section_in_both_languages(world: Any) -> None:
    page = world.client("root").get("/admin/users").text
    tabs = page.split('id="admin-tabs"')[1].split("</nav>")[0]
    for href, zh in (("/admin/users", "用户"), ("/admin/teams", "班组与路由"), ("/admin/tokens", "API 令牌"), ("/admin/webhooks", "Webhook"),
                     ("/admin/connectors", "连接器"), ("/admin/settings", "设置"), ("/admin/audit", "审计日志")):
        assert f'href="{href}"' in tabs and zh in tabs
    english = world.client("root", lang="en").get("/admin/users").text
    tabs_en = english.split('id="admin-tabs"')[1].split("</nav>")[0]
    for label in ("Users", "Teams and routing", "API tokens", "Webhooks", "Connectors", "Settings", "Audit log"):
        assert label in tabs_en
    assert "Reset password" in english and "重置密码" not in english


def test_reset_password_shows_a_one_time_password_once(world: Any) -> None:
    admin = world.client("root")
    zhao = world.users["zhao"]
    zhao_client = world.client("zhao")
    assert zhao_client.get("/console").status_code == 200
    page = admin.post(f"/admin/users/{zhao.id}/password")
    assert page.status_code == 200 and 'id="password-reset"' in page.text
    temporary = re.search(r'id="temp-password">([^<]+)<', page.text).group(1)
    assert len(temporary) >= 16 and temporary != PASSWORD
    # shown once: the users page does not show it again
    assert temporary not in admin.get("/admin/users").text
    after = world.store.get_user(zhao.id)
    assert after.must_change_password
    # the user's sessions ended; the old password no longer works, the temporary one does
    assert zhao_client.get("/console").status_code == 303
    anon = world.client()
    form = anon.get("/signin")
    login_csrf = re.search(r'name="login_csrf" value="([^"]+)"', form.text).group(1)
    wrong = anon.post("/signin", data={"username": "zhao", "password": PASSWORD, "login_csrf": login_csrf})
    assert wrong.status_code == 401
    form = anon.get("/signin")
    login_csrf = re.search(r'name="login_csrf" value="([^"]+)"', form.text).group(1)
    signed = anon.post("/signin", data={"username": "zhao", "password": temporary, "login_csrf": login_csrf})
    assert signed.status_code == 303 and signed.headers["location"] == "/account"  # must change it first
    assert anon.get("/console").headers.get("location") == "/account"
    entries = audit_actions(world, "user.password_reset")
    assert any(e.target == f"user:{zhao.id}" and e.actor == "user:root" for e in entries)
    assert not any(temporary in str(e.detail) for e in entries)
    # restore for the other tests
    from anfu.security.passwords import hash_password

    world.store.update_user(zhao.id, password_hash=hash_password(PASSWORD), must_change_password=False)


def test_reset_password_is_refused_for_self_and_other_tenants(world: Any) -> None:
    admin = world.client("root")
    own = admin.post(f"/admin/users/{world.users['root'].id}/password")
    assert own.status_code == 403 and 'id="admin-error"' in own.text
    foreign = admin.post(f"/admin/users/{world.users['gas_admin'].id}/password")
    assert foreign.status_code == 404
    assert not world.store.get_user(world.users["gas_admin"].id).must_change_password
    # no reset button for oneself
    page = admin.get("/admin/users").text
    row = page.split(f'data-user="root"')[1].split("</tr>")[0]
    assert "reset-password" not in row


@pytest.mark.parametrize("who", ["li", "wang", "qa"])
def test_others_get_the_403_page_and_change_nothing(world: Any, who: str) -> None:
    client = world.client(who)
    target = world.users["zhao"]
    for path in ("/admin", "/admin/users"):
        page = client.get(path)
        assert page.status_code == 403 and 'id="forbidden"' in page.text and "<html" in page.text
    posted = client.post(f"/admin/users/{target.id}/password")
    assert posted.status_code == 403 and 'id="forbidden"' in posted.text
    assert client.post(f"/admin/users/{target.id}", data={"active": "0"}).status_code == 403
    assert world.store.get_user(target.id).active and not world.store.get_user(target.id).must_change_password
    # their navigation offers no admin console
    nav = client.get("/console").text.split('id="mainnav"')[1].split("</nav>")[0]
    assert 'href="/admin"' not in nav


def test_a_form_without_the_csrf_token_is_refused(world: Any) -> None:
    client = world.client("root")
    del client.headers["X-CSRF-Token"]
    assert client.post(f"/admin/users/{world.users['zhao'].id}/password").status_code == 403
    assert not world.store.get_user(world.users["zhao"].id).must_change_password


def test_audit_log_filters_by_date_range_and_pages(world: Any) -> None:
    store = world.store
    tenant_id = world.users["li"].tenant_id
    old = datetime(2026, 3, 1, 2, 0, tzinfo=timezone.utc)  # 10:00 Beijing time on 1 March
    for i in range(60):
        store.audit(tenant_id, "user:wang", "alert.acknowledged", target=f"alert:{i}", detail={"note": "已安抚"})
    # an entry on a known day: SQL filters by `at`, so write one with a fixed time
    from sqlalchemy import update

    from anfu.store.tables import AuditRow

    entry = store.audit(tenant_id, "user:wang", "ticket.closed", target="ticket:TS-20260301-0001")
    with store._write() as s:  # noqa: SLF001  (test set-up: back-date one entry)
        s.execute(update(AuditRow).where(AuditRow.id == entry.id).values(at=old))
    admin = world.client("root")
    day = admin.get("/admin/audit", params={"since": "2026-03-01", "until": "2026-03-01"})
    assert day.status_code == 200
    assert re.findall(r'<tr data-action="([^"]+)"', day.text) == ["ticket.closed"]
    assert "2026-03-01 10:00:00" in day.text
    assert 'data-action="ticket.closed"' not in admin.get("/admin/audit", params={"since": "2026-03-02"}).text
    assert admin.get("/admin/audit", params={"until": "2026-02-28", "target": "ticket:TS-20260301-0001"}
                     ).text.count("<tr data-action") == 0
    # paging: 50 a page, the next link keeps the filters
    first = admin.get("/admin/audit", params={"action": "alert.acknowledged", "actor": "user:wang"})
    assert first.text.count('<tr data-action="alert.acknowledged"') == 50
    next_link = re.search(r'id="audit-next" href="\?([^"]+)"', first.text).group(1).replace("&amp;", "&")
    assert "actor=user%3Awang" in next_link and "page=2" in next_link
    second = admin.get("/admin/audit?" + next_link)
    assert second.text.count('<tr data-action="alert.acknowledged"') >= 10
    bad = admin.get("/admin/audit", params={"since": "2026-13-45"})
    assert bad.status_code == 422 and 'id="audit-error"' in bad.text
    # the auditor reads it without the admin tabs; an agent meets the 403 page
    qa = world.client("qa").get("/admin/audit", params={"since": "2026-03-01", "until": "2026-03-01"})
    assert qa.status_code == 200 and 'id="admin-tabs"' not in qa.text and "ticket.closed" in qa.text
    assert world.client("li").get("/admin/audit").status_code == 403
    # another tenant's admin sees none of it
    gas = world.client("gas_admin").get("/admin/audit", params={"actor": "user:wang"}).text
    assert 'data-action="alert.acknowledged"' not in gas
    assert Principal.of_user(world.users["gas_admin"]).tenant_id != tenant_id


@pytest.mark.parametrize("bad", ["0", "-1", "99999999999999999999", "abc", "1e3"])
def test_odd_ids_answer_a_clear_4xx_never_a_500(world: Any, bad: str) -> None:
    admin = world.client("root")
    for method, path in (("post", f"/admin/users/{bad}"), ("post", f"/admin/users/{bad}/password"),
                         ("post", f"/admin/tokens/{bad}/revoke"), ("post", f"/admin/webhooks/{bad}/disable"),
                         ("get", f"/admin/webhooks/{bad}"), ("post", f"/admin/connectors/{bad}"),
                         ("post", f"/admin/connectors/{bad}/test")):
        response = admin.post(path, data={"active": "0"}) if method == "post" else admin.get(path)
        assert 400 <= response.status_code < 500, (path, response.status_code, response.text[:300])
    huge_page = admin.get("/admin/audit", params={"page": "100000", "since": "1999-01-01", "until": "9999-12-31"})
    assert huge_page.status_code in (200, 422)
    for since, until in (("0001-01-01", ""), ("", "9999-12-31"), ("2026-02-30", "")):
        odd = admin.get("/admin/audit", params={"since": since, "until": until})
        assert odd.status_code in (200, 422) and ("AF505" in odd.text or odd.status_code == 200)


def test_the_rest_audit_log_has_the_same_filters(world: Any) -> None:
    store = world.store
    tenant_id = world.users["li"].tenant_id
    store.audit(tenant_id, "user:wang", "alert.resolved", target="alert:4711", detail={"note": "客户已安抚"})
    api = world.client("qa")  # the auditor, signed in
    found = api.get("/api/v1/audit", params={"action": "alert.", "actor": "user:wang", "target": "alert:4711"})
    assert found.status_code == 200 and [e["action"] for e in found.json()["items"]] == ["alert.resolved"]
    now = datetime.now(timezone.utc)
    window = {"target": "alert:4711", "since": (now - timedelta(hours=1)).isoformat(), "until": now.isoformat()}
    assert api.get("/api/v1/audit", params=window).json()["total"] == 1
    later = {"target": "alert:4711", "since": now.isoformat()}
    assert api.get("/api/v1/audit", params=later).json()["total"] == 0
    naive = api.get("/api/v1/audit", params={"since": "2026-12-06T08:00:00"})
    assert naive.status_code == 422 and naive.json()["error"]["code"] == "AF505"
    assert world.client("li").get("/api/v1/audit", params={"target": "alert:4711"}).status_code == 403
    assert world.client("gas_admin").get("/api/v1/audit", params={"target": "alert:4711"}).json()["total"] == 0
