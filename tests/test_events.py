"""Events (anfu/events.py): frozen noun.verb records that survive JSON and rebuild from dicts."""

from __future__ import annotations

import dataclasses
import json

import pytest

from anfu.errors import InputError
from anfu.events import EVENT_TYPES, EscalationRaised, NegativeEnergyFlagged, TicketCreated, from_dict
from anfu.types import Assessment, Conversation


def test_escalation_raised_is_a_frozen_noun_verb_event() -> None:
    event = EscalationRaised(conversation_id="95598-20260302-0017", level=2, previous_level=1,
                             reasons=("客户当前情绪极其激动（强度4）", "客户表示要投诉或向外部反映"), turn=4)
    assert event.name == "escalation.raised" == EscalationRaised.name
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.level = 3  # type: ignore[misc]
    data = event.to_dict()
    assert data == {"name": "escalation.raised", "conversation_id": "95598-20260302-0017", "level": 2,
                    "previous_level": 1, "reasons": ["客户当前情绪极其激动（强度4）", "客户表示要投诉或向外部反映"],
                    "turn": 4}
    assert from_dict(json.loads(json.dumps(data, ensure_ascii=False))) == event


def test_negative_energy_flagged_round_trips() -> None:
    event = NegativeEnergyFlagged(conversation_id="tb-88", signal_types=("unreasonable_demand", "violence_threat"),
                                  supervisor_alert=True, turn=2)
    assert event.name == "negative_energy.flagged"
    assert from_dict(event.to_dict()) == event


def test_event_names_are_noun_dot_verb_and_registered() -> None:
    for cls in (EscalationRaised, NegativeEnergyFlagged):
        noun, _, verb = cls.name.partition(".")
        assert noun and verb.endswith("ed")
        assert EVENT_TYPES[cls.name] is cls


def test_unknown_event_name_is_a_coded_error() -> None:
    with pytest.raises(InputError) as info:
        from_dict({"name": "escalation.cancelled", "level": 1})
    assert info.value.code == "AF020"
    assert "escalation.raised" in info.value.message
    with pytest.raises(InputError) as missing:  # a known event without its required fields
        from_dict({"name": "escalation.raised", "level": 2})
    assert missing.value.code == "AF020"


def test_replace_events_keeps_other_kinds() -> None:
    doc = Assessment.start(Conversation.from_texts(["停电三天了还没人来修！"]))
    doc.events = [TicketCreated(ticket_id="T1", at="2026-03-02T08:00:00", actor="agent01", customer_ref="C-1",
                                channel="web", cause="outage", priority="high"),
                  EscalationRaised(conversation_id="c1", level=1, previous_level=0)]
    doc.replace_events("escalation.raised",
                       [EscalationRaised(conversation_id="c1", level=2, previous_level=0, reasons=("客户出现辱骂言语",))])
    assert [e.name for e in doc.events] == ["ticket.created", "escalation.raised"]
    assert doc.events[1].level == 2


def test_every_event_lives_in_one_module() -> None:
    """Components, the workflow and the service read the same event types (issue 11)."""
    import anfu.events as events

    for name, cls in EVENT_TYPES.items():
        assert cls.__module__ == events.__name__, name
    assert {"escalation.raised", "negative_energy.flagged", "ticket.created", "sla.breached",
            "csat.submitted"} <= set(EVENT_TYPES)
