"""anfu.risk.v1: escalation-risk threats with negation, tense and conditions; the learned head."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from anfu.components.risk import EscalationRisk, validate_escalation
from anfu.errors import ModelError
from anfu.rules import load_pack
from anfu.testing import check_component
from anfu.text.normalize import normalize
from anfu.training.data import is_heldout
from anfu.types import Assessment, Conversation, Utterance

CORPUS = Path(__file__).resolve().parents[2] / "corpus" / "service"


@pytest.fixture(scope="module")
def risk() -> EscalationRisk:
    """The rules alone (the `escalation` pack); the learned head has its own tests below."""
    return EscalationRisk(model="none")


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
    ("你们不给我个说法，我今天就发视频，我几十万粉丝可都看着呢", {"media"}),
    ("我打10000号投诉", {"complaint"}),
    ("好啊，那我发个微博，让你们代言人看看你们的服务", {"media"}),  # posting so others see: exposure
    ("你们再不处理，要不要我报警？", {"police"}),  # offered as a threat: no 先, no advice sought
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
    ("我不管什么人民银行，我的钱我想什么时候取就什么时候取", "negated"),
    ("我打10000号投诉，客服说要等三天", "narrated"),
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
    "#北京联通乱扣费# 不告知就自动充值500块",  # a topic naming the grievance is no call to spread
    "我会告诉我认识的朋友都别用你们的宽带",  # word of mouth to friends: a private intention
    "客服表示让负责人回电话，结果又被放鸽子",  # a promise reported, not a demand for a manager
    "请领导一定给她记上一笔",  # praise for the agent, not a demand for a manager
    "空调又不制冷了。上个月报修过，你们张经理来看过。",  # a past visit told, not a demand
    "去年主管过来查过一次，说线路没问题",
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
    ("#抵制乐视# 你们什么垃圾手机，跑几十公里都搜不到星", "media"),  # a boycott hashtag
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
    ("让主管给我回电话，今天必须解决", "superior"),  # 让 + a manager + a demand on the customer's behalf
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


# --- real customer turns (STC-3 Weibo helpdesk): tense and aspect of 投诉, nominal and
# descriptive uses, posting words that need intent, media tags and calls to spread

@pytest.mark.parametrize("text,channel", [
    ("你们再不处理，我要投诉你们的客服", "complaint"),
    ("这是我第三次投诉了，还是没人管", "complaint"),
    ("明天我就打10000投诉", "complaint"),
    ("继续投诉@中国联通客服 充值页面的红包根本没有", "complaint"),
    ("我要找你们总部投诉", "superior"),
    ("3号客服的领导麻烦出来解释一下！！！", "superior"),
    ("我要找媒体曝光你们", "media"),
    ("我会在我的朋友圈里劝告大家也不要去买的", "media"),
    ("明天我就发微博让大家评评理", "media"),
    ("超了流量也不提醒 @燕赵晚报365天天帮办 @中国联通河北客服", "media"),
    ("乱扣我话费还停我宽带 @厦门街头巷尾 @中国联通", "media"),
    ("麻烦大家转发一下，不要让更多人上当", "media"),
    ("这就是乐视，欢迎大家转发问一下", "media"),
    ("如果还是不能解决，我会让我的朋友们帮我转发出去的", "media"),
    ("你们不解决，那我就一天臭你一次，直到问题解决", "media"),
    ("所以我会继续散布攻击某通的“谣言”，一天转发一遍", "media"),
    ("多久时间！不联系直接315！", "regulator"),
    ("是不是要投诉到信息产业部？", "regulator"),
    ("再不来修我就打一二三四五", "regulator"),
    ("同时我会进一步维护自己的权益", "complaint"),
    ("真想把收钱的那位扭送去派出所", "police"),
    ("我已经报警了，等着吃官司吧", "legal"),
    ("我已经在APP上投诉了，希望你们认真处理", "complaint"),
])
def test_real_text_threats(risk: EscalationRisk, text: str, channel: str) -> None:
    risky, triggers = _assess(risk, text)
    assert risky, (text, triggers)
    assert channel in {t.label for t in triggers if t.kind == "escalation"}, (text, triggers)


@pytest.mark.parametrize("text", [
    # a complaint already made, told with what happened next
    "两周如此，投诉客服却告诉我只能报障，损失的券不管",
    "你们客服坐席看来同类投诉很多啊，我都投诉了一周了",
    "家里网速不稳定，2月份投诉告诉我小区线路老化",
    "刚投诉10010，客服说给我营业厅电话",
    "打10000号投诉 接线员无精打采",
    "我等着你们在承诺期限内的回复！投诉电话已提醒他录音！",
    # ("投诉电话总是没人接" moved: a blocked attempt is a threat under the clarified guide)
    "流量被偷跑了，投诉，客服还怀疑我是故意用流量",
    # nouns and generic remarks
    "根本不认真对待我们的投诉！",
    "投诉是解决问题最直接的方法",
    "每次都是投诉才有人理",
    "账号申诉都不通过",
    "被朋友投诉，说我耍大牌不回短信",
    "对方直接叫我去投诉他，人家不来了",
    # descriptive words
    "今天我去总部办理的时候告诉我手机有欠费",
    "北京银行总行大厦信号不好，地址在联通总部旁边",
    "在相册里执行返回上一级操作却不是立即回弹",
    "每一次新产品发布，他都是媒体热烈追随的对象",
    "这两天在3G下@新浪微博 官方客户端经常无法评论",
    "我和这个bug死磕了一晚上",
    "FDD频段需等待工信部许可",
    "要是领导来了怎么办，呵呵",
    # ("请问我该怎么继续维护权益？" moved: asking how to complain is a threat under the clarified guide)
    # posting words without intent
    "私信你们叫我自己查询，我还发微博抱怨？",
    "昨天拍了三张照片发朋友圈，结果有一张不见了",
    "转发微博送话费的活动，私信多次至今没有回复",
    # a company's own hotline account is not a news account
    "这一站的信号都很烂 @北京移动10086热线 @中国联通北京客服",
    # someone else told me to call the police
    "邻居拨打10000号反映，客服让报警，说他们处理不了",
    "呼吸机突然报警，屏幕上一串英文",
])
def test_real_text_lookalikes_are_not_threats(risk: EscalationRisk, text: str) -> None:
    risky, triggers = _assess(risk, text)
    assert not risky, (text, triggers)


def test_descriptive_mentions_explain_themselves(risk: EscalationRisk) -> None:
    risky, triggers = _assess(risk, "少来这套，工作人员能解决问题我有必要发微博？")
    assert not risky
    assert [t.label for t in triggers if t.kind == "negation"] == ["descriptive"]


def test_validator_checks_the_new_keys() -> None:
    pack = dict(load_pack("escalation"))
    broken = dict(pack, channels=dict(pack["channels"], media=dict(
        pack["channels"]["media"], intent_only={"patterns": ["(unclosed"]})))
    assert any("intent_only.patterns[0]" in p for p in validate_escalation(broken))
    broken = dict(pack, intent={"cues": ["要"], "patterns": ["[bad"]})
    assert any("intent.patterns[0]" in p for p in validate_escalation(broken))
    broken = dict(pack, narrative=dict(pack["narrative"], acts={"mentions": ["(x"], "after": [], "before": []}))
    assert any("narrative.acts.mentions[0]" in p for p in validate_escalation(broken))
    broken = dict(pack, narrative=dict(pack["narrative"], acts="投诉"))
    assert any("narrative.acts must be a mapping" in p for p in validate_escalation(broken))


# Reached on the STC-3 held-out fold (dialogue id % 5 == 0) with the adjudicated labels of the second
# full pass, read once after the rules followed the clarified guide (issue 9: blocked attempts,
# questions about complaining, wishes, implied threats, 差评 as a rating, action hashtags, warnings
# to readers, city and news tags, appeals to leaders): turns alone, as here, P 0.669 (81 of 121
# flagged), R 0.827 (81 of 98; the rules before these changes: 80 of 120, 80 of 98, 0.667 / 0.816).
# The floors sit one turn below. The recall gain on the training dialogues (0.863 -> 0.933) did not
# carry; reported in the model card, not tuned on this fold.
STC3_HELDOUT_FLOOR = {"precision": 0.66, "recall": 0.81}


def test_stc3_heldout_escalation_scores(risk: EscalationRisk) -> None:
    """P/R on the held-out real customer turns; skipped without the STC-3 texts."""
    from anfu.training.data import load_stc3

    rows = [e for e in load_stc3() if e.heldout and e.escalation_risk is not None]
    if not rows:
        pytest.skip("STC-3 texts not found (../shared/data/stc3 or $ANFU_PUBLIC_DATA)")
    tp = fp = fn = 0
    for e in rows:
        predicted = _assess(risk, e.text)[0]
        tp += predicted and e.escalation_risk
        fp += predicted and not e.escalation_risk
        fn += e.escalation_risk and not predicted
    precision, recall = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
    assert precision >= STC3_HELDOUT_FLOOR["precision"], (precision, recall)
    assert recall >= STC3_HELDOUT_FLOOR["recall"], (precision, recall)


# Issue 9: what the labellers decided about police tags, third-party reports, photos, reported
# suggestions and shared articles (LABELS.md, "Clarifications"); our own sentences in the style of
# the real posts.
@pytest.mark.parametrize("text, channel", [
    ("希望@平安北京 能关注一下你们这个乱收退票费的平台", "police"),
    ("订单号早就给你们了，只好请@深圳公安 来看看你们这个平台了", "police"),
    # the company itself is accused: tagging the police is aimed at it
    ("你们泄露了我的身份证号，现在天天收到诈骗短信 @江宁公安在线", "police"),
    # a threat in person, not a report about a scammer
    ("不给收据就是诈骗，真想把收钱的那个人扭送去派出所！", "police"),
    # a tag is addressed now: a negation earlier in the clause is about something else
    ("宽带不给升级，又不能携号转网@工信部", "regulator"),
])
def test_police_tags_and_tags_after_a_negation_are_threats(risk: EscalationRisk, text: str, channel: str) -> None:
    risky, triggers = _assess(risk, text)
    assert risky, (text, triggers)
    assert channel in {t.label for t in triggers if t.kind == "escalation"}, triggers


@pytest.mark.parametrize("text, reason", [
    ("@深圳公安 这个号码天天给我发诈骗短信，你们联通管不管？", "third_party"),
    ("#举报垃圾短信# 已举报该号码，大家收到这种中奖短信直接删", "third_party"),
    ("最近老收到垃圾短信 @12321举报中心 你们管吗？", "third_party"),
    ("美滋滋地准备照个相发微博，结果相机打不开了", "narrated"),
    ("客服说明天八点以后请打10018找客服经理办理", "reported"),  # frames.reported
    ("我分享了@新浪科技 的文章，联通的信号越来越差", "negated"),
])
def test_reports_photos_and_suggestions_are_not_threats(risk: EscalationRisk, text: str, reason: str) -> None:
    risky, triggers = _assess(risk, text)
    assert not risky, (text, triggers)
    assert reason in {t.label for t in triggers if t.kind == "negation"}, triggers


def test_validator_checks_third_party() -> None:
    pack = dict(load_pack("escalation"))
    broken = dict(pack, third_party={"mentions": ["(x"], "cues": ["诈骗"]})
    assert any("third_party.mentions[0]" in p for p in validate_escalation(broken))
    assert any("'third_party' must be a mapping" in p for p in validate_escalation(dict(pack, third_party="诈骗")))


# --- the learned head (anfu.backends.risk_ngram, shipped weights) -------------------------------

@pytest.fixture(scope="module")
def with_head() -> EscalationRisk:
    return EscalationRisk(model="default")


def _head_with(component: EscalationRisk, hit: float, rest: float) -> EscalationRisk:
    """The component with the shipped head at other thresholds (to exercise each decision path)."""
    import copy

    other = copy.copy(component)
    head = copy.copy(component.head_)
    head.hit_threshold, head.rest_threshold = hit, rest
    other._head = head
    return other


def test_head_is_shipped_and_opt_in(with_head: EscalationRisk) -> None:
    from anfu.backends.risk_ngram import DEFAULT_WEIGHTS

    assert with_head.head_ is not None and DEFAULT_WEIGHTS.stat().st_size < 3_000_000
    assert DEFAULT_WEIGHTS.with_suffix(".metrics.json").is_file()
    assert EscalationRisk().head_ is None and EscalationRisk(model="none").head_ is None
    with pytest.raises(ModelError) as missing:
        EscalationRisk(model="/no/such/risk.npz")
    assert missing.value.code == "AF201"
    risky, triggers = with_head.assess(normalize("再不给我修好，我明天就打12345投诉你们！"),
                                       "再不给我修好，我明天就打12345投诉你们！")
    assert risky and {t.label for t in triggers if t.kind == "escalation"} >= {"regulator"}
    calm = "请问宽带怎么办理？"
    assert with_head.assess(normalize(calm), calm) == (False, [])


def test_a_doubted_rule_threat_stays_visible_as_a_negation(with_head: EscalationRisk) -> None:
    text = "我要投诉你们客服，太慢了"
    doubting = _head_with(with_head, hit=1.01, rest=1.01)
    risky, triggers = doubting.assess(normalize(text), text)
    rules_risky, rules_triggers = EscalationRisk(model="none").assess(normalize(text), text)
    assert rules_risky and not risky
    assert [(t.start, t.end, t.rule_id) for t in triggers] == [(t.start, t.end, t.rule_id) for t in rules_triggers]
    assert {t.kind for t in triggers} == {"negation"} and "model_doubt" in {t.label for t in triggers}


def test_a_model_only_flag_names_its_strongest_ngram(with_head: EscalationRisk) -> None:
    text = "这件事我记下了，咱们慢慢来"
    assert EscalationRisk(model="none").assess(normalize(text), text) == (False, [])
    flagging = _head_with(with_head, hit=0.0, rest=0.0)
    risky, triggers = flagging.assess(normalize(text), text)
    assert risky and len(triggers) == 1
    t = triggers[0]
    assert (t.kind, t.label, t.rule_id) == ("escalation", "model", "escalation.model")
    assert t.text and text[t.start:t.end] == t.text


def test_head_contract_and_batch_equals_single(with_head: EscalationRisk) -> None:
    check_component(with_head)
    conv = Conversation.from_texts([
        ("customer", "宽带又断了，上次投诉的事还没解决"), ("agent", "抱歉，马上为您查询。"),
        ("customer", "再不修好我就去工信部申诉！"), ("agent", "已为您加急。"), ("customer", "好的，谢谢。"),
    ])
    doc = with_head(Assessment.start(conv))
    for turn in doc.turns:
        if turn.speaker == "customer":
            single = with_head.assess(normalize(turn.text), turn.text, turn.follow_up)
            assert (turn.escalation_risk, turn.triggers) == (single[0], single[1])
    assert doc.turns[2].escalation_risk is True and doc.turns[4].escalation_risk is False


def _conversation(turns: list[tuple[str, str]]) -> Assessment:
    return Assessment.start(Conversation.from_texts(turns, id="risk-context"))


def _last_turn(risk: EscalationRisk, turns: list[tuple[str, str]]):  # noqa: ANN202
    doc = _conversation(turns)
    risk(doc)
    return doc.turns[-1]


SCAM = [("customer", "您好……我可能被骗了……刚才有人说是快递理赔，让我转了5000块"),
        ("agent", "收到。我们先抓紧时间：请问是从哪张卡转出的？")]


def test_a_police_report_about_a_scammer_named_earlier_is_no_threat(risk: EscalationRisk) -> None:
    turn = _last_turn(risk, SCAM + [("customer", "好……我现在就打110")])
    assert turn.escalation_risk is False
    assert [(t.kind, t.label) for t in turn.triggers] == [("negation", "third_party")]
    # the same words alone, or opening a conversation, stay a threat
    assert _assess(risk, "好……我现在就打110")[0] is True
    assert _last_turn(risk, [("customer", "好……我现在就打110")]).escalation_risk is True


def test_following_the_agents_advice_to_report_is_no_threat(risk: EscalationRisk) -> None:
    advised = [("customer", "手机银行被人转走了五万！你们的安全系统是干什么吃的？"),
               ("agent", "我已经启动了紧急止付，同时请您马上报警，有了报案回执我们可以配合公安冻结对方账户。"),
               ("customer", "行，我现在就去派出所。你们这次动作还算快")]
    assert _last_turn(risk, advised).escalation_risk is False
    # an agent who says there is no need gives no such context
    told_not = [("customer", "我在你们网点门口被人抢了包，你们保安呢？"),
                ("agent", "先不用报警，我们先查监控。"),
                ("customer", "不给我个说法我就报警")]
    assert _last_turn(risk, told_not).escalation_risk is True


def test_a_customer_who_accuses_the_company_keeps_the_police_threat(risk: EscalationRisk) -> None:
    accused = [("customer", "我名下多了一张卡，我根本没办过！是不是你们把我信息泄露了？有人冒名办的"),
               ("agent", "您好，我马上帮您查。"),
               ("customer", "查不清楚我就去报警")]
    assert _last_turn(risk, accused).escalation_risk is True


def test_the_turn_memo_keeps_the_context_apart() -> None:
    """The same words after a scam and at the start of another conversation, through the
    shipped Analyzer's turn memo: each keeps its own verdict."""
    from anfu import load

    analyzer = load()
    after_scam = analyzer(Conversation.from_texts(SCAM + [("customer", "好……我现在就打110")], id="memo-a"))
    alone = analyzer(Conversation.from_texts([("customer", "好……我现在就打110")], id="memo-b"))
    again = analyzer(Conversation.from_texts(SCAM + [("customer", "好……我现在就打110")], id="memo-c"))
    assert after_scam.turns[-1].escalation_risk is False
    assert alone.turns[-1].escalation_risk is True
    assert again.turns[-1].escalation_risk is False


