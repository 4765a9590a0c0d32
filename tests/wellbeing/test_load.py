"""The emotional-load index on realistic shifts: the formula of wellbeing.yaml, hard contacts,
back-to-back runs, CSAT lows, shifts by local day, rotation suggestions, a configurable pack."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from anfu.errors import RulePackError
from anfu.rules import RULES_ROOT, check_all
from anfu.wellbeing import (ContactFacts, CustomerMoment, contact_facts, contact_loads, is_hard, load_index,
                            load_wellbeing_rules, rotation_suggestions, shift_load, shifts)

SHIFT_START = datetime(2026, 3, 2, 0, 30, tzinfo=timezone.utc)  # 08:30 in Shanghai


def contact(cid: str, start: datetime, intensities: list[int], gaps: list[float], *, agent: int = 1,
            abusive: tuple[int, ...] = (), **kw) -> ContactFacts:
    """A chat: the customer's messages at `intensities`, the agent answering half-way through each gap."""
    times = [start]
    for gap in gaps:
        times.append(times[-1] + timedelta(minutes=gap))
    moments = tuple(CustomerMoment(t, "angry" if i >= 3 else "dissatisfied" if i == 2 else "neutral", i, k in abusive)
                    for k, (t, i) in enumerate(zip(times, intensities)))
    agent_times = [a + (b - a) / 2 for a, b in zip(times, times[1:])] + [times[-1] + timedelta(minutes=1)]
    return ContactFacts(cid, agent, times[0], agent_times[-1], moments, tuple(sorted(times + agent_times)), **kw)


def calm_shift(agent: int = 1) -> list[ContactFacts]:
    """Twenty routine contacts: questions about bills, a mildly annoyed customer now and then."""
    out = []
    for n in range(20):
        start = SHIFT_START + timedelta(minutes=22 * n)
        out.append(contact(f"calm{n}", start, [1 if n % 4 else 2, 0], [4], agent=agent, csat=5 if n % 3 == 0 else None))
    return out


def hard_shift(agent: int = 2) -> list[ContactFacts]:
    """A storm morning: outage callers one after another, some abusive, escalations, two CSAT lows."""
    out = []
    start = SHIFT_START
    for n in range(12):
        out.append(contact(f"hard{n}", start, [4, 4, 3, 3], [3, 3, 3], agent=agent,
                           abusive=(0,) if n % 3 == 0 else (), escalation_level=2 if n % 2 else 1,
                           negative_energy=n % 4 == 0, csat=1 if n in (3, 7) else None))
        start = out[-1].ended_at + timedelta(minutes=2)
    return out


def test_a_calm_shift_stays_green() -> None:
    load = shift_load(calm_shift())
    assert load.level == "green" and load.index < 20
    assert load.hard_contacts == 0 and load.back_to_back == 0 and load.escalations == 0
    assert load.shift == date(2026, 3, 2)


def test_a_storm_shift_is_red_and_asks_for_rotation() -> None:
    rules = load_wellbeing_rules()
    load = shift_load(hard_shift())
    assert load.level == "red" and load.index >= rules["rotation"]["min_index"]
    assert load.hard_contacts == 12 and load.back_to_back == 11 and load.csat_lows == 2
    assert load.negative_energy_contacts == 3 and load.escalations == 12
    suggestions = rotation_suggestions([shift_load(calm_shift()), load])
    assert [s.agent_id for s in suggestions] == [2]
    assert suggestions[0].break_minutes == rules["rotation"]["break_minutes"] and "热线" in suggestions[0].reason


def test_the_documented_formula() -> None:
    rules = load_wellbeing_rules()
    w = rules["weights"]
    c = contact("x", SHIFT_START, [4, 2, 0], [6, 20], abusive=(0,), escalation_level=3, negative_energy=True, csat=2)
    (loaded,) = contact_loads([c])
    # angry from the first message to the next message (the agent's, 3 minutes later); abusive too
    assert loaded.angry_minutes == pytest.approx(3.0) and loaded.abusive_minutes == pytest.approx(3.0)
    expected = (w["angry_minute"] * 3 + w["abusive_minute"] * 3 + w["negative_energy_contact"]
                + w["escalation"][3] + w["csat_low"])
    assert loaded.points == pytest.approx(expected)
    assert load_index(expected) == round(100 * (1 - math.exp(-expected / rules["scale"])))
    assert shift_load([c]).index == load_index(expected)


def test_gaps_and_contacts_are_capped() -> None:
    rules = load_wellbeing_rules()
    c = contact("long", SHIFT_START, [4, 4], [300])  # an angry message, then silence for five hours
    (loaded,) = contact_loads([c])
    assert loaded.angry_minutes <= rules["max_gap_minutes"] + rules["last_message_minutes"]
    many = contact("marathon", SHIFT_START, [4] * 20, [9] * 19)
    assert contact_loads([many])[0].angry_minutes == rules["minutes_cap_per_contact"]


