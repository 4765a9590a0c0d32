"""The pre-send check (anfu.qa.check_reply): forbidden phrases, paraphrases, near-misses,
spans, rewrites and bad input."""

from __future__ import annotations

import json
import pickle
import sys
from pathlib import Path

import pytest

from anfu.errors import InputError
from anfu.qa import ReplyChecker, check_reply, default_checker
from anfu.qa.packs import validate_forbidden_phrases, validate_rewrites
from anfu.qa.quality import validate_quality_rubric
from anfu.rules import check_all, load_pack

# (reply, expected category, text the finding's span must cover)
VIOLATIONS = [
    # the seed phrases (客户抱怨处理的禁忌)
    ("不可能，绝对不会有这种事发生的。", "flat_denial", "不可能"),
    ("我们的商品是一分钱一分货。", "price_excuse", "一分钱一分货"),
    ("我绝对没有说那种话。", "self_defence", "没有说"),
    ("这个问题太简单了。", "belittling", "太简单了"),
    ("这是我们公司的规定。", "policy_wall", "公司的规定"),
    ("总会有办法的。", "empty_promise", "总会有办法"),
    ("以后我们会和您联系。", "empty_promise", "联系"),
    ("我不大清楚。", "ignorance", "不大清楚"),
    ("这个问题您去找厂家，我们不管。", "buck_passing", "找厂家"),
    ("不行。", "bare_refusal", "不行"),
    # paraphrases and rewordings, across industries
    ("电表都是检定过的，怎么可能走快呢？", "flat_denial", "怎么可能"),
    ("我们银行从来没出过这种错。", "flat_denial", "从来没出过"),
    ("便宜没好货，这个道理您应该懂。", "price_excuse", "便宜没好货"),
    ("您办的是最低档的宽带，慢是正常的。", "price_excuse", "正常"),
    ("这话不是我说的，您别赖我。", "self_defence", "不是我说的"),
    ("我当时根本没答应给您免单。", "self_defence", "没答应"),
    ("就慢了一天而已，没必要这么激动。", "belittling", "而已"),
    ("这么简单的事您都要打电话问？", "belittling", "这么简单的事"),
    ("这是平台的规定，我也改不了。", "policy_wall", "规定"),
    ("没有为什么，规定就是这样。", "policy_wall", "没有为什么"),
    ("我们会尽快处理的，请耐心等待。", "empty_promise", "尽快处理"),
    ("回头我们再通知您吧。", "empty_promise", "通知"),
    ("这个我也不知道，系统里看不到。", "ignorance", "不知道"),
    ("谁知道快递什么时候能到。", "ignorance", "谁知道"),
    ("这事不归我们管，您找物业吧。", "buck_passing", "不归我们管"),
    ("您自己去营业厅问吧。", "buck_passing", "营业厅"),
    ("不能退，您别想了。", "bare_refusal", "不能退"),
    ("这个赔不了。", "bare_refusal", "赔不了"),
    ("是您自己操作错了。", "blaming", "操作错"),
    ("您听我说完，别插嘴。", "blaming", "听我说"),
    ("谁叫您不早点来报修。", "blaming", "谁叫您"),
    ("先这样吧，我还有别的电话。", "dismissing", "先这样吧"),
    ("肯定是您自己的问题，不用查了。", "dismissing", "肯定是您"),
    ("这事先不说了，咱们聊聊新套餐吧。", "dismissing", "先不说"),
    ("我已经说了三遍了。", "impatience", "说了三遍"),
    ("您到底听没听懂？", "impatience", "到底听没听"),
    ("这都不会吗？", "impatience", "这都不会"),
    ("您有完没完？", "impatience", "有完没完"),
    # Traditional script and full-width punctuation are normalised before matching
    ("這是我們公司的規定!", "policy_wall", "公司的規定"),
]

