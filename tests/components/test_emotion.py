"""anfu.emotion.v1: model + service lexicon (sarcasm, negation, degree, urgency) and the component contract."""

from __future__ import annotations

import pytest

from anfu.components.emotion import Emotion
from anfu.components.emotion_lexicon import Lexicon, validate_lexicon
from anfu.components.normalize import Normalizer
from anfu.errors import ModelError
from anfu.glossary import EMOTIONS
from anfu.rules import load_pack
from anfu.testing import check_component
from anfu.types import Assessment, Conversation, Trigger, Utterance


@pytest.fixture(scope="module")
def emotion() -> Emotion:
    return Emotion()


def analyse(component: Emotion, text: str, *, threat: bool | None = None, insult: bool | None = None):  # noqa: ANN201
    doc = Assessment.start(Utterance(text=text))
    Normalizer()(doc)
    doc.turns[0].escalation_risk = threat
    doc.turns[0].abusive = insult
    component(doc)
    return doc.turns[0]


def test_contract(emotion: Emotion) -> None:
    check_component(emotion)


def test_declares_what_it_reads() -> None:
    assert "turn.norm" in Emotion.requires
    assert {"turn.escalation_risk", "turn.abusive"} <= set(Emotion.reads)


def test_scores_intensity_valence_shapes(emotion: Emotion) -> None:
    turn = analyse(emotion, "这个月电费怎么这么高？是不是电表有问题")
    assert set(turn.scores) == set(EMOTIONS)
    assert sum(turn.scores.values()) == pytest.approx(1.0, abs=1e-3)
    assert all(round(v, 4) == v for v in turn.scores.values())
    assert turn.emotion == max(turn.scores, key=turn.scores.get) == "doubtful"
    assert 0 <= turn.intensity <= 4 and -1.0 <= turn.valence <= 0.0


def test_sarcasm_is_not_satisfaction(emotion: Emotion) -> None:
    turn = analyse(emotion, "你们效率真高啊，三天了还没人来修…")
    assert turn.emotion in ("dissatisfied", "angry")
    assert any(t.kind == "emotion" and t.rule_id == "lexicon.sarcasm" and t.text == "效率真高" for t in turn.triggers)
    plain = analyse(emotion, "你们效率真高，当天就修好了，谢谢")
    assert plain.emotion == "satisfied" and plain.valence > 0


def test_negated_praise_is_a_complaint(emotion: Emotion) -> None:
    turn = analyse(emotion, "这次上门维修的服务我不太满意")
    assert turn.emotion == "dissatisfied"
    assert any(t.kind == "negation" and "满意" in t.text for t in turn.triggers)


def test_negated_anger_is_calm(emotion: Emotion) -> None:
    turn = analyse(emotion, "我没生气，就是想问问维修进度")
    assert turn.emotion != "angry"
    assert turn.intensity <= 2


def test_urgency_is_anxious_with_spans(emotion: Emotion) -> None:
    text = "家里有老人要吸氧，停电了能不能快点来修"
    turn = analyse(emotion, text)
    assert turn.emotion == "anxious"
    cues = [t for t in turn.triggers if t.kind == "emotion"]
    assert cues and all(text[t.start:t.end] == t.text for t in cues)
    assert {"家里有老人", "能不能快点"} <= {t.text for t in cues}


def test_degree_adverbs_raise_intensity(emotion: Emotion) -> None:
    mild = analyse(emotion, "有点失望")
    strong = analyse(emotion, "真的非常非常失望，太让人寒心了")
    assert mild.emotion == strong.emotion == "disappointed"
    assert strong.intensity > mild.intensity
    assert any(t.kind == "intensity" and t.label == "degree" for t in strong.triggers)


def test_threat_or_insult_raise_intensity_to_three(emotion: Emotion) -> None:
    text = "这个问题我已经反映过了，我要打12345"
    calm = analyse(emotion, text)
    threat = analyse(emotion, text, threat=True)
    assert threat.intensity >= 3 and threat.intensity >= calm.intensity
    assert threat.emotion != "neutral"
    insult = analyse(emotion, "你们客服都是废物", insult=True)
    assert insult.intensity >= 3 and insult.emotion in ("angry", "dissatisfied")