# --- issue 9, precision on real turns: the kinds of mention a careful annotator excludes, each a
# pattern class judged by its grammar (aspect, who acts, the role of the body named, the target),
# with threats of the same shape beside them. Our own sentences, not taken from the data.

# Habitual or generic talk about complaining (`frames.generic`, verdict `generic`): a periodic or
# generic frame (每次/每个月/年年/一年到头/一般都得/靠…) describes how things go, not what the customer
# will do now. A future frame (以后, 下次, 从今天起) or a new clause announcing a step keeps the
# threat. (非要/非得 … 才 is left alone: the labellers read "非要微博曝光你才拎得清啊" as a threat.)
HABITUAL_NOT_THREATS = [
    "每次宽带出问题都得打电话投诉才有人来修",
    "每个月都要为话费的事投诉一回，累不累",
    # ("是不是每回都要靠投诉才能办成事？" moved to ASK_THREATS: asking whether one has to complain is
    # a threat under the clarified guide)
    "一年到头总要投诉个两三次",
    "每半年就得找一回你们领导，才有人管",
    "每次都靠找经理才能解决问题，普通客服什么都做不了",
    "这种事一般都得投诉才有用",
    "为什么每次都要我投诉了你们才动？",
    "每回停电我都要打95598投诉，真是心累",
    "年年给你们差评，年年没变化",
    "每年续约都得找你们经理吵一架才给优惠",
    "每次换套餐都要打三四个电话投诉才办得下来",
    "年年涨价，年年有人投诉，你们也不改",
    "一到夏天就停电，每回都是打12345才有人管",
    "每个季度都要找一次经理，烦不烦",
    "动不动就得投诉，这服务真让人无语",
    "每当网络卡顿我都得给你们客服打电话投诉，习惯了",
    "每逢节假日快递就慢，每次都要靠投诉才能送到",
]
HABITUAL_THREATS = [
    "以后每次断网我都去工信部投诉",
    "从今天起，每断一次网我就投诉一次",
    "下次再这样，我每次都给差评",
    "每次都这样，这次我一定要投诉",
    "每个月都乱扣费，我要去12315举报你们",
    "你们每次都推，我现在就要投诉",
    "每次都说马上处理，我要找你们领导",
    "每回都是这套说辞，我明天就去消协",
    "每次都让我等，再不来我就投诉",
    "以后每个月扣一次费，我就打一次12345",
    "每次都这样敷衍，这次我直接去12315",
    "以后每次停电我都打12398投诉",
    "每个月乱扣费，我要找你们领导",
    "每回都推给别人，我要投诉你们",
    "下次再断网，我每次都投诉",
    "每次都说在处理，再拖我就去消协",
    "从现在起每次送错我都给差评",
    "每年都这么收费，我要起诉你们",
]

