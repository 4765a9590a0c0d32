"""The public CSAT answer over REST (anfu/server/routes/survey.py, issue 11): the same as the
survey page, through the desk: a signed link's token is the only credential; a satisfied answer
is stored once; a low one reopens the ticket; a bad, altered or used link and bad
scores are coded errors, never a 500. On SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

REFS = itertools.count(1)


def code(response: Any) -> str:
    return response.json()["error"]["code"]


def _resolved_ticket_token(world: Any, ref: str) -> tuple[int, str]:
    agent = world.client("agent_a1")
    msg = agent.post("/api/v1/messages", json={
        "conversation_ref": ref, "text": "小区又停电了，冰箱里的东西全坏了，你们到底什么时候来修？",
        "customer": {"phone": "13900001111"}})
    assert msg.status_code == 201, msg.text
    ticket = agent.post("/api/v1/tickets", json={"conversation_id": msg.json()["conversation"]["id"]}).json()
    url = f"/api/v1/tickets/{ticket['id']}"
    agent.post(f"{url}/respond", json={"note": "已致电客户"})
    for stage in ("确认问题", "提供方案", "执行方案"):
        assert agent.post(f"{url}/stage", json={"to": stage}).status_code == 200
    assert agent.post(f"{url}/resolve", json={"note": "已恢复供电"}).json()["status"] == "resolved"
    link = agent.get(f"{url}/survey-link").json()["url"]
    return ticket["id"], urlsplit(link).path.removeprefix("/survey/")


@pytest.fixture
def public(world: Any) -> TestClient:
    return TestClient(world.app, raise_server_exceptions=False)


def test_a_satisfied_customer_answers_once(world: Any, public: TestClient) -> None:
    ticket_id, token = _resolved_ticket_token(world, "survey-api-ok")
    answered = public.post(f"/api/v1/survey/{token}", json={"score": 5, "comment": "抢修师傅来得很快，谢谢！"})
    assert answered.status_code == 200, answered.text
    assert answered.json() == {"score": 5, "low": False}
    ticket = world.client("sup_a1").get(f"/api/v1/tickets/{ticket_id}").json()
    assert ticket["csat_score"] == 5 and ticket["status"] == "resolved"
    again = public.post(f"/api/v1/survey/{token}", json={"score": 1})
    assert again.status_code == 409 and code(again) == "AF633"
    assert world.client("sup_a1").get(f"/api/v1/tickets/{ticket_id}").json()["csat_score"] == 5


def test_a_low_score_reopens_the_ticket(world: Any, public: TestClient) -> None:
    ticket_id, token = _resolved_ticket_token(world, "survey-api-low")
    answered = public.post(f"/api/v1/survey/{token}", json={"score": 1, "comment": "说好当天修，拖了三天，非常不满意"})
    assert answered.status_code == 200 and answered.json()["low"] is True
    ticket = world.client("sup_a1").get(f"/api/v1/tickets/{ticket_id}").json()
    assert ticket["csat_score"] == 1 and ticket["status"] == "reopened"


@pytest.mark.parametrize(("body", "status", "expected"), [
    ({"score": 0}, 422, "AF632"),
    ({"score": 6}, 422, "AF632"),
    ({"score": "五"}, 422, "AF431"),
    ({"score": 4, "comment": "太" * 2001}, 422, "AF637"),
    ({"score": 4, "ticket": 1}, 422, "AF431"),
])
def test_bad_answers_are_coded(world: Any, public: TestClient, body: dict[str, Any], status: int,
                               expected: str) -> None:
    _ticket_id, token = _resolved_ticket_token(world, f"survey-api-bad-{next(REFS)}")
    response = public.post(f"/api/v1/survey/{token}", json=body)
    assert response.status_code == status and code(response) == expected, response.text


def test_an_altered_or_made_up_link_is_refused(world: Any, public: TestClient) -> None:
    _ticket_id, token = _resolved_ticket_token(world, "survey-api-forged")
    altered = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    for bad in (altered, "not-a-link", "%E6%BB%A1%E6%84%8F"):
        response = public.post(f"/api/v1/survey/{bad}", json={"score": 1})
        assert response.status_code == 404 and code(response) == "AF630", response.text
    too_long = public.post(f"/api/v1/survey/{'x' * 501}", json={"score": 1})
    assert too_long.status_code == 422 and code(too_long) == "AF431"
