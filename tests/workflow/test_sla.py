"""SLA clock over nights, weekends, public holidays, make-up workdays and pauses.

The default answer target is 24 clock hours (24小时内响应). 2025-07-01 is a Tuesday. The
business calendar (e-mail and letter resolution) is open 08:30-12:00 and 13:30-17:30 (7.5 h
a day); 国庆节 2025-10-01..08 is closed and Saturday 2025-10-11 is worked (调休).
"""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import time_machine
import yaml
from workflow_helpers import SH, at, outage_ticket, walk_to_execution

from anfu.errors import RulePackError, WorkflowError
from anfu.rules import RULES_ROOT, check_all
from anfu.workflow.sla import SlaPolicies, alert_key, sla_alerts, sla_status, validate_sla

AGENT = "王丽(1023)"
H = timedelta(hours=1)


@pytest.fixture(scope="module")
def policies() -> SlaPolicies:
    return SlaPolicies.load()


def test_default_response_is_24_clock_hours_nights_and_weekends_included(policies) -> None:
    ticket = outage_ticket("2025-07-01 16:00", cause="billing", industry="telecom",
                           summary="话费多扣58元，从未订过视频会员")
    evening = sla_status(ticket, at("2025-07-01 17:30"), policies)
    assert evening.policy == "default" and evening.current.target == "response"
    assert evening.remaining == timedelta(hours=22.5)
    assert evening.due_at == at("2025-07-02 16:00")  # 24小时内响应: the night counts
    assert sla_status(ticket, at("2025-07-02 08:30"), policies).remaining == timedelta(hours=7.5)
    noon = sla_status(ticket, at("2025-07-02 12:00"), policies)
    assert noon.remaining == timedelta(hours=4) and noon.warning and not noon.breached
    late = sla_status(ticket, at("2025-07-02 16:01"), policies)
    assert late.breached and late.remaining == -timedelta(minutes=1)

    friday = outage_ticket("2025-07-04 18:00", id="TS-20250704-0001")
    assert sla_status(friday, at("2025-07-04 18:00"), policies).due_at == at("2025-07-05 18:00")  # Saturday
    assert sla_status(friday, at("2025-07-05 18:01"), policies).breached
    # public holidays do not stop a clock-hour target either
    golden = outage_ticket("2025-09-30 20:00", id="TS-20250930-0001")
    assert sla_status(golden, at("2025-10-01 21:00"), policies).breached


def test_email_resolution_counts_working_days_skipping_holidays_and_running_make_up_days(policies) -> None:
    ticket = outage_ticket("2025-09-30 16:00", channel="email", id="TS-20250930-0002")
    status = sla_status(ticket, at("2025-09-30 17:30"), policies)
    assert status.policy == "email" and status.due_at == at("2025-10-01 16:00")  # answer: 24 clock hours
    ticket.respond(at=at("2025-09-30 17:00"), actor=AGENT, note="已收到来信，正在核实")
    golden_week = sla_status(ticket, at("2025-10-05 10:00"), policies)
    assert golden_week.current.target == "resolution" and golden_week.response.met
    assert golden_week.resolution.elapsed == 1.5 * H  # 16:00-17:30 on the 30th, then 国庆 is closed
    # 37.5 working hours (5 working days): Oct 9, 10, Saturday 11 (调休), 13, and 14 until 16:00
    assert golden_week.due_at == at("2025-10-14 16:00") and not golden_week.warning
    assert sla_status(ticket, at("2025-10-14 16:01"), policies).breached

    saturday = outage_ticket("2025-10-11 09:00", channel="email", id="TS-20251011-0001")  # 调休上班
    assert sla_status(saturday, at("2025-10-11 12:00"), policies).resolution.elapsed == 3 * H
    assert sla_status(saturday, at("2025-10-12 20:00"), policies).resolution.elapsed == 7 * H
    assert sla_status(saturday, at("2025-10-12 20:00"), policies).response.elapsed == 35 * H
    plain_saturday = outage_ticket("2025-07-05 09:00", channel="email", id="TS-20250705-0001")
    assert sla_status(plain_saturday, at("2025-07-05 18:00"), policies).resolution.elapsed == timedelta(0)


def test_clock_pauses_while_waiting_on_the_customer(policies) -> None:
    ticket = outage_ticket("2025-07-01 09:00", cause="refund", industry="ecommerce", channel="app",
                           summary="退货已签收七天仍未退款")
    walk_to_execution(ticket, "2025-07-01 10:00")
    assert sla_status(ticket, at("2025-07-01 10:30"), policies).current.target == "resolution"
    ticket.wait_on_customer(at=at("2025-07-01 11:00"), actor=AGENT, note="请客户提供退货快递单号")
    paused = sla_status(ticket, at("2025-07-03 16:00"), policies)
    assert paused.paused and paused.due_at is None
    assert paused.resolution.elapsed == 2 * H and paused.response.met
    ticket.customer_replied(at=at("2025-07-03 16:00"), actor="customer", note="单号 SF1234567890")
    running = sla_status(ticket, at("2025-07-03 17:00"), policies)
    assert not running.paused and running.resolution.elapsed == 3 * H
    assert running.remaining == 69 * H

    ticket.resolve(at=at("2025-07-04 09:30"), actor=AGENT, note="已原路退款 299 元")
    later = sla_status(ticket, at("2025-07-20 09:30"), policies)
    assert later.paused and later.resolution.done and later.resolution.met
    assert later.resolution.elapsed == 19.5 * H and not later.breached  # clock hours, the night included


