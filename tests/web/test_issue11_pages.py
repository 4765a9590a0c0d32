"""Web workspace defects of issue 11, without a browser: the agent's composer locks as soon as
a supervisor takes the conversation over (and unlocks when it is handed back), and the
auditor's ticket page shows no action button that would answer 403."""

from __future__ import annotations

from typing import Any

import pytest

ANGRY = "停电两天了还没人来修！再不来我就打12345投诉！"


@pytest.fixture(scope="module")
def chat(web: Any) -> int:
    return web.customer_says(ANGRY)["conversation"]["id"]


def test_composer_locks_after_take_over_and_unlocks_after_release(web: Any, chat: int) -> None:
    agent, sup = web.client("li"), web.client("wang")
    page = agent.get(f"/console/{chat}").text
    assert 'id="draft"' in page and 'data-locked="0"' in page
    assert f'hx-get="/console/{chat}/composer?locked=0"' in page
    assert agent.get(f"/console/{chat}/composer", params={"locked": 0}).status_code == 204  # nothing changed
    sup.post(f"/wallboard/{chat}/take-over")
    swapped = agent.get(f"/console/{chat}/composer", params={"locked": 0})
    assert swapped.status_code == 200
    html = swapped.text
    assert 'hx-swap-oob="true"' in html and 'id="composer-locked"' in html and 'data-locked="1"' in html
    assert "disabled" in html and 'name="draft"' not in html and 'hx-post' not in html
    assert agent.get(f"/console/{chat}/composer", params={"locked": 1}).status_code == 204
    # a send that races the take-over gets the locked composer, not a failed form
    raced = agent.post(f"/console/{chat}/send", data={"draft": "您好，我马上为您处理。"})
    assert raced.status_code == 200 and raced.headers["HX-Retarget"] == "#composer"
    assert 'id="composer-locked"' in raced.text
    # the supervisor keeps a working composer
    assert agent.get(f"/console/{chat}").text.count('id="draft"') == 0
    assert 'id="draft"' in sup.get(f"/console/{chat}").text
    sup.post(f"/wallboard/{chat}/take-over", data={"release": "yes"})
    back = agent.get(f"/console/{chat}/composer", params={"locked": 1})
    assert back.status_code == 200 and 'id="draft"' in back.text and 'data-locked="0"' in back.text


def test_auditor_ticket_page_has_no_action_buttons(web: Any, chat: int) -> None:
    from anfu.store import Principal

    record, _ = web.ctx.desk.open_for_conversation(Principal.of_user(web.users["li"]), chat)
    auditor_page = web.client("qa").get(f"/tickets/{record.id}").text
    assert 'id="ticket-body"' in auditor_page or record.number in auditor_page
    assert 'id="ticket-actions"' not in auditor_page and 'id="act-' not in auditor_page
    assert f'action="/tickets/{record.id}/' not in auditor_page
    agent_page = web.client("li").get(f"/tickets/{record.id}").text
    assert 'id="ticket-actions"' in agent_page and 'id="act-respond"' in agent_page
    # and the write is still refused (AF417) for a hand-made post
    assert web.client("qa").post(f"/tickets/{record.id}/respond").status_code == 403
