"""anfu.persona.v1: the nine customer personality types from realistic service dialogues."""

from __future__ import annotations

import pytest

from anfu.components.persona import Persona, infer_persona, load_model, persona_timeline, validate_personas
from anfu.glossary import GUIDANCE_METHODS
from anfu.rules import load_pack
from anfu.testing import check_component
from anfu.types import Assessment, Conversation, TurnAssessment, Utterance


def assess(turns: list[tuple[str, str]], labels: dict[int, dict] | None = None) -> Assessment:
    """An Assessment of `turns` with hand labels (emotion, intensity, abusive…) per turn index."""
    doc = Assessment.start(Conversation.from_texts(turns, id="t"))
    for index, values in (labels or {}).items():
        for key, value in values.items():
            setattr(doc.turns[index], key, value)
    return doc


DIALOGUES = {
    "怀疑型": [  # power billing
        ("customer", "这个月电费怎么八百多？是不是多扣了？"),
        ("agent", "您好，我帮您查一下用电明细。"),
        ("customer", "你们说的话能信吗？上次也说查，最后不了了之。"),
        ("agent", "这是系统里的抄表记录。"),
        ("customer", "记录你们想怎么改就怎么改，真的假的谁知道，拿出证据来。"),
    ],
    "好斗型": [  # telecom
        ("customer", "你算老几？叫你们能管事的来！"),
        ("agent", "您好，我是本次为您服务的客服，您遇到什么问题了？"),
        ("customer", "少废话，照我说的做，马上给我把这个月的流量费退了！"),
        ("agent", "我理解您着急，我先帮您核实一下扣费。"),
        ("customer", "跟你说不清，你给我等着！"),
    ],
    "沉默型": [  # e-commerce
        ("customer", "快递三天没动了。"),
        ("agent", "您好，请问您的订单号是多少？"),
        ("customer", "嗯。"),
        ("agent", "麻烦您提供一下订单号，我帮您查物流。"),
        ("customer", "哦"),
        ("agent", "您希望改派还是退款呢？"),
        ("customer", "随便。"),
    ],
    "顽固型": [  # e-commerce refund
        ("customer", "我不管，我就要退款，这个锅用了两天就坏了。"),
        ("agent", "您可以选择换一个新的，今天就能给您发出。"),
        ("customer", "我就要退款，这个锅用了两天就坏了，别给我推荐换货。"),
        ("agent", "换货的话您不用再重新下单。"),
        ("customer", "说什么都没用，我就要退款，锅用了两天就坏了！"),
    ],
    "虚荣型": [  # telecom
        ("customer", "我是你们十几年的用户了，钻石会员，宽带坏了三天没人管？"),
        ("agent", "非常抱歉，我马上为您登记报修。"),
        ("customer", "我邻居家都是当天修好的，凭什么别人家都能修我的不行？我在你们这花了多少钱你知道吗？"),
    ],
    "神经质型": [  # e-commerce refund, worries and changes mind
        ("customer", "我担心退款退不回来，万一钱没了怎么办啊？"),
        ("agent", "您放心，退款会原路返回。"),
        ("customer", "那我还是退了吧。"),
        ("agent", "好的，已为您提交退款申请。"),
        ("customer", "我又想了想，还是不要了，你刚才什么语气？是不是不耐烦了？"),
    ],
    "刚强型": [  # power
        ("customer", "停电补偿的依据是什么？请给我书面答复。"),
        ("agent", "您好，这个需要我帮您查询一下。"),
        ("customer", "我核对过每一笔电费，不要说套话，具体时间给我，按合同约定处理。"),
    ],
    "内向型": [  # telecom
        ("customer", "话费的事我自己看就行，不想多说。"),
        ("agent", "您好，我可以电话为您详细解释一下套餐。"),
        ("customer", "别打电话，发短信就行，不要上门。"),
    ],
    "随和型": [  # power
        ("customer", "师傅你好，我家电表好像不走了，不着急，你们有空来看看就行。"),
        ("agent", "好的，我为您登记报修，明天上午安排师傅上门。"),
        ("customer", "好的好的，麻烦你了，你们也不容易，辛苦了。"),
    ],
}


def test_contract() -> None:
    check_component(Persona())


