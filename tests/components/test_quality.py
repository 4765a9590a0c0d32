"""anfu.quality.v1: SOP rubric + pre-send findings → quality score and findings."""

from __future__ import annotations

from anfu.components.normalize import Normalizer
from anfu.components.presend import PreSend
from anfu.components.quality import Quality
from anfu.testing import check_component
from anfu.types import Assessment, Conversation, Utterance

GOOD = Conversation.from_texts([
    ("customer", "停电三天了还没人来修！！！你们到底管不管？"),
    ("agent", "您好，非常抱歉给您带来这么大的不便。请问您家的户号是多少？我马上为您查询抢修进度。"),
    ("customer", "户号是3012456，赶紧的。"),
    ("agent", "跟您确认一下，是整栋楼都没电，对吗？抢修班组已经出发，预计下午两点前恢复供电，我10分钟内给您回电确认。"),
    ("customer", "好，那我等你电话。"),
    ("agent", "好的，感谢您的耐心，请问还有其他需要帮您的吗？"),
], id="good")

BAD = Conversation.from_texts([
    ("customer", "停电三天了还没人来修！！！你们到底管不管？"),
    ("agent", "这个问题您去找供电所，我们不管。"),
    ("customer", "你们这是什么态度！我要投诉！"),
    ("agent", "我已经说了三遍了，您爱投诉就去投诉吧。"),
], id="bad")


def _run(conv: Conversation, presend: bool = True) -> Assessment:
    doc = Assessment.start(conv)
    Normalizer()(doc)
    if presend:
        PreSend()(doc)
    return Quality()(doc)


def test_contract() -> None:
    def prepare(doc):  # noqa: ANN001, ANN202
        assessment = Assessment.start(doc)
        Normalizer()(assessment)
        PreSend()(assessment)
        return assessment

    check_component(Quality(), prepare=prepare)


def test_good_conversation_scores_high() -> None:
    doc = _run(GOOD)
    assert doc.quality_score is not None and doc.quality_score >= 90
    assert doc.quality_findings == []


def test_bad_conversation_scores_low_with_the_right_findings() -> None:
    doc = _run(BAD)
    assert doc.quality_score is not None and doc.quality_score <= 30
    ids = {f.rule_id for f in doc.quality_findings}
    assert {"quality.no_greeting", "quality.no_apology", "quality.no_commitment",
            "quality.forbidden_phrase"} <= ids
    forbidden = {f.category for f in doc.quality_findings if f.rule_id == "quality.forbidden_phrase"}
    assert {"buck_passing", "impatience", "dismissing"} <= forbidden
    apology = next(f for f in doc.quality_findings if f.rule_id == "quality.no_apology")
    assert (apology.start, apology.end) == (0, len(BAD.turns[1].text))  # the first reply to the upset customer
    assert all(f.message for f in doc.quality_findings)
    assert doc.to_dict()["quality_findings"][0]["rule_id"].startswith("quality.")


def test_apology_needed_only_when_customer_is_upset() -> None:
    calm = Conversation.from_texts([
        ("customer", "请问怎么办理宽带提速？"),
        ("agent", "您好，请问您的宽带账号是多少？我帮您查询可以办理的套餐，今天就能生效。感谢您的来电。"),
    ])
    doc = _run(calm)
    assert "quality.no_apology" not in {f.rule_id for f in doc.quality_findings}


def test_reads_intensity_and_emotion_when_present() -> None:
    conv = Conversation.from_texts([("customer", "我想查一下话费"), ("agent", "您好，请问您的手机号是多少？我帮您查询，一分钟内告诉您。")])
    doc = Assessment.start(conv)
    Normalizer()(doc)
    PreSend()(doc)
    doc.turns[0].intensity, doc.turns[0].emotion = 3, "angry"  # as the emotion component would set
    Quality()(doc)
    assert "quality.no_apology" in {f.rule_id for f in doc.quality_findings}


def test_runs_without_presend_and_skips_utterances() -> None:
    without = _run(BAD, presend=False)
    assert without.quality_score == _run(BAD).quality_score
    utt = Assessment.start(Utterance(text="电费太高了"))
    Quality()(utt)
    assert utt.quality_score is None and utt.quality_findings is None


def test_rubric_in_a_config_pipeline() -> None:
    """The rubric-only score stays available by configuration (anfu.quality.v1)."""
    import anfu

    analyzer = anfu.load({"pipeline": {"components": ["anfu.normalize.v1", "anfu.presend.v1", "anfu.quality.v1"]}})
    good, bad = analyzer(GOOD), analyzer(BAD)
    assert good.quality_score > bad.quality_score
    assert isinstance(good.to_dict()["quality_score"], int)


def test_a_consider_hint_is_no_quality_violation() -> None:
    """An in-context "consider" hint (not a violation) costs no points; the same finding as must-fix does."""
    from anfu.qa.quality import QualityRubric
    from anfu.types import Finding, TurnAssessment

    reply = "您好，请问您家的户号是多少？我马上为您查询抢修进度。"
    hint = Finding("context.dismissing", "dismissing", 0, len(reply), "建议斟酌", "minor", 0.35, "consider")
    must = Finding("context.dismissing", "dismissing", 0, len(reply), "疑似敷衍打发", "major", 0.8, "must_fix")

    def turns(violation: bool, finding: Finding) -> list[TurnAssessment]:
        return [TurnAssessment(speaker="customer", text="停电三天了！你们到底管不管？", norm="停电三天了！你们到底管不管？"),
                TurnAssessment(speaker="agent", text=reply, norm=reply, violation=violation, findings=[finding])]

    rubric = QualityRubric()
    hinted, flagged = rubric.score(turns(False, hint)), rubric.score(turns(True, must))
    assert hinted is not None and flagged is not None
    assert not [f for f in hinted[1] if f.rule_id == rubric.violation_id_]
    assert [f for f in flagged[1] if f.rule_id == rubric.violation_id_] and flagged[0] < hinted[0]
