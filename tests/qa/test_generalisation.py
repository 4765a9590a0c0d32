"""Generalisation of the pre-send check beyond the wording its rules were written from.

Regression over the fresh labelled sets, the wording families the rules generalise
(paraphrases by category and compliant near-misses), clause scoping of mitigations, long
polite transcripts without false alarms, and rewrites that pass the check.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from anfu.qa import ReplyChecker, check_reply, default_checker
from anfu.qa.packs import validate_forbidden_phrases
from anfu.rules import load_pack, pack_dir
from bench.bench_presend import evaluate, load_fresh


@pytest.mark.parametrize("name", ["replies_fresh.jsonl", "replies_fresh2.jsonl"])
def test_fresh_set_regression(name: str) -> None:
    rows = load_fresh(name)
    assert len(rows) >= 100
    assert {r["category"] for r in rows if r["violation"]} <= set(default_checker().categories_)
    report = evaluate(rows)
    assert report["recall"] >= 0.9, report
    assert report["precision"] >= 0.9, report


# One paraphrase per wording family, none of them a line of the labelled sets.
FAMILIES = [
    ("我们的表计是不会读错的。", "flat_denial"),
    ("欠费提醒我们绝对是寄过的。", "flat_denial"),
    ("這種故障我們的設備是不會有的。", "flat_denial"),
    ("您买的是秒杀价，做工粗糙一点难免的。", "price_excuse"),
    ("当初您也是图便宜才选的这个套餐。", "price_excuse"),
    ("这可怪不着我们，是天气原因。", "self_defence"),
    ("我们的装机人员全程照规范操作，并无任何过失。", "self_defence"),
    ("连三岁小孩都知道怎么插卡。", "belittling"),
    ("这点小毛病，您也值得专门跑一趟？", "belittling"),
    ("收费标准一直都是这样，您找谁都一样。", "policy_wall"),
    ("这是上面统一规定的，我们网点说了不算。", "policy_wall"),
    ("维修人员会尽快上门的，您先耐心等几天。", "empty_promise"),
    ("投诉我们收到了，会适时给您答复。", "empty_promise"),
    ("这个我们客服也不清楚。", "ignorance"),
    ("为什么扣款我也弄不明白。", "ignorance"),
    ("燃气的事不归我们管，您问燃气公司去。", "buck_passing"),
    ("发票的事别找我们，打财务的电话问吧。", "buck_passing"),
    ("加急服务是没有的。", "bare_refusal"),
    ("这个条件我们满足不了。", "bare_refusal"),
    ("您要是按时还款，就不会产生罚息了。", "blaming"),
    ("您这个说法本身就站不住。", "blaming"),
    ("懂了懂了，还有事吗？", "dismissing"),
    ("本次通话到此结束。", "dismissing"),
    ("我讲了好几遍了，您怎么还不明白？", "impatience"),
    ("请勿重复来电咨询同一问题。", "impatience"),
]


@pytest.mark.parametrize("text,category", FAMILIES)
def test_wording_families_are_flagged(text: str, category: str) -> None:
    result = check_reply(text)
    assert result.violation, text
    assert category in {f.category for f in result.findings}, [f.rule_id for f in result.findings]
    assert result.rewrite and not check_reply(result.rewrite).violation


NEAR_MISSES = [
    "这不是您的问题，是我们的计费程序出错了，我马上退回多收的部分，两小时内到账。",
    "我理解您觉得不合理，我现在就帮您提交复核，明天中午前答复您。",
    "虽然按规定这笔费用不能退，但我可以帮您申请等额的补偿，今天下午到账。",
    "操作其实很简单，我陪您一步一步来，您先打开首页。",
    "这个问题不算简单，我请技术同事一起看，今天下班前回您电话。",
    "没办法到店的话，我们安排人上门取件，您看明天方便吗？",
    "您的存款不会丢，现在只是临时冻结，解冻后自动恢复。",
    "我再给您核对一遍手机号：尾号是6688，对吗？",
    "非常抱歉让您说了好几遍，这次由我负责跟进，一小时内给您结果。",
    "好的好的，我记下了，师傅明天上午到。",
    "以后您再遇到停电，可以直接拨打这个抢修专线。",
    "我刚才没讲清楚，我换个方式再解释一下。",
]


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_near_misses_are_not_flagged(text: str) -> None:
    result = check_reply(text)
    assert not result.violation, [(f.rule_id, text[f.start:f.end]) for f in result.findings]


SCOPED = ("公司规定就是这样，我们也没办法。感谢您的来电。关于您说的发票，已经开好了。"
          "还有其他问题吗？我马上帮您查一下积分，今天下午给您回复。")


def test_mitigation_in_another_sentence_does_not_excuse_a_violation() -> None:
    result = check_reply(SCOPED)
    assert result.violation
    assert {"policy_wall", "bare_refusal"} <= {f.category for f in result.findings}
    # the same mitigation in the violation's sentence, or the next one, still counts
    assert not check_reply("规定上确实有这个限制，我马上帮您申请特殊审批，今天下午给您回复。").violation
    assert not check_reply("这个我也不太清楚。我马上帮您查，十分钟内回复您。").violation


def test_mitigation_scope_is_pack_data(tmp_path: Path) -> None:
    pack = load_pack("forbidden_phrases")
    assert pack["mitigation_scope"]["following_sentences"] == 1
    bad = dict(pack, mitigation_scope={"following_sentences": -1})
    assert any("mitigation_scope" in p for p in validate_forbidden_phrases(bad))
    # a wider scope lets the closing commitment excuse the earlier sentence
    src = pack_dir()
    text = (src / "forbidden_phrases.yaml").read_text(encoding="utf-8")
    (tmp_path / "forbidden_phrases.yaml").write_text(
        text.replace("following_sentences: 1", "following_sentences: 5"), encoding="utf-8")
    shutil.copy(src / "rewrites.yaml", tmp_path / "rewrites.yaml")
    assert not ReplyChecker(rules_dir=tmp_path).check(SCOPED).violation


POLITE_CALL = [
    "您好，欢迎致电国家电网95598，我是工号3021的客服，很高兴为您服务。",
    "嗯，好的，您是说家里从早上开始就没电了，对吧？请问您的户号是多少？",
    "好的，我查到了，您所在的片区今天早上八点因为变压器故障停电，抢修人员已经在现场处理了。",
    "给您带来不便，真的非常抱歉。预计中午十二点前恢复供电。",
    "那个，您家里如果有老人或者需要用电的医疗设备，我可以帮您登记为优先保障。",
    "好的，已经帮您登记了。恢复供电后，我们会给您发短信通知。",
    "您说的冰箱里的东西，如果有损失，可以按流程申请赔偿，我现在就帮您登记，三个工作日内会有专人联系您核实。",
    "请问还有其他需要帮您的吗？感谢您的来电，祝您生活愉快，再见。",
]


def test_long_polite_transcript_has_no_false_alarm() -> None:
    for turn in POLITE_CALL:
        assert not check_reply(turn).violation, turn
    whole = "".join(POLITE_CALL)
    assert not check_reply(whole).findings


def test_every_fresh_rewrite_passes_the_check() -> None:
    for row in load_fresh("replies_fresh.jsonl"):
        result = check_reply(row["text"], {"customer_text": row["text"]})
        if result.violation:
            assert result.rewrite and not check_reply(result.rewrite).violation, result.rewrite
