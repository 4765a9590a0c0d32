"""Every page of the workspace, as every role, in Debian's Chromium (issue 13, "Everyone"):

- axe-core (vendored in tests/web/vendor/axe-core/) finds no violation of impact "serious" or
  "critical" at 1440 and 390 px;
- at 390 px nothing scrolls sideways (document.scrollingElement.scrollWidth <= innerWidth) and the
  content is one column (no two cards side by side);
- every visible action is reached by Tab, and the focused element shows a focus ring;
- actions are keyboard elements (no click-only div), charts and the emotion gauge carry a text
  alternative, alerts are announced (aria-live);
- with the English locale no Chinese character is left in the page chrome: only elements that
  show user content (customer text, names, tenant data) are exempt, and they say so with the
  `data-user-content` attribute (or are the other language's name, marked `lang="zh-CN"`).

The pages are found, not listed: each role's walk opens every GET page route without a parameter
and follows the links it finds to the routes with one (a conversation, a ticket, a board…);
`test_every_page_route_is_walked` fails when a GET route of the app is neither walked nor named
in NOT_PAGES with the reason, so a page added tomorrow is checked without editing this file. A
route that answers an HTMX fragment (no doctype) is checked inside the page that loads it.
Chinese chrome whose English is not written yet is listed in PENDING_ENGLISH, with its source.

While fixing pages: ANFU_A11Y_ROLES=agent,public walks only those roles, and ANFU_A11Y_REPORT=path
writes every visit's findings as JSON.

Skips when Chromium or the playwright package is missing; never downloads a browser.
"""

from __future__ import annotations

import json
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest

from tests.web.test_browser import ARGS, CHROMIUM, PASSWORD, browser, server  # noqa: F401

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.timeout(1500)

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
WIDTHS = (1440, 390)
ROLES = {"agent": "li", "supervisor": "wang", "auditor": "qa", "admin": "root"}
BLOCKING = ("serious", "critical")
# GET routes that are not pages, with the reason; every other GET route must be walked.
NOT_PAGES = {
    "/lang/{code}": "sets the language cookie and redirects back",
    "/console/list": "HTMX fragment of /console (walked inside the console)",
    "/console/{conversation_id}/live": "HTMX fragment of /console/{id}",
    "/console/{conversation_id}/composer": "HTMX fragment of /console/{id}",
    "/wallboard/board": "HTMX fragment of /wallboard",
    "/wellbeing/prompt": "HTMX fragment of every agent page",
    "/analytics-export/report.{fmt}": "a file download (Excel, PDF)",
    "/metrics": "Prometheus text for the scraper",
    "/static/{path}": "assets",
}
# instances of a route with a parameter walked per role: every dashboard, two of the rest
PER_ROUTE = {"/analytics/{board}": 8}
PER_ROUTE_DEFAULT = 2
MAX_TABS = 150  # Tab presses per page: long lists are rows of the same actions
# Chinese chrome whose English is not written yet, with where it comes from. Each entry must still
# match Chinese text somewhere in the walk (test_pending_translations_are_still_pending), so an
# entry goes away when its English arrives; anything else Chinese fails the English walk.
PENDING_ENGLISH: dict[str, str] = {
    # empty: persona evidence ("#persona > p.muted"), a suggestion's why (".suggestion" title) and
    # pre-send findings ('#rubric-findings li[data-rule="quality.forbidden_phrase"]',
    # ".review-thread .msg > p.muted") have their English now (anfu/web/pack_labels.py), so Chinese
    # chrome there fails test_english_pages_have_no_chinese_chrome
}

# Chrome whose English comes from the rule packs and the engine's evidence items
# (anfu/web/pack_labels.py), with what of it shows: the English walk must meet each with content,
# so that test_english_pages_have_no_chinese_chrome has looked at it (test_pack_english_is_walked).
PACK_ENGLISH = {
    "#persona > p.muted": "text",  # persona evidence (anfu.persona's evidence items)
    ".suggestion": "title",  # a suggestion's why (strategies.yaml `why_en` + the fit's parts)
    '#rubric-findings li[data-rule="quality.forbidden_phrase"]': "text",  # forbidden_phrases.yaml `message_en`
    ".review-thread .msg > p.muted": "text",  # pre-send findings on agent turns (the same)
}