# Someone else acts or speaks (`frames.reported`, verdict `reported`): the agent's or another person's suggestion, other users' complaints
# ("客服说可以去12315投诉", "有人反映去工信部投诉也没用") report what others said or did. The
# customer's own words ("我说我要投诉") stay the customer's.
REPORTED_NOT_THREATS = [
    "客服说如果不满意可以去12315投诉",
    "营业厅的人居然叫我自己去消协申诉",
    "接线员建议我打12345反映一下",
    "你们工作人员说有意见就去投诉他好了",
    "听邻居说他们楼里有人去工信部投诉了",
    "网上很多用户反映去12315投诉也没用",
    "小区里别的住户都去投诉过物业",
    "他们说投诉也没用，让我等通知",
    "我同事说他投诉了三次才给退",
    "对方表示要是嫌慢可以找市长热线",
    "你们经理亲口说的，不服就去法院告",
    "装维师傅说让我直接去通管局反映，他也没办法",
    "客服跟我说嫌慢可以自己去投诉",
    "你们那个店员说有本事去消协告他",
    "快递员说让我找他们经理，他做不了主",
    "营业员建议我去12315问问",
    "邻居说他上个月找了市长热线",
    "对方说不服可以去法院起诉",
    "师傅说要投诉就投诉吧，反正配件没到",
    "朋友说他们公司的人都去工信部投诉过",
    "我妈说她上周已经打过市长热线了",
    "好多网友都说去工信部投诉管用",
    "营业厅小姑娘说有问题可以打12315",
]
REPORTED_THREATS = [
    "客服说要等一周，我不接受，我要投诉",
    "你们说让我去投诉，那我就去12315投诉",
    "你们客服说我去投诉也没用？那我直接找12345",
    "别人投诉都有用，我也要投诉",
    "客服一直推，我要投诉这个客服",
    "我跟客服说了，再不处理我就投诉",
    "我已经和你们说过，不退款我就起诉",
    "我说我要投诉你们，你们当耳旁风？",
    "我告诉你们，我要去消协",
    "客服让我等通知，等不了了，明天直接打市长热线",
    "客服说没办法，那我就去12315投诉",
    "你们说等三天，我等不了，我要投诉",
    "他们让我自己想办法，我只能找记者了",
    "我说了我要投诉，你们听见没有",
    "经理说他做不了主，那我要找你们总经理",
    "客服让我等通知，我现在就去消协",
    "我跟你们说清楚，再不退钱我就起诉",
    "店员说不能退，行，我去市场监管局",
    "你告诉我哪里可以投诉",
]

