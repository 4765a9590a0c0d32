"""anfu.presend.v1 in context: a reply judged against the customer's previous turn."""

from __future__ import annotations

import pytest

import anfu
from anfu.qa.context import DENSE, ContextReplyModel, ReplyContext, dense_features
from anfu.service.presend import check_draft
from anfu.training.data import public_data_dir
from anfu.types import Conversation

TURN_STAGE = {"pipeline": {"components": ["anfu.normalize.v1", "anfu.risk.v1", "anfu.abuse.v1",
                                          "anfu.emotion.v1", "anfu.cause.v1", "anfu.presend.v1"]}}


@pytest.fixture(scope="module")
def analyzer():  # noqa: ANN201
    return anfu.load(TURN_STAGE)


def _last_agent(analyzer, turns):  # noqa: ANN001, ANN202
    return analyzer(Conversation.from_texts(turns)).turns[-1]


@pytest.mark.parametrize("customer,reply", [
    ("我家老人上周住院了，这个月的电费能不能缓几天交？", "我不清楚您家里出了这样的事，您节哀。电费可以为您申请延期到月底，今天就帮您提交。"),
    ("你们检测的结果我不信，我要找第三方。", "可以的，检测机构由您来定，费用我们来承担。"),
    ("这台洗衣机又坏了，到底给我换还是修？", "换还是修，都听您的，您选好后我今天就安排。"),
    ("以前一直都是这么办的，凭什么现在不行？", "您说以前一直都是这么办的，我明白，我先帮您查一下新规定具体改了哪里。"),
    ("我的户号是3012456，麻烦尽快。", "收到。我这边记下了，马上为您查询，十分钟内回复您。"),
    ("能不能今天下午就派人来？", "没问题。师傅下午三点前到，到之前会先给您打电话。"),
    ("停电的时候我摔了一跤。", "您现在身体还好吗？需要的话我先帮您登记。"),
    ("我很担心电表是不是坏了，会不会多扣钱？", "您担心是正常的，我马上为您申请免费校验，两天内给您结果。"),
])
def test_kind_replies_are_not_flagged_in_context(analyzer, customer: str, reply: str) -> None:  # noqa: ANN001
    turn = _last_agent(analyzer, [("customer", customer), ("agent", reply)])
    assert turn.violation is False, [f.message for f in turn.findings]


def test_canned_brush_off_that_ignores_the_question_is_flagged(analyzer) -> None:  # noqa: ANN001
    turn = _last_agent(analyzer, [
        ("customer", "宽带断了三天了，你们到底什么时候来修？我在家办公等不起！"),
        ("agent", "您好，您反映的情况已记录，会反馈给相关部门，请耐心等待。"),
        ("customer", "又是这句话！到底哪天来修？"),
        ("agent", "您好，您反映的情况已记录，会反馈给相关部门，请耐心等待。"),
    ])
    assert turn.violation is True
    assert turn.findings and all(f.level == "must_fix" and f.confidence is not None for f in turn.findings)
    assert turn.rewrite


# a 78-year-old alone with a smell of gas, a fallen cable, oxygen at home: a vague promise alone is
# empty_promise (corpus/LABELS.md), even several turns after the hazard was reported
GAS = [("customer", "我家厨房好像有煤气味，我一个人在家，七十多了，有点害怕。"),
       ("agent", "请问您家的地址是？"),
       ("customer", "和平路12号3单元501。"),
       ("agent", "好的，我给您登记了，会安排人员过去。"),
       ("customer", "那大概什么时候能来人？我不敢在屋里待着。")]


@pytest.mark.parametrize("turns,reply", [
    (GAS, "今天师傅比较忙，尽量给您安排，您等电话就行。"),
    ([("customer", "我们楼下的电缆断了掉在地上，还在冒火花，小孩子在旁边玩！")],
     "收到，我们会反映给相关部门处理，请您耐心等待。"),
    ([("customer", "停电了，我爸在家用制氧机，备用电池只能撑两个小时，什么时候来电？")],
     "您好，我们会尽快恢复供电，请您耐心等待通知。"),
])
def test_a_vague_promise_to_a_reported_hazard_is_flagged(analyzer, turns, reply: str) -> None:  # noqa: ANN001
    turn = _last_agent(analyzer, [*turns, ("agent", reply)])
    assert turn.violation is True, [f.message for f in turn.findings]
    assert any(f.category == "empty_promise" and f.level == "must_fix" for f in turn.findings)
    assert turn.rewrite