def test_shipped_pack_is_valid_and_bad_pack_is_reported() -> None:
    pack = load_pack("personas")
    assert validate_personas(pack) == []
    broken = {**pack, "types": {**pack["types"], "好斗型": {**pack["types"]["好斗型"],
                                                              "playbook": {"speak": ["x"], "avoid": ["y"], "method": "强硬诱导"}}}}
    assert any("好斗型.playbook.method" in p for p in validate_personas(broken))


@pytest.mark.parametrize("expected", list(DIALOGUES))
def test_each_type_on_a_realistic_dialogue(expected: str) -> None:
    doc = assess(DIALOGUES[expected])
    Persona()(doc)
    persona = doc.persona
    assert persona.type == expected, persona
    assert 0.4 <= persona.confidence <= 1.0
    assert persona.evidence and all(expected in e and e.startswith("第") for e in persona.evidence)
    playbook = persona.playbook
    assert playbook.method in GUIDANCE_METHODS
    assert playbook.speak and playbook.avoid
    pack_playbook = load_pack("personas")["types"][expected]["playbook"]
    assert playbook.to_dict() == {key: pack_playbook[key] for key in ("speak", "avoid", "method")}


def test_labels_from_earlier_components_add_evidence() -> None:
    """Abuse and high intensity (set by the abuse and emotion components) point to 好斗型."""
    turns = [("customer", "你们这破宽带又断了，一群废物！"), ("agent", "非常抱歉，我马上为您检测线路。"),
             ("customer", "检测个屁，马上给我修好！")]
    unlabelled = assess(turns)
    labelled = assess(turns, {0: {"abusive": True, "intensity": 4, "emotion": "angry"},
                              2: {"abusive": True, "intensity": 4, "emotion": "angry"}})
    Persona()(unlabelled)
    Persona()(labelled)
    assert labelled.persona.type == "好斗型"
    assert labelled.persona.confidence > unlabelled.persona.confidence
    assert any("辱骂攻击" in e for e in labelled.persona.evidence)


def test_weak_signal_is_unknown() -> None:
    doc = assess([("customer", "我想查一下这个月的电费。"), ("agent", "好的，请提供户号。"),
                  ("customer", "户号是3201123456。")])
    Persona()(doc)
    assert doc.persona.type == "unknown"
    assert doc.persona.evidence == ()
    assert doc.persona.playbook.method in GUIDANCE_METHODS


def test_evidence_accumulates_turn_by_turn() -> None:
    doc = assess(DIALOGUES["怀疑型"])
    timeline = persona_timeline(doc)
    assert [step["turn"] for step in timeline] == [0, 2, 4]
    assert timeline[0]["type"] == "unknown"  # one doubt is not yet a type
    assert timeline[-1]["type"] == "怀疑型"
    counts = [len(step["evidence"]) for step in timeline]
    assert counts == sorted(counts) and counts[-1] > counts[1]
    assert timeline[-1]["confidence"] > timeline[1]["confidence"]
    for step in timeline:
        assert infer_persona(doc, step["turn"] + 1).to_dict() == {k: v for k, v in step.items() if k != "turn"}


def test_negated_worry_is_not_evidence() -> None:
    model = load_model()
    clues = model.lexical_clues(0, "我不担心钱，就是想问问进度", "我不担心钱，就是想问问进度")
    assert not any(c.persona == "神经质型" for c in clues)


def test_calming_down_is_not_an_emotional_swing() -> None:
    """Angry then satisfied after the agent helped is 安抚成功, not 神经质型."""
    turns = [("customer", "停电一天了还不来修！"), ("agent", "非常抱歉，抢修人员已出发，预计一小时到。"),
             ("customer", "行，那我等着。"), ("agent", "已经恢复供电了，您看一下。"), ("customer", "来电了，谢谢。")]
    calm = assess(turns, {0: {"emotion": "angry", "intensity": 4}, 2: {"emotion": "neutral", "intensity": 1},
                          4: {"emotion": "satisfied", "intensity": 0}})
    Persona()(calm)
    assert calm.persona.type != "神经质型"
    relapse = assess(turns, {0: {"emotion": "angry", "intensity": 4}, 2: {"emotion": "satisfied", "intensity": 0},
                             4: {"emotion": "angry", "intensity": 4}})
    clues = load_model().clues(relapse.turns)
    assert any(c.label == "情绪起伏大" and c.turn == 4 for c in clues)