# --- what runs in the page ---------------------------------------------------------------------
SETTLE_JS = """async () => {
  // settled: no HTMX request in flight and a11y.js has marked the scrollable regions, which it does
  // on the frame after "load" (htmx has issued its load-triggered requests by then)
  const quiet = () => !document.querySelector('.htmx-request') && document.readyState === 'complete';
  const marked = () => !!document.documentElement.dataset.a11yMarked;
  for (let i = 0; i < 100 && !(quiet() && marked()); i++) await new Promise(r => setTimeout(r, 50));
  return true;
}"""

AXE_JS = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 4).map(n => n.target.join(' ') + ' :: ' + (n.failureSummary || '').split('\\n').slice(0, 2).join(' ')),
    count: v.nodes.length}));
}"""

OVERFLOW_JS = """() => {
  const root = document.scrollingElement || document.documentElement;
  const width = window.innerWidth;
  if (root.scrollWidth <= width) return null;
  const wide = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.right > width + 1 && r.width > 0 && !(el.parentElement && el.parentElement.getBoundingClientRect().right > width + 1)) {
      wide.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
                (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '') +
                ' right=' + Math.round(r.right));
    }
    if (wide.length >= 5) break;
  }
  return {scrollWidth: root.scrollWidth, innerWidth: width, wide};
}"""

# Chinese characters and CJK punctuation (、。「」，（）！？：…) outside user content.
CJK_JS = r"""(pending) => {
  const cjk = /[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff01-\uff5e]/;
  const held = el => pending.find(sel => el.closest(sel));
  const exempt = el => !el || el.closest('[data-user-content], [lang|="zh"], script, style, noscript, template') ||
    (held(el) && found.push({pending: held(el)}) && true);
  const where = el => {
    const parts = [];
    for (let e = el; e && e !== document.body && parts.length < 3; e = e.parentElement) {
      parts.unshift(e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
                    (e.classList && e.classList.length ? '.' + [...e.classList].slice(0, 2).join('.') : ''));
    }
    return parts.join(' > ');
  };
  var found = [];
  if (cjk.test(document.title)) found.push({text: document.title, where: 'title'});
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (cjk.test(node.nodeValue) && !exempt(node.parentElement)) {
      found.push({text: node.nodeValue.trim().slice(0, 60), where: where(node.parentElement)});
    }
  }
  const attrs = ['title', 'aria-label', 'placeholder', 'alt', 'aria-description', 'aria-roledescription'];
  for (const el of document.body.querySelectorAll('*')) {
    for (const a of attrs) {
      const v = el.getAttribute(a);
      if (v && cjk.test(v) && !exempt(el)) found.push({text: a + '=' + v.slice(0, 60), where: where(el)});
    }
    if (el.matches('input[type=submit], input[type=button]') && cjk.test(el.value) && !exempt(el)) {
      found.push({text: 'value=' + el.value.slice(0, 60), where: where(el)});
    }
  }
  return found;
}"""

# After a viewport change: two frames for layout and the charts' resize handlers, then a11y.js's
# marking of the scrollable regions.
RESIZED_JS = """async () => {
  const before = document.documentElement.dataset.a11yMarked;
  window.dispatchEvent(new Event('resize'));
  for (let i = 0; i < 2; i++) await new Promise(r => requestAnimationFrame(() => r()));
  // a11y.js marks the scrollable regions again 100 ms after the resize
  for (let i = 0; i < 40 && document.documentElement.dataset.a11yMarked === before; i++) {
    await new Promise(r => setTimeout(r, 25));
  }
  return true;
}"""

# Which PACK_ENGLISH places the page shows, with content.
SEEN_JS = """(places) => places.filter(([sel, attr]) => [...document.querySelectorAll(sel)].some(
  el => ((attr === 'text' ? el.textContent : el.getAttribute(attr)) || '').trim()))"""

# Visible, enabled things a user acts on; elements with a click action that Tab cannot reach.
ACTIONS_JS = r"""() => {
  const shown = el => {
    if (el.closest('[inert], [hidden], [aria-hidden="true"]')) return false;
    const s = getComputedStyle(el);
    if (s.visibility === 'hidden' || s.display === 'none') return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  };
  const describe = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
      (el.classList.length ? '.' + [...el.classList].slice(0, 2).join('.') : '') +
      (el.getAttribute('name') ? '[name=' + el.getAttribute('name') + ']' : '') +
      (el.getAttribute('href') ? '[href=' + el.getAttribute('href') + ']' : '') +
      ' "' + (el.innerText || el.value || el.getAttribute('aria-label') || '').trim().slice(0, 30) + '"';
  const selector = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]';
  const actions = [];
  const radios = {};  // a radio group is one Tab stop (arrow keys move within it)
  let i = 0;
  for (const el of document.querySelectorAll(selector)) {
    if (el.disabled || !shown(el) || el.closest('details:not([open]) > :not(summary)')) continue;
    if (el.getAttribute('tabindex') === '-1' && !el.matches('a[href], button, input, select, textarea, summary')) continue;
    if (el.type === 'radio' && el.name) {
      const key = (el.form ? el.form.id || el.form.action : '') + '|' + el.name;
      if (key in radios) { el.dataset.a11yAction = radios[key]; continue; }
      radios[key] = String(i);
    }
    el.dataset.a11yAction = String(i++);
    actions.push(describe(el));
  }
  const clickOnly = [];
  for (const el of document.querySelectorAll('[hx-get], [hx-post], [x-on\\:click], [\\@click], [onclick]')) {
    if (el.matches('a[href], button, input, select, textarea, summary, form') || el.tabIndex >= 0 || !shown(el)) continue;
    const trigger = el.getAttribute('hx-trigger') || '';
    if ((el.hasAttribute('hx-get') || el.hasAttribute('hx-post')) && trigger && !/click/.test(trigger)) continue;
    clickOnly.push(describe(el));
  }
  return {actions, clickOnly};
}"""

# Records where each Tab press puts the focus, in the page: an element (with its action index and
# whether it shows a ring) on focusin, null when the focus leaves the page (focusout to nothing).
# The walk presses Tab a run of times and reads the record once, instead of asking after each press
# (half the round trips to the browser: CI budget).
FOCUS_LOG_JS = """() => {
  window.__a11yFocus = [];
  if (window.__a11yFocusWatched) return;
  window.__a11yFocusWatched = true;
  document.addEventListener('focusin', e => {
    const el = e.target;
    const s = getComputedStyle(el);
    const ring = (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || (s.boxShadow && s.boxShadow !== 'none');
    window.__a11yFocus.push({index: el.dataset.a11yAction === undefined ? null : Number(el.dataset.a11yAction),
      ring, what: el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
        (el.classList.length ? '.' + [...el.classList].slice(0, 2).join('.') : '') + (el.type ? '[' + el.type + ']' : '') +
        ' "' + (el.innerText || el.value || '').trim().slice(0, 30) + '"'});
  }, true);
  document.addEventListener('focusout', e => { if (!e.relatedTarget) window.__a11yFocus.push(null); }, true);
}"""

# At 390 px the page is one column: no two cards of the main content side by side.
COLUMNS_JS = """() => {
  const cards = [...document.querySelectorAll('main .card, main section, main aside')].filter(el => {
    const r = el.getBoundingClientRect();
    return r.width > 120 && r.height > 20 && getComputedStyle(el).visibility !== 'hidden' &&
      !el.closest('dialog:not([open])') && !el.parentElement.closest('.card');
  });
  const pairs = [];
  for (let i = 0; i < cards.length; i++) for (let j = i + 1; j < cards.length; j++) {
    const a = cards[i].getBoundingClientRect(), b = cards[j].getBoundingClientRect();
    const besides = a.right <= b.left + 1 || b.right <= a.left + 1;
    const level = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 10;
    if (besides && level) pairs.push((cards[i].id || cards[i].className) + ' | ' + (cards[j].id || cards[j].className));
  }
  return pairs.slice(0, 4);
}"""

# Charts (ECharts, [data-chart]) and the emotion gauge need a text alternative.
CHARTS_JS = """() => {
  const bad = [];
  for (const el of document.querySelectorAll('[data-chart]')) {
    const named = (el.getAttribute('role') === 'img' && (el.getAttribute('aria-label') || '').trim()) ||
      (el.getAttribute('aria-describedby') || '').split(/\\s+/).some(id => id && document.getElementById(id) &&
        document.getElementById(id).textContent.trim());
    if (!named) bad.push(el.id || el.dataset.chart);
  }
  return bad;
}"""


@dataclass
class Visit:
    url: str
    final: str
    width: int
    locale: str
    violations: list[dict[str, Any]] = field(default_factory=list)
    overflow: dict[str, Any] | None = None
    chinese: list[dict[str, str]] = field(default_factory=list)
    unreachable: list[str] = field(default_factory=list)
    no_ring: list[str] = field(default_factory=list)
    click_only: list[str] = field(default_factory=list)
    unnamed_charts: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    skipped: str = ""
    side_by_side: list[str] = field(default_factory=list)  # cards next to each other at 390 px
    pending: list[str] = field(default_factory=list)  # PENDING_ENGLISH entries met on the page
    seen: list[str] = field(default_factory=list)  # PACK_ENGLISH places met on the page (English)


@dataclass
class Walk:
    role: str
    visits: list[Visit] = field(default_factory=list)
    routes: set[str] = field(default_factory=set)  # route templates walked
    fragments: set[str] = field(default_factory=set)  # routes that answered an HTMX fragment


# --- the walk ----------------------------------------------------------------------------------
def page_routes(live: dict[str, Any]) -> list[str]:
    """The app's GET routes outside /api, from the same route walk that tests/test_docs.py uses."""
    return [r.split(" ", 1)[1] for r in live["routes"] if r.startswith("GET ") and not r.startswith("GET /api/")]


def route_pattern(route: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", route)
    return re.compile("^" + "".join("[^/?#]+" if p.startswith("{") else re.escape(p) for p in parts) + "$")


def settle(page: Any) -> None:
    try:
        page.wait_for_load_state("load", timeout=15000)
    except sync_api.Error:
        pass
    page.evaluate(SETTLE_JS)


def links(page: Any) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(a => a.getAttribute('href'))")
    return [h.split("#")[0] for h in hrefs if h.startswith("/") and not h.startswith("//")]


def keyboard(page: Any, visit: Visit, actions: list[str]) -> None:
    """Tab from the top of the page through every action; each must be reached with a ring.

    Presses Tab once more than there are actions, then reads where the focus went; when it has not
    come round to the first element or left the page yet, presses on up to ten more (a radio group
    or a widget may hold more stops than it shows), never more than MAX_TABS in all."""
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); }")
    page.evaluate(FOCUS_LOG_JS)
    limit = min(len(actions) + 10, MAX_TABS)
    pressed = 0
    for run in (min(len(actions) + 1, limit), limit):
        for _ in range(run - pressed):
            page.keyboard.press("Tab")
        pressed = run
        log = page.evaluate("() => window.__a11yFocus")
        reached, cycled, no_ring = _follow(log)
        if cycled:
            break
    for what in no_ring:
        if what not in visit.no_ring:
            visit.no_ring.append(what)
    # the whole cycle, or every action before the last one reached (the rest of a long list)
    last = len(actions) if cycled else max(reached, default=-1)
    visit.unreachable = [a for i, a in enumerate(actions[:last]) if i not in reached]


