from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine
from workflow_helpers import SH, at, outage_ticket, walk_to_execution

from anfu.errors import WorkflowError
from anfu.workflow.csat import SurveyLinks, submit_survey

SECRET = "tests-only-secret-0123456789abcdef"


def billing_ticket(**kwargs):
    ticket = outage_ticket("2025-07-01 09:00", cause="billing", industry="telecom", channel="webchat",
                           customer_ref="手机号 138****5678", summary="本月话费多扣58元视频会员费", **kwargs)
    walk_to_execution(ticket, "2025-07-01 09:05")
    ticket.resolve(at=at("2025-07-01 10:00"), actor="王丽(1023)", note="已退还58元并退订会员")
    return ticket


def test_link_round_trip_and_good_score_keeps_the_ticket_resolved() -> None:
    links = SurveyLinks(SECRET)
    ticket = billing_ticket()
    url = links.url(ticket.id, "https://kf.example.cn/survey/")
    assert url.startswith("https://kf.example.cn/survey/") and "//" not in url.split("://")[1]
    token = url.rsplit("/", 1)[1]
    assert links.read(token) == ticket.id
    answer, events = submit_survey(ticket, token, score=5, comment="处理很快，态度很好", at=at("2025-07-02 10:00"),
                                   links=links)
    assert not answer.low and [e.name for e in events] == ["csat.submitted"]
    assert ticket.status == "resolved" and ticket.csat_score == 5
    assert ticket.history[-1].kind == "csat" and ticket.history[-1].actor == "customer"
    with pytest.raises(WorkflowError) as err:
        submit_survey(ticket, token, score=4, at=at("2025-07-02 10:05"), links=links)
    assert err.value.code == "AF633"


def test_low_score_reopens_the_ticket_and_alerts_the_supervisor() -> None:
    links = SurveyLinks(SECRET)
    ticket = billing_ticket()
    ticket.close(at=at("2025-07-02 09:00"), actor="王丽(1023)")
    answer, events = submit_survey(ticket, links.token(ticket.id), score=1,
                                   comment="钱是退了，但下个月又扣了，根本没解决", at=at("2025-07-03 20:00"), links=links)
    assert answer.low
    assert [e.name for e in events] == ["csat.submitted", "ticket.reopened", "ticket.stage_changed",
                                        "supervisor.alerted"]
    alert = events[-1]
    assert alert.reason == "low_csat" and "根本没解决" in alert.detail and alert.owner == "王丽(1023)"
    assert ticket.status == "reopened" and ticket.stage == "确认问题"


def test_score_two_is_low_and_three_is_not() -> None:
    links = SurveyLinks(SECRET)
    two, three = billing_ticket(id="T-2"), billing_ticket(id="T-3")
    assert submit_survey(two, links.token("T-2"), score=2, at=at("2025-07-02 10:00"), links=links)[0].low
    assert two.status == "reopened"
    assert not submit_survey(three, links.token("T-3"), score=3, at=at("2025-07-02 10:00"), links=links)[0].low
    assert three.status == "resolved"


def test_link_expires() -> None:
    links = SurveyLinks(SECRET, max_age=timedelta(days=7))
    ticket = billing_ticket()
    with time_machine.travel(datetime(2025, 7, 1, 10, 0, tzinfo=SH), tick=False):
        token = links.token(ticket.id)
    with time_machine.travel(datetime(2025, 7, 7, 10, 0, tzinfo=SH), tick=False):
        assert links.read(token) == ticket.id
    with time_machine.travel(datetime(2025, 7, 9, 10, 0, tzinfo=SH), tick=False):
        with pytest.raises(WorkflowError) as err:
            submit_survey(ticket, token, score=4, at=at("2025-07-09 10:00"), links=links)
    assert err.value.code == "AF631" and "new survey link" in err.value.message
    assert ticket.csat_score is None


def test_forged_altered_or_foreign_links_are_refused() -> None:
    links = SurveyLinks(SECRET)
    ticket = billing_ticket()
    token = links.token(ticket.id)
    for bad in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), "abc", ""):
        with pytest.raises(WorkflowError) as err:
            links.read(bad)
        assert err.value.code == "AF630"
    other_secret = SurveyLinks("another-secret-of-another-centre")
    with pytest.raises(WorkflowError) as err:
        links.read(other_secret.token(ticket.id))
    assert err.value.code == "AF630"
    with pytest.raises(WorkflowError) as err:
        submit_survey(ticket, links.token("TS-OTHER"), score=5, at=at("2025-07-02 10:00"), links=links)
    assert err.value.code == "AF636"