@pytest.mark.parametrize("turns,reply", [
    # a time, an action now, a safety instruction: concrete, whatever else the reply says
    (GAS, "师傅今天比较忙，但我已经给您加急了，四十分钟内到。您先到楼道里等，不要开关电器。"),
    (GAS, "您先别开关任何电器，开窗通风，到门外等。我马上联系燃气公司抢修。"),
    ([("customer", "停电了，我爸在家用制氧机，备用电池只能撑两个小时，什么时候来电？")],
     "抢修队已经在路上，预计40分钟内恢复；我把您家登记为医疗用电敏感户，20分钟后给您回电话报进度。"),
    # the same vague words with no hazard reported: not this rule's business
    ([("customer", "我想问一下新装的宽带什么时候能开通？")], "您好，我们会尽快为您安排，请您耐心等待通知。"),
])
def test_a_concrete_reply_to_a_hazard_or_a_vague_one_without_hazard_is_not_this_rule(analyzer, turns,  # noqa: ANN001
                                                                                     reply: str) -> None:
    turn = _last_agent(analyzer, [*turns, ("agent", reply)])
    assert not any(f.rule_id == "context.vague_to_hazard" for f in turn.findings), [f.message for f in turn.findings]


def test_the_hazard_is_read_beyond_the_reply_window(analyzer) -> None:  # noqa: ANN001
    """Twelve turns back, not only the four the model reads; the turn memo re-reads them (a hazard
    reported earlier changes the result of a reply with the same four turns before it)."""
    filler = [("agent", "好的。"), ("customer", "嗯。")] * 3
    reply = ("agent", "今天师傅比较忙，尽量给您安排，您等电话就行。")
    with_hazard = analyzer(Conversation.from_texts([GAS[0], *filler, reply])).turns[-1]
    without = analyzer(Conversation.from_texts([("customer", "我想换个燃气灶。"), *filler, reply])).turns[-1]
    assert any(f.rule_id == "context.vague_to_hazard" for f in with_hazard.findings)
    assert not any(f.rule_id == "context.vague_to_hazard" for f in without.findings)


def test_asking_again_for_what_the_customer_gave_is_flagged(analyzer) -> None:  # noqa: ANN001
    turn = _last_agent(analyzer, [
        ("customer", "快递一周没动了，单号是 SF1234567890，到底怎么回事？"),
        ("agent", "请您私信提供一下单号，我们帮您查询。"),
        ("customer", "我刚才已经发了单号 SF1234567890 ！"),
        ("agent", "请您私信提供一下单号，我们帮您查询。"),
    ])
    assert turn.violation is True


@pytest.mark.parametrize("customer,reply,detail", [
    ("订单号是608812345501……我截图里两笔都是299元", "麻烦您提供一下订单号，我帮您核实。", "订单号"),
    ("户号是0213556610……", "查到了。请问您的户号是多少？我需要核实一下。", "户号"),
    ("第三次打了 地址说过了", "不好意思，麻烦您再提供一下地址。", "地址"),
    ("我的地址是城东路88号3栋，停水一天了", "请您告知一下详细地址。", "地址"),
])
def test_asking_for_the_detail_just_given_is_must_fix(analyzer, customer: str, reply: str, detail: str) -> None:  # noqa: ANN001
    from anfu.qa.context import asked_again_for
    from anfu.text.normalize import normalize

    assert asked_again_for(normalize(reply), normalize(customer)) == detail
    turn = _last_agent(analyzer, [("customer", customer), ("agent", reply)])
    assert turn.violation is True and turn.findings[0].level == "must_fix" and turn.rewrite
    assert turn.findings[0].category == "dismissing"


@pytest.mark.parametrize("customer,reply", [
    ("快递一周没动了，到底怎么回事？", "麻烦您提供一下订单号，我帮您核实。"),      # a first request is ordinary
    ("订单号是608812345501，一周没动了", "查到了，订单608812345501在北京转运中心，明天送达。"),  # used, not asked
    ("我打10010问了好几次都没用", "麻烦您私信提供一下宽带账号和装机地址，我帮您查。"),  # a number, not the account
])
def test_a_first_request_or_a_used_detail_is_not_asking_again(customer: str, reply: str) -> None:
    from anfu.qa.context import asked_again_for
    from anfu.text.normalize import normalize

    assert asked_again_for(normalize(reply), normalize(customer)) is None