def _follow(log: list[dict[str, Any] | None]) -> tuple[set[int], bool, list[str]]:
    """The actions reached, whether the focus came round (back to the first element, or out of the
    page after it), and the focused elements without a ring, from the focus record."""
    reached: set[int] = set()
    no_ring: list[str] = []
    first = None
    for focused in log:
        if focused is None:
            if first is not None:
                return reached, True, no_ring
            continue
        key = focused["what"] + str(focused["index"])
        if first is None:
            first = key
        elif first == key:
            return reached, True, no_ring
        if focused["index"] is not None:
            reached.add(focused["index"])
        if not focused["ring"]:
            no_ring.append(focused["what"])
    return reached, False, no_ring


def load(page: Any, url: str, width: int, locale: str) -> Visit:
    """Open `url` at `width`; the visit says `skipped` when the answer is not a page."""
    page.set_viewport_size({"width": width, "height": 900 if width > 800 else 844})
    page.a11y_seen = len(page.errors)  # type: ignore[attr-defined]
    response = page.goto(url, wait_until="domcontentloaded")
    visit = Visit(url=url, final=page.url, width=width, locale=locale)
    kind = (response.headers.get("content-type", "") if response else "")
    if response is not None and not kind.startswith("text/html"):
        # not a page for this role (a coded JSON error such as AF417): nothing to look at
        visit.skipped = f"{response.status} {kind}"
    elif not page.evaluate("() => !!document.doctype"):
        # an HTMX fragment (no <!doctype>, no <html lang>): checked inside the page that loads it
        visit.skipped = "fragment"
    else:
        settle(page)
    return visit


