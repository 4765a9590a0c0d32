"""Per-rule override rates of the pre-send check on the analytics overview and over REST (issue
10): the console stores each stopped send and each send confirmed anyway; supervisors and admins
see which rules agents override, agents and auditors do not."""

from __future__ import annotations

import pytest

ANGRY = "我们小区停电都三天了！！！报了两次修都没人来，你们到底管不管？"
FORBIDDEN = "这是我们公司的规定，抢修要排队，您再等等吧。"


@pytest.fixture(scope="module")
def overridden(web) -> int:
    chat = web.customer_says(ANGRY)["conversation"]["id"]
    client = web.client("li")
    for _ in range(2):  # stopped twice, then sent anyway once
        assert 'id="confirm"' in client.post(f"/console/{chat}/send", data={"draft": FORBIDDEN}).text
    assert 'id="sent-ok"' in client.post(f"/console/{chat}/send", data={"draft": FORBIDDEN, "confirm": "yes"}).text
    return chat


def test_the_console_stores_each_stopped_send(web, overridden) -> None:
    from anfu.store import Principal

    events = web.store.list_events(Principal.of_user(web.users["wang"]), name="reply.flagged_blocked",
                                   conversation_id=overridden)
    assert len(events) == 2
    assert all("fp.policy_wall" in e.payload["rules"] and e.payload["by"] for e in events)


def test_supervisor_sees_the_override_rate_per_rule(web, overridden) -> None:
    html = web.client("wang").get("/analytics").text
    assert 'id="presend-overrides"' in html and "坐席坚持发送的比例" in html
    row = html[html.index('data-rule="fp.policy_wall"'):]
    row = row[:row.index("</tr>")]
    assert "搬出规定拒绝" in row and "<td>2</td><td>1</td>" in row and "50.0%" in row
    english = web.client("wang", lang="en").get("/analytics").text
    assert "Override rate" in english and "Hiding behind policy" in english and "坚持发送" not in english


def test_agents_and_auditors_do_not_see_the_rates(web, overridden) -> None:
    for who in ("li", "qa"):
        assert 'id="presend-overrides"' not in web.client(who).get("/analytics").text
        response = web.client(who).get("/api/v1/analytics/presend-overrides")
        assert response.status_code == 403 and response.json()["error"]["code"] == "AF417"


def test_rates_over_rest(web, overridden) -> None:
    response = web.client("wang").get("/api/v1/analytics/presend-overrides")
    assert response.status_code == 200
    rows = {r["rule_id"]: r for r in response.json()["rules"]}
    assert rows["fp.policy_wall"]["blocked"] >= 2 and rows["fp.policy_wall"]["sent_anyway"] >= 1
    assert rows["fp.policy_wall"]["category"] == "policy_wall" and rows["fp.policy_wall"]["rate"] <= 1.0
    assert web.integration().get("/api/v1/analytics/presend-overrides").status_code == 200  # a supervisor token