# A regulator named as a topic or a source of information (its rules, data, website, its staff
# judged) is not the goal of an appeal (`frames.topic`, verdict `topic`, or `negated` by the older
# `negation.after` words such as 规定); the same bodies as the goal of going, calling, telling
# or asking ("去工信部", "打市长热线", "让市场监管局来评评理", "消协见") are.
TOPIC_NOT_THREATS = [
    "工信部早就规定了提速降费，你们怎么还这么贵",
    "我在工信部网站上查了标准，确实是这么规定的",
    "你们以为自己是市场监管局啊，还要我出示证明？",
    "工信部那些官员也不作为",
    "听说市场监管局最近在查虚假宣传",
    "这个政策是发改委定的还是你们定的？",
    "按照能源局的文件，应该先通知再停电",
    "消协的文章我看了，说的就是你们这种情况",
    "去工信部官网看看标准就知道你们不达标",
    "通管局的数据显示这一片信号覆盖率很低",
    "人民银行那边的政策我懂，但你们执行得太死板了",
    "物价局定的电价我没意见，问题是你们多收了",
    "发改委的文件里写得清清楚楚，峰谷电价要提前公示",
    "我查了市场监管局公布的名单，你们家在上面",
    "能源局的标准是电压偏差不超过7%",
    "你们当自己是工商局啊，还要查我户口本？",
    "工信部那套提速降费的说法，到你们这就变味了",
    "根据银保监会的规定，保险公司应该在十天内赔付",
    "通管局去年出台的文件说过不能强制捆绑",
    "消协的报告我看过，里面点名了好几家快递公司",
]
TOPIC_THREATS = [
    "我要去工信部申诉",
    "这件事我会找消协",
    "那就市场监管局见吧",
    "你们再这样我就打市长热线",
    "请工信部管管这些乱扣费的运营商",
    "向能源局反映你们随意停电",
    "消协那边我明天就去",
    "不给退就去消费者协会",
    "让市场监管局来评评理",
    "这事必须让监管部门知道",
    "你们等着通管局的电话吧",
    "我去工信部告你们",
    "那就消协见",
    "我要打市长热线",
    "明天我就去市场监管局举报",
    "让能源局来管管你们",
    "我会向通管局申诉",
    "这事我找消协评理",
    "你们等着工商局来查吧",
    "再不给退款，消协！",
]