def inspect(page: Any, visit: Visit, *, axe: bool, keys: bool) -> Visit:
    """Run the checks on the page as it is shown now."""
    started = time.monotonic()
    if axe:
        visit.violations = [v for v in page.evaluate(AXE_JS) if v["impact"] in BLOCKING]
    visit.overflow = page.evaluate(OVERFLOW_JS)
    visit.unnamed_charts = page.evaluate(CHARTS_JS)
    if visit.width < 800:
        visit.side_by_side = page.evaluate(COLUMNS_JS)
    if visit.locale == "en":
        found = page.evaluate(CJK_JS, list(PENDING_ENGLISH))
        visit.chinese = [f for f in found if "pending" not in f]
        visit.pending = sorted({f["pending"] for f in found if "pending" in f})
        visit.seen = [sel for sel, _ in page.evaluate(SEEN_JS, [list(item) for item in PACK_ENGLISH.items()])]
    if keys:
        found = page.evaluate(ACTIONS_JS)
        visit.click_only = found["clickOnly"]
        keyboard(page, visit, found["actions"])
    visit.errors = page.errors[page.a11y_seen:]
    visit.seconds = round(time.monotonic() - started, 2)
    return visit


def check(page: Any, url: str, width: int, locale: str, *, axe: bool, keys: bool) -> Visit:
    visit = load(page, url, width, locale)
    return visit if visit.skipped else inspect(page, visit, axe=axe, keys=keys)