def test_back_to_back_needs_two_hard_contacts_close_together() -> None:
    first = contact("a", SHIFT_START, [4, 3], [5])
    soon = contact("b", first.ended_at + timedelta(minutes=3), [3, 2], [5])
    later = contact("c", soon.ended_at + timedelta(minutes=45), [4, 3], [5])
    easy = contact("d", later.ended_at + timedelta(minutes=1), [1, 0], [2])
    loads = contact_loads([later, easy, first, soon])  # order of arrival does not matter
    assert [c.contact_id for c in loads] == ["a", "b", "c", "d"]
    assert [c.back_to_back for c in loads] == [False, True, False, False]


def test_hard_contact_rules() -> None:
    assert is_hard(contact("a", SHIFT_START, [3], []), load_wellbeing_rules())
    assert is_hard(contact("b", SHIFT_START, [1], [], abusive=(0,)), load_wellbeing_rules())
    assert is_hard(contact("c", SHIFT_START, [1], [], csat=1), load_wellbeing_rules())
    assert not is_hard(contact("d", SHIFT_START, [2, 1], [3], csat=4), load_wellbeing_rules())


def test_shifts_are_local_days_per_agent() -> None:
    late = contact("late", datetime(2026, 3, 2, 15, 50, tzinfo=timezone.utc), [3, 2], [5], agent=1)  # 23:50 local
    after = contact("after", datetime(2026, 3, 2, 16, 10, tzinfo=timezone.utc), [3, 2], [5], agent=1)  # 00:10 next day
    other = contact("other", datetime(2026, 3, 2, 16, 10, tzinfo=timezone.utc), [1], [], agent=2)
    found = shifts([late, after, other])
    assert [(s.agent_id, s.shift.isoformat(), s.contacts) for s in found] == [
        (1, "2026-03-03", 1), (2, "2026-03-03", 1), (1, "2026-03-02", 1)]


def test_the_pack_is_configurable(tmp_path: Path) -> None:
    data = yaml.safe_load((RULES_ROOT / "zh_CN" / "wellbeing.yaml").read_text(encoding="utf-8"))
    data["weights"]["angry_minute"] = 3.0
    data["scale"] = 30
    (tmp_path / "wellbeing.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    strict = load_wellbeing_rules(str(tmp_path))
    mixed = calm_shift() + [contact("angry", SHIFT_START + timedelta(hours=6), [4, 3, 1], [4, 4])]
    assert 0 < shift_load(mixed).index < shift_load(mixed, strict).index
    data["levels"] = {"amber": 80, "red": 50}
    data["weights"]["escalation"] = {1: 2}
    (tmp_path / "wellbeing.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    problems = check_all(rules_dir=tmp_path).get("wellbeing", [])
    assert any("levels.amber must be below" in p for p in problems)
    assert any("weights.escalation" in p for p in problems)
    load_wellbeing_rules.cache_clear()
    with pytest.raises(RulePackError):
        load_wellbeing_rules(str(tmp_path))


def test_facts_from_stored_records() -> None:
    t = SHIFT_START
    conv = SimpleNamespace(id=9, agent_id=4, escalation_level=1)
    msgs = [SimpleNamespace(seq=i + 1, speaker=sp, sent_at=t + timedelta(minutes=2 * i))
            for i, sp in enumerate(["customer", "agent", "customer", "agent"])]
    # the live service stores one assessment per turn over the window that ends with it
    assessments = [
        SimpleNamespace(id=1, upto_seq=1, escalation_level=0, data={"turns": [
            {"speaker": "customer", "emotion": "angry", "intensity": 4, "abusive": True}]}),
        SimpleNamespace(id=2, upto_seq=3, escalation_level=2, data={"turns": [
            {"speaker": "customer", "emotion": "angry", "intensity": 4, "abusive": True},
            {"speaker": "agent"}, {"speaker": "customer", "emotion": "neutral", "intensity": 1}],
            "negative_energy": {"flag": True}}),
    ]
    facts = contact_facts(conv, msgs, assessments, csat=2)
    assert facts is not None and facts.agent_id == 4 and facts.contact_id == "9"
    assert [(m.intensity, m.abusive) for m in facts.moments] == [(4, True), (1, False)]
    assert facts.escalation_level == 2 and facts.negative_energy and facts.csat == 2
    assert contact_loads([facts])[0].angry_minutes == pytest.approx(2.0)
    assert contact_facts(conv, [], []) is None