def test_utterance_gets_no_persona() -> None:
    doc = Assessment.start(Utterance(text="你们说的话能信吗？真的假的"))
    Persona()(doc)
    assert doc.persona is None


def test_ultimatums_and_public_threats_make_a_forceful_customer() -> None:
    """Shouting, "今天再不来人我就…" and threats to expose the company (12345, 抖音) are the
    seeds' 好斗型 (好胜、专横、把自己的想法强加于人), not the careful, principled 刚强型."""
    turns = [("agent", "您好，国网95598，请问有什么可以帮您？"),
             ("customer", "我们小区停电都三天了！！！报了两次修都没人来，家里老人小孩热得受不了，你们到底管不管？"),
             ("agent", "抢修要排队，您再等等吧。"),
             ("customer", "排队排三天？今天再不来人我就打12345投诉，还要发抖音让大家看看你们的服务！"),
             ("agent", "非常抱歉，我马上把您的工单升级为紧急抢修，今天下午六点前恢复供电。"),
             ("customer", "那行吧，我等你们电话，别再让我失望了。"),
             ("customer", "好的，谢谢你。")]
    doc = assess(turns)
    Persona()(doc)
    assert doc.persona.type == "好斗型" and doc.persona.confidence >= 0.4
    evidence = " ".join(doc.persona.evidence)
    assert "下最后通牒" in evidence and "以曝光或投诉相威胁" in evidence and "咄咄逼问" in evidence
    labelled = assess(turns, {1: {"emotion": "angry", "intensity": 3}, 3: {"emotion": "angry", "intensity": 4,
                                                                            "escalation_risk": True},
                              5: {"emotion": "disappointed", "intensity": 3}, 6: {"emotion": "satisfied", "intensity": 1}})
    Persona()(labelled)
    assert labelled.persona.type == "好斗型"
    assert labelled.persona.confidence > doc.persona.confidence


@pytest.mark.parametrize("text", [
    "我想查一下这个月的电费。",
    "你好，请问宽带什么时候能修好？",
    "请问我家停电了，大概什么时候来电？",
    "快递三天没动了，能帮我催一下吗？",
    "你好，我想改一下套餐，现在的不太划算。",
    "这个月话费怎么这么多？",
    "好的，知道了，谢谢。",
    "空调不制冷了，能安排人来看看吗？",
])
def test_a_single_ordinary_message_is_unknown(text: str) -> None:
    doc = assess([("customer", text)])
    Persona()(doc)
    assert doc.persona.type == "unknown", doc.persona


MORE_DIALOGUES = {  # the same nine types in other words, from the seeds' descriptions
    "刚强型": [  # 严肃认真、决策谨慎、思维缜密
        ("customer", "你好，我要反映一下上个月的电费问题，我对比过前三个月的用电量，这个月明显不对。"),
        ("agent", "好的，我帮您查询一下。"),
        ("customer", "请你们认真对待，先弄清楚原因，按规定应该怎么处理就怎么处理，给我准确的时间。"),
    ],
    "神经质型": [  # 敏感、耿耿于怀、易激动
        ("customer", "上次你们师傅来就是这样，弄完又坏了，我一直记着。"),
        ("agent", "非常抱歉，这次我给您安排高级工程师。"),
        ("customer", "你这什么态度？我都快崩溃了，会不会又跟上次一样？"),
    ],
    "内向型": [  # 封闭、冷淡、保持距离
        ("customer", "宽带的事不用跟我解释，打字就行，不方便接电话。"),
        ("agent", "好的，需要师傅上门检测一下可以吗？"),
        ("customer", "不用上门，别动我家的线，我自己弄。"),
    ],
    "随和型": [  # 开朗、好相处
        ("customer", "哈哈，又是我，快递好像送错地方了，不急不急。"),
        ("agent", "好的，我马上帮您联系快递员。"),
        ("customer", "好嘞，太感谢了，你人真好，慢慢来。"),
    ],
    "虚荣型": [  # 喜欢表现自己、不听劝说、攀比
        ("customer", "我是做这行的，这个路由器的问题我比你懂，不用你教我怎么重启。"),
        ("agent", "好的，我帮您安排检测。"),
        ("customer", "我可是你们的大客户，别人家都能当天换新的，凭什么我的不行？"),
    ],
    "好斗型": [  # 好胜、专横、征服欲强
        ("customer", "退款到底退不退？听见没有！"),
        ("agent", "您好，我帮您查一下退款进度。"),
        ("customer", "你们必须今天给我退，不然我就去法院告你们，跟你们没完！"),
    ],
    "顽固型": [  # 不接受新事物、不改变原有习惯
        ("customer", "我用了十几年的老套餐，不换，别给我推荐新的。"),
        ("agent", "新套餐每个月能省二十元。"),
        ("customer", "说破天也不换，我用惯了，我不会用app，就去营业厅交现金。"),
    ],
    "怀疑型": [  # 质疑产品乃至服务人员
        ("customer", "我压根没开通过这个业务，你们是不是偷偷给我开的？"),
        ("agent", "系统显示是9月1日开通的。"),
        ("customer", "系统记录谁知道你们有没有做手脚，我不认，拿出证据来。"),
    ],
    "沉默型": [  # 消极冷淡、实则关注
        ("customer", "电表的事。"),
        ("agent", "您好，请问电表出了什么问题？"),
        ("customer", "嗯"),
        ("agent", "是走得太快了，还是不走了？我们可以安排师傅上门校验。"),
        ("customer", "知道了。"),
        ("agent", "那我给您约明天上午，可以吗？"),
        ("customer", "你说了算。"),
    ],
}