# A tag (@account, #topic#) on a report about a third-party wrongdoer (`third_party.tag_cues`,
# verdict `third_party`) (a scammer, a spammer, a
# thief) warns or asks for help; it is no threat against the company, unless the turn accuses the
# company itself. A tag on a grievance against the company stays a threat.
THIRD_PARTY_NOT_THREATS = [
    "收到冒充银行的诈骗短信，链接千万别点 @平安南京 @南京晨报",
    "有人冒充快递员上门推销假货 @都市快报",
    "这个号码天天打骚扰电话推销贷款 @北京12345",
    "中奖短信又来了 @工信微报 管管这些骗子吧",
    "@江苏新闻 今天在地铁站看到小偷偷手机，被抓了",
    "又是冒充客服要验证码的钓鱼电话 @新闻晨报",
    "有骗子假冒你们的客服号发退款链接 @广州日报",
    "@浙江新闻 小区群里有人发传销广告",
    "家里老人接到诈骗电话差点转账 @成都商报",
    "又收到冒充客服的诈骗短信了 @新京报",
    "小区里有小偷专偷电动车电瓶 @城市快报",
    "@长沙晚报 有人冒充电力公司上门收费，大家注意",
    "陌生号码一天打五次骚扰电话 @北京12345",
    "骗子假冒银行发短信让点链接 @南方都市报",
    "中大奖的短信又来了，都是骗人的 @工信微报",
    "朋友的微信被盗了，到处借钱 @平安广州",
    "有人在地铁口搞传销拉人头 @深圳晚报",
    "@新民晚报 有人冒充抄表员上门骗钱，大家小心",
    "又接到一个冒充公安的诈骗电话 @平安成都 @成都晚报",
    "被陌生号码骚扰了一个星期 @北京12345 @北京青年报",
]
THIRD_PARTY_THREATS = [
    "你们泄露了我的号码，天天接到诈骗电话 @北京晚报",
    "乱扣费三个月没人管 @北京晚报",
    "宽带断了一周没人修 @都市快报 @杭州日报",
    "#投诉# 你们客服承诺的退款到现在没到",
    "@工信微报 你们这样乱收费还有没有人管",
    "客服态度恶劣，挂我电话 @新闻晨报",
    "是不是你们内部倒卖了我的信息，现在诈骗电话不断 @成都商报",
    "手机被偷了你们不给挂失，还要我跑三个营业厅 @广州日报",
    "说好的赔偿不兑现 @浙江新闻",
    "@央视新闻 这家公司卖的手机用三天就坏",
    "你们泄露了我的信息，现在天天接到诈骗电话 @新京报",
    "乱扣费半年没人管 @城市快报",
    "你们不给我解冻银行卡 @南方都市报",
    "#投诉# 你们的快递员把我的包裹弄丢了",
    "被盗刷了你们却说不归你们管 @新京报",
    "宽带装了一个月还没通 @长沙晚报",
    "@工信微报 运营商乱收费谁来管",
    "客服态度太差了 @深圳晚报",
    "不打招呼就扣我流量，小偷公司 @新京报",
    "宽带停了半个月没人管 @新民晚报",
    "@工信微报 联通乱扣流量费",
    "你们泄露我的信息，导致我被诈骗，@北京晚报 请关注",
]

# Questions about where or how to complain: in an aggrieved turn they announce the step (the
# labellers mark "怎么投诉呢", "请问我该找谁维权" true); after a fix, in a calm turn, they are a
# neutral question (the pack's `query`). Kept as it is; pinned here.
QUERY_THREATS = [
    "修了三次都修不好，你们投诉电话到底是多少？",
    "乱扣我的钱，我该去哪里投诉？",
    "这种霸王条款有地方举报吗",
    "等了半个月还没人上门，请问投诉渠道是什么？",
    "你们这样乱收费，我想知道怎么向上级部门举报",
]
QUERY_NOT_THREATS = [
    "问题已经解决了，顺便问一下你们的投诉和建议入口在哪",
    "不是要投诉，就是想了解一下投诉流程",
    "师傅态度很好，已经修好了，想问下表扬走投诉和建议渠道可以吗",
    "谢谢，已经解决了。顺便问下你们的投诉电话是多少，以后好找",
]

NON_THREATS_BY_CLASS = ([(t, "generic") for t in HABITUAL_NOT_THREATS]
                        + [(t, "reported") for t in REPORTED_NOT_THREATS]
                        + [(t, "topic") for t in TOPIC_NOT_THREATS]
                        + [(t, "third_party") for t in THIRD_PARTY_NOT_THREATS]
                        + [(t, "neutral_query") for t in QUERY_NOT_THREATS])


@pytest.mark.parametrize("text, reason", NON_THREATS_BY_CLASS)
def test_non_threat_mentions_by_class(risk: EscalationRisk, text: str, reason: str) -> None:
    risky, triggers = _assess(risk, text)
    assert not risky, (text, [t for t in triggers if t.kind == "escalation"])
    reasons = {t.label for t in triggers if t.kind == "negation"}  # the mention is explained
    assert reason in reasons or (reason == "topic" and reasons == {"negated"}), (text, reasons)


@pytest.mark.parametrize("text", HABITUAL_THREATS + REPORTED_THREATS + TOPIC_THREATS
                         + THIRD_PARTY_THREATS + QUERY_THREATS)
def test_threats_of_the_same_shape(risk: EscalationRisk, text: str) -> None:
    risky, triggers = _assess(risk, text)
    assert risky, (text, triggers)


def test_intent_is_read_in_the_last_spoken_segment(risk: EscalationRisk) -> None:
    """Weibo and spoken text run clauses together with spaces: an intent word in an earlier one
    ("差得要命") does not make a narrated complaint a threat; intent in the same one still does."""
    risky, triggers = _assess(risk, "信号差得要命 投诉两个月没人理")
    assert not risky and {t.label for t in triggers} == {"narrated"}
    assert _assess(risk, "信号差得要命 我要投诉")[0]


def test_a_hotline_inside_a_tag_is_part_of_the_tag(risk: EscalationRisk) -> None:
    # the hotline in "@北京12345" is a tag: on a report about a spammer it is no threat, on a
    # grievance against the company it is one
    assert not _assess(risk, "这个号码天天打骚扰电话 @北京12345")[0]
    assert _assess(risk, "停电三天了没人管 @北京12345")[0]