def check_both_widths(page: Any, url: str, *, keys: bool) -> list[Visit]:
    """One load, two widths: opened at 390 px as a phone opens it (charts sized for it), checked,
    then widened to 1440 px and checked again, with the keyboard walk when `keys`. Reloading for
    the second width doubled the walk's time (CI budget) and checked nothing more."""
    narrow = load(page, url, 390, "zh_CN")
    if narrow.skipped:
        return [narrow]
    visits = [inspect(page, narrow, axe=True, keys=False)]
    page.set_viewport_size({"width": 1440, "height": 900})
    page.evaluate(RESIZED_JS)
    page.a11y_seen = len(page.errors)  # type: ignore[attr-defined]
    visits.append(inspect(page, Visit(url=url, final=page.url, width=1440, locale="zh_CN"), axe=True, keys=keys))
    return visits


def sign_in_as(page: Any, base: str, role: str, secrets: dict[str, str]) -> None:
    username = ROLES[role]
    page.goto(base + "/signin")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    if username in secrets:
        page.fill("#totp", pyotp.TOTP(secrets[username]).at(time.time() + 30))
    page.click("#signin")
    page.wait_for_load_state("load")
    if page.url.endswith("/account") and page.locator("#mfa-begin").count():  # admin: enrol TOTP first
        page.click("#mfa-begin")
        page.wait_for_selector("#mfa-secret")
        secret = page.inner_text("#mfa-secret").strip()
        page.fill("#mfa-code", pyotp.TOTP(secret).now())
        page.click("#mfa-confirm")
        page.wait_for_selector("#mfa-done")
        secrets[username] = secret