def test_urgent_outage_call_runs_round_the_clock_and_alerts_once(policies) -> None:
    ticket = outage_ticket("2025-07-05 23:30", channel="call", priority="urgent", id="TS-20250705-0099")
    status = sla_status(ticket, at("2025-07-06 00:20"), policies)
    assert status.policy == "urgent-call" and status.warning
    assert status.remaining == timedelta(minutes=10)
    sent = sla_alerts(ticket, status)
    assert [e.name for e in sent] == ["sla.warned"]

    late = sla_status(ticket, at("2025-07-06 00:45"), policies)
    alerts = sla_alerts(ticket, late, already={alert_key(e) for e in sent})
    assert [e.name for e in alerts] == ["sla.breached", "supervisor.alerted"]
    assert alerts[0].target == "response" and alerts[0].overdue_seconds == 15 * 60
    assert alerts[1].reason == "sla_breached" and alerts[1].owner == AGENT
    already = {alert_key(e) for e in sent + alerts}
    assert sla_alerts(ticket, sla_status(ticket, at("2025-07-06 01:00"), policies), already) == []

    # answering late does not undo the breach
    ticket.respond(at=at("2025-07-06 01:00"), actor=AGENT)
    after = sla_status(ticket, at("2025-07-06 02:00"), policies)
    assert after.response.breached and after.breached and after.current.target == "resolution"


def test_most_specific_policy_wins(policies) -> None:
    assert policies.policy_for("urgent", "call").name == "urgent-call"
    assert policies.policy_for("urgent", "email").name == "urgent"
    assert policies.policy_for("normal", "email").name == "email"
    email = policies.policy_for("normal", "email")
    assert email.response == 24 * H and email.warn_before == 6 * H  # the rest comes from default
    assert email.response_calendar.name == "always" and email.resolution_calendar.name == "business"
    assert policies.policy_for("normal", "letter").resolution_calendar.name == "business"
    default = policies.policy_for("normal", "webchat")
    assert default.response_calendar.name == default.resolution_calendar.name == "always"
    assert policies.policy_for("low", "webchat").resolution_calendar.name == "business"
    assert policies.policy_for("urgent", "email").resolution_calendar.name == "always"
    assert policies.policy_for("normal", "webchat").name == "default"


def test_now_defaults_to_the_current_time() -> None:
    ticket = outage_ticket("2025-07-01 16:00")
    with time_machine.travel(datetime(2025, 7, 2, 9, 30, tzinfo=SH), tick=False):
        status = sla_status(ticket)
    assert status.current.elapsed == 17.5 * H
    with time_machine.travel(datetime(2025, 7, 7, 9, 0, tzinfo=SH), tick=False):
        assert sla_status(ticket).breached


def test_naive_now_is_refused() -> None:
    with pytest.raises(WorkflowError) as err:
        sla_status(outage_ticket(), datetime(2025, 7, 2, 9, 0))
    assert err.value.code == "AF604"


def test_status_serialises(policies) -> None:
    data = sla_status(outage_ticket(), at("2025-07-01 17:00"), policies).to_dict()
    assert data["remaining_seconds"] == 23 * 3600 and data["response"]["done"] is False
    assert data["due_at"] == "2025-07-02T16:00:00+08:00"


def test_shipped_pack_is_valid_and_bad_packs_are_caught(tmp_path: Path) -> None:
    assert "sla" not in check_all() and "departments" not in check_all()
    data = yaml.safe_load((RULES_ROOT / "zh_CN" / "sla.yaml").read_text(encoding="utf-8"))
    assert validate_sla(data) == []
    data["timezone"] = "China/Beijing"
    data["calendars"]["business"]["hours"] = [["13:30", "18:00"], ["08:30", "14:00"]]
    data["calendars"]["business"]["holidays"].append("2025-13-01")
    data["policies"].append({"name": "vip", "priority": "vip", "response_hours": -1})
    data["policies"].append({"name": "urgent", "priority": "urgent", "calendar": "weekend"})
    data["policies"].append({"name": "sms", "channel": "sms", "resolution_calendar": "workweek"})
    problems = "\n".join(validate_sla(data))
    for needle in ("timezone", "must not overlap", "holidays", "priority must be one of",
                   "response_hours must be between", "unique", "calendar 'weekend'",
                   "same priority and channel", "resolution_calendar 'workweek'"):
        assert needle in problems, needle

    shutil.copy(RULES_ROOT / "zh_CN" / "departments.yaml", tmp_path / "departments.yaml")
    (tmp_path / "sla.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(RulePackError) as err:
        SlaPolicies.load(rules_dir=tmp_path)
    assert err.value.code == "AF301"
    assert "sla" in check_all(rules_dir=tmp_path)


def test_calendar_without_open_hours_gives_a_coded_error(tmp_path: Path) -> None:
    data = yaml.safe_load((RULES_ROOT / "zh_CN" / "sla.yaml").read_text(encoding="utf-8"))
    data["calendars"]["business"]["weekdays"] = [6]
    data["calendars"]["business"]["holidays"] = [{"name": "全年停业", "from": "2025-01-01", "to": "2026-12-31"}]
    data["calendars"]["business"]["workdays"] = []
    (tmp_path / "sla.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    closed = SlaPolicies.load(rules_dir=tmp_path)
    letter = outage_ticket(channel="letter")
    letter.respond(at=at("2025-07-01 16:30"), actor=AGENT)
    with pytest.raises(WorkflowError) as err:
        sla_status(letter, at("2025-07-01 17:00"), closed)
    assert err.value.code == "AF610"
