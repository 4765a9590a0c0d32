"""Quality inspection through the API (SQLite, and PostgreSQL in CI): scorecard applied to a stored
conversation with evidence spans, the 复核 queue, an agent's appeal (申诉) and the auditor's
decision, labelled corrections that `anfu train-replies` reads, trends; and who may do what."""

from __future__ import annotations

import json
from typing import Any

import pytest



@pytest.fixture(scope="module")
def inspected(world: Any) -> Any:
    bad = world.conversation("agent_a1", "qa-bad", [
        ("customer", "停电三天了还没人来修！！！再不来我就打12345投诉！"),
        ("agent", "这不归我们管，你自己去找供电所。"),
        ("customer", "你们什么态度？气死我了！")])
    good = world.conversation("agent_a1", "qa-good", [
        ("customer", "你好，想问下电费怎么交"),
        ("agent", "您好，很高兴为您服务，可以在网上营业厅交费，我今天下午把链接发给您。"),
        ("customer", "好的，谢谢")])
    other_team = world.conversation("agent_a2", "qa-other", [("customer", "快递一周都没到，太气人了！"),
                                                               ("agent", "您好，非常抱歉，我马上查，一小时内回复您。")])
    r = world.client("sup_a1").post("/api/v1/inspection/run", json={"conversation_ids": [bad, good]})
    assert r.status_code == 200, r.text
    world.qa = {"bad": bad, "good": good, "other": other_team, "run": r.json()}
    return world


def test_run_scores_with_evidence_and_queues_low_scores(inspected: Any) -> None:
    run = inspected.qa["run"]
    assert run["inspected"] == 2
    by_conv = {i["conversation_id"]: i for i in run["items"]}
    bad, good = by_conv[inspected.qa["bad"]], by_conv[inspected.qa["good"]]
    assert bad["low"] and bad["review_status"] == "pending" and bad["score"] < good["score"]
    assert good["score"] >= 80 and good["passed"]
    detail = inspected.client("sup_a1").get(f"/api/v1/inspection/inspections/{bad['id']}").json()
    forbidden = next(f for f in detail["findings"] if f["item_id"] == "no_forbidden")
    ev = forbidden["evidence"][0]
    assert (ev["turn"], ev["text"], ev["category"]) == (1, "不归我们管", "buck_passing")
    assert ev["reply"] == "这不归我们管，你自己去找供电所。"
    assert {i["id"] for i in detail["items"]} >= {"greeting", "calmed", "agent_abuse"}
    queue = inspected.client("auditor_a").get("/api/v1/inspection/inspections", params={"review_status": "pending"}).json()
    assert bad["id"] in [i["id"] for i in queue["items"]]


def test_an_id_named_twice_in_one_run_is_inspected_once(inspected: Any) -> None:
    """A clumsy integrator's list with repeats: one item per conversation, in the caller's order
    (before, each repeat was scored and returned again)."""
    bad, good = inspected.qa["bad"], inspected.qa["good"]
    r = inspected.client("sup_a1").post("/api/v1/inspection/run", json={"conversation_ids": [good, bad, good, good]})
    assert r.status_code == 200, r.text
    assert r.json()["inspected"] == 2
    assert [i["conversation_id"] for i in r.json()["items"]] == [good, bad]


def test_who_sees_and_runs_inspections(inspected: Any) -> None:
    bad = next(i for i in inspected.qa["run"]["items"] if i["conversation_id"] == inspected.qa["bad"])
    url = f"/api/v1/inspection/inspections/{bad['id']}"
    assert inspected.client("agent_a1").get(url).status_code == 200        # own conversation
    for who in ("agent_a1b", "agent_a2", "sup_a2", "admin_b", "agent_b1"):
        r = inspected.client(who).get(url)
        assert r.status_code == 404 and r.json()["error"]["code"] == "AF503", who
    refused = inspected.client("agent_a1").post("/api/v1/inspection/run", json={"conversation_ids": [inspected.qa["bad"]]})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "AF417"
    # a supervisor cannot inspect another team's conversation; the auditor can
    other = inspected.qa["other"]
    assert inspected.client("sup_a1").post("/api/v1/inspection/run", json={"conversation_ids": [other]}).status_code == 404
    r = inspected.client("auditor_a").post("/api/v1/inspection/run", json={"conversation_ids": [other]})
    assert r.status_code == 200 and r.json()["inspected"] == 1
    listed = inspected.client("agent_a2").get("/api/v1/inspection/inspections").json()
    assert [i["conversation_id"] for i in listed["items"]] == [other]


