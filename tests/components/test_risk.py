"""anfu.risk.v1: escalation-risk threats with negation, tense and conditions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from anfu.components.risk import EscalationRisk, validate_escalation
from anfu.rules import load_pack
from anfu.testing import check_component
from anfu.text.normalize import normalize
from anfu.training.data import is_heldout
from anfu.types import Assessment, Conversation, Utterance

CORPUS = Path(__file__).resolve().parents[2] / "corpus" / "service"


@pytest.fixture(scope="module")
def risk() -> EscalationRisk:
    return EscalationRisk()


def _assess(risk: EscalationRisk, text: str):  # noqa: ANN202
    return risk.assess(normalize(text), text)


THREATS = [
    ("停电三天了还没人来修，再不处理我就打12345投诉！", {"regulator", "complaint"}),
    ("如果明天还不来修我就投诉", {"complaint"}),
    ("等着收律师函吧", {"legal"}),
    ("我已经录音了，等着上新闻吧", {"legal", "media"}),
    ("让大家都看看你们公司是怎么对待老用户的", {"media"}),
    ("叫你们领导出来跟我说！", {"superior"}),
    ("我要你们售后经理的电话，这事得他来处理", {"superior"}),
    ("再乱扣费我就去工信部申诉", {"regulator", "complaint"}),
    ("不给退款就法院见", {"legal"}),
    ("你们不退我就给差评，还要发到小红书上", {"review", "media"}),
    ("这事我要找记者曝光", {"media"}),
    ("本来不想投诉的，但你们拖了一个月", {"complaint"}),
    ("这不是第一次投诉了，还是没人管", {"complaint"}),
    ("问题是解决了，但我还是要投诉你们的态度", {"complaint"}),
    ("我要去消協反映，你們等著吧", {"regulator"}),  # Traditional characters
    ("你们不冻结的话我马上去派出所报案", {"police"}),
]


@pytest.mark.parametrize("text,channels", THREATS)
def test_threats(risk: EscalationRisk, text: str, channels: set[str]) -> None:
    risky, triggers = _assess(risk, text)
    assert risky, text
    found = {t.label for t in triggers if t.kind == "escalation"}
    assert channels <= found, (text, found)
    for t in triggers:
        assert text[t.start:t.end] == t.text


NOT_THREATS = [
    ("我不是要投诉，就是想问问什么时候来电", "negated"),
    ("放心，我不会给差评的", "negated"),
    ("我没打算投诉，只是想快点修好", "negated"),
    ("上次投诉的事已经解决了，今天想问下电费", "past_resolved"),
    ("之前投诉过，已经处理好了，谢谢", "past_resolved"),
    ("我要表扬不是投诉，你们的师傅很负责", "negated"),
    ("问题已经解决了，顺便问一下投诉渠道在哪里", "neutral_query"),
    ("之前说要给差评，现在不会了，处理得挺好的", "past_resolved"),
    ("我本来准备去12315的，还好你们主动联系我处理了，谢谢", "past_resolved"),
    ("我要投诉……开玩笑的，是要表扬你们的装机师傅", "past_resolved"),
    ("差评我就不给了，希望你们以后改进", "negated"),
]


@pytest.mark.parametrize("text,reason", NOT_THREATS)
def test_negated_and_past_mentions_explain_themselves(risk: EscalationRisk, text: str, reason: str) -> None:
    risky, triggers = _assess(risk, text)
    assert not risky, text
    assert any(t.kind == "negation" and t.label == reason for t in triggers), (text, triggers)
    assert not any(t.kind == "escalation" for t in triggers)


@pytest.mark.parametrize("text", [
    "停电一星期了还没来电",          # 一星 inside 一星期 is not a rating
    "我的账号是1234567890",          # 12345 inside a number is not the hotline
    "我家住高层，电梯也停了",
    "多媒体教室没电了",
    "家里的一键报警器网断了还能用吗",
    "电费怎么这么高？是不是电表有问题",
])
def test_lookalikes_are_not_threats(risk: EscalationRisk, text: str) -> None:
    assert _assess(risk, text) == (False, [])


def test_neutral_query_is_a_threat_in_an_unresolved_turn(risk: EscalationRisk) -> None:
    risky, _ = _assess(risk, "修了三次都没修好，你们的投诉电话是多少？")
    assert risky


def test_only_customer_turns_and_offsets(risk: EscalationRisk) -> None:
    conv = Conversation.from_texts([
        ("customer", "再不来修我就去12345投诉！"),
        ("agent", "请您不要投诉，我们马上安排。"),
        ("customer", "好的，谢谢。"),
    ])
    doc = risk(Assessment.start(conv))
    assert [t.escalation_risk for t in doc.turns] == [True, None, False]
    assert doc.turns[1].triggers == []
    assert doc.turns[0].norm  # filled when the normaliser did not run
    for t in doc.turns[0].triggers:
        assert doc.turns[0].text[t.start:t.end] == t.text


def test_contract() -> None:
    check_component(EscalationRisk())


def test_pack_is_valid_and_validator_catches_problems() -> None:
    assert validate_escalation(load_pack("escalation")) == []
    broken = dict(load_pack("escalation"))
    broken["channels"] = {"media": {"patterns": ["(unclosed"]}}
    assert any("not a valid regex" in p for p in validate_escalation(broken))
    assert validate_escalation({}) != []


def _heldout(field: str) -> list[dict]:
    rows = []
    for path in sorted(CORPUS.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                if field in row and is_heldout(row["id"]):
                    rows.append(row)
    return rows


def test_corpus_heldout_escalation_scores(risk: EscalationRisk) -> None:
    """Regression guard: a broken pack fails here (held-out split of our own corpus)."""
    rows = _heldout("escalation_risk")
    assert len(rows) >= 50, "the corpus held-out split is too small to score"
    tp = fp = fn = 0
    for row in rows:
        predicted = risk(Assessment.start(Utterance(text=row["text"]))).turns[0].escalation_risk
        tp += predicted and row["escalation_risk"]
        fp += predicted and not row["escalation_risk"]
        fn += row["escalation_risk"] and not predicted
    recall, precision = tp / max(tp + fn, 1), tp / max(tp + fp, 1)
    assert recall >= 0.9 and precision >= 0.85, (recall, precision)


# --- generalisation: social-media forms, regulators per industry, indirect threats, narration

@pytest.mark.parametrize("text,channel", [
    ("@工信微报 联通乱扣费三个月了，求扩散", "regulator"),
    ("@央视新闻 @中国消费者报 看看这家快递公司怎么对待消费者的", "media"),
    ("#电信乱扣费# 每个月莫名其妙多扣二十块", "media"),
    ("【投诉】某宝商家拒不退款", "media"),  # a public post's tag
    ("再不给解决我就去黑猫投诉发帖", "regulator"),
    ("电压天天不稳，我要打12398找能源局", "regulator"),
    ("携号转网一直被卡，我去12300申诉", "regulator"),
    ("乱收年费，我明天就打12378", "regulator"),
    ("包裹丢了你们不管，我去12305投诉你们", "regulator"),
    ("这事我不会善罢甘休的，咱们走着瞧", "complaint"),
    ("用这家宽带的朋友们都要注意了，千万别续约", "media"),
    ("明天不给我答复，我就去找你们分行行长", "superior"),
    ("这件事我会向你们上级反映", "superior"),
    ("再推脱我就去315平台曝光你们", "regulator"),
])
def test_generalised_threats(risk: EscalationRisk, text: str, channel: str) -> None:
    risky, triggers = _assess(risk, text)
    assert risky, text
    assert channel in {t.label for t in triggers if t.kind == "escalation"}, (text, triggers)


@pytest.mark.parametrize("text", [
    "宽带三天两头断，投诉后也没人上门修",
    "经多渠道投诉后，你们才打电话过来说改套餐",
    "投诉了三次都没用，还是天天断网",
    "投诉电话都不知道打了几个了，每次都是等回复",
    "12345打了好几次，每次都转给街道",
    "卡被盗刷了两万，我已经报警了，你们能先帮我冻结吗",
    "对方说要报警，我不知道怎么办",
    "这种垃圾短信严重违背工信部有关规定，请你们处理",
    "12345的小姑娘太给力了，帮我协调好了",
])
def test_narrated_and_incidental_mentions_are_not_threats(risk: EscalationRisk, text: str) -> None:
    risky, triggers = _assess(risk, text)
    assert not risky, (text, triggers)
    assert triggers and all(t.kind == "negation" for t in triggers)


@pytest.mark.parametrize("text", [
    "投诉了三次都没用，这次我要去工信部",      # narration, then a new channel
    "我已经在12378投诉了，你们自己看着办",      # an open complaint with a regulator stays a threat
    "上次投诉过了还是没改，我要找你们总经理",
])
def test_narration_does_not_hide_a_new_threat(risk: EscalationRisk, text: str) -> None:
    assert _assess(risk, text)[0], text


def test_price_numbers_are_not_315(risk: EscalationRisk) -> None:
    assert _assess(risk, "这个套餐一个月315元，是不是太贵了") == (False, [])
