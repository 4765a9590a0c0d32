"""anfu.strategy.v1: ranked 话术 suggestions fitted to the situation and filled with specifics."""

from __future__ import annotations

import itertools
import re
from types import SimpleNamespace

import pytest

from anfu.components import strategy as strategy_module
from anfu.components.sop import Sop
from anfu.components.strategy import SAMPLE_SLOTS, Situation, Strategy, load_model, render, validate_strategies
from anfu.glossary import CAUSE_NAMES, EMOTION_NAMES, EMOTIONS, GUIDANCE_METHODS, PERSONAS, SOP_STAGES
from anfu.rules import load_pack
from anfu.testing import check_component
from anfu.types import Assessment, Conversation, PersonaResult, Playbook, Utterance

TIME = re.compile(r"(\d+(\.\d+)?(小时|分钟|天)内|(今天|明天|后天)(上午|中午|下午|晚上)\d{1,2}点半?前|\d+月\d+日前)")
MINUTE_CLOCK = re.compile(r"\d{1,2}:\d{2}")


def assess(turns: list[tuple[str, str]], labels: dict[int, dict] | None = None, **context) -> Assessment:
    doc = Assessment.start(Conversation.from_texts(turns, id="st-1"))
    for index, values in (labels or {}).items():
        for key, value in values.items():
            setattr(doc.turns[index], key, value)
    for key, value in context.items():
        setattr(doc, key, value)
    return doc


def suggest(doc: Assessment) -> list:
    Strategy(presend_check=False)(doc)
    return doc.suggestions


def test_contract() -> None:
    check_component(Strategy())


def test_shipped_pack_is_valid_and_generic_filler_is_reported() -> None:
    pack = load_pack("strategies")
    assert validate_strategies(pack) == []
    fits = {"stages": ["接收反馈"], "emotions": ["angry"]}
    filler = {"id": "filler", "method": "情感诱导", "text": "请您耐心等待，我们会处理的。", "why": "x", "fits": fits}
    problems = validate_strategies({**pack, "scripts": pack["scripts"] + [filler]})
    assert any("no generic filler" in p for p in problems)


def test_scripts_must_declare_stages_and_emotions_and_never_paste_a_cause_label() -> None:
    pack = load_pack("strategies")
    undeclared = {"id": "x", "method": "情感诱导", "text": "{topic}的事我来处理，{time}给您结果。", "why": "x",
                  "fits": {"actions": ["道歉"]}}
    problems = validate_strategies({**pack, "scripts": pack["scripts"] + [undeclared]})
    assert any("fits.stages is required" in p for p in problems)
    assert any("fits.emotions is required" in p for p in problems)
    label_slot = {"id": "y", "method": "前景诱导", "text": "之后{cause}方面有变化我们会通知您，{topic}{time}处理好。",
                  "why": "x", "fits": {"stages": ["跟进回访"], "emotions": ["satisfied"]}}
    problems = validate_strategies({**pack, "scripts": pack["scripts"] + [label_slot]})
    assert any("unknown slots ['cause']" in p for p in problems)
    problems = validate_strategies({**pack, "cause_topics": {**pack["cause_topics"], "delay": "办理延误"}})
    assert any("not a cause label" in p for p in problems)


@pytest.mark.parametrize("topic", ["电费", "空调不制冷", "退款没到账", "这件事"])
def test_every_script_passes_the_presend_check(topic: str) -> None:
    """Every 话术 of the pack, rendered with realistic topics, is free of 服务忌语."""
    check_reply = getattr(pytest.importorskip("anfu.qa"), "check_reply", None)
    if check_reply is None:
        pytest.skip("anfu.qa.check_reply is not available yet")
    pack = load_pack("strategies")
    for script in pack["scripts"]:
        text = render(script["text"], {**SAMPLE_SLOTS, "topic": topic}, pack["tidy"])
        result = check_reply(text)
        assert result.violation is False, (script["id"], text, result.findings)


