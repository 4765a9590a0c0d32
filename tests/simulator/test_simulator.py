"""The simulated customer: calms with good handling, escalates with forbidden phrases and
brush-offs, for every persona; deterministic for a seed; never repeats a line; scored with the
质检 rubric with a better reply for each weak turn."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from anfu.errors import InputError, RulePackError, TrainingError
from anfu.glossary import PERSONAS
from anfu.qa import check_reply
from anfu.rules import list_packs
from anfu.simulator import Simulator, get_scenario, load_scenarios, load_simulator_pack, run_session
from anfu.simulator.scenarios import scenario_problems

from .scripts import BRUSH_OFF, FORBIDDEN, GOOD

SCENARIO_DIR = Path(__file__).resolve().parents[2] / "anfu" / "rules" / "zh_CN" / "scenarios"


def test_shipped_scenarios_cover_every_persona_and_industry() -> None:
    scenarios = load_scenarios()
    assert len(scenarios) >= 36
    personas = Counter(s.persona for s in scenarios)
    industries = Counter(s.industry for s in scenarios)
    assert {p: personas[p] for p in PERSONAS if personas[p] < 3} == {}
    packs = [name.split("/", 1)[1] for name in list_packs("industries")]
    assert {p: industries[p] for p in packs if industries[p] < 2} == {}
    for s in scenarios:
        assert s.hidden_facts and s.resolves and s.worsens and s.openings, s.id
        assert 1 <= s.intensity <= 4 and s.emotion not in ("neutral", "satisfied")


@pytest.mark.parametrize("persona", PERSONAS)
def test_good_handling_ends_calmer_and_scores_higher(persona: str, analyzer) -> None:
    scenario_id, good = GOOD[persona]
    scenario = get_scenario(scenario_id)
    assert scenario.persona == persona
    results = {name: run_session(scenario, replies, seed=11, analyzer=analyzer)
               for name, replies in (("good", good), ("forbidden", FORBIDDEN), ("brush_off", BRUSH_OFF))}
    good_sim = results["good"]
    for bad in ("forbidden", "brush_off"):
        assert good_sim.state_.intensity < results[bad].state_.intensity, (persona, bad)
        assert good_sim.summary()["score"] > results[bad].summary()["score"], (persona, bad)
    summary = good_sim.summary()
    assert summary["calmed"] is True and summary["outcome"] == "resolved"
    assert good_sim.lines_[-1].intensity < scenario.intensity
    assert all(not t.violation for t in good_sim.agent_turns_)


@pytest.mark.parametrize("scenario", [s.id for s in load_scenarios()])
def test_only_forbidden_phrases_end_escalated(scenario: str, analyzer) -> None:
    sim = run_session(get_scenario(scenario), FORBIDDEN, seed=5, analyzer=analyzer)
    summary = sim.summary()
    assert summary["outcome"] == "escalated" and summary["calmed"] is False
    assert all(t.violation and t.verdict == "violation" for t in sim.agent_turns_)
    assert sim.lines_[-1].emotion == "angry"


def test_brush_offs_and_ignoring_make_it_worse(analyzer) -> None:
    scenario = get_scenario("telecom_signal_weak")  # 随和型, opens at intensity 2
    sim = Simulator(scenario, seed=2, analyzer=analyzer)
    sim.start()
    turn, line = sim.reply("今天天气不错。")
    assert "ignored" in turn.signals and line.intensity > scenario.intensity
    turn, line = sim.reply("嗯。")
    # a brush-off (the pre-send check may also call it 敷衍打发 in context)
    assert "brush_off" in turn.signals and turn.verdict in ("weak", "violation") and turn.after >= turn.before
    feedback = [f for f in sim.summary()["feedback"] if f["scope"] == "turn"]
    assert all(f["better"] and not check_reply(f["better"]).violation for f in feedback)


def test_the_same_seed_and_replies_give_the_same_session(analyzer) -> None:
    scenario = get_scenario("ecom_refund_stuck")
    replies = GOOD["神经质型"][1]
    one = run_session(scenario, replies, seed=42, analyzer=analyzer).details()
    two = run_session(scenario, replies, seed=42, analyzer=analyzer).details()
    assert one == two
    others = {tuple(t["text"] for t in run_session(scenario, replies, seed=s, analyzer=analyzer).details()["turns"]
                    if t["speaker"] == "customer") for s in range(6)}
    assert len(others) > 1  # the seed varies the customer's words


def test_no_customer_line_is_said_twice_in_a_session(analyzer) -> None:
    scenario = get_scenario("bank_atm_swallow")  # 沉默型: the shortest lines
    replies = ["嗯。", "您好，非常抱歉。", "为了尽快帮您处理，方便说一下您哪天急着用卡吗？", "好的。", "我们会处理的。", "还有别的吗？"] * 4
    sim = run_session(scenario, replies, seed=3, analyzer=analyzer)
    texts = [line.text for line in sim.lines_]
    assert len(texts) == len(replies) + 1 and len(set(texts)) == len(texts)


def test_hidden_facts_must_be_asked_before_the_solution_counts(analyzer) -> None:
    scenario = get_scenario("power_outage_elderly")
    sim = Simulator(scenario, seed=1, analyzer=analyzer)
    sim.start()
    turn, line = sim.reply("我马上为您派抢修人员，2小时内到达现场。")
    assert "resolves_early" in turn.signals and not sim.state_.resolved
    assert any(n["code"] == "resolves_early" for n in turn.notes)
    turn, line = sim.reply("请问家里有老人或者特殊情况吗？")
    assert "discovery" in turn.signals and "制氧机" in line.text
    turn, line = sim.reply("明白了，我马上为您加派抢修人员，1小时内到达，先保障老人用电。")
    assert "resolves" in turn.signals and sim.state_.resolved


def test_scenario_aggravations_worsen(analyzer) -> None:
    scenario = get_scenario("logistics_delay_medicine")
    sim = Simulator(scenario, seed=4, analyzer=analyzer)
    sim.start()
    turn, line = sim.reply("现在是旺季，延误是正常的，请您耐心等。")
    assert "worsens" in turn.signals and line.intensity == 4
    assert any(n["code"] == "worsens" for n in turn.notes)


def test_score_blends_the_quality_score_and_the_outcome(analyzer) -> None:
    scenario_id, good = GOOD["刚强型"]
    sim = run_session(get_scenario(scenario_id), good, seed=9, analyzer=analyzer)
    summary = sim.summary()
    quality = analyzer(sim._conversation()).quality_score
    scoring = load_simulator_pack().scoring
    expected = round(scoring["quality_weight"] * quality + scoring["outcome_weight"] * scoring["outcome_points"]["resolved"])
    assert summary["score"] == expected
    assert 0 <= summary["score"] <= 100
    # a session that listens and asks but never offers a solution stays ongoing, between good and bad
    mid = run_session(get_scenario(scenario_id), [good[0], good[1], "我把您说的情况都记下来了，请问停电是从哪天开始的？"],
                      seed=9, analyzer=analyzer).summary()
    assert mid["outcome"] == "ongoing" and 0 < mid["score"] < summary["score"]


def test_feedback_per_turn_with_a_better_reply_for_each_weak_turn(analyzer) -> None:
    scenario_id, good = GOOD["好斗型"]
    replies = [good[0], "这是我们公司的规定。", "嗯。", good[2]]
    summary = run_session(get_scenario(scenario_id), replies, seed=1, analyzer=analyzer).summary()
    turns = [f for f in summary["feedback"] if f["scope"] == "turn"]
    assert [f["turn"] for f in turns] == [1, 2, 3, 4]
    assert turns[0]["verdict"] == "good" and turns[0]["better"] is None
    assert turns[1]["verdict"] == "violation" and "服务忌语" in turns[1]["notes"][0]
    for weak in turns[1:3]:
        assert weak["better"] and not check_reply(weak["better"]).violation
    assert any(f["scope"] == "session" and f["rule_id"].startswith("quality.") for f in summary["feedback"]) \
        or all(f["scope"] == "turn" for f in summary["feedback"])


def test_skills_of_a_session(analyzer) -> None:
    scenario_id, good = GOOD["顽固型"]
    skills = run_session(get_scenario(scenario_id), good, seed=0, analyzer=analyzer).skills()
    assert skills["discovery"] == 1.0 and skills["solution"] == 1.0 and skills["compliance"] == 1.0
    assert skills["persona"] == 1.0 and skills["calming"] == 1.0
    bad = run_session(get_scenario(scenario_id), FORBIDDEN, seed=0, analyzer=analyzer).skills()
    assert bad["compliance"] == 0.0 and bad["calming"] == 0.0 and bad["discovery"] == 0.0


def test_bad_replies_are_coded_errors(analyzer) -> None:
    sim = Simulator(get_scenario("generic_survey_spam"), seed=0, analyzer=analyzer)
    sim.start()
    with pytest.raises(InputError) as err:
        sim.reply("   ")
    assert err.value.code == "AF004"
    with pytest.raises(InputError) as err:
        sim.reply(12)
    assert err.value.code == "AF003"
    sim.reply("您好，请问有什么可以帮您？")
    sim.summary()
    with pytest.raises(TrainingError) as err:
        sim.reply("还有别的吗？")
    assert err.value.code == "AF704"


def test_unknown_scenario_lists_the_known_ones() -> None:
    with pytest.raises(TrainingError) as err:
        get_scenario("no_such_scenario")
    assert err.value.code == "AF702" and "power_outage_elderly" in err.value.message


def test_the_validator_names_each_problem() -> None:
    data = yaml.safe_load((SCENARIO_DIR / "power_outage_elderly.yaml").read_text(encoding="utf-8"))
    assert scenario_problems(data, expected_id="power_outage_elderly") == []
    broken = {**data, "persona": "暴躁型", "cause": "delivery", "opening": {**data["opening"], "intensity": 7},
              "resolves": [{**data["resolves"][0], "requires": ["nope"], "patterns": ["(unclosed"]}]}
    problems = "\n".join(scenario_problems(broken))
    for expected in ("persona must be one of", "cause 'delivery' must be one of the power pack's causes",
                     "opening.intensity", "unknown hidden fact 'nope'", "bad regex"):
        assert expected in problems
    assert any("industry" in p for p in scenario_problems({**data, "industry": "space"}))
    assert scenario_problems({**data, "id": "other"}, expected_id="power_outage_elderly")


def test_a_folder_with_a_bad_scenario_is_refused(tmp_path: Path) -> None:
    data = yaml.safe_load((SCENARIO_DIR / "power_outage_elderly.yaml").read_text(encoding="utf-8"))
    (tmp_path / "power_outage_elderly.yaml").write_text(yaml.safe_dump({**data, "persona": "x"}, allow_unicode=True),
                                                        encoding="utf-8")
    with pytest.raises(RulePackError) as err:
        load_scenarios(tmp_path)
    assert err.value.code == "AF301"
    with pytest.raises(TrainingError) as err:
        load_scenarios(tmp_path / "empty")
    assert err.value.code == "AF701"
    (tmp_path / "power_outage_elderly.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert [s.id for s in load_scenarios(tmp_path)] == ["power_outage_elderly"]


def test_findings_that_are_no_violation_do_not_count_as_brushing_off(analyzer) -> None:
    sim = Simulator(get_scenario("power_outage_elderly"), seed=0, analyzer=analyzer)
    sim.start()
    consider = [{"rule_id": "context.dismissing", "category": "dismissing", "start": 0, "end": 4, "message": "…"}]
    calm, _ = sim._signals("您好，非常抱歉让您久等了，您慢慢说。", False, consider)
    assert not calm["brush_off"] and calm["apology"]
    hot, notes = sim._signals("您好，非常抱歉让您久等了，您慢慢说。", True, consider)
    assert hot["brush_off"] and hot["violation"] and notes[0]["code"] == "violation"