def test_validator_checks_frames() -> None:
    pack = dict(load_pack("escalation"))
    broken = dict(pack, frames={"generic": {"before": ["(x"]}})
    assert any("frames.generic.before[0]" in p for p in validate_escalation(broken))
    assert any("frames.habit is not a frame" in p for p in validate_escalation(dict(pack, frames={"habit": {}})))
    assert any("'frames' must be a mapping" in p for p in validate_escalation(dict(pack, frames=["x"])))
    broken = dict(pack, third_party=dict(pack["third_party"], tag_cues="诈骗"))
    assert validate_escalation(broken) != []


# --- issue 9, the clarified labelling guide (LABELS.md, "Escalation risk, settled by the full second
# pass"): one class per bullet, read from the grammar (who is addressed, tense and modality, question
# vs statement), with lookalikes of the same shape beside the threats. Our own sentences, written
# before the rules were changed, not taken from the data.

# A complaint header (【投诉】, #投诉#, a title "投诉：…") lodges the complaint now, even over a
# story; a topic hashtag naming the company or the fault is no header.
HEADER_THREATS = [
    "【投诉】小区停水三天没人管",
    "#投诉# 宽带又断了一整天",
    "投诉：装机预约了五天还没人来",
    "【投诉】上个月就报修过，到现在没人处理",
    "#投诉#去年办的套餐，今年突然涨价",
    "【投诉某某快递】包裹丢了没人认",
    "投诉: 营业员态度恶劣",
]
HEADER_NOT_THREATS = [
    "#某某宽带# 今天又断了",
    "#信号# 地下室一格都没有",
    "【求助】宽带账号忘了怎么办",
    "#双十一# 订单什么时候发货",
    "【咨询】套餐可以改吗",
]

# A blocked attempt to complain: the intent stands, only the way is shut (true); a complaint
# already made and waiting for an answer is history (false).
BLOCKED_THREATS = [
    "想投诉，热线一直占线",
    "打10000投诉没人接",
    "投诉无门，只能在这里说了",
    "营业员不让我投诉，还把我往外推",
    "为什么连个投诉的地方都没有",
    "投诉电话根本打不通",
    "想投诉找不到人",
    "要投诉都找不到电话",
    "投诉电话总是占线，你们是怕人投诉吧",
    "想打12315投诉，一直没人接",
]
BLOCKED_NOT_THREATS = [
    "昨天已经投诉了，等你们回复",
    "投诉了三次都没人理",
    "上周投诉过，说五个工作日回复",
    "投诉后一直没有下文",
    "投诉电话打了很多次，都说在处理",
]

# Asking how, where or whether to complain weighs a complaint now (true); looking up a rule, or
# a "why" about how things went, is not.
ASK_THREATS = [
    "非得投诉才可以吗？",
    "是不是每回都要靠投诉才能办成事？",
    "每次都要靠投诉才能解决吗？",
    "该怎么维权？",
    "请问我该怎么继续维护权益？",
    "求维权方法",
    "是不是只有投诉才能解决？",
    "要投诉才给办是吗？",
    "找消协有用吗？",
    "投诉有用吗？",
    "难道要我去12315你们才肯退？",
    "去哪里投诉你们？",
    "到底要找谁维权？",
]
ASK_NOT_THREATS = [
    "我去查查有没有赔偿标准，没有就算了",
    "工信部有没有这方面的规定？",
    "客服说可以去12315投诉，是真的吗？",
]

# Venting a wish is no intent (false); a decision or a condition is (true).
WISH_NOT_THREATS = [
    "真想报警",
    "真想报警抓你们",
    "恨不得把他送派出所",
    "真想投诉你们，不过我也不急",
    "好想去消协告你们啊",
    "巴不得把你们告上法庭",
    "真恨不得给你们打个差评",
]
WISH_THREATS = [
    "再不退钱我就报警",
    "我现在就报警",
    "不处理我就去消协",
    "我决定去法院起诉你们",
    "真想不通，我要投诉",
]

# Implied threats without a channel word: an open promise to keep fighting, defiance of a warning.
IMPLIED_THREATS = [
    "咱们走着瞧",
    "我会一直闹下去",
    "别想吓住我",
    "你们吓不倒我",
    "这事我跟你们耗到底",
    "我跟你们死磕到底",
    "我一定会追究到底",
    "我奉陪到底",
    "我会一直告下去",
    "这事没完",
]
IMPLIED_NOT_THREATS = [
    "五个工作日，我就等着",
    "好的，我等着你们回电话",
    "我一直等到现在",
    "走着去营业厅要半小时",
]

# 差评: a rating the customer will give or post (true); a verdict word in the post (false).
REVIEW_THREATS = [
    "不解决就给差评",
    "我去商城打差评",
    "必须给你们差评",
    "等着收差评吧",
    "我要给这个客服打一星",
    "差评伺候",
    "我会在网上写差评",
    "回头给你们刷满屏差评",
    "差评我是给定了",
    "这条差评我已经写好了",
    "差评我会如实写的",
]
REVIEW_NOT_THREATS = [
    "差评！",
    "服务差评",
    "这售后，差评",
    "差评烦！",
    "物流差评，客服差评",
    "差评的一大原因是慢",
    "差评太多了，你们也不看看",
    "好评差评都看过了",
]

# Hashtags: a hashtag that calls for action or spreading (true); a topic or verdict one (false).
HASHTAG_THREATS = [
    "#抵制某某家电# 质量太差",
    "#扩散# 这家店卖假货",
    "#求转发# 宽带乱收费",
    "#反对霸王条款# 预存话费不退",
    "#拒绝某某快递# 丢件不赔",
    "#声讨某某银行# 乱扣年费",
    "#曝光某某物业# 电梯坏了一个月",
]
HASHTAG_NOT_THREATS = [
    "#某某家电太差了# 又坏了",
    "#某某售后# 等了一周",
    "#联通黑心# 又扣费了",
    "#坑人的套餐# 说好的不限量",
    "#无良商家# 发货太慢",
    "#转发抽奖# 我中了吗",
]