def test_angry_outage_customer_gets_apology_first_with_specifics() -> None:
    doc = assess([("customer", "停电五个小时了还没人来修！！你们到底管不管？")],
                 {0: {"emotion": "angry", "intensity": 4, "cause": "outage"}})
    found = suggest(doc)
    assert len(found) >= 3
    assert found[0].method == "情感诱导" and "抱歉" in found[0].text
    assert all(s.method in GUIDANCE_METHODS for s in found)
    assert all("停电" in s.text and TIME.search(s.text) for s in found)
    assert "2小时内" in found[0].text  # the pack's commitment for outages
    assert len({s.method for s in found}) >= 3
    assert [s.score for s in found] == sorted((s.score for s in found), reverse=True)
    assert all("愤怒" in s.why and "停电断网" in s.why for s in found)


def test_doubtful_billing_customer_gets_reasoning_with_records() -> None:
    persona = PersonaResult(type="怀疑型", confidence=0.7, evidence=(),
                            playbook=Playbook(speak=(), avoid=(), method="说理诱导"))
    doc = assess([("customer", "这个月电费怎么八百多？是不是多扣了？"), ("agent", "请问您的户号是？"),
                  ("customer", "3201009988，你们查出来的我能信吗？")],
                 {0: {"emotion": "doubtful", "intensity": 2, "cause": "billing"},
                  2: {"emotion": "doubtful", "intensity": 2}},
                 persona=persona, sop_stage="确认问题", next_actions=["出示依据", "确认问题", "积极解决"])
    found = suggest(doc)
    assert found[0].method == "说理诱导"
    assert "电费" in found[0].text and "核对" in found[0].text
    assert "24小时内" in found[0].text
    # scripts written for other personalities are not offered to a 怀疑型 customer
    assert not any("回答“对”" in s.text or "一直以来的支持" in s.text for s in found)


def test_refund_cause_from_the_topic_when_no_cause_component_ran() -> None:
    doc = assess([("customer", "退款申请提交一周了还没到账，我很着急。"), ("agent", "我们可以为您加急处理。")],
                 {0: {"emotion": "anxious", "intensity": 2}})
    found = suggest(doc)
    assert len(found) >= 3
    assert all("退款" in s.text for s in found)
    assert any("3天内" in s.text for s in found)  # 72 hours for refunds
    assert any(s.method == "利益诱导" and "原路退回" in s.text for s in found)


def test_abuse_brings_a_boundary_script() -> None:
    doc = assess([("customer", "你们这群废物，宽带又断了！")], {0: {"emotion": "angry", "intensity": 4, "abusive": True}})
    found = suggest(doc)
    assert any("侮辱性的语言" in s.text and "宽带" in s.text for s in found)


def test_persona_computed_when_absent_shapes_the_ranking() -> None:
    doc = assess([("customer", "我是你们十几年的老用户了，钻石会员，宽带坏了三天没人管？"),
                  ("agent", "非常抱歉，我马上为您登记。"),
                  ("customer", "别人家都是当天修好，凭什么我的不行？我在你们这花了多少钱你知道吗？")],
                 {0: {"emotion": "dissatisfied", "intensity": 2}, 2: {"emotion": "dissatisfied", "intensity": 3}})
    found = suggest(doc)
    assert doc.persona is None  # the component computed the persona itself, without writing it
    vanity = [s for s in found if "一直以来的支持" in s.text]
    assert vanity and vanity[0].method == "利益诱导" and "虚荣型" in vanity[0].why and "宽带" in vanity[0].text
    # with no recognised personality the 虚荣型 script is not offered
    unknown = PersonaResult(type="unknown", confidence=0.0, evidence=(),
                            playbook=Playbook(speak=(), avoid=(), method="说理诱导"))
    doc.persona = unknown
    assert not any("一直以来的支持" in s.text for s in suggest(doc))


def _suggest_at(text: str, cause: str, stamp: float) -> list:
    doc = Assessment.start(Conversation(turns=(Utterance(text, timestamp=stamp),), id="st-ts"))
    doc.turns[0].cause = cause
    return suggest(doc)


def test_timestamps_give_a_human_clock_time() -> None:
    # 2026-03-02 (a Monday) 09:05 China Standard Time: 抢修 within 2 hours, said as 上午11点半
    found = _suggest_at("家里停电了，什么时候能来电？", "outage", 1772413500.0)
    assert any("今天上午11点半前" in s.text for s in found)
    assert not any(MINUTE_CLOCK.search(s.text) for s in found)


