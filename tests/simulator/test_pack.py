"""The simulator pack is validated like every pack: `anfu check-rules` names each problem."""

from __future__ import annotations

from pathlib import Path

import yaml

from anfu.rules import RULES_ROOT, check_all
from anfu.simulator.bank import load_simulator_pack, validate_simulator


def test_the_shipped_pack_is_valid_and_complete() -> None:
    data = yaml.safe_load((RULES_ROOT / "zh_CN" / "simulator.yaml").read_text(encoding="utf-8"))
    assert validate_simulator(data) == []
    pack = load_simulator_pack()
    assert len(pack.personas) == 9
    for voice in pack.personas.values():
        assert all(len(voice.lines[state]) >= 3 for state in ("hot", "tense", "easing", "calm", "escalated"))
    assert pack.emotion_lines("angry", 4) and pack.emotion_lines("anxious", 2) and pack.emotion_lines("neutral", 0)


def test_a_broken_pack_is_reported_by_check_rules(tmp_path: Path) -> None:
    data = yaml.safe_load((RULES_ROOT / "zh_CN" / "simulator.yaml").read_text(encoding="utf-8"))
    data["scoring"]["quality_weight"] = 0.9
    data["dynamics"]["apology"] = 1.0  # calming must not heat
    del data["personas"]["沉默型"]["lines"]["calm"]
    data["signals"]["time"] = ["@no_such_pattern"]
    data["emotions"]["furious"] = {"high": ["!"]}
    (tmp_path / "simulator.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    problems = "\n".join(check_all(rules_dir=tmp_path)["simulator"])
    for expected in ("quality_weight + scoring.outcome_weight must be 1", "dynamics.apology",
                     "personas.沉默型.lines.calm", "unknown shared pattern @no_such_pattern",
                     "unknown emotion 'furious'"):
        assert expected in problems, expected
