"""Inspection of stored conversations and what is built from the results, without the database:
analyse a conversation's messages, apply the scorecard, decide whether a human re-checks it
(复核: every low score, plus a deterministic sample), derive the facts the trend report groups,
turn decided appeals into labelled corrections for `anfu train-replies`, and the week-over-week
trend and outlier report.
"""

from __future__ import annotations

import hashlib
import statistics
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Sequence

from ..types import Conversation, Utterance
from .scorecard import Scorecard

BEIJING = timezone(timedelta(hours=8))
ANGRY = ("angry", "dissatisfied")


def sampled(key: str, rate: float) -> bool:
    """Deterministic random draw for 复核: the same conversation is always in or out."""
    digest = hashlib.sha256(f"anfu.inspection.sample|{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < rate


def abuse_finder(analyzer: Any) -> Any:
    from ..batch.work import _abuse_finder

    return _abuse_finder(analyzer)


def inspect_messages(analyzer: Any, scorecard: Scorecard, key: str, messages: Sequence[Any],
                     industry: str | None = None) -> tuple[dict[str, Any], dict[str, Any], bool, bool]:
    """(result, facts, review, sampled) for a conversation's messages (objects with `speaker`,
    `text`, `sent_at`)."""
    turns = tuple(Utterance(text=m.text, speaker=m.speaker) for m in messages if m.speaker in ("customer", "agent"))
    analysed = analyzer(Conversation(turns=turns, id=key, industry=industry)).to_dict()
    texts = [t.text for t in turns]
    result = scorecard.apply(analysed, texts, abuse=abuse_finder(analyzer))
    for item in result["items"]:
        for ev in item["evidence"]:
            if ev["turn"] >= 0 and turns[ev["turn"]].speaker == "agent":
                ev["reply"] = texts[ev["turn"]]
    result["analysis"] = {k: analysed.get(k) for k in ("quality_score", "calmed", "outcome", "trajectory")}
    first = next((m.sent_at for m in messages), None)
    facts = conversation_facts(analysed, texts, first)
    draw = sampled(key, scorecard.sample_rate)
    return result, facts, bool(result["low"] or draw), draw


def conversation_facts(analysed: dict[str, Any], texts: list[str], when: datetime | None) -> dict[str, Any]:
    """What the trend report groups: ISO week and Beijing hour of the first message, the main
    cause, whether the customer got angry (an angry/dissatisfied turn at intensity ≥ 3), whether
    they complained (escalation risk or ladder ≥ L1), and the phrases behind the anger."""
    turns = analysed.get("turns") or []
    customer = [t for t in turns if t.get("speaker") == "customer"]
    causes = Counter(t["cause"] for t in customer if t.get("cause"))
    angry_turns = [t for t in customer if t.get("emotion") in ANGRY and (t.get("intensity") or 0) >= 3]
    phrases = Counter(tr["text"] for t in angry_turns for tr in t.get("triggers", ())
                      if tr.get("kind") in ("emotion", "escalation", "abuse") and tr.get("text"))
    local = (when or datetime.now(timezone.utc)).astimezone(BEIJING)
    year, week, _ = local.isocalendar()
    return {"week": f"{year}-W{week:02d}", "hour": local.hour, "cause": causes.most_common(1)[0][0] if causes else None,
            "angry": bool(angry_turns),
            "complaint": any(t.get("escalation_risk") for t in customer) or ((analysed.get("escalation") or {}).get("level") or 0) >= 1,
            "phrases": [p for p, _ in phrases.most_common(10)], "turns": len(texts)}


def correction_rows(corrections: Iterable[tuple[Any, Any, str]]) -> list[dict[str, Any]]:
    """Decided appeals of `forbidden` and `zero` findings → rows `anfu train-replies --data`
    reads: an overturned finding labels the agent's reply compliant (`violation: false`); an
    upheld one with a pre-send category labels it a violation of that category."""
    rows: list[dict[str, Any]] = []
    seen: set[tuple[str, bool]] = set()
    for finding, inspection, decision in corrections:
        if finding.kind not in ("forbidden", "zero"):
            continue
        for n, ev in enumerate(finding.evidence):
            reply = ev.get("reply")
            if not reply:
                continue
            violation = decision == "upheld"
            category = ev.get("category")
            if violation and not category:
                continue
            if (reply, violation) in seen:
                continue
            seen.add((reply, violation))
            row = {"id": f"inspection-{inspection.id}-{finding.id}-{n}", "text": reply, "violation": violation,
                   "category": category if violation else None, "source": "inspection_appeal",
                   "item": finding.item_id, "decision": decision}
            rows.append(row)
    return rows


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def trend_report(pairs: Sequence[tuple[Any, Sequence[Any]]], names: dict[int, str] | None = None,
                 team_names: dict[int, str] | None = None) -> dict[str, Any]:
    """Week over week: conversations, anger and complaint rates, mean final score; for the latest
    week against the one before, which causes, agents, teams, hours and phrases drive anger and
    complaints (count, rate and change); outliers: agents whose anger rate or score is more than
    two standard deviations from their peers' in the latest week."""
    names, team_names = names or {}, team_names or {}
    weeks: dict[str, list[tuple[Any, Sequence[Any]]]] = defaultdict(list)
    for inspection, findings in pairs:
        weeks[inspection.facts["week"]].append((inspection, findings))
    order = sorted(weeks)
    series = []
    for week in order:
        rows = weeks[week]
        n = len(rows)
        series.append({"week": week, "conversations": n,
                       "angry": sum(1 for i, _ in rows if i.facts["angry"]),
                       "complaints": sum(1 for i, _ in rows if i.facts["complaint"]),
                       "anger_rate": _rate(sum(1 for i, _ in rows if i.facts["angry"]), n),
                       "complaint_rate": _rate(sum(1 for i, _ in rows if i.facts["complaint"]), n),
                       "mean_score": round(statistics.fmean(i.final_score for i, _ in rows), 1) if rows else None})
    latest = order[-1] if order else None
    previous = order[-2] if len(order) > 1 else None

    def group(week: str | None, key: Any) -> dict[Any, dict[str, int]]:
        out: dict[Any, dict[str, int]] = defaultdict(lambda: {"conversations": 0, "angry": 0, "complaints": 0})
        for inspection, findings in weeks.get(week, []) if week else []:
            for k in key(inspection, findings):
                out[k]["conversations"] += 1
                out[k]["angry"] += int(inspection.facts["angry"])
                out[k]["complaints"] += int(inspection.facts["complaint"])
        return out

    def drivers(key: Any, label: Any, limit: int = 10) -> list[dict[str, Any]]:
        now, before = group(latest, key), group(previous, key)
        rows = []
        for k, v in now.items():
            b = before.get(k, {"conversations": 0, "angry": 0, "complaints": 0})
            rows.append({"key": k, "name": label(k), **v, "anger_rate": _rate(v["angry"], v["conversations"]),
                         "angry_change": v["angry"] - b["angry"], "complaints_change": v["complaints"] - b["complaints"]})
        rows.sort(key=lambda r: (-(r["angry"] + r["complaints"]), -r["angry_change"], str(r["name"])))
        return rows[:limit]

    from ..glossary import CAUSE_NAMES, display

    by_agent = group(latest, lambda i, f: [i.agent_id])
    scores: dict[Any, list[float]] = defaultdict(list)
    for inspection, _ in weeks.get(latest, []) if latest else []:
        scores[inspection.agent_id].append(inspection.final_score)
    outliers = []
    rates = {a: v["angry"] / v["conversations"] for a, v in by_agent.items() if v["conversations"]}
    means = {a: statistics.fmean(s) for a, s in scores.items() if s}
    for metric, values, high_is_bad in (("anger_rate", rates, True), ("mean_score", means, False)):
        if len(values) < 3:
            continue
        for agent, value in values.items():
            others = [v for a, v in values.items() if a != agent]
            mu, sd = statistics.fmean(others), statistics.pstdev(others)
            if sd == 0:
                sd = 1e-9
            z = (value - mu) / sd
            if (z > 2 if high_is_bad else z < -2):
                outliers.append({"agent_id": agent, "name": names.get(agent, str(agent)), "metric": metric,
                                 "value": round(value, 4), "peers": round(mu, 4), "z": round(z, 2)})
    return {
        "weeks": series, "latest": latest, "previous": previous,
        "causes": drivers(lambda i, f: [i.facts["cause"] or "other"], lambda k: display(k, CAUSE_NAMES)),
        "agents": drivers(lambda i, f: [i.agent_id], lambda k: names.get(k, "—") if k is not None else "（未分配）"),
        "teams": drivers(lambda i, f: [i.team_id], lambda k: team_names.get(k, "—") if k is not None else "（未分配）"),
        "hours": sorted(drivers(lambda i, f: [i.facts["hour"]], lambda k: f"{k:02d}:00", limit=24),
                        key=lambda r: r["key"]),
        "phrases": drivers(lambda i, f: i.facts["phrases"], lambda k: k, limit=20),
        "findings": drivers(lambda i, f: sorted({x.item_id for x in f}), lambda k: k, limit=20),
        "outliers": outliers,
    }