def test_late_evening_promises_are_never_minute_precise_midnight_times() -> None:
    late = 1772413500.0 + 13 * 3600 + 1 * 60  # 22:06 the same day
    outage = _suggest_at("家里停电了，冰箱里的东西都要坏了，什么时候能来电？", "outage", late)
    assert outage and all("2小时内" in s.text for s in outage if TIME.search(s.text))  # 抢修 runs all night
    billing = _suggest_at("这个月电费怎么翻倍了？是不是抄错表了？", "billing", late)
    texts = " ".join(s.text for s in billing)
    assert "后天上午10点前" in texts  # 24 hours from 22:06 is late evening: the next working morning
    assert not MINUTE_CLOCK.search(texts + " ".join(s.text for s in outage))
    afternoon = _suggest_at("快递显示签收了但我根本没收到，怎么回事？", "delivery", 1772413500.0 + 5 * 3600)
    assert any("今天下午6点前" in s.text or "明天上午10点前" in s.text for s in afternoon), \
        [s.text for s in afternoon]


def test_suggestions_are_filtered_through_the_presend_check(monkeypatch: pytest.MonkeyPatch) -> None:
    def check_reply(text: str, context=None):  # noqa: ANN001, ANN202
        if "优先" in text:
            return SimpleNamespace(violation=True, findings=["x"], rewrite=None)
        if "换作是我也会生气" in text:
            return SimpleNamespace(violation=True, findings=["x"], rewrite=text.replace("换作是我也会生气", "这确实让人着急"))
        return SimpleNamespace(violation=False, findings=[], rewrite=None)

    monkeypatch.setattr(strategy_module, "_checker", lambda: check_reply)
    doc = assess([("customer", "停电五个小时了还没人来修！！")], {0: {"emotion": "angry", "intensity": 4, "cause": "outage"}})
    Strategy()(doc)
    texts = [s.text for s in doc.suggestions]
    assert len(texts) >= 3
    assert not any("优先" in t for t in texts)
    assert any("这确实让人着急" in t for t in texts) and not any("换作是我" in t for t in texts)


def test_utterance_gets_no_suggestions() -> None:
    doc = Assessment.start(Utterance(text="电费怎么这么高"))
    Strategy()(doc)
    assert doc.suggestions is None


def test_live_suggestions_pass_the_presend_check() -> None:
    check_reply = getattr(pytest.importorskip("anfu.qa"), "check_reply", None)
    if check_reply is None:
        pytest.skip("anfu.qa.check_reply is not available yet")
    doc = assess([("customer", "宽带断网两天了，你们到底修不修？"), ("agent", "请您提供一下宽带账号。"),
                  ("customer", "账号02588886666，这是我第三次打电话了，今天再不修我就去工信部投诉！")],
                 {0: {"emotion": "angry", "intensity": 3, "cause": "outage"},
                  2: {"emotion": "angry", "intensity": 4, "escalation_risk": True}})
    Strategy()(doc)
    assert len(doc.suggestions) >= 3
    for s in doc.suggestions:
        assert "宽带" in s.text
        assert check_reply(s.text).violation is False, s.text


# -- fitting to the SOP stage, emotion and persona ------------------------------------------

BILLING_DISPUTE = [  # telecom: the agent offered a refund, the customer disputes the facts
    ("customer", "我这个月话费怎么多扣了58块？我从来没订过什么视频会员，你们是不是乱扣费？"),
    ("agent", "您好，给您带来困扰非常抱歉。我先帮您查一下本月的扣费明细，请稍等两分钟。"),
    ("customer", "查吧，我倒要看看你们怎么解释。"),
    ("agent", "查到了，这笔是8月12日通过短信验证码开通的视频会员。我现在马上为您退订，并提交58元的退费申请，3个工作日内退回到您的话费账户。"),
    ("customer", "短信验证码？我根本没收到过什么验证码，这个我不认。"),
]
OUTAGE_ACCEPTED = [  # power 95598: the plan is agreed and being carried out
    ("customer", "我们小区停电都三天了！！！报了两次修都没人来，你们到底管不管？"),
    ("agent", "非常抱歉让您和家人受苦了。我马上把您的工单升级为紧急抢修，抢修班组负责人会在30分钟内给您回电，今天下午六点前恢复供电。"),
    ("customer", "那行吧，我等你们电话，别再让我失望了。"),
    ("agent", "请您放心，我会全程跟进，恢复供电后我再给您回访确认。"),
    ("customer", "好的，谢谢你。"),
]
FOLLOW_UP_WORDS = ("回访确认一下", "已经处理完成", "处理记录已经存档", "这段时间的耐心配合")