# Warnings and appeals to readers in the post itself (曝光, true); a private or future intention,
# or the agent addressed, is not.
WARNING_THREATS = [
    "提醒各位，这家店的充值卡千万别买",
    "以我的经历提醒各位同学，别用这个客户端",
    "大家一定要注意，这个套餐有陷阱",
    "千万别买他们家的路由器",
    "各位注意，使用这个宽带的时候别图便宜",
    "用某某宽带的朋友都小心点",
    "建议大家远离这家公司",
    "请各位亲远离这家运营商",
    "大家携号转网一定要慎重",
    "买这款的注意了",
    "大家来评评理",
    "各位住在这个小区的朋友，你们的网络也这么慢吗？",
    "有同感的都转发吧",
    "大家办宽带的时候，一定要看清合同",
    "实在忍不住要发微博说说，乱扣费不提醒就算了，还停我的机",
]
WARNING_NOT_THREATS = [
    "以后我会提醒朋友的",
    "打算换运营商",
    "大家都知道你们的服务不好",
    "各位客服辛苦了，请尽快处理",
    "我千万别再忘记交费了",
    "大家都说好，我也买了",
    "各位亲，我的快递什么时候到？",
    "亲们一定要记得给我开发票",
    "各位客服，你们什么时候上班？",
    "投诉就算了，下次注意",
]

# Tags of media-like accounts (local news and city accounts, exposé and consumer-rights accounts,
# TV hosts) are true; friends, staff, the company's own accounts are not.
MEDIA_TAG_THREATS = [
    "宽带三天没修好 @某城生活网",
    "装机拖了半个月 @直播某城",
    "乱扣费没人管 @某城生活助手",
    "看看这家公司 @某城晚报 @某某爆料",
    "售后推来推去 @某城全攻略",
    "话费乱扣 @某城人不知道的某城事儿",
    "@某城新闻 这家营业厅态度太差",
]
MEDIA_TAG_NOT_THREATS = [
    "@我同事 你看看这家公司",
    "宽带又断了 @某某宽带客服 @某某宽带",
    "@中国联通网上营业厅 充值没到账",
    "@去哪儿网 订单取消了怎么回事",
]

# Appeals to leaders to look, judge, step in or answer (true); a bare CEO tag or a mocking
# rhetorical question (false).
LEADER_THREATS = [
    "请你们领导看看这几张截图，该不该赔偿",
    "我要问问营业厅经理，你们是怎么服务的",
    "你们公司的人出来解释一下？",
    "让你们领导评评理",
    "请你们老总管管这事",
    "你们负责人出来给个说法",
    "领导们看看你们的客服",
    "麻烦经理看一下这件事",
    "能不能帮我找一下你们值班领导",
    "把你们店长叫出来",
    "我要见你们售后经理",
    "我不想跟你说了 让你们主管来接",
]
LEADER_NOT_THREATS = [
    "你们董事长知道吗？",
    "经理说明天处理",
    "客服说领导在开会",
    "我们经理也用你们的宽带",
    "老板看看我的订单发了没",
    "请问我的客户经理电话是多少",
    "我想问问客户经理这个套餐怎么样",
]

# Escalation followed by resolution in the same turn: labelled where the turn ends.
RESOLVED_NOT_THREATS = [
    "我要投诉！……刚刚已经给我处理好了",
    "本来要打12315，现在已经解决了",
    "我要投诉！为我的损失得到解决！ 已经处理好了！",
    "之前说要给差评，现在不会了",
]
RESOLVED_THREATS = [
    "你们说已经处理好了，可还是不行，我要投诉",
    "已经解决了？根本没解决，我要投诉",
    "说是处理好了，还是上不了网，我要去12315",
]

GUIDE_THREATS = (HEADER_THREATS + BLOCKED_THREATS + ASK_THREATS + WISH_THREATS + IMPLIED_THREATS
                 + REVIEW_THREATS + HASHTAG_THREATS + WARNING_THREATS + MEDIA_TAG_THREATS
                 + LEADER_THREATS + RESOLVED_THREATS)
GUIDE_NOT_THREATS = (HEADER_NOT_THREATS + BLOCKED_NOT_THREATS + ASK_NOT_THREATS + WISH_NOT_THREATS
                     + IMPLIED_NOT_THREATS + REVIEW_NOT_THREATS + HASHTAG_NOT_THREATS
                     + WARNING_NOT_THREATS + MEDIA_TAG_NOT_THREATS + LEADER_NOT_THREATS
                     + RESOLVED_NOT_THREATS)


@pytest.mark.parametrize("text", GUIDE_THREATS)
def test_guide_threats(risk: EscalationRisk, text: str) -> None:
    risky, triggers = _assess(risk, text)
    assert risky, (text, triggers)


@pytest.mark.parametrize("text", GUIDE_NOT_THREATS)
def test_guide_lookalikes_are_not_threats(risk: EscalationRisk, text: str) -> None:
    risky, triggers = _assess(risk, text)
    assert not risky, (text, [t for t in triggers if t.kind == "escalation"])


# --- generalising beyond the training dialogues (real general Weibo posts and product reviews) ---
# Our own sentences in the style of the real posts the pack over-fired on.

# Someone else's post forwarded after "//@account:" is not the writer's threat; the writer's
# own words before it are judged by themselves.
FORWARDED = [
    ("医护人员辛苦了//@协和医生:这是最新医院名单，恳请转发出去，我们真的需要支援", "forwarded"),
    ("说的对//@央视新闻:记者从市疾控中心获悉，我市新增1例确诊病例", "forwarded"),
    ("//@某律师:这个案例值得大家看看//@小王:我已经找律师了", "forwarded"),
]
FORWARDED_THREATS = [
    "这家酒店疫情期间订单一分钱都不退，麻烦大家转发出去！//@小王:我也是这家",
    "差评差评，投诉到底//@小李:预定的房间不给退，还要发烧证明",
]


@pytest.mark.parametrize("text, reason", FORWARDED)
def test_a_forwarded_post_is_not_the_writers_threat(risk: EscalationRisk, text: str, reason: str) -> None:
    risky, triggers = _assess(risk, text)
    assert not risky, (text, [t for t in triggers if t.kind == "escalation"])
    assert reason in {t.label for t in triggers if t.kind == "negation"}, triggers


@pytest.mark.parametrize("text", FORWARDED_THREATS)
def test_the_writers_own_words_before_a_forwarded_post_count(risk: EscalationRisk, text: str) -> None:
    risky, triggers = _assess(risk, text)
    assert risky, (text, triggers)
    assert all(t.start < text.index("//@") for t in triggers if t.kind == "escalation"), triggers