@pytest.mark.parametrize("expected", list(MORE_DIALOGUES))
def test_each_type_in_other_words(expected: str) -> None:
    doc = assess(MORE_DIALOGUES[expected])
    Persona()(doc)
    assert doc.persona.type == expected, doc.persona
    assert doc.persona.confidence >= 0.4


def test_evidence_items_carry_codes_and_values_beside_the_zh_cn_lines() -> None:
    """Each evidence line is also an item (code + values): the zh-CN line is unchanged, the
    customer's words and the earlier turn a repeat points at are values, not wording."""
    from anfu.components.persona import LearnedPersona, Persona

    turns = [TurnAssessment(speaker="customer", text="我的宽带断了三天了，依据是什么？给我书面答复，我核对过每一笔。",
                            emotion="doubtful", intensity=2),
             TurnAssessment(speaker="agent", text="您好，我马上帮您查。"),
             TurnAssessment(speaker="customer", text="我的宽带断了三天了，依据是什么？给我书面答复，我核对过每一笔！",
                            emotion="angry", intensity=3)]
    for turn in turns:
        turn.norm = turn.text  # as anfu.normalize.v1 leaves it (the texts are already normal)
    for component in (Persona(), LearnedPersona()):
        result = component.infer(turns)
        assert result.evidence and result.evidence == tuple(e.text for e in result.evidence_items)
        assert result.to_dict()["evidence_items"][0]["code"] == result.evidence_items[0].code
    clues = [e for e in Persona().infer(turns).evidence_items if e.code == "persona.clue"]
    basis = next(e for e in clues if dict(e.params)["label"] == "要求依据或书面答复")
    assert dict(basis.params) == {"turn": 1, "label": "要求依据或书面答复", "persona": "刚强型", "quote": "依据是什么"}
    assert basis.text == "第1轮「依据是什么」：要求依据或书面答复（刚强型）"
    # the repeat (a 顽固型 clue here) points at turn 1 by number, not by words
    repeat = next(c.evidence() for c in Persona().model_.clues(turns) if c.label == "反复重复同一诉求")
    assert dict(repeat.params) == {"turn": 3, "label": "反复重复同一诉求", "persona": "顽固型", "repeats": 1}
    assert repeat.text == "第3轮「重复第1轮」：反复重复同一诉求（顽固型）"


def test_an_abstention_says_why_as_an_item_too() -> None:
    from anfu.components.persona import LearnedPersona

    turns = [TurnAssessment(speaker="customer", text="你好", norm="你好")]
    result = LearnedPersona().infer(turns)
    assert result.type == "unknown"
    [item] = result.evidence_items
    assert item.code == "persona.thin_text" and dict(item.params) == {"chars": 2}
    assert result.evidence == ("证据不足：客户只写了2个字，没有任何性格线索",)