def staged(turns: list[tuple[str, str]], labels: dict[int, dict]) -> list:
    doc = assess(turns, labels)
    Sop()(doc)
    return doc


def test_billing_dispute_at_offer_stage_gets_evidence_not_a_follow_up() -> None:
    doc = staged(BILLING_DISPUTE, {0: {"emotion": "doubtful", "intensity": 2, "cause": "billing"},
                                   2: {"emotion": "doubtful", "intensity": 2, "cause": "billing"},
                                   4: {"emotion": "doubtful", "intensity": 2, "cause": "account"}})
    assert doc.sop_stage == "提供方案"
    found = suggest(doc)
    assert len(found) >= 3
    assert not any(w in s.text for s in found for w in FOLLOW_UP_WORDS + ("恢复正常",))
    assert found[0].method == "说理诱导" and "核对" in found[0].text
    assert all("话费" in s.text for s in found)
    assert all("提供方案" in s.why and "怀疑" in s.why and "怀疑型" in s.why for s in found)


def test_high_intensity_puts_empathy_before_reasoning() -> None:
    doc = assess([("customer", "电费又多扣了两百！"), ("agent", "我们可以为您申请退还，3个工作日内到账。"),
                  ("customer", "三个工作日？上次也这么说，钱到现在都没退！你们就是骗子！")],
                 {0: {"emotion": "angry", "intensity": 3, "cause": "billing"},
                  2: {"emotion": "angry", "intensity": 4, "cause": "billing"}}, sop_stage="提供方案")
    found = suggest(doc)
    methods = [s.method for s in found]
    assert methods[0] == "情感诱导" and "抱歉" in found[0].text
    if "说理诱导" in methods:
        assert methods.index("说理诱导") > methods.index("情感诱导")
    assert "情绪激动时先道歉共情" in found[0].why


def test_anxious_customer_gets_reassurance_with_a_concrete_time() -> None:
    doc = staged([("customer", "我的快递显示已签收但我根本没收到，里面是明天开会要用的合同，急死了怎么办？？")],
                 {0: {"emotion": "anxious", "intensity": 3, "cause": "delivery"}})
    found = suggest(doc)
    assert found[0].method in ("情感诱导", "前景诱导") and TIME.search(found[0].text)
    assert "8小时内" in found[0].text  # the pack's commitment for deliveries
    assert all("快递没收到" in s.text for s in found)  # object + symptom, not the parcel's content (合同)
    assert "焦虑" in found[0].why


def test_accepted_plan_gets_execution_details_with_the_time_already_promised() -> None:
    doc = staged(OUTAGE_ACCEPTED, {0: {"emotion": "angry", "intensity": 4, "cause": "outage"},
                                   2: {"emotion": "disappointed", "intensity": 2, "cause": "delay"},
                                   4: {"emotion": "satisfied", "intensity": 1}})
    assert doc.sop_stage == "执行方案"  # a promised 回访 is not the follow-up yet
    found = suggest(doc)
    assert len(found) >= 3
    texts = " ".join(s.text for s in found)
    assert all("停电" in s.text and "今天下午六点前" in s.text for s in found)  # 言行一致 with the agent
    assert "处理完后" in texts or "完成后" in texts
    assert not any(w in texts for w in FOLLOW_UP_WORDS + ("确认三点", "两个办法"))
    assert all("执行方案" in s.why for s in found)


def test_follow_up_scripts_after_resolution() -> None:
    turns = OUTAGE_ACCEPTED + [("agent", "您好，这里是95598回访，现在恢复供电了吗？"), ("customer", "已经来电了，谢谢。")]
    doc = staged(turns, {0: {"emotion": "angry", "intensity": 4, "cause": "outage"},
                         6: {"emotion": "satisfied", "intensity": 0}})
    assert doc.sop_stage == "跟进回访"
    found = suggest(doc)
    assert len(found) >= 3 and all("停电" in s.text for s in found)
    assert sum(any(w in s.text for w in FOLLOW_UP_WORDS) for s in found) >= 3




