"""anfu.outcome.v1: quality score, 安抚成功 and outcome learned from real satisfaction ratings."""

from __future__ import annotations

import json

import pytest

import anfu
from anfu.components.outcome import Outcome
from anfu.errors import ModelError
from anfu.qa.outcome import FEATURE_NAMES, OutcomeModel, default_model
from anfu.testing import check_component
from anfu.types import Conversation

RESOLVED = Conversation.from_texts([
    ("customer", "宽带断了两天了！！到底什么时候能修好？我在家办公急死了"),
    ("agent", "非常抱歉给您添麻烦了，请问您的宽带账号是多少？我马上为您查。"),
    ("customer", "账号是 0571-88xx，快点"),
    ("agent", "已为您查到是小区光交箱故障，维修师傅今天下午三点前上门处理，修好后我给您回电。"),
    ("customer", "好的，已经能上网了，谢谢你们"),
], id="resolved")

BRUSHED_OFF = Conversation.from_texts([
    ("customer", "宽带断了两天了！！到底什么时候能修好？我在家办公急死了"),
    ("agent", "您好，您反映的情况已记录，会反馈给相关部门，请耐心等待。"),
    ("customer", "等了两天了还是没人管，你们就会说这种套话？到底什么时候修？"),
], id="brushed-off")


@pytest.fixture(scope="module")
def analyzer():  # noqa: ANN201
    return anfu.load()


def test_contract() -> None:
    turn_stage = anfu.load({"pipeline": {"components": ["anfu.normalize.v1", "anfu.risk.v1", "anfu.abuse.v1",
                                                        "anfu.emotion.v1", "anfu.presend.v1"]}})
    check_component(Outcome(), prepare=turn_stage)


def test_resolved_conversation_scores_higher_and_calms(analyzer) -> None:  # noqa: ANN001
    good, bad = analyzer(RESOLVED), analyzer(BRUSHED_OFF)
    assert good.quality_score > bad.quality_score + 20
    assert good.calmed is True and bad.calmed is False
    assert good.calm_score > 0.5 > bad.calm_score
    assert good.outcome in ("resolved", "in_progress") and bad.outcome == "unresolved"


def test_score_is_explained_by_contributions(analyzer) -> None:  # noqa: ANN001
    bad = analyzer(BRUSHED_OFF)
    features = [c.feature for c in bad.quality_contributions]
    assert "canned_only" in features or "last_persist" in features or "last_reject" in features
    assert all(c.points < 0 for c in bad.quality_contributions if c.feature in ("canned_only", "last_reject"))
    # the shown contributions account for the distance from the average (50) up to the small ones left out
    total = sum(c.points for c in bad.quality_contributions)
    assert abs(50 + total - bad.quality_score) <= 0.5 * len(FEATURE_NAMES) + 1
    out = bad.to_dict()
    assert out["outcome"] == "unresolved" and out["quality_contributions"][0]["label"]
    assert isinstance(out["quality_score"], int) and 0 <= out["quality_score"] <= 100


def test_rubric_findings_stay_as_evidence(analyzer) -> None:  # noqa: ANN001
    bad = analyzer(BRUSHED_OFF)
    assert any(f.rule_id.startswith("quality.") for f in bad.quality_findings)


def test_customer_never_upset_is_not_counted_as_calmed(analyzer) -> None:  # noqa: ANN001
    doc = analyzer(Conversation.from_texts([("customer", "请问电费账单在哪里下载？"),
                                            ("agent", "您好，在网上国网App的账单页面可以下载。"),
                                            ("customer", "好的，谢谢")]))
    assert doc.calmed is False and doc.calm_score > 0.5


def test_required_behaviour_never_lowers_the_score() -> None:
    model = default_model()
    for name, sign in (("rubric", 1), ("apology", 1), ("agent_resolved", 1), ("violations", -1), ("canned_only", -1)):
        coef = model.exp_coef_[FEATURE_NAMES.index(name)]
        assert coef * sign >= 0, name


def test_weights_for_other_features_are_refused(tmp_path) -> None:  # noqa: ANN001
    path = tmp_path / "w.json"
    path.write_text(json.dumps({"features": ["x"], "mean": [0], "scale": [1]}), encoding="utf-8")
    with pytest.raises(ModelError) as err:
        OutcomeModel.load(path)
    assert err.value.code == "AF201"