# News talk, well-wishes, recommendations, credits and substrings: no appeal to anyone
GENERAL_NOT_THREATS = [
    "回复@中年懒散少女:记者辛苦了，一直在路上",  # a handle ends at the colon
    "记者也辛苦了，大过年的还在一线",
    "记者从市疾控中心获悉，我市新增1例确诊病例",
    "据人民日报报道，武汉将再建一所医院",
    "每天打开微博热搜就是肺炎，看了心慌",
    "没想到我们这个小城市以这样的方式上热搜了",
    "整个舆论导向都在歌颂医护人员",
    "工厂终于运转起来了，机器也转起来了",
    "大家一定要注意安全，保护好自己和家人",
    "各位注意身体，出门记得戴口罩",
    "大家都要小心防护！",
    "这部纪录片拍得很好，建议大家观看",
    "提醒大家出门戴口罩、勤洗手",
    "裤子质量很好，穿着特别舒服，建议大家购买哦",
    "春运外出，这份防护手册请收好 来自@腾讯新闻",
    "看看虹桥火车站做了哪些措施 (分享自 @澎湃新闻)",
    "我参与了@财经网 发起的投票，你也快来表态吧",
    "本来大家已经很忙了，非要有人散布谣言",
    "两个主要领导必须被问责！",
    "位置非常好，酒店就在市政府对面，出行方便",
    "@魔法师的黑猫 你家猫咪好可爱",
]
GENERAL_THREATS = [
    "本地电视台的记者我已经约好了，明天带着去你们店里",
    "你们再不退钱，等着上热搜吧",
    "我要让你们上热搜，让所有人都知道",
    "#帮联通爽约上头条# 装个宽带约了三次都不来",
    "你们不解决，我会到处散布你们的恶行",
    "提醒大家千万别办这个套餐，扣费扣到欠费",
    "建议大家远离这家店，售后根本没人管",
    "奉劝大家还是去别家吧，这家酒店前台态度极差",
    "大家一定要注意这家店的赠品，下单后就自动删掉了",
    "@黑猫投诉 商家收了钱不发货",
]




# 差评 as the rating given now, named as an act (LABELS.md, "差评"); the verdict word stays an opinion
REVIEW_ACT_THREATS = [
    "东西还行，但这个差评是给快递的，电话催我下楼又让我等了二十分钟",
    "京东第一次差评，苹果一半是烂的",
    "首个差评就给这家店了，衣服掉色严重",
    "客服态度太差，果断差评！",
    "坏了一个还不给换，差评是一定的",
    "只想给最大最大的差评，水果四天了还没送到",
    "降价不给保价，买的商品全部差评送上",
]
REVIEW_VERDICT_NOT_THREATS = [
    "差评！充电的时候特别烫",
    "服务差评，别的还行",
    "年年对你们差评，真叫人心累",
]


@pytest.mark.parametrize("text,threat", [(t, True) for t in REVIEW_ACT_THREATS] +
                         [(t, False) for t in REVIEW_VERDICT_NOT_THREATS])
def test_a_bad_rating_given_now_is_a_threat_the_verdict_word_an_opinion(risk: EscalationRisk, text: str,
                                                                        threat: bool) -> None:
    risky, triggers = _assess(risk, text)
    labels = {t.label for t in triggers if t.kind == "escalation"}
    assert risky == threat and (("review" in labels) if threat else True), (text, triggers)


def test_validator_checks_forwarded() -> None:
    pack = dict(load_pack("escalation"))
    assert not validate_escalation(pack)
    assert any("'forwarded' must be a mapping" in p
               for p in validate_escalation(dict(pack, forwarded=["//@"])))


# --- issue 10, the ladder's boundary conversations (corpus/ladder/ladder_dev_*): our own sentences
# of the shapes that the dev set showed, each beside a threat of the same shape ---
LADDER_DEV_NOT_THREATS = [
    # a third person would act, against the customer ("她要打12315投诉我"): reported
    "好嘞！我老婆说我再这么买下去，她要打12315投诉我了哈哈哈",
    "我妈说她要去12345反映楼道灯的事，跟你们没关系，我就问问电费。",
    # past, and it came right afterwards
    "去年我为这个事投诉到工信部，后来你们加了个基站，好了一年，我就想问问是不是基站出问题了。",
    "我楼下老李上礼拜为这个打了12345，你们过来冲了管子就好了，结果我家这两天又黄了。",
]
LADDER_DEV_THREATS = [
    "他们再不处理，我就打12315投诉你们。",
    "去年我为这个事投诉到工信部，到现在也没好，这次我还要去。",
    "上礼拜打了12345，说三天就好了，到今天还黑着，我明天直接找电视台。",
    # the media as where the matter goes
    "我们好几户已经说好了，明天把账单和新表都拍下来发给电视台的《帮帮团》，让他们来查查。",
    "这事我已经写好了材料，寄给报社。",
]


# lookalikes beside threats of the same shape, by where they came from
SAME_SHAPE = {
    # general posts without an appeal are no threat; appeals of the same shape stay threats
    "general": (GENERAL_NOT_THREATS, GENERAL_THREATS),
    # issue 10's boundary conversations: someone else who would act, a past complaint settled right
    # after, a matter sent to a TV programme or a paper
    "ladder_dev": (LADDER_DEV_NOT_THREATS, LADDER_DEV_THREATS),
}


@pytest.mark.parametrize("group,text,threat", [(g, t, False) for g, (no, _) in SAME_SHAPE.items() for t in no]
                         + [(g, t, True) for g, (_, yes) in SAME_SHAPE.items() for t in yes])
def test_lookalikes_and_threats_of_the_same_shape(risk: EscalationRisk, group: str, text: str, threat: bool) -> None:
    risky, triggers = _assess(risk, text)
    assert risky == threat, (group, text, [t for t in triggers if t.kind == "escalation"])


@pytest.mark.parametrize("text", [
    # asking the agent whether to call the police about a third party asks for advice (LABELS.md 报警)
    "有门卫……可是万一门卫不在，被别人拿走了呢？要不要我先报警？还是先挂失护照？",
    "冻结了就好……ATM插卡那个我楼下就有，我现在去。还需要报警吗？",
    "需不需要报警啊，卡在我手上钱却被刷了",
    # a report of electricity theft to a 95598 desk is about a third party (窃电举报)
    "我要举报，我们楼下那家饭馆偷电！他们从楼道里私拉电线接在公共照明上！你们管不管？",
])
def test_advice_about_the_police_and_third_party_reports_are_not_threats(risk: EscalationRisk, text: str) -> None:
    risky, triggers = _assess(risk, text)
    assert not risky, (text, triggers)