def test_every_situation_gets_three_stage_fitting_labelled_suggestions() -> None:
    """Whatever the stage, emotion, intensity, persona and negative-energy signals, there
    are at least three suggestions, each from a script written for that stage, with a
    guidance method and a why naming the stage, the emotion and the persona."""
    model = load_model()
    script_of = {render(script["text"], SAMPLE_SLOTS, model.tidy): script for script in model.pack["scripts"]}
    personas = [None, *PERSONAS]
    for stage, emotion, intensity, persona, (abusive, demand) in itertools.product(
            SOP_STAGES, [None, *EMOTIONS], [None, 0, 2, 3, 4], personas, itertools.product([False, True], repeat=2)):
        sit = Situation(emotion=emotion, intensity=intensity, persona=persona,
                        persona_method="说理诱导" if persona else None, cause="billing", stage=stage,
                        actions=(), abusive=abusive, unreasonable_demand=demand, persona_confidence=0.6)
        found = model.suggest(sit, SAMPLE_SLOTS)
        key = (stage, emotion, intensity, persona, abusive, demand)
        assert len(found) >= 3, key
        assert len({s.text for s in found}) == len(found), key
        for s in found:
            assert s.method in GUIDANCE_METHODS and "电费" in s.text, key
            assert stage in script_of[s.text]["fits"]["stages"], (key, s.text)
            assert stage in s.why and (persona or "客户类型未明") in s.why, (key, s.why)
            if emotion:
                assert EMOTION_NAMES[emotion]["zh_CN"] in s.why, (key, s.why)


# -- slot filling with the customer's own words ------------------------------------------------

REALISTIC = [  # (turns, labels, the customer's topic)
    (OUTAGE_ACCEPTED[:3], {0: {"emotion": "angry", "intensity": 4, "cause": "outage"},
                           2: {"emotion": "disappointed", "intensity": 3, "cause": "delay"}}, "停电"),
    ([("customer", "排队排三天？今天再不来人抢修我就打12345投诉！")],
     {0: {"emotion": "angry", "intensity": 4, "cause": "delay", "escalation_risk": True}}, "抢修"),
    ([("customer", "在吗？退款申请十天了还没到账"), ("agent", "不行，退款就是要这么久。"),
      ("customer", "我要十倍赔偿，还要精神损失费，不给就12315见！")],
     {0: {"emotion": "dissatisfied", "intensity": 2, "cause": "refund"},
      2: {"emotion": "angry", "intensity": 3, "cause": "refund", "escalation_risk": True}}, "退款没到账"),
    ([("customer", "那个，我家空调上个月刚修过，现在又不制冷了，这都第三次了，说实话有点失望。")],
     {0: {"emotion": "disappointed", "intensity": 2, "cause": "quality"}}, "空调不制冷"),
    ([("customer", "宽带又断了，这个月第四次了，我在家办公全耽误了！")],
     {0: {"emotion": "angry", "intensity": 3, "cause": "outage"}}, "宽带中断"),
    ([("customer", "这个月电费比上个月多了三百，家里也没多用电啊。"), ("agent", "请问您的户号是？"),
      ("customer", "3201009988，你们查的能准吗？")],
     {0: {"emotion": "doubtful", "intensity": 2, "cause": "billing"}, 2: {"emotion": "doubtful", "intensity": 2}}, "电费"),
    ([("customer", "你们那个客服态度太差了，说两句就挂我电话。")],
     {0: {"emotion": "angry", "intensity": 3, "cause": "attitude"}}, "客服态度"),
]
CAUSE_LABELS = [names["zh_CN"] for names in CAUSE_NAMES.values()]


@pytest.mark.parametrize("turns,labels,topic", REALISTIC)
def test_suggestions_name_the_customers_topic_and_never_a_cause_label(turns, labels, topic) -> None:  # noqa: ANN001
    doc = staged(turns, labels)
    found = suggest(doc)
    assert len(found) >= 3
    customer = "".join(t for speaker, t in turns if speaker == "customer")
    for s in found:
        assert topic in s.text, s.text
        assert "方面有变化" not in s.text and "办理延误方面" not in s.text
        assert not any(label in s.text for label in CAUSE_LABELS if label not in customer), s.text
        assert not any(bad in s.text for bad in ("的事的事", "问题的问题", "这件事的事")), s.text