@pytest.mark.parametrize("customer,reply", [
    ("又停水", "您好，请问有什么可以帮您？"),
    ("电费一千多", "您好，请问有什么可以帮您？"),
    ("耳机一边没声了", "亲，请问遇到了什么问题呢？"),
])
def test_an_opener_after_the_customer_said_what_is_wrong_is_must_fix(analyzer, customer: str, reply: str) -> None:  # noqa: ANN001
    """Issue 10: "what can I do for you" right after the customer said it ignores them (dismissing),
    the same judgement as asking again for a detail just given."""
    from anfu.qa.context import STATED_NEED, asked_again_for
    from anfu.text.normalize import normalize

    assert asked_again_for(normalize(reply), normalize(customer)) == STATED_NEED
    turn = _last_agent(analyzer, [("customer", customer), ("agent", reply)])
    assert turn.violation is True and turn.findings[0].level == "must_fix"
    assert turn.findings[0].category == "dismissing"
    # the rule names what was ignored when it, not the model, decides
    assert turn.findings[0].rule_id != "context.asks_again" or "诉求" in turn.findings[0].message


@pytest.mark.parametrize("customer,reply", [
    ("你好", "您好，请问有什么可以帮您？"),                     # a greeting: asking is the next step
    ("在吗？", "在的，请问有什么可以帮您？"),
    # a long rant at accounts names no request: real 质检 let an opener answer it
    ("@中国电信上海客服 ,现在2016年好不啦？一个小小的app ,都搞不定.还是500强？", "您好，请问有什么可以帮您？"),
    ("又停水", "您好，请问您的地址是？"),                       # a first request for a detail
])
def test_an_opener_after_a_greeting_or_a_rant_is_not_asking_again(customer: str, reply: str) -> None:
    from anfu.qa.context import asked_again_for
    from anfu.text.normalize import normalize

    assert asked_again_for(normalize(reply), normalize(customer)) is None


def test_reply_without_a_customer_turn_is_checked_alone(analyzer) -> None:  # noqa: ANN001
    alone = analyzer(Conversation.from_texts([("agent", "这个不归我们管，你自己去找物业。")])).turns[0]
    assert alone.violation is True and all(f.confidence is None for f in alone.findings)


def test_live_draft_check_uses_the_same_judgement() -> None:
    recent = [("customer", "这台洗衣机又坏了，到底给我换还是修？")]
    kind = check_draft("换还是修，都听您的，您选好后我今天就安排。", None, recent[0][1], recent)
    bad = check_draft("这不归我们管，你自己去找厂家。", None, recent[0][1], recent)
    assert kind["violation"] is False and bad["violation"] is True
    assert bad["findings"][0]["level"] == "must_fix" and 0 < bad["findings"][0]["confidence"] <= 1


def test_dense_features_read_the_context() -> None:
    ctx = ReplyContext(customer="单号 sf1234567890 ，到底怎么回事？", earlier_agent=("请您私信提供一下单号。",),
                       earlier_customer=("单号 sf1234567890 ，到底怎么回事？",))
    x = dict(zip(DENSE, dense_features("请您私信提供一下单号。", ctx, 0)))
    assert x["customer_question"] == 1 and x["repeats_earlier_reply"] == 1 and x["asks_again"] == 1
    assert x["first_reply"] == 0 and x["answers_customer"] == 1


def test_weights_for_other_features_are_refused(tmp_path) -> None:  # noqa: ANN001
    model = ContextReplyModel.load()
    path = model.save(tmp_path / "w.npz")
    assert ContextReplyModel.load(path).threshold_ == model.threshold_
    import numpy as np

    with np.load(path, allow_pickle=True) as data:
        arrays = dict(data)
    arrays["dense"] = np.array(["x"], dtype=object)
    np.savez(tmp_path / "other.npz", **arrays)
    with pytest.raises(anfu.AnfuError):
        ContextReplyModel.load(tmp_path / "other.npz")


STC3 = public_data_dir() / "stc3" / "train_data_cn.json"


@pytest.mark.slow
@pytest.mark.skipif(not STC3.is_file(), reason="needs ../shared/data/stc3 (the STC-3 dialogues)")
def test_heldout_agent_turns_in_context() -> None:
    from anfu.training.presend import all_examples, prf, rule_hits

    model = ContextReplyModel.load()
    held = [e for e in all_examples() if e.heldout and e.source != "replies"]
    scores = model.predict([e.reply for e in held], [e.context for e in held], rule_hits(held))
    # stc3 on the adjudicated second-pass labels; with the conversations of corpus/presend/ the model
    # alone reads written 0.971 / 0.886 and real 0.588 / 0.599
    for source, floor in (("written", (0.93, 0.88)), ("stc3", (0.57, 0.59))):
        rows = [(e.violation, s[0] >= model.threshold_) for e, s in zip(held, scores) if e.source == source]
        got = prf([g for g, _ in rows], [p for _, p in rows])
        # the figures reached on the held-out splits (README); real replies stay below the targets
        assert got["precision"] >= floor[0] and got["recall"] >= floor[1], (source, got)