def test_appeal_overturn_and_corrections(inspected: Any) -> None:
    from anfu.training.replies import load_reply_file, pack_categories

    bad = next(i for i in inspected.qa["run"]["items"] if i["conversation_id"] == inspected.qa["bad"])
    detail = inspected.client("agent_a1").get(f"/api/v1/inspection/inspections/{bad['id']}").json()
    finding = next(f for f in detail["findings"] if f["item_id"] == "no_forbidden")
    url = f"/api/v1/inspection/findings/{finding['id']}/appeal"
    assert inspected.client("agent_a1b").post(url, json={"reason": "不是我"}).status_code == 404
    assert inspected.client("sup_a1").post(url, json={"reason": "代申诉"}).status_code == 403
    r = inspected.client("agent_a1").post(url, json={"reason": "客户要找的是物业，供电所的电话我随后给了"})
    assert r.status_code == 201, r.text
    appeal = r.json()
    again = inspected.client("agent_a1").post(url, json={"reason": "再申诉一次"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "AF802"
    decision = f"/api/v1/inspection/appeals/{appeal['id']}/decision"
    assert inspected.client("agent_a1").post(decision, json={"decision": "overturned"}).status_code == 403
    assert inspected.client("sup_a1").post(decision, json={"decision": "overturned"}).status_code == 403
    d = inspected.client("auditor_a").post(decision, json={"decision": "overturned", "note": "情况属实"})
    assert d.status_code == 200 and d.json()["status"] == "overturned"
    twice = inspected.client("auditor_a").post(decision, json={"decision": "upheld"})
    assert twice.status_code == 409
    after = inspected.client("agent_a1").get(f"/api/v1/inspection/inspections/{bad['id']}").json()
    assert after["final_score"] > after["score"]
    assert next(f for f in after["findings"] if f["id"] == finding["id"])["status"] == "overturned"
    export = inspected.client("auditor_a").get("/api/v1/inspection/corrections")
    assert export.status_code == 200 and export.headers["content-type"].startswith("application/x-ndjson")
    rows = [json.loads(x) for x in export.text.splitlines()]
    assert rows == [{"id": rows[0]["id"], "text": "这不归我们管，你自己去找供电所。", "violation": False, "category": None,
                     "source": "inspection_appeal", "item": "no_forbidden", "decision": "overturned"}]
    path = inspected.tmp / "corrections.jsonl"
    path.write_text(export.text, encoding="utf-8")
    (example,) = load_reply_file(path, pack_categories(None))
    assert example.violation is False and example.text == rows[0]["text"]
    assert inspected.client("agent_a1").get("/api/v1/inspection/corrections").status_code == 403


def test_review_sets_the_final_score(inspected: Any) -> None:
    good = next(i for i in inspected.qa["run"]["items"] if i["conversation_id"] == inspected.qa["good"])
    url = f"/api/v1/inspection/inspections/{good['id']}/review"
    assert inspected.client("agent_a1").post(url, json={"final_score": 100}).status_code == 403
    assert inspected.client("auditor_a").post(url, json={"final_score": 101}).status_code == 422
    r = inspected.client("auditor_a").post(url, json={"final_score": 72.5, "note": "收尾没有确认客户是否还有其他问题"})
    assert r.status_code == 200
    body = r.json()
    assert body["final_score"] == 72.5 and body["review_status"] == "done" and body["passed"] is False
    # a re-checked inspection is not overwritten by a later run
    rerun = inspected.client("sup_a1").post("/api/v1/inspection/run", json={"conversation_ids": [inspected.qa["good"]]})
    assert rerun.json()["items"][0]["final_score"] == 72.5


def test_trends_and_scorecards(inspected: Any) -> None:
    trends = inspected.client("admin_a").get("/api/v1/inspection/trends", params={"weeks": 2}).json()
    assert sum(w["conversations"] for w in trends["weeks"]) == 3
    latest = trends["weeks"][-1]
    assert latest["angry"] >= 1 and latest["complaints"] >= 1
    assert trends["agents"][0]["name"] in ("agent_a1", "agent_a2")
    assert any(p["key"] in ("12345", "投诉", "再不来") for p in trends["phrases"])
    assert {h["key"] for h in trends["hours"]} and trends["causes"]
    cards = inspected.client("agent_a1").get("/api/v1/inspection/scorecards").json()
    assert cards[0]["name"] == "default" and cards[0]["items"][0]["id"] == "greeting"
