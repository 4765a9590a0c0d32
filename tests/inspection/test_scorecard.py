from __future__ import annotations

import copy
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest

from anfu.errors import RulePackError
from anfu.inspection.scorecard import check_scorecard, load_scorecard
from anfu.inspection.service import conversation_facts, correction_rows, sampled, trend_report
from anfu.store.inspection_repo import rescore
from anfu.types import Conversation


def _score(analyzer, turns, card=None):  # noqa: ANN001, ANN202
    from anfu.inspection.service import abuse_finder

    card = card or load_scorecard()
    conv = Conversation.from_texts(turns)
    result = analyzer(conv).to_dict()
    return card.apply(result, [t for _, t in turns], abuse=abuse_finder(analyzer))


def test_default_scorecard_is_valid_and_problems_are_named() -> None:
    card = load_scorecard()
    assert card.pass_score == 80 and {i["kind"] for i in card.items} == {
        "required", "forbidden", "outcome", "quality", "peak_handled", "zero"}
    bad = copy.deepcopy(card.data)
    bad["items"][0]["weight"] = -1
    bad["items"][1]["id"] = bad["items"][0]["id"]
    bad["items"][2]["patterns"] = ["(unclosed"]
    bad["items"].append({"id": "z", "name": "z", "kind": "zero"})
    bad["sample_rate"] = 2
    problems = check_scorecard(bad)
    assert any("weight must be a positive number" in p for p in problems)
    assert any("is repeated" in p for p in problems)
    assert any("(unclosed" in p for p in problems)
    assert any("zero item needs patterns" in p for p in problems)
    assert any("sample_rate" in p for p in problems)
    with pytest.raises(RulePackError) as exc:
        load_scorecard("missing")
    assert exc.value.code == "AF302"


def test_good_conversation_passes_bad_one_fails_with_evidence(analyzer) -> None:  # noqa: ANN001
    good = _score(analyzer, [("customer", "你好，想问下电费怎么交"),
                             ("agent", "您好，很高兴为您服务，可以在网上营业厅交费，我今天下午把链接发给您。"),
                             ("customer", "好的，谢谢")])
    assert good["passed"] and not good["zeroed"]
    apology = next(i for i in good["items"] if i["id"] == "apology")
    assert apology["applies"] is False  # a calm enquiry needs no apology
    bad = _score(analyzer, [("customer", "停电三天了还没人来修！！！再不来我就投诉！"), ("agent", "这不归我们管。"),
                            ("customer", "你们什么态度？气死我了！")])
    assert bad["low"] and bad["score"] < good["score"]
    calmed = next(i for i in bad["items"] if i["id"] == "calmed")
    assert calmed["applies"] and calmed["passed"] is False


def test_agent_abuse_is_an_automatic_zero(analyzer) -> None:  # noqa: ANN001
    result = _score(analyzer, [("customer", "你们到底修不修？"),
                               ("agent", "您好，抱歉，今天下午就去修。你是不是有病，爱投诉就去投诉"),
                               ("customer", "好的")])
    zero = next(i for i in result["items"] if i["id"] == "agent_abuse")
    assert result["zeroed"] and result["score"] == 0.0 and zero["passed"] is False
    assert {e["text"] for e in zero["evidence"]} >= {"你是不是有病"} or any("有病" in e["text"] for e in zero["evidence"])
    # overturning the zero item restores the weighted score
    score, zeroed = rescore(dict(result, items=result["items"]), {"agent_abuse"})
    assert not zeroed and score > 0


def test_sampling_is_deterministic_and_near_the_rate() -> None:
    draws = [sampled(str(i), 0.1) for i in range(5000)]
    assert draws == [sampled(str(i), 0.1) for i in range(5000)]
    assert 400 < sum(draws) < 600


def _inspection(i: int, week_day: int, agent: int, angry: bool, score: float, cause: str = "billing") -> SimpleNamespace:
    when = datetime(2026, 11, week_day, 10, tzinfo=timezone.utc)
    year, week, _ = when.isocalendar()
    return SimpleNamespace(id=i, agent_id=agent, team_id=1, final_score=score,
                           facts={"week": f"{year}-W{week:02d}", "hour": 18, "cause": cause, "angry": angry,
                                  "complaint": angry, "phrases": ["投诉"] if angry else [], "turns": 3})


def test_trend_report_week_over_week_and_outliers() -> None:
    pairs = []
    n = 0
    for agent in range(1, 7):  # week 1: everyone calm-ish
        for _ in range(5):
            n += 1
            pairs.append((_inspection(n, 2, agent, False, 90.0), []))
    for agent in range(1, 7):  # week 2: agent 6 angers nearly every customer
        for k in range(5):
            n += 1
            pairs.append((_inspection(n, 10, agent, agent == 6 or k == 0, 40.0 if agent == 6 else 90.0,
                                      cause="outage" if agent == 6 else "billing"), []))
    report = trend_report(pairs, names={6: "王五"})
    assert [w["conversations"] for w in report["weeks"]] == [30, 30]
    assert report["weeks"][1]["angry"] == 10 and report["weeks"][0]["angry"] == 0
    assert report["agents"][0]["name"] == "王五" and report["agents"][0]["angry_change"] == 5
    assert report["causes"][0]["key"] == "outage"
    assert report["phrases"][0] == {"key": "投诉", "name": "投诉", "conversations": 10, "angry": 10, "complaints": 10,
                                    "anger_rate": 1.0, "angry_change": 10, "complaints_change": 10}
    metrics = {(o["agent_id"], o["metric"]) for o in report["outliers"]}
    assert metrics == {(6, "anger_rate"), (6, "mean_score")}


def test_facts_and_corrections() -> None:
    analysed = {"turns": [{"speaker": "customer", "emotion": "angry", "intensity": 4, "cause": "repair",
                           "escalation_risk": True, "triggers": [{"kind": "escalation", "text": "12345"}]},
                          {"speaker": "agent"}], "escalation": {"level": 2}}
    facts = conversation_facts(analysed, ["a", "b"], datetime(2026, 12, 6, 23, 30, tzinfo=timezone.utc))
    assert facts == {"week": "2026-W50", "hour": 7, "cause": "repair", "angry": True, "complaint": True,
                     "phrases": ["12345"], "turns": 2}
    finding = SimpleNamespace(id=3, kind="forbidden", item_id="no_forbidden",
                              evidence=[{"turn": 1, "text": "不归我们管", "category": "buck_passing", "reply": "这不归我们管。"}])
    required = SimpleNamespace(id=4, kind="required", item_id="greeting", evidence=[{"turn": -1, "text": ""}])
    rows = correction_rows([(finding, SimpleNamespace(id=9), "upheld"), (required, SimpleNamespace(id=9), "overturned")])
    assert rows == [{"id": "inspection-9-3-0", "text": "这不归我们管。", "violation": True, "category": "buck_passing",
                     "source": "inspection_appeal", "item": "no_forbidden", "decision": "upheld"}]