@pytest.mark.parametrize("earlier,customer,reply,detail", [
    # the agent asked, the customer answered, the agent asks the same again
    ("请问您的洗衣机是什么型号？买了多久？", "xqg80 前年买的", "请问洗衣机的型号是什么，购买多久了？", "型号"),
    ("麻烦提供一下您的户号。", "0213779410", "请您提供一下户号，我这边查询。", "户号"),
    # the customer says they have said it before, and the reply asks them to say it all again
    ("请问是什么问题？", "前两次打电话都说过了！", "不好意思，系统里没有记录，麻烦您再说一遍。", "这些信息"),
])
def test_asking_again_after_the_customer_answered_is_must_fix(analyzer, earlier: str, customer: str, reply: str,  # noqa: ANN001
                                                               detail: str) -> None:
    from anfu.qa.context import asked_again_for
    from anfu.text.normalize import normalize

    assert asked_again_for(normalize(reply), normalize(customer), normalize(earlier)) == detail
    turn = _last_agent(analyzer, [("customer", "你好，有个问题"), ("agent", earlier), ("customer", customer),
                                  ("agent", reply)])
    # must fix: the model's own finding when it scores the reply above the threshold, else the rule's
    assert turn.violation is True and turn.findings[0].level == "must_fix"


@pytest.mark.parametrize("earlier,customer,reply", [
    ("您好，请问要改地址的运单号是？", "sf2210938574", "查到了，这件还没派送，可以改。请问新地址是哪里？"),   # a new value
    ("请问是什么型号的？", "不知道型号，标签磨掉了", "没关系，请问是什么型号您可以看一下说明书封面吗？"),  # not given
    ("麻烦您说一下上次反映的问题。", "我上次说过了，还要再说一遍？", "您说得对，不该让您再讲一遍，我已经查到了上次的工单。"),
])
def test_a_new_value_or_a_detail_not_given_is_not_asking_again(earlier: str, customer: str, reply: str) -> None:
    from anfu.qa.context import asked_again_for
    from anfu.text.normalize import normalize

    assert asked_again_for(normalize(reply), normalize(customer), normalize(earlier)) is None


def test_behaviour_rules_are_their_own_evidence() -> None:
    """The issue-10 behaviour rules count apart from the other rules (`behaviour_hits`)."""
    from anfu.qa import default_checker
    from anfu.qa.context import BEHAVIOUR_RULES, rule_evidence

    checker = default_checker(model="none")
    pack_ids = {r.id for r in checker.rules_}
    assert BEHAVIOUR_RULES <= pack_ids
    found = checker.scan("快递在路上难免有磕碰，这不是我们的问题。")
    other, behaviour = rule_evidence(f.rule_id for f in found)
    assert behaviour == 1 and other >= 1
    ctx = ReplyContext(customer="箱子被摔坏了", earlier_customer=("箱子被摔坏了",))
    x = dict(zip(DENSE, dense_features("快递在路上难免有磕碰。", ctx, 0, 1)))
    assert x["behaviour_hits"] == 1 and x["rule_hits"] == 0


@pytest.mark.parametrize("customer,reply,rule_id", [
    ("我寄的花瓶到了碎成三块，你们怎么包装的？", "运输过程中难免会有磕碰，易碎品本来就有风险。", "fp.self_defence.normalising"),
    ("相册说好两周做好，现在一个月了还没到！", "旺季订单多，大家都这样。", "fp.self_defence.normalising"),
    ("新买的冰箱门上有一道划痕，我要换货。", "就一道小划痕，不影响使用的。", "fp.belittling.minimising"),
    ("我会员密码忘了，登不上去，能帮我看看吗？", "忘记密码的话您自己在登录页重置一下就行。", "fp.impatience.do_it_yourself"),
    ("耳机坏了，寄修的运费谁出？", "这个价位的耳机我们不包来回运费。", "fp.price_excuse.cheap_so"),
])
def test_reworded_defences_and_belittling_are_flagged_in_context(analyzer, customer: str, reply: str,  # noqa: ANN001
                                                                 rule_id: str) -> None:
    """Issue 10: the written misses were reworded defences and belittling no rule named."""
    turn = _last_agent(analyzer, [("customer", customer), ("agent", reply)])
    assert turn.violation is True and turn.rewrite
    assert rule_id in {f.rule_id for f in turn.findings} and all(f.level == "must_fix" for f in turn.findings)


def test_the_same_words_with_a_fix_are_not_flagged_in_context(analyzer) -> None:  # noqa: ANN001
    turn = _last_agent(analyzer, [
        ("customer", "我的件压坏了，你们要赔！"),
        ("agent", "非常抱歉，运输中确实难免有磕碰，但这是我们的责任，我现在就为您申请理赔，今天下午给您回复。"),
    ])
    assert turn.violation is False, [f.message for f in turn.findings]
