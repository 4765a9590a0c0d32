"""anfu.sop.v1: complaint SOP stage and next actions over realistic conversations."""

from __future__ import annotations

from anfu.components.sop import Sop, describe_actions, validate_sop
from anfu.rules import load_pack
from anfu.testing import check_component
from anfu.types import Assessment, Conversation

OUTAGE = [  # power 95598
    ("customer", "我们小区停电四个小时了，家里有老人，到底什么时候来电？"),
    ("agent", "非常抱歉给您带来不便。请问您的户号或者具体地址是？我帮您查询。"),
    ("customer", "户号0512345678，幸福路18号。"),
    ("agent", "查到了，是线路故障。我们可以为您安排加急抢修，预计2小时内恢复供电，您看可以吗？"),
    ("customer", "好的，那我等。"),
    ("agent", "抢修班组已经出发，恢复后会短信通知您。"),
    ("agent", "您好，这里是95598回访，现在恢复供电了吗？"),
]
EXPECTED = ["接收反馈", "确认问题", "确认问题", "提供方案", "执行方案", "执行方案", "跟进回访"]


def assess(turns: list[tuple[str, str]], labels: dict[int, dict] | None = None) -> Assessment:
    doc = Assessment.start(Conversation.from_texts(turns, id="t"))
    for index, values in (labels or {}).items():
        for key, value in values.items():
            setattr(doc.turns[index], key, value)
    return doc


def test_contract() -> None:
    check_component(Sop())


def test_shipped_pack_is_valid_and_unknown_action_is_reported() -> None:
    pack = load_pack("sop")
    assert validate_sop(pack) == []
    broken = {**pack, "stage_actions": {**pack["stage_actions"], "确认问题": ["确认问题", "送优惠券"]}}
    assert any("送优惠券" in p for p in validate_sop(broken))


def test_stage_follows_the_conversation_turn_by_turn() -> None:
    sop = Sop()
    stages = []
    for k in range(1, len(OUTAGE) + 1):
        doc = assess(OUTAGE[:k])
        sop(doc)
        stages.append(doc.sop_stage)
    assert stages == EXPECTED


def test_rejected_plan_and_unsolved_problem_send_the_stage_back() -> None:
    telecom = [
        ("customer", "宽带断网两天了，一直连不上。"),
        ("agent", "请您提供一下宽带账号，我帮您查询。"),
        ("customer", "账号是02588886666。"),
        ("agent", "建议您先重启光猫，不行的话我们明天上门。"),
        ("customer", "重启过好几次了，这个方案不行，我不接受，今天就得派人来。"),
    ]
    sop = Sop()
    doc = assess(telecom)
    sop(doc)
    assert doc.sop_stage == "提供方案"
    doc = assess(telecom + [("agent", "已为您派单，师傅今天下午4点前上门。"), ("customer", "好的。")])
    sop(doc)
    assert doc.sop_stage == "执行方案"
    doc = assess(telecom + [("agent", "已为您派单，师傅今天下午4点前上门。"),
                            ("customer", "师傅来过了，可还是没解决，网还是断的！")])
    sop(doc)
    assert doc.sop_stage == "确认问题"


def test_a_complaint_is_not_an_acceptance() -> None:
    turns = [("customer", "退款怎么还没到？"), ("agent", "我们可以为您加急处理，3个工作日内到账。"),
             ("customer", "怎么可以这样拖着？上周就说3个工作日，现在又是3个工作日，你们到底有没有人管？"),
             ("customer", "不可以")]
    sop = Sop()
    doc = assess(turns[:3])
    sop(doc)
    assert doc.sop_stage == "提供方案"
    doc = assess(turns[:2] + turns[3:])
    sop(doc)
    assert doc.sop_stage == "提供方案"


def test_angry_customer_first_gets_apology_venting_and_understanding() -> None:
    doc = assess(OUTAGE[:1], {0: {"emotion": "angry", "intensity": 4}})
    Sop()(doc)
    assert doc.sop_stage == "接收反馈"
    assert doc.next_actions[:3] == ["道歉", "让客户发泄/倾听", "表达理解"]
    assert "确认问题" in doc.next_actions


def test_actions_follow_emotion_and_threats() -> None:
    sop = Sop()
    doubtful = assess([("customer", "这个月电费比上个月多了三百，是不是电表有问题？"),
                       ("agent", "请问您的户号是？我帮您查询。"), ("customer", "3201009988，你们查的能准吗？")],
                      {2: {"emotion": "doubtful", "intensity": 2}})
    sop(doubtful)
    assert doubtful.sop_stage == "确认问题"
    assert "出示依据" in doubtful.next_actions and "确认问题" in doubtful.next_actions

    abusive = assess([("customer", "你们这帮废物，宽带修了三次还是坏的，我要去工信部投诉！")],
                     {0: {"emotion": "angry", "intensity": 4, "abusive": True, "escalation_risk": True}})
    sop(abusive)
    assert abusive.next_actions[0] == "设定界限"
    assert "道歉" in abusive.next_actions and "转交上级" in abusive.next_actions


def test_surface_cues_stand_in_for_missing_intensity() -> None:
    doc = assess([("customer", "快递丢了你们也不管？？？赶紧给我处理！！！")])
    Sop()(doc)
    assert doc.next_actions[0] == "道歉"


def test_calm_customer_at_follow_up_only_needs_follow_up() -> None:
    doc = assess(OUTAGE + [("customer", "已经来电了，谢谢。")], {7: {"emotion": "satisfied", "intensity": 0}})
    Sop()(doc)
    assert doc.sop_stage == "跟进回访"
    assert doc.next_actions == ["回访"]
    assert describe_actions(doc.next_actions)[0].startswith("回访：")


def test_a_promised_follow_up_is_not_the_follow_up_yet() -> None:
    """"修好后我会回访您" promises 回访; the conversation is still carrying out the plan."""
    repair = [
        ("customer", "我家空调上个月刚修过，现在又不制冷了，这都第三次了。"),
        ("agent", "真的很抱歉，我这就为您安排高级工程师明天上午上门。"),
        ("customer", "行，那明天上午我在家等着。"),
        ("agent", "好的，师傅出发前会提前半小时给您打电话，维修完成后我会回访您确认效果。"),
        ("customer", "好的好的，辛苦了。"),
    ]
    sop = Sop()
    doc = assess(repair[:3])
    sop(doc)
    assert doc.sop_stage == "执行方案"  # "行，…" accepts the plan
    doc = assess(repair, {4: {"emotion": "satisfied", "intensity": 0}})
    sop(doc)
    assert doc.sop_stage == "执行方案"
    assert doc.next_actions[0] == "执行并告知进度"
    doc = assess(repair + [("agent", "您好，这里是售后回访，空调现在制冷正常了吗？")])
    sop(doc)
    assert doc.sop_stage == "跟进回访"


def test_promise_words_are_pack_data() -> None:
    pack = load_pack("sop")
    assert validate_sop(pack) == []
    marker = next(m for m in pack["markers"] if m["stage"] == "跟进回访")
    broken = {**pack, "markers": [m for m in pack["markers"] if m is not marker] + [{**marker, "not_after": "会"}]}
    assert any("not_after" in p for p in validate_sop(broken))