def test_topic_and_cause_prefer_the_subject_over_how_it_was_handled() -> None:
    model = load_model()
    doc = assess(OUTAGE_ACCEPTED, {0: {"cause": "outage"}, 2: {"cause": "delay"}, 4: {"cause": "delay"}})
    assert model.topic_and_cause(doc.turns) == ("停电", "outage")
    slots = model.slots(doc.turns, "执行方案", None)
    assert slots["time"] == "今天下午六点前"  # the agent's own promise once the plan is agreed
    assert model.slots(doc.turns, "提供方案", None)["time"] == "2小时内"
    # the parcel's content (合同) is not what the complaint is about
    parcel = assess([("customer", "快递显示签收了但我没收到，里面是合同！")], {0: {"cause": "delivery"}})
    assert model.topic_and_cause(parcel.turns) == ("快递没收到", "delivery")
    # a word that says how the subject was handled (态度) never stands for the subject
    repair = assess([("customer", "上次你们师傅来就是这样，弄完又坏了。你这什么态度？")], {0: {"cause": "repair"}})
    assert model.topic_and_cause(repair.turns) == (None, "repair")
    assert model.slots(repair.turns, "提供方案", None)["topic"] == "维修"
    nothing = assess([("customer", "你们怎么回事？")])
    topic, cause = model.topic_and_cause(nothing.turns)
    assert (topic, cause) == (None, None)
    filled = model.slots(nothing.turns, "接收反馈", None)
    assert filled["topic"] == "这件事"
    sit = Situation(emotion="angry", intensity=3, persona=None, persona_method=None, cause=None, stage="接收反馈",
                    actions=("道歉",), abusive=False, unreasonable_demand=False)
    for s in model.suggest(sit, filled):
        assert "这件事的" not in s.text and "这件事这件事" not in s.text, s.text


def test_why_has_its_parts_for_other_languages() -> None:
    """A suggestion's zh-CN why is unchanged and composed from its `why_items`: the script's
    reason (its pack `why`), one `fit.*` item per thing it fits, the situation last."""
    from anfu.components.strategy import why_text

    persona = PersonaResult(type="怀疑型", confidence=0.7, evidence=(),
                            playbook=Playbook(speak=(), avoid=(), method="说理诱导"))
    doc = assess([("customer", "这个月电费怎么八百多？是不是多扣了？"), ("agent", "请问您的户号是？"),
                  ("customer", "3201009988，你们查出来的我能信吗？")],
                 {0: {"emotion": "doubtful", "intensity": 2, "cause": "billing"},
                  2: {"emotion": "doubtful", "intensity": 2}},
                 persona=persona, sop_stage="确认问题", next_actions=["出示依据", "确认问题", "积极解决"])
    whys = {s["why"]: s for s in load_pack("strategies")["scripts"]}
    for s in suggest(doc):
        items = s.why_items
        assert s.why == why_text(items)
        assert items[0].code == "strategy.why" and items[0].text in whys
        assert s.why.startswith(items[0].text + "（" + s.method + "；适配：「确认问题」阶段")
        assert items[-1].code == "strategy.now"
        assert dict(items[-1].params) == {"stage": "确认问题", "emotion": "doubtful", "intensity": 2,
                                          "persona": "怀疑型", "cause": "billing"}
        assert {i.code for i in items[1:-1]} <= {"fit.stage", "fit.emotion", "fit.intensity", "fit.cause",
                                                 "fit.abusive", "fit.unreasonable_demand", "fit.persona",
                                                 "fit.persona_method", "fit.actions", "fit.method_rule"}
        stored = s.to_dict()
        assert stored["why"] == s.why and [i["code"] for i in stored["why_items"]] == [i.code for i in items]
    first = suggest(doc)[0]
    fitted = {i.code: dict(i.params) for i in first.why_items}
    assert fitted["fit.actions"] == {"actions": ("出示依据",)} and "下一步出示依据" in first.why
    assert fitted["fit.persona_method"] == {"persona": "怀疑型", "method": "说理诱导"}


def test_a_why_without_english_is_reported() -> None:
    import copy

    pack = copy.deepcopy(load_pack("strategies"))
    del pack["scripts"][2]["why_en"]
    pack["settings"]["method_rules"][0]["why_en"] = "情绪激动时先道歉共情"
    problems = validate_strategies(pack)
    assert any(p.startswith("scripts[2].why_en must give the English") for p in problems), problems
    assert any(p.startswith("settings.method_rules[0].why_en must be English") for p in problems), problems