def test_a_cue_without_english_is_reported() -> None:
    import copy

    data = copy.deepcopy(load_pack("personas"))
    assert validate_personas(data) == []
    del data["types"]["刚强型"]["cues"][0]["label_en"]
    data["types"]["怀疑型"]["features"][0]["label_en"] = "情绪怀疑"
    data["types"]["沉默型"]["playbook"]["speak_en"] = data["types"]["沉默型"]["playbook"]["speak_en"][:1]
    problems = validate_personas(data)
    assert any("types.刚强型.cues[0].label_en must give the English" in p for p in problems), problems
    assert any("types.怀疑型.features[0].label_en must be English" in p for p in problems), problems
    assert any("types.沉默型.playbook.speak_en" in p for p in problems), problems


# --- anfu.persona.v2 on real text: the typedness gate (issue 9) ------------------------------
def _v2(turns: list[tuple[str, str]]) -> object:
    import anfu

    return anfu.load()(Conversation.from_texts(turns)).persona


def test_a_plain_complaint_gets_no_type() -> None:
    """Real posts like this one drew 虚荣型 or 刚强型 from words such as 你们这 and 这么 (the model
    learnt them from our writers). The typedness gate, learnt on our labels of real dialogues,
    reads a plain billing complaint as showing no type: unknown, and the evidence says so."""
    persona = _v2([("customer", "这么高的费用你能给我说出道理来？上个月才八十，这个月一百九十五，流量明明还剩一百多兆")])
    assert persona.type == "unknown"
    [item] = persona.evidence_items
    assert item.code == "persona.untyped"
    params = dict(item.params)
    assert params["probability"] < params["needed"] <= 1.0
    assert persona.evidence[0].startswith("证据不足：客户话语未显出明确的性格类型")


GUIDANCE_PERSONAS = ("刚强型", "神经质型", "内向型", "随和型", "虚荣型", "好斗型", "顽固型", "怀疑型", "沉默型")


@pytest.mark.parametrize("persona, turns", [
    ("虚荣型", [("customer", "你好，我的信用卡被多扣了年费"), ("agent", "您好，请问您的卡号后四位是多少？"),
               ("customer", "我在你们这儿是十几年的VIP了，你们行长我都认识，这点小事还要我报卡号？")]),
    ("顽固型", [("customer", "我来办过户"), ("agent", "您好，按照新规定需要双方到场"),
               ("customer", "我不管什么新规定，以前怎么办现在就怎么办，上次我邻居就是一个人来办的")]),
])
def test_the_types_a_team_lead_names_at_once_are_still_named(persona: str, turns: list[tuple[str, str]]) -> None:
    """The issue's examples, inside a conversation: the pack's cues (status, names of people in
    charge, a new rule refused) corroborate the model."""
    result = _v2(turns)
    assert result.type == persona
    assert any(i.code == "persona.clue" for i in result.evidence_items)


def test_the_gate_and_the_corroboration_rule_are_configurable() -> None:
    from anfu.components.persona import LearnedPersona

    turns = [TurnAssessment(speaker="customer", text=t, norm=t) for t in
             ("这么高的费用你能给我说出道理来？上个月才八十，这个月一百九十五，流量明明还剩一百多兆",)]
    assert LearnedPersona().infer(turns).type == "unknown"
    assert LearnedPersona(min_typed=0.0).infer(turns).type != "unknown"  # the gate let through
    # without the gate the weights' own corroboration rule is off: the model names its type
    assert LearnedPersona(gate="none").infer(turns).type != "unknown"
    # the rule from the weights without a gate, set by hand
    ungated = LearnedPersona(gate="none", corroboration=3.0, confident_probability=0.999).infer(turns)
    assert ungated.type == "unknown" and ungated.evidence_items[0].code == "persona.uncorroborated"


def test_strong_cues_name_a_type_below_the_gate() -> None:
    """Below the gate the pack's cues still decide when they weigh `strong_cues` or more."""
    from anfu.components.persona import LearnedPersona

    import anfu

    turns = anfu.load()(Conversation.from_texts(
        [("customer", "我在你们这儿是十几年的VIP了，你们行长我都认识，这点小事还要我报卡号？")])).turns
    closed = LearnedPersona(min_typed=1.0).infer(turns)
    assert closed.type == "虚荣型" and closed.evidence_items[0].code == "persona.strong_cues"
    assert LearnedPersona(min_typed=1.0, strong_cues=99.0).infer(turns).type == "unknown"