def test_bad_answers_and_states_give_coded_errors() -> None:
    links = SurveyLinks(SECRET)
    ticket = billing_ticket()
    token = links.token(ticket.id)
    for score in (0, 6, "5", 4.5, True, None):
        with pytest.raises(WorkflowError) as err:
            submit_survey(ticket, token, score=score, at=at("2025-07-02 10:00"), links=links)
        assert err.value.code == "AF632"
    with pytest.raises(WorkflowError) as err:
        submit_survey(ticket, token, score=3, comment="差" * 501, at=at("2025-07-02 10:00"), links=links)
    assert err.value.code == "AF637"
    assert ticket.csat_score is None and ticket.status == "resolved"
    open_ticket = outage_ticket(id="T-OPEN")
    with pytest.raises(WorkflowError) as err:
        submit_survey(open_ticket, links.token("T-OPEN"), score=5, at=at("2025-07-02 10:00"), links=links)
    assert err.value.code == "AF635"
    with pytest.raises(WorkflowError) as err:
        SurveyLinks("short")
    assert err.value.code == "AF634"


def test_one_survey_per_resolution() -> None:
    """A low score reopens the ticket; resolved again, it gets a new link (its resolution signed in)
    and a new score; the first link then answers AF638, a second answer to the new one AF633, and the
    low score stays in the history."""
    links = SurveyLinks(SECRET)
    ticket = billing_ticket()
    first = links.token(ticket.id)
    submit_survey(ticket, first, score=1, comment="下个月又扣了", at=at("2025-07-02 10:00"), links=links)
    assert ticket.status == "reopened" and not ticket.rated
    with pytest.raises(WorkflowError) as err:  # a double tap on the first link
        submit_survey(ticket, first, score=1, at=at("2025-07-02 10:01"), links=links)
    assert err.value.code == "AF633"
    _back_to_execution(ticket, "2025-07-03 09:00")
    ticket.resolve(at=at("2025-07-03 11:00"), actor="王丽(1023)", note="已退订并核实下月不再扣费")
    assert not ticket.rated
    second = links.token(ticket.id, resolution=ticket.reopen_count)
    assert second != first and links.resolution_of(second) == 1 and links.resolution_of(first) == 0
    answer, _ = submit_survey(ticket, second, score=5, comment="这次解决了", at=at("2025-07-04 10:00"), links=links)
    assert not answer.low and ticket.status == "resolved" and ticket.csat_score == 5 and ticket.rated
    assert [h.to_value for h in ticket.history if h.kind == "csat"] == ["1", "5"]
    for token, code in ((second, "AF633"), (first, "AF638")):
        with pytest.raises(WorkflowError) as err:
            submit_survey(ticket, token, score=4, at=at("2025-07-04 10:05"), links=links)
        assert err.value.code == code


def test_a_link_of_an_earlier_resolution_nobody_answered_is_refused() -> None:
    links = SurveyLinks(SECRET)
    ticket = billing_ticket()
    old = links.token(ticket.id)
    ticket.reopen(at=at("2025-07-02 09:00"), actor="王丽(1023)", reason="客户来电称又被多扣了一次")
    _back_to_execution(ticket, "2025-07-02 09:10")
    ticket.resolve(at=at("2025-07-02 12:00"), actor="王丽(1023)", note="已退还")
    with pytest.raises(WorkflowError) as err:
        submit_survey(ticket, old, score=5, at=at("2025-07-03 10:00"), links=links)
    assert err.value.code == "AF638" and ticket.csat_score is None


def _back_to_execution(ticket, start: str) -> None:  # noqa: ANN001
    """A reopened ticket (at 确认问题) moved on to 执行方案 again."""
    for i, stage in enumerate(("提供方案", "执行方案"), start=1):
        ticket.advance_stage(stage, at=at(start) + timedelta(minutes=i), actor="王丽(1023)")