def extra_urls(page: Any, base: str, role: str) -> list[str]:
    """Pages reached by a form rather than a link, or whose link needs data the seed lacks: the
    agent's training session, open and finished (its feedback page); the supervisor's case made
    from a closed conversation; the admin's outgoing webhook (its deliveries page)."""
    if role == "supervisor":
        page.goto(base + "/training/cases")
        page.click("#case-form button[type=submit]")
        page.wait_for_url(re.compile(r"/training/cases/\d+$"))
        return [page.url.removeprefix(base)]
    if role == "admin":
        page.goto(base + "/admin/webhooks")
        page.fill("#webhook-url", "https://93.184.216.34/anfu/hooks")
        page.locator("#register-webhook input[name=events]").first.check()
        page.click("#register-webhook-submit")
        page.wait_for_load_state("load")
        return []  # /admin/webhooks now links to the webhook's deliveries
    if role != "agent":
        return []
    urls = []
    for finish in (False, True):
        page.goto(base + "/training")
        page.locator("#scenarios button[id^=start-]").first.click()
        page.wait_for_url(re.compile(r"/training/sessions/\d+$"))
        if finish:
            page.click("#finish")
            page.wait_for_url(re.compile(r"/feedback$"))
        urls.append(page.url.removeprefix(base))
    return urls