def test_upstream_risk_triggers_explain_intensity(emotion: Emotion) -> None:
    doc = Assessment.start(Utterance(text="再不给我解决我就去消协投诉"))
    Normalizer()(doc)
    turn = doc.turns[0]
    turn.escalation_risk, turn.abusive = True, False
    turn.triggers = [Trigger("escalation", "complaint", 9, 13, "消协投诉", "risk.test")]
    emotion(doc)
    assert any(t.kind == "intensity" and t.label == "threat" and t.text == "消协投诉" for t in turn.triggers)
    assert any(t.kind == "escalation" for t in turn.triggers), "upstream triggers are kept"


def test_agent_turns_untouched(emotion: Emotion) -> None:
    conv = Conversation.from_texts([("customer", "宽带断了两天了，怎么还没人来修"),
                                    ("agent", "非常抱歉，我马上为您催办"),
                                    ("customer", "好的，谢谢"),
                                    ("agent", "师傅刚给您修好了，您试一下"),
                                    ("customer", "好了，能上网了，谢谢")])
    doc = Assessment.start(conv)
    Normalizer()(doc)
    emotion(doc)
    for agent in (doc.turns[1], doc.turns[3]):
        assert agent.emotion is None and agent.scores is None and agent.intensity is None and not agent.triggers
    # LABELS.md: "好的，谢谢" after a promise is neutral; thanks after a fix is satisfied
    assert [doc.turns[i].emotion for i in (0, 2, 4)] == ["dissatisfied", "neutral", "satisfied"]


def test_traditional_and_fullwidth_text(emotion: Emotion) -> None:
    turn = analyse(emotion, "電費怎麼這麼高？是不是搞錯了")
    assert turn.emotion == "doubtful"


def test_missing_weights_af201(tmp_path) -> None:  # noqa: ANN001
    with pytest.raises(ModelError) as err:
        Emotion(weights=str(tmp_path / "nowhere.npz"))
    assert err.value.code == "AF201"


def test_shipped_lexicon_is_valid() -> None:
    assert validate_lexicon(load_pack("lexicon")) == []


def test_lexicon_validator_reports_problems() -> None:
    problems = validate_lexicon({"version": 1, "labels": {"furious": {"phrases": ["气"]},
                                                          "angry": {"weight": 9, "regexes": ["(未闭合"]}},
                                 "negation": {"flips": {"satisfied": "happy"}}, "sarcasm": {"label": "x"}})
    text = " ".join(problems)
    for fragment in ("furious", "weight", "bad regex", "flips", "sarcasm.label"):
        assert fragment in text


def test_lexicon_from_custom_rules_dir(tmp_path) -> None:  # noqa: ANN001
    (tmp_path / "lexicon.yaml").write_text(
        "version: 1\nlabels:\n  anxious:\n    weight: 2\n    phrases: [火烧眉毛]\n", encoding="utf-8")
    scan = Lexicon.from_pack(tmp_path).scan("这事火烧眉毛了")
    assert scan.boosts == {"anxious": 2.0}
    assert [c.text for c in scan.cues] == ["火烧眉毛"]


def test_broken_lexicon_pack_af301(tmp_path) -> None:  # noqa: ANN001
    from anfu.errors import RulePackError

    (tmp_path / "lexicon.yaml").write_text(
        "version: 1\nlabels:\n  furious:\n    phrases: [气炸了]\n", encoding="utf-8")
    with pytest.raises(RulePackError) as err:
        Emotion(rules_dir=str(tmp_path))
    assert err.value.code == "AF301" and "furious" in err.value.message


def test_keeps_upstream_negation_triggers_and_is_idempotent(emotion: Emotion) -> None:
    doc = Assessment.start(Utterance(text="我不是要投诉，就是对处理结果不太满意"))
    Normalizer()(doc)
    turn = doc.turns[0]
    turn.escalation_risk, turn.abusive = False, False
    upstream = Trigger("negation", "negated", 0, 5, "我不是要投", "risk.negation")
    turn.triggers = [upstream]
    emotion(doc)
    first = list(turn.triggers)
    emotion(doc)
    assert turn.triggers == first and upstream in turn.triggers
    assert turn.emotion == "dissatisfied"
