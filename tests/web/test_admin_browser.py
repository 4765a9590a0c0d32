"""The admin console in Debian's Chromium (Playwright), at 1440 and 390 px: the administrator
enrols TOTP by scanning the QR code (the code computed with pyotp from the enrolment secret,
and the QR proven to encode that secret's otpauth URI), walks every admin tab without the page
scrolling sideways, creates a user, resets the user's password to a one-time password shown
once, issues and revokes an API token; the user signs in with the one-time password, sets their
own, enrols TOTP the same way and signs in again with a code. Screenshots go to docs/screenshots/."""

from __future__ import annotations

import time
from typing import Any

import pyotp
import pytest

from anfu.security import totp
from anfu.server.web.account import qr_svg
from tests.web.test_browser import PASSWORD, SHOTS, browser, server  # noqa: F401

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
pytestmark = pytest.mark.timeout(600)

NEW_PASSWORD = "Yue-Liang-Wan-2026!"
ADMIN: dict[str, str] = {}
TABS = (("users", "#create-user"), ("teams", "#create-team"), ("tokens", "#issue-token"),
        ("webhooks", "#register-webhook"), ("connectors", "#connector-chatwoot"), ("settings", "#tenant-settings"),
        ("audit", "#audit-filters"))


def no_sideways_scroll(page: Any) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")


def new_page(browser: Any, width: int, lang: str = "zh-CN") -> Any:  # noqa: F811
    context = browser.new_context(viewport={"width": width, "height": 900 if width > 800 else 844}, locale=lang)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors  # type: ignore[attr-defined]
    return page


def scan_and_enrol(page: Any, username: str) -> str:
    """Start enrolment, 'scan' the QR code and confirm with the authenticator's code."""
    page.click("#mfa-begin")
    expect(page.locator("#mfa-qr svg")).to_be_visible()
    secret = page.inner_text("#mfa-secret").strip()
    # the QR code on the page is the otpauth:// URI of exactly this secret and account
    drawn = page.inner_html("#mfa-qr")
    expected = str(qr_svg(totp.provisioning_uri(secret, username)))
    assert _svg_path(drawn) == _svg_path(expected)
    page.fill("#mfa-code", pyotp.TOTP(secret).now())
    page.click("#mfa-confirm")
    expect(page.locator("#mfa-done")).to_be_visible()
    return secret


def _svg_path(svg: str) -> str:
    start = svg.index(' d="') + 4
    return svg[start:svg.index('"', start)]


def sign_in(page: Any, base: str, username: str, password: str, secret: str | None = None) -> None:
    page.goto(base + "/signin")
    page.fill("#username", username)
    page.fill("#password", password)
    if secret:  # a code of the next step: the current one was used by the enrolment
        page.fill("#totp", pyotp.TOTP(secret).at(time.time() + 30))
    page.click("#signin")
    page.wait_for_load_state("networkidle")


@pytest.mark.parametrize("width", [1440, 390])
def test_admin_console_creates_a_user_who_enrols_totp(server: Any, browser: Any, width: int) -> None:  # noqa: F811
    base = server["base"]
    suffix = str(width)
    admin = new_page(browser, width)
    sign_in(admin, base, "root", PASSWORD, ADMIN.get("secret"))
    if "secret" not in ADMIN:  # first run: an admin must enrol TOTP before anything else
        assert admin.url.endswith("/account")
        ADMIN["secret"] = scan_and_enrol(admin, "root")
    admin.goto(base + "/admin")
    assert admin.url.endswith("/admin/users")
    # every tab of the admin console, clicked, without sideways scrolling
    for tab, marker in TABS:
        admin.click(f'#admin-tabs a[href="/admin/{tab}"]')
        admin.wait_for_load_state("networkidle")
        expect(admin.locator(marker)).to_be_visible()
        expect(admin.locator(f'#admin-tabs a[href="/admin/{tab}"]')).to_have_attribute("aria-current", "page")
        assert no_sideways_scroll(admin), tab
        if tab in ("connectors", "settings", "webhooks"):
            admin.screenshot(path=str(SHOTS / f"admin-{tab}-{suffix}.png"))

    # a new agent; then a password reset, whose one-time password is shown once
    username = f"zhou{suffix}"
    admin.click('#admin-tabs a[href="/admin/users"]')
    admin.fill("#new-username", username)
    admin.fill("#new-display-name", "周晓梅")
    admin.fill("#new-password", PASSWORD)
    admin.select_option("#new-role", "agent")
    admin.select_option("#new-team", index=1)
    admin.click("#create-user-submit")
    expect(admin.locator("#user-created")).to_contain_text(username)
    admin.click(f'#users tr[data-user="{username}"] .reset-password')
    expect(admin.locator("#password-reset")).to_contain_text(username)
    temporary = admin.inner_text("#temp-password").strip()
    assert len(temporary) == 20 and temporary != PASSWORD
    assert no_sideways_scroll(admin)
    admin.screenshot(path=str(SHOTS / f"admin-users-reset-{suffix}.png"))

    # an API token for an integration: shown once, then revoked
    admin.click('#admin-tabs a[href="/admin/tokens"]')
    admin.fill("#token-name", f"网页聊天网关 {suffix}")
    admin.click("#issue-token-submit")
    expect(admin.locator("#token-issued")).to_be_visible()
    token = admin.inner_text("#new-token").strip()
    assert token.startswith("anfu_")
    assert no_sideways_scroll(admin)
    admin.screenshot(path=str(SHOTS / f"admin-tokens-{suffix}.png"))
    row = admin.locator(f'#tokens tr[data-name="网页聊天网关 {suffix}"]')
    row.locator(".revoke-token").click()
    expect(admin.locator("#token-revoked")).to_be_visible()
    assert token not in admin.content()
    expect(admin.locator(f'#tokens tr[data-name="网页聊天网关 {suffix}"] .revoke-token')).to_have_count(0)

    # the user signs in with the one-time password, sets their own and enrols TOTP by scanning
    user = new_page(browser, width)
    sign_in(user, base, username, temporary)
    assert user.url.endswith("/account")
    user.fill("input[name=old_password]", temporary)
    user.fill("input[name=new_password]", NEW_PASSWORD)
    user.click("form[action='/account/password'] button[type=submit]")
    user.wait_for_load_state("networkidle")
    secret = scan_and_enrol(user, username)
    assert no_sideways_scroll(user)
    user.screenshot(path=str(SHOTS / f"admin-user-totp-{suffix}.png"))
    user.context.clear_cookies()
    sign_in(user, base, username, NEW_PASSWORD, secret)
    assert user.url.endswith("/console"), user.url
    # an agent has no admin console: the 403 page, no admin navigation
    user.goto(base + "/admin/tokens")
    expect(user.locator("#forbidden")).to_be_visible()
    assert user.locator("#issue-token").count() == 0 and user.locator('#mainnav a[href="/admin"]').count() == 0

    # the audit log shows what happened, filtered by the object
    admin.goto(base + "/admin/audit?action=user.password_reset")
    expect(admin.locator('#audit tr[data-action="user.password_reset"]').first).to_be_visible()
    assert no_sideways_scroll(admin)
    for page in (admin, user):
        assert not page.errors, page.errors  # type: ignore[attr-defined]
        page.context.close()
