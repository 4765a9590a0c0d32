"""The demo fortnight generator: varied, deterministic Chinese conversations over 14 days."""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from anfu.demo.fortnight import COMPLAINT_ARCS, generate_fortnight, load_templates
from anfu.errors import WorkflowError
from anfu.glossary import CAUSES, INDUSTRIES

SH = ZoneInfo("Asia/Shanghai")
END = datetime(2026, 3, 13, 16, 40, tzinfo=SH)  # a Friday afternoon


@pytest.fixture(scope="module")
def contacts():
    return generate_fortnight(END)


def test_fourteen_days_of_a_few_hundred_contacts_up_to_an_hour_ago(contacts) -> None:
    days = Counter(c.started.date() for c in contacts)
    assert len(days) == 14 and min(days) == END.date() - timedelta(days=13) and max(days) == END.date()
    assert 250 <= len(contacts) <= 600
    weekend = [n for d, n in days.items() if d.isoweekday() >= 6]
    weekday = [n for d, n in days.items() if d.isoweekday() < 6 and d != END.date()]
    assert sum(weekend) / len(weekend) < sum(weekday) / len(weekday)  # quieter weekends
    assert all(c.ended <= END - timedelta(hours=1) for c in contacts)
    assert [c.started for c in contacts] == sorted(c.started for c in contacts) or len({c.ref for c in contacts}) == len(contacts)


def test_contacts_spread_over_channels_teams_agents_and_arcs(contacts) -> None:
    assert {c.channel for c in contacts} >= {"call", "webchat", "app"}
    assert {c.team for c in contacts} == set(load_templates()["teams"])
    assert len({c.agent for c in contacts}) >= 7
    arcs = Counter(c.arc for c in contacts)
    assert arcs["inquiry"] > arcs["calmed"] > arcs["hard_calmed"] > sum(arcs[a] for a in COMPLAINT_ARCS) > 0
    assert {c.cause for c in contacts} <= set(CAUSES) and {c.industry for c in contacts} <= set(INDUSTRIES)
    assert len({c.turns[0].text for c in contacts}) > 60  # varied wording, not one template repeated


def test_conversations_read_like_real_chinese_service_contacts(contacts) -> None:
    for c in contacts:
        texts = [t.text for t in c.turns]
        assert all(not re.search(r"[{}]", t) for t in texts), texts  # every slot filled
        assert all(re.search(r"[\u4e00-\u9fff]", t) for t in texts)
        assert [t.at for t in c.turns] == sorted(t.at for t in c.turns)
        speakers = [t.speaker for t in c.turns]
        assert "customer" in speakers and "agent" in speakers
        assert all(a != b for a, b in zip(speakers, speakers[1:]))  # turns alternate
    threats = [c for c in contacts if c.arc in COMPLAINT_ARCS]
    assert all(any(w in t.text for t in c.turns for w in ("投诉", "曝光", "媒体")) for c in threats)


def test_same_end_same_data_and_naive_end_refused() -> None:
    first, again = generate_fortnight(END), generate_fortnight(END)
    assert [(c.ref, c.turns) for c in first] == [(c.ref, c.turns) for c in again]
    with pytest.raises(WorkflowError) as err:
        generate_fortnight(datetime(2026, 3, 13, 16, 40))
    assert err.value.code == "AF604"