NEAR_MISSES = [
    "不行的话我们还有另一个方案",
    "我不太清楚，我马上帮您查，5分钟内回复您",
    "按照规定，我们可以为您免费上门检测",
    "不可能让您多交一分钱，我马上帮您核实，今天下午给您答复。",
    "操作很简单，我一步一步带您设置。",
    "这不是您的问题，是我们的系统故障，非常抱歉。",
    "厂家那边我来帮您联系，明天上午十点前给您回复。",
    "这笔费用不能退，不过我可以帮您申请等额补偿。",
    "我会在今天下午五点前和您联系。",
    "不知道您现在方便接电话吗？",
    "非常抱歉让您反复打了三次电话，这次由我全程跟进。",
    "我再给您说一遍地址，您记一下。",
    "请问还有其他需要帮您的吗？",
    "换成谁都会生气，我先代表公司向您道歉。",
    "我刚才没有解释清楚，给您造成了误会，非常抱歉。",
    "按规定不能直接免除，但我可以为您申请减半，今天给您结果。",
    "如果您不清楚户号，我可以用手机号帮您查询。",
    "好的，就这样办，我现在为您提交申请。",
    "我们绝不会泄露您的个人信息，请您放心。",
    "这不是小事，我会亲自跟进，明天上午给您结果。",
    "按合同约定，您可以免费更换一次，我现在帮您预约。",
    "总会有解决办法的，我现在就帮您联系上级，一小时内给您方案。",
    "如果收不到验证码，您告诉我，我换一种方式帮您验证。",
    "您的问题我们非常重视，已经升级给主管，一小时内回电。",
]


# rewordings written after the rules, to check that they generalise beyond the seed phrases
PARAPHRASES = [
    ("这绝对不可能是我们弄丢的。", "flat_denial"),
    ("我们这边没有任何问题，您再检查一下自己家的线路。", "flat_denial"),
    ("您用的是赠送的流量，还想要多快？", "price_excuse"),
    ("银行又不是慈善机构，利息当然要收。", "price_excuse"),
    ("我可从来没讲过能退全款。", "self_defence"),
    ("这有啥好投诉的，不就停了半小时电嘛。", "belittling"),
    ("这种问题还用问？", "belittling"),
    ("规矩就是规矩，我没法给您破例。", "policy_wall"),
    ("反正我们是按合同办事，您有意见也没用。", "policy_wall"),
    ("等我们这边有空了再给您处理。", "empty_promise"),
    ("这个我真不懂，您问问别人。", "ignorance"),
    ("这是快递的事，您直接找他们。", "buck_passing"),
    ("这个我管不了，找领导去吧。", "buck_passing"),
    ("办不了，您别为难我了。", "bare_refusal"),
    ("都是因为您没按时还款，才影响征信的。", "blaming"),
    ("您能不能先别说话，听我讲。", "blaming"),
    ("行了，就这么着吧。", "dismissing"),
    ("您爱找谁找谁去。", "dismissing"),
    ("说了您也不懂。", "impatience"),
    ("您是听不懂人话吗？", "impatience"),
]


@pytest.mark.parametrize("text,category", PARAPHRASES)
def test_paraphrases_are_flagged(text: str, category: str) -> None:
    result = check_reply(text)
    assert result.violation, text
    assert category in {f.category for f in result.findings}, [f.rule_id for f in result.findings]
    assert not check_reply(result.rewrite).violation


@pytest.mark.parametrize("text,category,span", VIOLATIONS)
def test_violations_are_flagged_with_category_and_span(text: str, category: str, span: str) -> None:
    result = check_reply(text)
    assert result.violation, text
    assert category in {f.category for f in result.findings}, [f.rule_id for f in result.findings]
    spans = [text[f.start:f.end] for f in result.findings if f.category == category]
    assert any(span in s or s in span for s in spans), spans
    for f in result.findings:
        assert 0 <= f.start < f.end <= len(text)
        assert f.severity in ("minor", "major", "critical")
        assert f.message and "（" in f.message  # names the category in plain zh-CN


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_good_replies_sharing_words_are_not_flagged(text: str) -> None:
    result = check_reply(text)
    assert not result.violation, [(f.rule_id, text[f.start:f.end]) for f in result.findings]
    assert result.findings == [] and result.rewrite is None


def test_weibo_smiley_is_no_sarcasm_but_the_word_is() -> None:
    """[呵呵] is Weibo's plain smile emoticon in a helpdesk post; a bare 呵呵 in the text stays sarcasm."""
    checker = default_checker(model="none")
    smiley = "您好，已经为您重新开通了，请您重启手机后再试一下[呵呵]"
    assert not [f for f in checker.check(smiley).findings if f.category == "impatience"]
    sarcastic = checker.check("呵呵，您自己看着办吧。")
    assert any(f.rule_id == "fp.impatience" and f.start == 0 for f in sarcastic.findings)


