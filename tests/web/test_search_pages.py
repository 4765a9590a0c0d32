"""The search box, the search results page and the conversation lists page (会话列表) with saved
views, as each role sees them, in Chinese and English."""

from __future__ import annotations

import re
from typing import Any

import pytest

WebWorld = Any


@pytest.fixture(scope="module", autouse=True)
def seeded(web: WebWorld) -> WebWorld:
    world = web
    store = world.store
    li = world.users["li"]
    customer, _ = store.upsert_customer(li.tenant_id, phone="13700001111", display_name="赵建国")
    conv = store.create_conversation(li.tenant_id, team_id=li.team_id, agent_id=li.id, customer_id=customer.id,
                                     industry="power")
    store.append_message(conv.id, "customer", "我是赵建国，电话13700001111，我们小区的路灯坏了一个月了")
    queued = store.create_conversation(li.tenant_id, team_id=li.team_id, channel="email")
    store.append_message(queued.id, "customer", "电表箱门被风吹掉了，没人管")
    world.ids = {"conv": conv.id, "queued": queued.id, "customer": customer.id}  # type: ignore[attr-defined]
    return world


def test_every_page_has_the_search_box(web: WebWorld) -> None:
    page = web.client("li").get("/console")
    assert page.status_code == 200
    assert 'id="nav-q"' in page.text and 'action="/search"' in page.text and 'role="search"' in page.text
    assert 'href="/conversations"' in page.text
    english = web.client("li", lang="en").get("/console").text
    assert "Search conversations, tickets, customers" in english and ">Conversations<" in english


def test_results_link_to_what_opens_them(web: WebWorld) -> None:
    page = web.client("li").get("/search", params={"q": "路灯"})
    assert page.status_code == 200
    conv = web.ids["conv"]  # type: ignore[attr-defined]
    assert f'href="/console/{conv}"' in page.text
    assert '<mark class="hit">路灯</mark>' in page.text
    assert "13700001111" in page.text                      # the agent handles the case: in clear
    person = web.client("li").get("/search", params={"q": "赵建国", "kind": "customer"}).text
    assert 'id="results-customer"' in person and "赵建国" in person and 'id="results-ticket"' not in person
    english = web.client("li", lang="en").get("/search", params={"q": "路灯"}).text
    assert re.search(r"\d+ results in [\d.]+ ms", english)
    assert "Conversation" in english and "找到" not in english


def test_what_others_may_not_see_is_not_there(web: WebWorld) -> None:
    conv = web.ids["conv"]  # type: ignore[attr-defined]
    other = web.client("zhao").get("/search", params={"q": "路灯"}).text      # another agent
    assert f"/console/{conv}" not in other and "路灯" not in other.split('id="search-summary"')[1]
    audit = web.client("qa").get("/search", params={"q": "路灯"}).text         # the auditor: masked
    assert f'href="/review/{conv}"' in audit
    assert "13700001111" not in audit and "137****1111" in audit
    assert "个人信息已按您的角色脱敏" in audit
    person = web.client("qa").get("/search", params={"q": "赵建国", "kind": "customer"}).text
    assert "赵建国" not in person.split('id="search-summary"')[1] and "赵**" in person


def test_a_bad_query_is_explained_on_the_page(web: WebWorld) -> None:
    page = web.client("li").get("/search", params={"q": "？！，"})
    assert page.status_code == 422 and "AF680" in page.text and 'role="alert"' in page.text
    page = web.client("li", lang="en").get("/search", params={"q": "路灯", "kind": "orders"})
    assert page.status_code == 422 and "AF682" in page.text and "Cannot search" in page.text
    empty = web.client("li").get("/search")
    assert empty.status_code == 200 and 'id="search-hint"' in empty.text


def test_lists_tabs_filters_and_claim(web: WebWorld) -> None:
    conv, queued = web.ids["conv"], web.ids["queued"]  # type: ignore[attr-defined]
    mine = web.client("li").get("/conversations").text
    assert f'data-conversation="{conv}"' in mine and f'data-conversation="{queued}"' not in mine
    assert 'id="tab-mine"' in mine and 'aria-current="page"' in mine
    waiting = web.client("li").get("/conversations", params={"scope": "unassigned"}).text
    assert f'data-conversation="{queued}"' in waiting and f'action="/console/{queued}/claim"' in waiting
    assert f'href="/console/{queued}"' not in waiting        # not readable before it is claimed
    team = web.client("wang").get("/conversations").text     # the supervisor starts on the team list
    assert f'data-conversation="{conv}"' in team and f'data-conversation="{queued}"' in team
    power = web.client("wang").get("/conversations", params={"scope": "team", "industry": "power"}).text
    assert f'data-conversation="{conv}"' in power and f'data-conversation="{queued}"' not in power
    english = web.client("wang", lang="en").get("/conversations", params={"scope": "team", "channel": "email"}).text
    assert f'data-conversation="{queued}"' in english and "My views" in english and "Save this list" in english
    bad = web.client("wang").get("/conversations", params={"scope": "closed", "status": "open"})
    assert bad.status_code == 422 and "AF684" in bad.text


def test_saved_views_on_the_page(web: WebWorld) -> None:
    sup = web.client("wang")
    made = sup.post("/conversations/views", data={"name": "邮件排队", "scope": "unassigned", "channel": "email"})
    assert made.status_code == 303 and made.headers["location"].startswith("/conversations?view=")
    view_id = int(made.headers["location"].rsplit("=", 1)[1])
    shown = sup.get(made.headers["location"]).text
    assert "视图：邮件排队" in shown and f'data-conversation="{web.ids["queued"]}"' in shown  # type: ignore[attr-defined]
    assert "邮件排队" not in web.client("li").get("/conversations").text          # nobody else's
    assert web.client("li").post(f"/conversations/views/{view_id}/delete").status_code == 404
    again = sup.post("/conversations/views", data={"name": "邮件排队", "scope": "team"})
    assert again.status_code == 422 and "AF504" in again.text
    no_csrf = web.client("wang")
    no_csrf.headers.pop("X-CSRF-Token")
    assert no_csrf.post("/conversations/views", data={"name": "x", "scope": "team"}).status_code == 403
    assert sup.post(f"/conversations/views/{view_id}/delete").status_code == 303
    assert "邮件排队" not in sup.get("/conversations").text
