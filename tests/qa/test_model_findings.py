"""The learned layer of the pre-send check: unseen paraphrases the rules miss are caught by the
reply model, compliant near-misses stay clean, mitigations still excuse, every rewrite passes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from anfu.backends.reply_ngram import NgramReplyModel, load_reply_cached
from anfu.errors import ModelError
from anfu.qa import ReplyChecker, default_checker
from anfu.rules import pack_dir
from bench.bench_presend import _read, REPLIES

# Written for this test, in none of the labelled sets; no rule of the pack fires on them.
UNSEEN = [
    ("这事儿您问我，我问谁去呀。", "buck_passing"),
    ("您好，账单我看过了。收费没有任何问题，您再看看自己的用电习惯。", None),
    ("您当时签合同的时候就该看清楚条款。", "blaming"),
]
NEAR_MISSES = [
    "非常抱歉，这个我不太清楚，我马上帮您问一下技术同事，十分钟内给您回电。",
    "您好，停电是因为线路检修，预计下午三点前恢复，给您带来不便非常抱歉。",
    "理解您着急的心情，我现在就为您催办，今天下班前一定给您回复。",
    "这确实是我们的失误，我马上为您申请退款，三个工作日内到账。",
    "您说得对，这个费用不应该由您承担，我这边立即为您撤销。",
    "嗯，您是说电表走得快，对吧？我这就安排师傅明天上门校验。",
]


@pytest.fixture(scope="module")
def rules() -> ReplyChecker:
    return default_checker(model="none")


@pytest.mark.parametrize("text,category", UNSEEN)
def test_unseen_paraphrases_are_caught_by_the_model(rules: ReplyChecker, text: str, category: str | None) -> None:
    assert not rules.check(text).violation
    result = default_checker().check(text)
    assert result.violation and result.rewrite
    finding = result.findings[0]
    assert finding.rule_id == f"model.{finding.category}" and finding.severity == "major"
    assert finding.category in default_checker().categories_
    if category:
        assert finding.category == category
    sentence = text[finding.start:finding.end]
    assert sentence and "。" not in sentence and sentence in text
    assert default_checker().categories_[finding.category] in finding.message


def test_the_span_is_the_offending_sentence() -> None:
    text = "您好，感谢您的耐心等待。您当时签合同的时候就该看清楚条款。祝您生活愉快！"
    found = [f for f in default_checker().findings(text) if f.rule_id.startswith("model.")]
    assert [text[f.start:f.end] for f in found] == ["您当时签合同的时候就该看清楚条款"]


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_near_misses_stay_clean(text: str) -> None:
    assert default_checker().check(text).findings == []


def test_a_mitigation_in_scope_excuses_a_model_finding() -> None:
    bare = "这事儿您问我，我问谁去呀。"
    assert default_checker().check(bare).violation
    assert not default_checker().check(bare + "我马上帮您联系施工队核实，半小时内给您回电。").violation


@pytest.mark.parametrize("name", ["replies_fresh.jsonl", "replies_fresh2.jsonl"])
def test_good_replies_of_the_corpora_stay_clean(name: str) -> None:
    good = [r["text"] for r in _read(REPLIES / name) if not r["violation"]]
    flagged = [t for t in good if default_checker().check(t).violation]
    assert len(flagged) <= 0.02 * len(good), flagged


def test_every_rewrite_passes_the_whole_check() -> None:
    checker = default_checker()
    rows = _read(REPLIES / "replies_fresh.jsonl") + [{"text": t} for t, _ in UNSEEN]
    contexts = [None, {"cause": "billing", "emotion": "angry"}, {"customer_text": "停电一天了", "agent": "小王"}]
    for i, row in enumerate(rows):
        result = checker.check(row["text"], contexts[i % len(contexts)])
        if result.violation:
            assert not checker.check(result.rewrite).violation, (row["text"], result.rewrite)


def test_rules_only_has_no_model_findings(rules: ReplyChecker) -> None:
    assert rules.model_ is None and rules.unit_scores("您当时就该看清楚条款。") == []
    assert all(not f.rule_id.startswith("model.") for f in rules.findings(UNSEEN[2][0]))


def test_model_threshold_override() -> None:
    strict = ReplyChecker(model_threshold=0.9999)
    assert not strict.check(UNSEEN[0][0]).violation


def test_model_for_other_categories_is_refused(tmp_path: Path) -> None:
    model = load_reply_cached()
    other = NgramReplyModel(categories=("rude",) + model.categories[1:], vocab=sorted(model.vocab_, key=model.vocab_.get),
                            idf=model.idf_, coef=model.coef_, intercept=[model.intercept_], cat_coef=model.cat_coef_,
                            cat_intercept=model.cat_intercept_, threshold=model.threshold_)
    with pytest.raises(ModelError) as err:
        ReplyChecker(model=other)
    assert err.value.code == "AF204" and "rude" in str(err.value)
    src = pack_dir()
    for name in ("forbidden_phrases", "rewrites"):
        shutil.copy(src / f"{name}.yaml", tmp_path / f"{name}.yaml")
    assert ReplyChecker(rules_dir=tmp_path).model_ is not None
