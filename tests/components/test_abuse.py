"""anfu.abuse.v1: insults and profanity, variants, homophones, target-aware words."""

from __future__ import annotations

import pytest

from anfu.components.abuse import Abuse, validate_abuse
from anfu.rules import load_pack
from anfu.testing import check_component
from anfu.text.normalize import normalize
from anfu.types import Assessment, Conversation


@pytest.fixture(scope="module")
def abuse() -> Abuse:
    return Abuse()


@pytest.mark.parametrize("text", [
    "你们客服都是傻逼吗",
    "傻B公司，退个款这么难",
    "煞笔客服听不懂人话",
    "沙比，我说的是电表不是电费",
    "你是不是sb啊",
    "SB客服",
    # expletives aimed at the staff or the company (LABELS.md "Unaimed swearing": aimed counts)
    "你们他妈的到底修不修",
    "他妈的客服，挂我电话",
    "尼玛的供电所，大夏天停电一下午",
    "少他妈跟我打官腔",
    # name-calling without profanity (LABELS.md "Non-profane insults")
    "你们什么破公司！",
    "联通太无耻，乱扣费",
    "中国电信上上下下的人都是猪吗？",
    "你们供电所是不是全是吃闲饭的？",
    "退个款推三阻四的 能不能说句人话",
    "你们这客服就是摆设，一问三不知",
    "垃圾中国电信！",
    "nmsl",
    "cnm，退钱",
    "草泥马的破快递",
    "滚！别给我打电话了",
    "你们这群废物",
    "狗东西，收钱不办事",
    "你是脑残吗",
    "白痴客服",
    "弱智规定",
    "怎么不去死",
    "王八蛋，把钱还我",
    "傻*逼客服",
    "傻 逼",
    "傻-逼公司",
    "垃圾客服，态度差到家了",
    "你们就是一群垃圾",
    "美团就是个大垃圾",
    "你个骗子！",
    "你们都是死人吗？电线在冒火花",
    "查个屁！！",
    "还说马上退款，信你个屁！",
    "傻逼電信",  # Traditional characters
])
def test_abusive(abuse: Abuse, text: str) -> None:
    abusive, triggers = abuse.assess(normalize(text), text)
    assert abusive, text
    assert all(t.kind == "abuse" and text[t.start:t.end] == t.text for t in triggers)


@pytest.mark.parametrize("text", [
    "垃圾分类的桶什么时候发",
    "这边信号垃圾，打电话老断",
    "质量垃圾，用了一周就坏了",
    "你们的网速真垃圾",
    "最近垃圾短信特别多",
    "接到骗子电话说我欠费，是你们打的吗",
    "滚动条拉不动",
    "利滚利这么算合理吗",
    "我妈妈的手机停机了",
    "我问了他妈，他在家睡觉呢……那是骗子？",
    "他爸他妈都不知道这事",
    "这个操作不了",
    "废物回收的上门时间是几点",
    "家里有病人，急需用电",
    "我是电脑白痴，不会弄",
    "这个sbc型号的路由器怎么设置",
    "谢谢你们，师傅辛苦了",
    # unaimed expletives: exclamations and intensifiers (LABELS.md "Unaimed swearing")
    "妈的，又停电",
    "md什么破网，天天掉线",
    "麻痹的又扣我钱",
    "特么的等了一上午",
    "tmd又是下周才能来",
    "尼玛，这都第几次了",
    "卧槽，我看升级日志里没写，尼玛这2个月都没敢用",
    "我他妈存了二十万在你们这，你们就这么对我？",
    "预付费充了钱半天不到账，这是什么破系统，md",
    # the speaker denying their own act is no insult to anyone
    "系统显示我已签收？我签个屁啊！今天家里一直有人",
    "我等个屁，早就不等了，自己去网点取的",
])
def test_not_abusive(abuse: Abuse, text: str) -> None:
    abusive, triggers = abuse.assess(normalize(text), text)
    assert not abusive, text
    # an unaimed expletive leaves a swearing trigger (it raises the intensity), nothing else
    assert all(t.kind == "swearing" for t in triggers), (text, triggers)


