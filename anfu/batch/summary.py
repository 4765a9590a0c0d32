"""The summary of a batch run: counters that workers fill for their chunk and the main process
merges, kept as plain JSON so a resumed run continues the same figures (`--resume`).

Figures: records, conversations, customer turns and errors; the emotion mix of customer turns;
causes; escalation (turns with escalation risk, conversations per ladder level); quality score
per agent and team (the analyzer's `quality_score`, or the scorecard score for `batch qa`);
the phrases that drive anger (customer trigger spans of angry turns) and the agents' worst
phrases (forbidden-phrase findings).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

PHRASE_CAP = 20_000    # distinct phrases kept per counter before pruning
PHRASE_KEEP = 5_000    # kept after pruning (the most frequent): memory stays flat on any archive


class Summary:
    def __init__(self, state: dict[str, Any] | None = None) -> None:
        s = state or {}
        self.records: int = s.get("records", 0)
        self.conversations: int = s.get("conversations", 0)
        self.customer_turns: int = s.get("customer_turns", 0)
        self.errors: int = s.get("errors", 0)
        self.error_codes: Counter[str] = Counter(s.get("error_codes", {}))
        self.emotions: Counter[str] = Counter(s.get("emotions", {}))
        self.causes: Counter[str] = Counter(s.get("causes", {}))
        self.escalation_turns: int = s.get("escalation_turns", 0)
        self.levels: Counter[str] = Counter(s.get("levels", {}))
        self.calmed: list[int] = list(s.get("calmed", [0, 0]))          # [calmed, upset conversations]
        # group -> [sum of scores, count, zero items]
        self.agents: dict[str, list[float]] = {k: list(v) for k, v in s.get("agents", {}).items()}
        self.teams: dict[str, list[float]] = {k: list(v) for k, v in s.get("teams", {}).items()}
        self.anger_phrases: Counter[str] = Counter(s.get("anger_phrases", {}))
        self.agent_phrases: Counter[str] = Counter(s.get("agent_phrases", {}))

    # -- filling ----------------------------------------------------------------------------
    def add_error(self, code: str) -> None:
        self.errors += 1
        self.error_codes[code] += 1

    def add(self, result: dict[str, Any], meta: dict[str, Any], score: float | None = None,
            zeroed: bool = False) -> None:
        """One analysed record (`anfu analyze` output) with its agent/team; `score` overrides
        the quality score (the scorecard's, for `batch qa`)."""
        self.records += 1
        turns = result["turns"] if "turns" in result else [dict(result, speaker="customer")]
        if "turns" in result:
            self.conversations += 1
        for turn in turns:
            if turn.get("speaker") == "customer":
                self.customer_turns += 1
                if turn.get("emotion"):
                    self.emotions[turn["emotion"]] += 1
                if turn.get("cause"):
                    self.causes[turn["cause"]] += 1
                if turn.get("escalation_risk"):
                    self.escalation_turns += 1
                if turn.get("emotion") in ("angry", "dissatisfied"):
                    for trig in turn.get("triggers", ()):
                        if trig.get("kind") in ("emotion", "escalation", "abuse") and trig.get("text"):
                            self.anger_phrases[trig["text"]] += 1
        for turn, source in zip(turns, meta.get("texts") or ()):
            if turn.get("speaker") == "agent":
                for f in turn.get("findings", ()):
                    phrase = source[f.get("start", 0):f.get("end", 0)].strip()
                    if phrase:
                        self.agent_phrases[phrase] += 1
        if result.get("escalation") is not None:
            self.levels[f"L{result['escalation'].get('level', 0)}"] += 1
        traj = result.get("trajectory")
        if traj and traj.get("peak", 0) >= 3 and result.get("calmed") is not None:
            self.calmed[1] += 1
            self.calmed[0] += 1 if result["calmed"] else 0
        value = score if score is not None else result.get("quality_score")
        if value is not None:
            for key, table in (("agent", self.agents), ("team", self.teams)):
                group = str(meta.get(key) or "（未标注）")
                row = table.setdefault(group, [0.0, 0, 0])
                row[0] += float(value)
                row[1] += 1
                row[2] += 1 if zeroed else 0
        self._prune()

    def _prune(self) -> None:
        for counter in (self.anger_phrases, self.agent_phrases):
            if len(counter) > PHRASE_CAP:
                kept = counter.most_common(PHRASE_KEEP)
                counter.clear()
                counter.update(dict(kept))

    def merge(self, other: "Summary") -> None:
        self.records += other.records
        self.conversations += other.conversations
        self.customer_turns += other.customer_turns
        self.errors += other.errors
        self.error_codes.update(other.error_codes)
        self.emotions.update(other.emotions)
        self.causes.update(other.causes)
        self.escalation_turns += other.escalation_turns
        self.levels.update(other.levels)
        self.calmed = [a + b for a, b in zip(self.calmed, other.calmed)]
        for mine, theirs in ((self.agents, other.agents), (self.teams, other.teams)):
            for key, row in theirs.items():
                cur = mine.setdefault(key, [0.0, 0, 0])
                for i in range(3):
                    cur[i] += row[i]
        self.anger_phrases.update(other.anger_phrases)
        self.agent_phrases.update(other.agent_phrases)
        self._prune()

    def to_state(self) -> dict[str, Any]:
        return {"records": self.records, "conversations": self.conversations,
                "customer_turns": self.customer_turns, "errors": self.errors,
                "error_codes": dict(self.error_codes), "emotions": dict(self.emotions),
                "causes": dict(self.causes), "escalation_turns": self.escalation_turns,
                "levels": dict(self.levels), "calmed": self.calmed,
                "agents": self.agents, "teams": self.teams,
                "anger_phrases": dict(self.anger_phrases), "agent_phrases": dict(self.agent_phrases)}

    # -- reading ------------------------------------------------------------------------------
    @staticmethod
    def _groups(table: dict[str, list[float]]) -> list[dict[str, Any]]:
        rows = [{"name": k, "mean": round(v[0] / v[1], 1) if v[1] else None, "count": int(v[1]),
                 "zeroed": int(v[2])} for k, v in table.items()]
        return sorted(rows, key=lambda r: (r["mean"] if r["mean"] is not None else 999, r["name"]))

    def to_dict(self, top: int = 20) -> dict[str, Any]:
        """The figures of the report (JSON), phrases cut to the `top` most frequent."""
        return {
            "records": self.records, "conversations": self.conversations,
            "customer_turns": self.customer_turns, "errors": self.errors,
            "error_codes": dict(sorted(self.error_codes.items())),
            "emotions": dict(self.emotions.most_common()), "causes": dict(self.causes.most_common()),
            "escalation": {"turns": self.escalation_turns,
                           "rate": round(self.escalation_turns / self.customer_turns, 4) if self.customer_turns else None,
                           "levels": dict(sorted(self.levels.items()))},
            "calmed": {"calmed": self.calmed[0], "upset": self.calmed[1],
                       "rate": round(self.calmed[0] / self.calmed[1], 4) if self.calmed[1] else None},
            "agents": self._groups(self.agents), "teams": self._groups(self.teams),
            "anger_phrases": self.anger_phrases.most_common(top),
            "agent_phrases": self.agent_phrases.most_common(top),
        }
