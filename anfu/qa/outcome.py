"""What customers judge in a conversation: outcome features and the learned outcome model.

The rubric (`anfu.qa.quality`) checks the agent's behaviour; customers judge whether the problem
was solved, how long it took and how they were treated. `OutcomeFeatures` turns a conversation's
analysed turns into a small set of named, explainable features (cues from the `outcome` rule pack
plus the analyzer's valence and intensity); `OutcomeModel` holds the weights learned from real
satisfaction ratings (STC-3: 19 annotators' S/A/E per dialogue, `anfu train-outcome`) and gives

- the customer-experience part of the quality score, with each feature's contribution,
- the probability that the customer ended satisfied (安抚成功, `calm_score`),
- the outcome: resolved / in_progress / unresolved.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

from ..errors import ModelError, RulePackError
from ..rules import DEFAULT_LOCALE, load_pack, pack_dir, validator
from ..text.normalize import t2s
from ..types import ScoreContribution, TurnAssessment
from .packs import FORBIDDEN_PACK

OUTCOME_PACK = "outcome"
CUSTOMER_CUES = ("accept", "persist", "reject", "question")
AGENT_CUES = ("resolved", "action", "time", "request_info", "canned", "referral", "apology", "explain")
OUTCOMES = ("resolved", "in_progress", "unresolved")
UPSET_PEAK = 2  # peak customer intensity at which there is something to calm (安抚)
DEFAULT_WEIGHTS = Path(__file__).resolve().parents[1] / "backends" / "weights" / "outcome.json"

# name → (zh-CN, en) description; the order is the feature vector's order
FEATURES: dict[str, tuple[str, str]] = {
    "last_valence": ("客户最后一轮的情绪效价", "valence of the customer's last turn"),
    "last2_valence": ("客户最后两轮的平均效价", "mean valence of the customer's last two turns"),
    "first_valence": ("客户开场的情绪效价", "valence of the customer's opening turn"),
    "peak_intensity": ("客户情绪峰值强度", "peak intensity of the customer"),
    "intensity_drop": ("峰值后强度回落", "fall in intensity from the peak to the end"),
    "last_accept": ("客户最后表示接受或感谢", "the customer ends accepting or thanking"),
    "last_persist": ("客户最后仍说问题未解决", "the customer ends saying the problem persists"),
    "last_reject": ("客户最后拒绝答复或说被敷衍", "the customer ends rejecting the answer"),
    "any_persist": ("对话中客户说问题反复或拖延", "the customer says the problem persists or drags on"),
    "unanswered_question": ("客户最后的问题无人回答", "the customer's last question is unanswered"),
    "agent_resolved": ("坐席已办结客户的问题", "the agent resolved the matter"),
    "agent_action_time": ("坐席给出具体动作和时间", "the agent committed to an action with a time"),
    "agent_action": ("坐席承诺具体动作", "the agent committed to an action"),
    "repeat_request": ("坐席重复索要信息", "the agent asked for information more than once"),
    "request_only": ("坐席只索要信息未行动", "the agent only asked for information"),
    "canned_only": ("坐席只有套话转达", "the agent only passed the matter on with canned words"),
    "referral": ("坐席让客户转其他渠道", "the agent sent the customer to another channel"),
    "apology": ("坐席致歉", "the agent apologised"),
    "explain": ("坐席解释原因", "the agent explained the cause"),
    "rubric": ("质检规范得分（问候、致歉、确认、承诺、结束语）", "rubric behaviour score (greeting, apology, confirmation, commitment, closing)"),
    "violations": ("服务忌语次数", "forbidden phrases"),
    "threat": ("客户提出投诉或曝光", "the customer threatened to complain or expose"),
    "abuse": ("客户辱骂", "the customer was abusive"),
    "customer_turns": ("客户轮次（往返次数）", "customer turns (back-and-forth)"),
    "agent_chars": ("坐席回复篇幅", "length of the agent's replies"),
}
FEATURE_NAMES: tuple[str, ...] = tuple(FEATURES)


@validator(OUTCOME_PACK)
def validate_outcome_pack(data: dict[str, Any]) -> list[str]:
    """Problems of an outcome cue pack (empty when it is fine)."""
    problems: list[str] = []
    for side, names in (("customer", CUSTOMER_CUES), ("agent", AGENT_CUES)):
        group = data.get(side)
        if not isinstance(group, dict):
            problems.append(f"{side}: expected a mapping of cue lists")
            continue
        for name in names:
            patterns = group.get(name)
            if not isinstance(patterns, list) or not patterns or not all(isinstance(p, str) and p for p in patterns):
                problems.append(f"{side}.{name}: expected a non-empty list of patterns")
                continue
            for p in patterns:
                if not p.startswith("@"):
                    try:
                        re.compile(p)
                    except re.error as exc:
                        problems.append(f"{side}.{name}: bad regular expression {p!r} ({exc})")
    return problems


class OutcomeCues:
    """The compiled cue pack; picklable (patterns are plain `re` objects)."""

    def __init__(self, locale: str = DEFAULT_LOCALE, rules_dir: str | Path | None = None) -> None:
        data = load_pack(OUTCOME_PACK, locale, rules_dir)
        problems = validate_outcome_pack(data)
        shared = load_pack(FORBIDDEN_PACK, locale, rules_dir).get("shared") or {}
        refs = {p[1:] for side in ("customer", "agent") for ps in (data.get(side) or {}).values()
                if isinstance(ps, list) for p in ps if isinstance(p, str) and p.startswith("@")}
        if refs - set(shared):
            problems.append(f"unknown shared patterns {sorted(refs - set(shared))} (define them in forbidden_phrases.yaml)")
        if problems:
            raise RulePackError("AF301", str(pack_dir(locale, rules_dir) / f"{OUTCOME_PACK}.yaml"),
                                reason="; ".join(problems[:3]))

        def compile_all(patterns: list[str]) -> re.Pattern[str]:
            parts = [shared[p[1:]] if p.startswith("@") else p for p in patterns]
            return re.compile("|".join(f"(?:{t2s(p)})" for p in parts), re.MULTILINE)

        self.customer_ = {n: compile_all(data["customer"][n]) for n in CUSTOMER_CUES}
        self.agent_ = {n: compile_all(data["agent"][n]) for n in AGENT_CUES}


@lru_cache(maxsize=8)
def default_cues(locale: str = DEFAULT_LOCALE, rules_dir: str | None = None) -> OutcomeCues:
    return OutcomeCues(locale, rules_dir)


def _norm(turn: TurnAssessment) -> str:
    return (turn.norm or turn.text).strip()


def outcome_features(turns: Sequence[TurnAssessment], cues: OutcomeCues, rubric_score: float | None) -> list[float]:
    """The feature vector (in `FEATURE_NAMES` order) of a conversation's analysed turns;
    `rubric_score` is the behaviour rubric's 0..100 score (None when no agent spoke)."""
    cust = [t for t in turns if t.speaker == "customer"]
    agents = [t for t in turns if t.speaker == "agent"]
    vals = [t.valence if t.valence is not None else 0.0 for t in cust] or [0.0]
    ints = [t.intensity if t.intensity is not None else 0 for t in cust] or [0]
    c = cues.customer_
    a = cues.agent_
    last = _norm(cust[-1]) if cust else ""
    late = len(cust) > 1  # what the customer says after an agent replied
    agent_norms = [_norm(t) for t in agents]

    def any_agent(name: str) -> bool:
        return any(a[name].search(n) for n in agent_norms)

    requests = sum(1 for n in agent_norms if a["request_info"].search(n))
    acted = [bool(a["resolved"].search(n) or a["action"].search(n)) for n in agent_norms]
    canned = [bool(a["canned"].search(n)) for n in agent_norms]
    violations = sum(len(t.findings) for t in agents if t.violation)  # "consider" hints do not count
    last_turn = turns[-1] if turns else None
    unanswered = bool(last_turn is not None and last_turn.speaker == "customer" and late
                      and c["question"].search(_norm(last_turn)))
    return [
        vals[-1],
        sum(vals[-2:]) / len(vals[-2:]),
        vals[0],
        max(ints) / 4,
        (max(ints) - ints[-1]) / 4,
        float(late and bool(c["accept"].search(last))),
        float(late and bool(c["persist"].search(last))),
        float(late and bool(c["reject"].search(last))),
        float(any(c["persist"].search(_norm(t)) for t in cust)),
        float(unanswered),
        float(any_agent("resolved")),
        float(any(a["action"].search(n) and a["time"].search(n) for n in agent_norms)),
        float(any(acted)),
        float(requests > 1),
        float(bool(agents) and requests > 0 and not any(acted)),
        float(bool(agents) and all(canned) and not any(acted)),
        float(any_agent("referral")),
        float(any_agent("apology")),
        float(any_agent("explain")),
        (rubric_score if rubric_score is not None else 0.0) / 100,
        float(min(violations, 3)),
        float(any(t.escalation_risk for t in cust)),
        float(any(t.abusive for t in cust)),
        math.log1p(len(cust)),
        math.log1p(sum(len(n) for n in agent_norms) / max(1, len(agent_norms))),
    ]