def test_only_customer_turns(abuse: Abuse) -> None:
    conv = Conversation.from_texts([
        ("customer", "你们这帮废物，傻逼公司"),
        ("agent", "您好，请文明用语，我们会尽快处理"),
        ("customer", "垃圾分类的事我下次再问"),
    ])
    doc = abuse(Assessment.start(conv))
    assert [t.abusive for t in doc.turns] == [True, None, False]
    labels = {t.label for t in doc.turns[0].triggers}
    assert labels == {"insult", "profanity"}
    assert doc.turns[1].triggers == []


def test_contract() -> None:
    check_component(Abuse())


def test_pack_is_valid_and_validator_catches_problems() -> None:
    assert validate_abuse(load_pack("abuse")) == []
    broken = dict(load_pack("abuse"))
    broken["initialisms"] = ["SB!"]
    broken["patterns"] = [{"id": "x", "label": "insult", "pattern": "(oops"}]
    broken["unaimed"] = ["妈的", "不是脏话"]
    problems = validate_abuse(broken)
    assert any("unaimed: '不是脏话'" in p for p in problems)
    assert not any("'妈的'" in p for p in problems)
    assert any("initialisms" in p for p in problems)
    assert any("not a valid regex" in p for p in problems)


# --- generalisation: internet and dialect families, homophones, pinyin, separators, policy

@pytest.mark.parametrize("text", [
    "握草你们，又断网了",                      # 卧槽 homophone, aimed
    "草，快递又给我放驿站了",                  # standalone internet expletive
    "你🐴的，扣费倒是挺快",                    # emoji homophone of 妈
    "丢你老母，电费点解咁贵",                  # Cantonese
    "qnmd 自动续费",
    "你们客服是s.b吗，说了三遍还听不懂",       # separator inside an initialism
    "私信卵信，头回都没有人理",                # X卵X
    "一帮孙子，停电三天都不来修",              # group insult
    "辣鸡客服，问什么都说不知道",              # homophone of 垃圾, aimed
    "你们这群饭桶，修个空调修了一个月",
])
def test_generalised_abuse(abuse: Abuse, text: str) -> None:
    abusive, triggers = abuse.assess(normalize(text), text)
    assert abusive, text
    assert all(text[t.start:t.end] == t.text for t in triggers)


@pytest.mark.parametrize("text", [
    "卧槽，这么快就修好了，谢谢师傅",          # surprise in praise: policy exempts it
    "师傅太牛逼了，十分钟就搞定，给你们点赞",
    "我家狗狗被快递员吓到了，能不能提醒一下",
    "草坪上的电线掉下来了，麻烦来看看",
    "生日你们送的优惠券怎么用不了",
    "最近手脚麻痹，想问下能不能办理暂停",
    "靠，差点忘了今天要交电费",                # mild exclamation: not listed
    "有啥比这个套餐更便宜的吗",
])
def test_policy_exemptions_and_lookalikes(abuse: Abuse, text: str) -> None:
    assert abuse.assess(normalize(text), text) == (False, []), text


def test_praise_does_not_exempt_insults(abuse: Abuse) -> None:
    text = "谢谢你啊，傻逼客服"
    assert abuse.assess(normalize(text), text)[0]


def test_unaimed_swearing_is_a_swearing_trigger_that_makes_the_turn_strong() -> None:
    """LABELS.md "Unaimed swearing": not abusive, but it raises the intensity (usually 3)."""
    import anfu
    from anfu.types import Utterance

    analyzer = anfu.load()
    unaimed, aimed, praise = (list(analyzer.pipe([Utterance(text=t)]))[0].turns[0] for t in (
        "特么的等了一上午，快递还没到", "你们他妈的到底修不修", "卧槽，这么快就修好了，谢谢师傅"))
    assert unaimed.abusive is False and unaimed.intensity >= 3
    swearing = [t for t in unaimed.triggers if t.kind == "swearing"]
    assert [t.text for t in swearing] == ["特么"] and swearing[0].rule_id == "abuse.unaimed:特么"
    assert any(t.kind == "intensity" and t.label == "swearing" for t in unaimed.triggers)
    assert aimed.abusive is True and not any(t.kind == "swearing" for t in aimed.triggers)
    assert praise.abusive is False and not any(t.kind == "swearing" for t in praise.triggers)