def survey_url(live: dict[str, Any]) -> str:
    """The signed link of the public survey (满意度回访) of a resolved ticket."""
    headers = {"Authorization": f"Bearer {live['token']}"}
    base = live["base"]

    def post(path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = httpx.post(base + path, json=body or {}, headers=headers, timeout=30)
        assert response.status_code in (200, 201), response.text
        return response.json()

    conversation = post("/api/v1/messages", {"speaker": "customer", "text": "电费为什么比上个月多了两百块？",
                                             "channel": "webchat", "industry": "power",
                                             "conversation_ref": f"webchat:a11y-{time.time_ns()}"})
    ticket = post("/api/v1/tickets", {"conversation_id": conversation["conversation"]["id"]})["id"]
    post(f"/api/v1/tickets/{ticket}/respond")
    for stage in ("确认问题", "提供方案", "执行方案"):
        post(f"/api/v1/tickets/{ticket}/stage", {"to": stage})
    post(f"/api/v1/tickets/{ticket}/resolve")
    link = httpx.get(base + f"/api/v1/tickets/{ticket}/survey-link", headers=headers, timeout=30)
    assert link.status_code == 200, link.text
    return link.json()["url"].removeprefix(base)


def walk_role(browser: Any, server: dict[str, Any], role: str, secrets: dict[str, str]) -> Walk:  # noqa: F811
    base = server["base"]
    routes = page_routes(server)
    patterns = {r: route_pattern(r) for r in routes if r not in NOT_PAGES}
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    context.add_init_script(path=str(AXE))  # through the debugger protocol: the page's CSP stays as it is
    page = context.new_page()
    page.errors = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    result = Walk(role)

    def walk(route: str, url: str, n: int) -> bool:
        """Check `url` at both widths; False when it is not this role's page."""
        for visit in check_both_widths(page, base + url, keys=n == 0):
            if visit.skipped == "fragment":
                result.fragments.add(route)
            if visit.skipped or (visit.final.startswith(base + "/signin") and role != "public"):
                return False  # not a page, or not this role's page
            result.visits.append(visit)
            result.routes.add(route)
        return True

    if role == "public":
        targets = {"/signin": ["/signin"], "/survey/{token}": [survey_url(server)]}
        for route, urls in targets.items():
            for n, url in enumerate(urls):
                walk(route, url, n)
    else:
        sign_in_as(page, base, role, secrets)
        targets = {r: [r] for r in patterns if "{" not in r}
        found: dict[str, list[str]] = {r: [] for r in patterns if "{" in r}
        extra = extra_urls(page, base, role)

        def collect(url: str) -> None:
            """The page now shown links to instances of the routes with a parameter."""
            for href in [url, *links(page)]:
                path = href.split("?")[0]
                for route, pattern in patterns.items():
                    if "{" in route and pattern.match(path) and href not in found[route] \
                            and len(found[route]) < PER_ROUTE.get(route, PER_ROUTE_DEFAULT):
                        found[route].append(href)

        # the pages without a parameter are checked where their links are collected
        for route in list(targets):
            walk(route, route, 0)
            collect(route)
        for url in extra:  # pages reached by a form: links only (they are instances found here)
            page.goto(base + url, wait_until="domcontentloaded")
            settle(page)
            collect(url)
        for route, hrefs in found.items():
            for n, url in enumerate(hrefs):
                walk(route, url, n)
        targets.update({r: hrefs for r, hrefs in found.items() if hrefs})
    # the same pages in English, at 390 px (the longest words on the narrowest screen)
    page.goto(base + "/lang/en?next=/signin" if role == "public" else base + "/lang/en?next=/account")
    for route, urls in targets.items():
        for url in urls:
            result.visits.append(check(page, base + url, 390, "en", axe=False, keys=False))
    context.close()
    return result


@pytest.fixture(scope="module")
def server_routes(server: dict[str, Any], analyzer: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:  # noqa: F811
    """The live server's details plus the app's routes (an app built here on an empty database)."""
    import secrets as _secrets

    from anfu.server import create_app
    from anfu.settings import get_settings
    from anfu.store import upgrade
    from tests.test_docs import route_entries

    settings = get_settings(environment="test", data_dir=tmp_path_factory.mktemp("anfu-routes"),
                            secret_key=_secrets.token_urlsafe(48))
    upgrade(settings)
    app = create_app(settings, analyzer=analyzer, scheduler=False)
    server = dict(server)
    server["routes"] = route_entries(app)
    app.state.ctx.store.engine.dispose()
    return server


def _walk_roles(roles: list[str], server: dict[str, Any], secrets: dict[str, str], browser: Any = None) -> dict[str, Walk]:  # noqa: F811
    """Walk `roles` one after the other, in `browser` or in a Chromium of this thread's own
    (Playwright's sync API wants one instance per thread)."""
    if browser is not None:
        return {role: walk_role(browser, server, role, secrets) for role in roles}
    with sync_api.sync_playwright() as p:
        own = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            return {role: walk_role(own, server, role, secrets) for role in roles}
        finally:
            own.close()


@pytest.fixture(scope="module")
def walks(browser: Any, server_routes: dict[str, Any]) -> dict[str, Walk]:  # noqa: F811
    """Every role's walk. Two browsers walk half the roles each at the same time: a page load
    waits on the server and the browser in turn, so two walks share the two cores far better
    than one (the walk is the longest test of CI)."""
    secrets: dict[str, str] = {}
    roles = os.environ.get("ANFU_A11Y_ROLES", "").split(",") if os.environ.get("ANFU_A11Y_ROLES") else [*ROLES, "public"]
    second = roles[1::2]  # supervisor, admin: by their pages' count about half of the walk
    with ThreadPoolExecutor(max_workers=1) as pool:
        other = pool.submit(_walk_roles, second, server_routes, secrets)
        mine = _walk_roles([r for r in roles if r not in second], server_routes, secrets, browser)
        theirs = other.result()
    walks = {role: (mine.get(role) or theirs[role]) for role in roles}
    if os.environ.get("ANFU_A11Y_REPORT"):  # the whole walk as JSON, to read while fixing pages
        Path(os.environ["ANFU_A11Y_REPORT"]).write_text(json.dumps(
            {role: [asdict(v) for v in walk.visits] for role, walk in walks.items()}, ensure_ascii=False, indent=1))
    return walks


def report(walks: dict[str, Walk], attr: str) -> list[str]:
    lines = []
    for walk in walks.values():
        for visit in walk.visits:
            value = getattr(visit, attr)
            if value and attr not in ("seconds", "skipped", "pending", "seen"):
                lines.append(f"{walk.role} {visit.locale} {visit.width}px {visit.url}: {value}")
    return lines


# --- the checks --------------------------------------------------------------------------------
def test_every_page_route_is_walked(walks: dict[str, Walk], server_routes: dict[str, Any]) -> None:
    walked = set().union(*(w.routes | w.fragments for w in walks.values()))
    missing = [r for r in page_routes(server_routes) if r not in NOT_PAGES and r not in walked]
    assert not missing, ("GET routes no role reached by a link (add a link, a form step in extra_urls, "
                         f"or list it in NOT_PAGES with the reason): {missing}")
    assert {"/console", "/wallboard", "/tickets", "/review", "/admin/users", "/survey/{token}", "/signin"} <= walked


def test_axe_finds_no_serious_violation(walks: dict[str, Walk]) -> None:
    problems = report(walks, "violations")
    assert not problems, "\n".join(problems)


def test_no_sideways_scroll_at_390(walks: dict[str, Walk]) -> None:
    problems = report(walks, "overflow")
    assert not problems, "\n".join(problems)


def test_one_column_at_390(walks: dict[str, Walk]) -> None:
    problems = report(walks, "side_by_side")
    assert not problems, "\n".join(problems)


def test_every_action_is_reached_by_tab_with_a_focus_ring(walks: dict[str, Walk]) -> None:
    problems = report(walks, "unreachable") + report(walks, "no_ring") + report(walks, "click_only")
    assert not problems, "\n".join(problems)


def test_charts_and_gauge_have_a_text_alternative(walks: dict[str, Walk]) -> None:
    problems = report(walks, "unnamed_charts")
    assert not problems, "\n".join(problems)
    charted = [v for w in walks.values() for v in w.visits if "/analytics" in v.url or "/console/" in v.url]
    assert charted, "no page with charts was walked"


def test_english_pages_have_no_chinese_chrome(walks: dict[str, Walk]) -> None:
    problems = report(walks, "chinese")
    assert not problems, "\n".join(problems)
    assert sum(v.locale == "en" for w in walks.values() for v in w.visits) >= 20


def test_a_ladder_alert_that_rises_is_announced(browser: Any, server_routes: dict[str, Any]) -> None:  # noqa: F811
    """The agent has the conversation open; the customer's threats raise the ladder; the
    console's assertive live region reads the new level and its reason."""
    base, headers = server_routes["base"], {"Authorization": f"Bearer {server_routes['token']}"}

    def say(text: str, conversation_id: int | None = None) -> int:
        body: dict[str, Any] = {"speaker": "customer", "text": text, "channel": "webchat", "industry": "power"}
        if conversation_id is None:
            body.update(conversation_ref=f"webchat:a11y-ladder-{time.time_ns()}", agent_id=1)
        else:
            body["conversation_id"] = conversation_id
        response = httpx.post(base + "/api/v1/messages", json=body, headers=headers, timeout=60)
        assert response.status_code == 201, response.text
        return response.json()["conversation"]["id"]

    conversation = say("你好，想问一下电费账单怎么查？")
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = context.new_page()
    sign_in_as(page, base, "agent", {})
    page.goto(base + f"/console/{conversation}")
    page.wait_for_selector("#a11y-announcer[aria-live=assertive]", state="attached")
    assert page.locator("#ladder").count() == 0
    say("停电三天了！报修两次都没人来，今天再不来人我就打12345投诉，还要发抖音曝光你们！", conversation)
    say("你们这帮废物！我已经打了第三次电话了，我要投诉到市长热线！", conversation)
    page.wait_for_selector("#ladder", timeout=30000)
    sync_api.expect(page.locator("#a11y-announcer")).to_contain_text("L", timeout=10000)
    text = page.inner_text("#a11y-announcer")
    assert "升级阶梯" in text and page.get_attribute("#ladder", "data-announce-key") in text
    context.close()


def test_pending_translations_are_still_pending(walks: dict[str, Walk]) -> None:
    met = {p for w in walks.values() for v in w.visits for p in v.pending}
    if set(ROLES) <= set(walks):
        assert set(PENDING_ENGLISH) <= met, f"translated now, drop from PENDING_ENGLISH: {set(PENDING_ENGLISH) - met}"


def test_pack_english_is_walked(walks: dict[str, Walk]) -> None:
    """The English walk met every place whose English comes from the packs, so the Chinese check
    above has read them: persona evidence, a suggestion's why, pre-send findings."""
    seen = {p for w in walks.values() for v in w.visits if v.locale == "en" for p in v.seen}
    if set(ROLES) <= set(walks):
        assert set(PACK_ENGLISH) <= seen, f"English pages never showed: {set(PACK_ENGLISH) - seen}"


def test_pages_raise_no_script_error(walks: dict[str, Walk]) -> None:
    problems = report(walks, "errors")
    assert not problems, "\n".join(problems)