@dataclass(frozen=True)
class OutcomeJudgement:
    """The learned view of a conversation."""

    experience: float            # customer-experience score 0..100 (learned from S/A/E)
    calm_score: float            # probability that the customer ended satisfied (S ≥ 0)
    calmed: bool                 # 安抚成功: calm_score at or above the learned threshold
    outcome: str                 # resolved | in_progress | unresolved
    contributions: tuple[ScoreContribution, ...]


class OutcomeModel:
    """Weights learned by `anfu.training.outcome`; plain floats, picklable, no numpy at run time."""

    def __init__(self, weights: dict[str, Any]) -> None:
        names = tuple(weights.get("features") or ())
        if names != FEATURE_NAMES:
            raise ModelError("AF201", "outcome weights were trained on other features; run `anfu train-outcome`")
        self.mean_ = [float(x) for x in weights["mean"]]
        self.scale_ = [float(x) or 1.0 for x in weights["scale"]]
        q = weights["experience"]
        self.exp_coef_ = [float(x) for x in q["coef"]]
        self.exp_intercept_ = float(q["intercept"])
        self.exp_points_ = float(q["points_per_unit"])
        cm = weights["calm"]
        self.calm_coef_ = [float(x) for x in cm["coef"]]
        self.calm_intercept_ = float(cm["intercept"])
        self.calm_threshold_ = float(cm["threshold"])
        oc = weights["outcome"]
        self.out_coef_ = [float(x) for x in oc["coef"]]
        self.out_intercept_ = float(oc["intercept"])
        self.resolved_at_ = float(oc["resolved_at"])
        self.unresolved_below_ = float(oc["unresolved_below"])
        self.info_: dict[str, Any] = weights.get("info") or {}

    @classmethod
    def load(cls, path: str | Path = DEFAULT_WEIGHTS) -> "OutcomeModel":
        try:
            return cls(json.loads(Path(path).read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelError("AF201", f"{path} ({type(exc).__name__}: {exc})") from None

    def _z(self, x: Sequence[float]) -> list[float]:
        return [(v - m) / s for v, m, s in zip(x, self.mean_, self.scale_)]

    def judge(self, x: Sequence[float]) -> OutcomeJudgement:
        z = self._z(x)
        terms = [c * v for c, v in zip(self.exp_coef_, z)]
        raw = self.exp_intercept_ + sum(terms)
        experience = max(0.0, min(100.0, 50.0 + self.exp_points_ * raw))
        contributions = tuple(sorted(
            (ScoreContribution(name, FEATURES[name][0], FEATURES[name][1], x[i], self.exp_points_ * terms[i])
             for i, name in enumerate(FEATURE_NAMES)
             if abs(self.exp_points_ * terms[i]) >= 0.5),
            key=lambda cb: -abs(cb.points)))
        logit = self.calm_intercept_ + sum(c * v for c, v in zip(self.calm_coef_, z))
        calm = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, logit))))
        accomplished = self.out_intercept_ + sum(c * v for c, v in zip(self.out_coef_, z))
        outcome = ("resolved" if accomplished >= self.resolved_at_ else
                   "unresolved" if accomplished < self.unresolved_below_ else "in_progress")
        return OutcomeJudgement(experience=experience, calm_score=calm, calmed=calm >= self.calm_threshold_,
                                outcome=outcome, contributions=contributions)


@lru_cache(maxsize=4)
def default_model(path: str | None = None) -> OutcomeModel:
    return OutcomeModel.load(path or DEFAULT_WEIGHTS)
