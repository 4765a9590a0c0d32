from __future__ import annotations

import dataclasses
import json

import pytest

from anfu.events import Event
from anfu.types import (Assessment, Conversation, EscalationResult, Finding, NegativeEnergyResult, PersonaResult,
                        Playbook, Signal, TrajectoryResult, Trigger, Utterance)


def test_inputs_are_frozen() -> None:
    utt = Utterance("电费怎么这么高")
    with pytest.raises(dataclasses.FrozenInstanceError):
        utt.text = "x"  # type: ignore[misc]
    conv = Conversation.from_texts([("customer", "停电了"), ("agent", "您好，请问您的户号是多少？")])
    assert [t.speaker for t in conv.turns] == ["customer", "agent"]
    assert conv.customer_indices == [0]


def test_utterance_assessment_serialises_flat() -> None:
    doc = Assessment.start(Utterance("我要投诉", id="u1"))
    turn = doc.turns[0]
    turn.emotion, turn.intensity, turn.valence = "angry", 3, -0.9
    turn.scores = {"angry": 0.9}
    turn.abusive, turn.escalation_risk, turn.cause = False, True, None
    turn.triggers.append(Trigger("escalation", "complaint", 1, 3, "投诉", rule_id="esc.complaint"))
    out = doc.to_dict()
    assert out["id"] == "u1" and out["emotion"] == "angry" and out["cause"] is None
    assert out["triggers"] == [{"kind": "escalation", "label": "complaint", "start": 1, "end": 3,
                                "text": "投诉", "rule_id": "esc.complaint"}]
    assert "speaker" not in out


def test_conversation_assessment_serialises_agent_turns() -> None:
    conv = Conversation.from_texts([("customer", "停电三天了"), ("agent", "这是我们公司的规定")], id="c1")
    doc = Assessment.start(conv)
    doc.turns[1].violation = True
    doc.turns[1].findings.append(Finding("fp.policy_wall", "policy_wall", 0, 9, "用规定搪塞客户"))
    doc.trajectory = TrajectoryResult(start=2, peak=2, end=2, trend="flat")
    out = doc.to_dict()
    assert out["id"] == "c1"
    assert out["turns"][1] == {"speaker": "agent", "violation": True, "findings": [
        {"rule_id": "fp.policy_wall", "category": "policy_wall", "start": 0, "end": 9,
         "message": "用规定搪塞客户", "severity": "major", "level": "must_fix"}], "rewrite": None}
    assert out["trajectory"]["trend"] == "flat"
    assert "persona" not in out  # absent until a component sets it, never faked
    sure = Finding("context.dismissing", "dismissing", 0, 4, "…", confidence=0.8123, level="consider")
    assert sure.to_dict()["confidence"] == 0.812 and sure.to_dict()["level"] == "consider"


def test_conclusions_are_typed_and_serialise_to_the_documented_shapes() -> None:
    """Issue 11: trajectory, persona, negative energy and escalation are frozen dataclasses
    on the Assessment (read by attribute), and `to_dict` gives the `anfu analyze` shapes."""
    import anfu

    conv = Conversation.from_texts([
        ("customer", "停电三天了还没人来修！你们到底管不管？"),
        ("agent", "非常抱歉，我马上为您查询抢修进度。"),
        ("customer", "我不管什么新规定，以前怎么办现在就怎么办！再拖我就打12398投诉，你给我等着！"),
    ], id="typed-1", industry="power")
    doc = anfu.load()(conv)
    for value, cls in ((doc.trajectory, TrajectoryResult), (doc.persona, PersonaResult),
                       (doc.negative_energy, NegativeEnergyResult), (doc.escalation, EscalationResult)):
        assert isinstance(value, cls), (value, cls)
        assert dataclasses.is_dataclass(value)
        with pytest.raises(dataclasses.FrozenInstanceError):
            value.__setattr__("type" if cls is PersonaResult else "flag" if cls is NegativeEnergyResult else
                              "level" if cls is EscalationResult else "peak", None)
    assert doc.trajectory.peak >= doc.trajectory.start
    assert isinstance(doc.persona.playbook, Playbook) and doc.persona.playbook.method
    assert all(isinstance(s, Signal) for s in doc.negative_energy.signals)
    assert doc.escalation.level >= 1 and doc.escalation.reasons
    assert all(isinstance(e, Event) for e in doc.events)
    out = doc.to_dict()
    assert out["trajectory"] == doc.trajectory.to_dict() and set(out["trajectory"]) == {"start", "peak", "end", "trend"}
    assert out["persona"]["playbook"]["speak"] == list(doc.persona.playbook.speak)
    assert out["escalation"] == {"level": doc.escalation.level, "label": doc.escalation.label,
                                 "reasons": list(doc.escalation.reasons)}
    assert set(out["negative_energy"]) == {"flag", "signals", "protocol"}
    assert json.loads(json.dumps(out, ensure_ascii=False)) == out