def test_reworded_violation_is_caught_by_similarity() -> None:
    """No pattern lists this wording; the n-gram layer finds it near an exemplar."""
    text = "这么简单的事也要打电话来问吗"
    checker = default_checker()
    assert check_reply(text).violation
    assert checker.scan(text)  # the reworded sentence itself
    similar = check_reply("您这个事太简单了也要打电话来问").findings
    assert similar and similar[0].category == "belittling"


@pytest.mark.parametrize("text,category,_span", VIOLATIONS)
def test_every_rewrite_passes_the_check(text: str, category: str, _span: str) -> None:
    rewrite = check_reply(text, {"cause": "billing", "emotion": "angry"}).rewrite
    assert rewrite and rewrite.endswith("。")
    assert not check_reply(rewrite).violation, rewrite
    assert "抱歉" in rewrite and "30分钟内" in rewrite  # apology + concrete time


def test_rewrite_is_filled_from_context() -> None:
    result = check_reply("这是我们公司的规定。", {"what": "电费明细", "when": "30分钟内", "agent": "小王"})
    assert result.rewrite is not None
    assert "我马上为您核实电费明细，30分钟内给您回电" in result.rewrite or "电费明细" in result.rewrite
    assert "我是客服专员小王" in result.rewrite
    guessed = check_reply("不行。", {"customer_text": "快递一直没收到，包裹到底去哪了"}).rewrite
    # the logistics cause guessed from the customer's words; a refusal names its topic (包裹去向) and
    # offers what else can be done, never the refused action
    assert guessed is not None and "包裹去向" in guessed and "能为您做的其他办法" in guessed


def test_failing_rewrite_falls_back_to_the_safe_template() -> None:
    checker = default_checker()
    result = checker.check("不行。", {"what": "为什么不可能", "when": "以后"})
    assert result.rewrite == checker.rewriter_.fallback
    assert not check_reply(result.rewrite).violation


def test_to_dict_has_the_cli_contract() -> None:
    d = check_reply("我不大清楚。").to_dict()
    assert set(d) == {"violation", "findings", "rewrite"}
    assert set(d["findings"][0]) == {"rule_id", "category", "start", "end", "message"}
    json.dumps(d, ensure_ascii=False)


@pytest.mark.parametrize("text,context,code", [
    (None, None, "AF003"), (123, None, "AF003"), ("   ", None, "AF004"),
    ("不行", ["billing"], "AF013"), ("不行", {"cause": 3}, "AF013"),
])
def test_bad_input_gives_coded_errors(text, context, code) -> None:  # noqa: ANN001
    with pytest.raises(InputError) as err:
        check_reply(text, context)
    assert err.value.code == code


def test_checker_pickles_and_checks_the_same() -> None:
    clone = pickle.loads(pickle.dumps(default_checker()))
    text = "这个问题您去找厂家，我们不管。"
    assert clone.check(text) == default_checker().check(text)


def test_shipped_packs_are_valid() -> None:
    problems = check_all()
    for name in ("forbidden_phrases", "rewrites", "quality_rubric"):
        assert name not in problems, problems.get(name)


def test_validators_report_broken_packs() -> None:
    pack = dict(load_pack("forbidden_phrases"))
    pack["rules"] = [{"id": "fp.x", "category": "nope", "severity": "loud", "patterns": ["(不行"],
                      "mitigations": ["@missing"]}]
    problems = " ".join(validate_forbidden_phrases(pack))
    for needle in ("category", "severity", "message", "bad regular expression", "@missing"):
        assert needle in problems
    assert validate_rewrites({"empathy": {}, "causes": {"billing": {}}})
    assert validate_quality_rubric({"items": [{"id": "x", "weight": -1, "scope": "everywhere"}]})


