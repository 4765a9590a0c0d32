from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from anfu.analytics import ConversationRecord, Filters, build_report
from anfu.errors import AnalyticsError

NOW = datetime(2025, 7, 10, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_overall_figures_match_the_hand_count(conversations, tickets) -> None:
    report = build_report(conversations, tickets, now=NOW)
    assert report.conversations == 8 and report.tickets == 5
    # escalation level ≥ 1: c1, c2, c4, c7 of the 7 that carry the field (c8 has none)
    assert (report.escalation.numerator, report.escalation.denominator) == (4, 7)
    # 安抚成功率 over peak ≥ 3: c1 ✓ c2 ✗ c4 ✓ c5 ✓ c7 ✗
    assert (report.calming.numerator, report.calming.denominator) == (3, 5)
    assert report.calming.value == pytest.approx(0.6)
    assert report.csat["average"] == pytest.approx(11 / 3)
    assert report.csat["distribution"] == {1: 0, 2: 1, 3: 0, 4: 1, 5: 1}
    assert report.csat["low"]["numerator"] == 1 and report.csat["satisfied"]["value"] == pytest.approx(2 / 3)
    assert report.complaint_rate == {"complaints": 5, "contacts": 8, "per_100k": 62500.0}
    # response (24 clock hours): T1 T3 T5 in time, T2 late, T4 never answered; resolution (72
    # clock hours, high 48): T1 and T3 in time, T2 (reopened after 138 active hours) and T4
    # (open for eight days) over time; both are breached and still open
    assert report.sla["response"] == {"value": 0.6, "numerator": 3, "denominator": 5}
    assert report.sla["resolution"] == {"value": 0.5, "numerator": 2, "denominator": 4}
    assert report.sla["breached_open"] == 2
    assert report.low_csat == [{"ticket_id": "T2", "agent": "王丽", "cause": "billing", "score": 2,
                                "comment": "退款太慢，客服电话13812345678一直打不通"}]


def test_contacts_from_the_switchboard_set_the_complaint_rate(conversations, tickets) -> None:
    report = build_report(conversations, tickets, now=NOW, contacts=20_000)
    assert report.complaint_rate["per_100k"] == pytest.approx(25.0)
    assert build_report(conversations, [], now=NOW, contacts=0).complaint_rate["per_100k"] is None
    with pytest.raises(AnalyticsError) as err:
        build_report(conversations, tickets, now=NOW, contacts=-5)
    assert err.value.code == "AF651"


def test_emotion_trend_per_day(conversations, tickets) -> None:
    trend = build_report(conversations, tickets, now=NOW).emotion_trend
    assert [d["date"] for d in trend] == ["2025-07-01", "2025-07-02", "2025-07-03"]
    first = trend[0]
    assert first["conversations"] == 3 and first["mean_peak"] == pytest.approx(3.0)
    assert first["strong"] == {"value": pytest.approx(2 / 3), "numerator": 2, "denominator": 3}
    assert first["emotions"]["angry"] == 1 and first["emotions"]["anxious"] == 1
    assert first["emotions"]["neutral"] == 1 and first["emotions"]["satisfied"] == 0
    assert trend[2]["mean_end"] == pytest.approx((0 + 4 + 1) / 3)


def test_causes_count_conversations_and_tickets(conversations, tickets) -> None:
    causes = build_report(conversations, tickets, now=NOW).causes
    assert causes[0] == {"cause": "outage", "conversations": 3, "tickets": 3}
    assert {c["cause"]: (c["conversations"], c["tickets"]) for c in causes} == {
        "outage": (3, 3), "billing": (2, 1), "refund": (1, 1), "delivery": (1, 0)}


def test_per_agent_and_team_views(conversations, tickets) -> None:
    report = build_report(conversations, tickets, now=NOW)
    agents = {row["agent"]: row for row in report.agents}
    assert set(agents) == {"王丽", "李强", "张敏", "(未分配)"}
    wang = agents["王丽"]
    assert wang["conversations"] == 3 and wang["tickets"] == 2
    assert wang["escalation"]["value"] == 1.0 and wang["calming"] == {"value": pytest.approx(1 / 3),
                                                                       "numerator": 1, "denominator": 3}
    assert wang["mean_quality"] == pytest.approx((86 + 70 + 55) / 3) and wang["csat_average"] == 3.5
    assert wang["sla_response"]["value"] == 0.5
    li = agents["李强"]
    assert li["escalation"] == {"value": pytest.approx(1 / 3), "numerator": 1, "denominator": 3}
    assert li["sla_response"]["value"] == 1.0
    teams = {row["team"]: row for row in report.teams}
    assert teams["95598一组"]["conversations"] == 4 and teams["95598一组"]["tickets"] == 3
    assert teams["95598二组"]["calming"]["value"] == 1.0


@pytest.mark.parametrize("filters, conv_ids, ticket_count", [
    (Filters.make(channels=["call"]), 4, 3),
    (Filters.make(teams="95598二组"), 3, 2),
    (Filters.make("2025-07-02", "2025-07-02"), 2, 2),
    (Filters.make(date_from="2025-07-03", agents=["王丽"]), 1, 0),
    (Filters.make(channels="call, webchat", teams=["95598一组"]), 4, 3),
])
def test_filters_apply_to_conversations_and_tickets(conversations, tickets, filters, conv_ids, ticket_count) -> None:
    report = build_report(conversations, tickets, now=NOW, filters=filters)
    assert report.conversations == conv_ids and report.tickets == ticket_count
    assert report.to_dict()["filters"]["timezone"] == "Asia/Shanghai"


def test_call_filter_narrows_every_figure(conversations, tickets) -> None:
    report = build_report(conversations, tickets, now=NOW, filters=Filters.make(channels=["call"]))
    assert (report.calming.numerator, report.calming.denominator) == (2, 3)   # c1 ✓ c4 ✓ c7 ✗
    assert (report.escalation.numerator, report.escalation.denominator) == (3, 4)
    assert report.sla["response"]["value"] == 1.0 and report.csat["responses"] == 2


def test_bad_filters_and_records_give_coded_errors(conversations) -> None:
    with pytest.raises(AnalyticsError) as err:
        Filters.make("2025-07-05", "2025-07-01")
    assert err.value.code == "AF651" and "after" in err.value.message
    with pytest.raises(AnalyticsError) as err:
        Filters.make("七月一日")
    assert err.value.code == "AF651"
    with pytest.raises(AnalyticsError) as err:
        Filters.make(timezone="Beijing")
    assert err.value.code == "AF651"
    bad = dict(conversations[0])
    del bad["date"]
    with pytest.raises(AnalyticsError) as err:
        build_report([bad], [], now=NOW)
    assert err.value.code == "AF650" and "date" in err.value.message
    with pytest.raises(AnalyticsError) as err:
        ConversationRecord.from_assessment({"id": "x9", "error": {"code": "AF004", "message": "empty"},
                                            "date": "2025-07-01"})
    assert "AF004" in err.value.message
    with pytest.raises(AnalyticsError):
        ConversationRecord.from_assessment(["not", "an", "object"])


def test_single_utterances_and_datetimes_are_accepted() -> None:
    record = ConversationRecord.from_assessment(
        {"id": "u1", "text": "电费怎么这么高，是不是抄错表了？", "emotion": "doubtful", "intensity": 2,
         "valence": -0.3, "cause": "billing", "date": datetime(2025, 7, 1, 23, 30, tzinfo=ZoneInfo("UTC")),
         "channel": "app"})
    # 23:30 UTC is 07:30 the next morning in Beijing
    assert record.day.isoformat() == "2025-07-02" and record.peak == 2 and record.cause == "billing"
    assert record.emotions == ("doubtful",) and record.calmed is None


def test_report_is_json_ready(conversations, tickets) -> None:
    data = build_report(conversations, tickets, now=NOW).to_dict()
    back = json.loads(json.dumps(data, ensure_ascii=False))
    assert back["calming"]["denominator"] == 5 and back["filters"]["channels"] == []
    assert back["emotion_trend"][0]["date"] == "2025-07-01" and back["csat"]["distribution"]["5"] == 1