def test_broken_pack_folder_is_refused_with_af301(tmp_path: Path) -> None:
    from anfu.errors import RulePackError
    from anfu.rules import pack_dir

    for name in ("forbidden_phrases", "rewrites"):
        (tmp_path / f"{name}.yaml").write_text((pack_dir() / f"{name}.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "rewrites.yaml").write_text("empathy: {}\n", encoding="utf-8")
    with pytest.raises(RulePackError) as err:
        ReplyChecker(rules_dir=tmp_path)
    assert err.value.code == "AF301"


def test_heldout_regression() -> None:
    """A broken pack fails CI: recall and precision on the held-out replies stay ≥ 0.9."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
    from bench_presend import evaluate, load_replies

    rows = load_replies(heldout=True)
    assert len(rows) >= 100
    report = evaluate(rows)
    assert report["recall"] >= 0.9, report
    assert report["precision"] >= 0.9, report


# issue 10: behaviour rules for reworded defences, belittling, impatience and price excuses, each
# with the same words used kindly or factually. (reply, rule id, whether the rule must fire)
BEHAVIOUR_RULES = [
    ("夏天用电高峰，线路跳闸难免会发生。", "fp.self_defence.normalising", True),
    ("易碎品寄送本来就有破损的风险。", "fp.self_defence.normalising", True),
    ("双十一期间发货都慢，大家都这样。", "fp.self_defence.normalising", True),
    ("您担心是正常的，我马上为您申请免费校验，两天内给您结果。", "fp.self_defence.normalising", False),
    ("您有这个疑问很正常，我帮您把明细调出来一项一项核对。", "fp.self_defence.normalising", False),
    ("如果是刚充完电，机身有点热是正常的，要是一直发烫请告诉我。", "fp.self_defence.normalising", False),
    ("麻烦您看一下光猫上的指示灯是否正常？", "fp.self_defence.normalising", False),
    ("晚高峰网速有些波动是正常的，但您说的完全断网就不正常了，我今天安排师傅上门。",
     "fp.self_defence.normalising", False),
    ("就一个小划痕，不影响使用的。", "fp.belittling.minimising", True),
    ("每月才3块钱也不贵，您就保留着吧。", "fp.belittling.minimising", True),
    ("这个划痕虽然不影响使用，但是我们可以给您换一台新的。", "fp.belittling.minimising", False),
    ("改装后插座会低两厘米，不影响使用，您看可以吗？", "fp.belittling.minimising", False),
    ("密码忘了的话，您自己在登录页点找回就行。", "fp.impatience.do_it_yourself", True),
    ("您能把问题一次说清楚吗？", "fp.impatience.do_it_yourself", True),
    ("您想好要办哪个套餐再打过来吧。", "fp.impatience.do_it_yourself", True),
    ("我这边已经帮您重置了密码，您自己登录试一下就知道了。", "fp.impatience.do_it_yourself", False),
    ("您慢慢说，我一项一项帮您记下来。", "fp.impatience.do_it_yourself", False),
    ("这个价格的套餐不含免费上门服务。", "fp.price_excuse.cheap_so", True),
    ("数据线很便宜的，您再买一根就行了。", "fp.price_excuse.cheap_so", True),
    ("这个价位的耳机同样享受一年保修，我现在就帮您登记寄修。", "fp.price_excuse.cheap_so", False),
    ("虽然是特价款，但保修一样，我这就帮您换新的。", "fp.price_excuse.cheap_so", False),
    # exceptions added to older rules: "normal" said of feelings, the customer's words quoted back
    ("您担心是正常的", "fp.flat_denial", False),
    ("这种情况属于正常现象。", "fp.flat_denial", True),
    ("您说以前一直都是这么办的，我明白", "fp.policy_wall", False),
    ("我们一直都是这么办的。", "fp.policy_wall", True),
]


@pytest.mark.parametrize("text,rule_id,fires", BEHAVIOUR_RULES)
def test_issue10_behaviour_rules_and_their_exceptions(text: str, rule_id: str, fires: bool) -> None:
    found = default_checker(model="none").check(text).findings
    assert (rule_id in {f.rule_id for f in found}) is fires, [(f.rule_id, text[f.start:f.end]) for f in found]


@pytest.mark.parametrize("text", ["收到。", "我这边记下了。", "没问题。", "您现在身体还好吗？", "您担心是正常的",
                                  "我不清楚您家里出了这样的事…您节哀", "检测机构由您来定", "换还是修，都听您的",
                                  "您说以前一直都是这么办的，我明白"])
def test_issue10_kind_replies_have_no_rule_finding(text: str) -> None:
    """The kind replies issue 10 names: no phrase rule flags them (the in-context verdict is
    tested in tests/components/test_presend_context.py)."""
    assert default_checker(model="none").check(text).findings == []
