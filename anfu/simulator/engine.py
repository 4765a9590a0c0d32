"""The simulated customer (角色扮演 / 情景模拟): a scenario's customer who answers a trainee turn
by turn, calming with good handling and escalating with bad.

Each reply is read by the project's own analyzer (`anfu.load()`): its turn-scoped stage (up to the
pre-send check, in context of the customer's line) gives the forbidden phrases (服务忌语) with
their severity and a compliant rewrite while the customer answers; when the feedback is asked for,
the full analysis gives the strategy component's 话术 for each weak reply and anfu.outcome.v1 the
质检 quality score of the whole transcript. The simulator pack (`simulator.yaml`) turns what the reply did
(apology, empathy, listening, questions that uncover the scenario's hidden facts, an action with
a time, the persona's playbook — or arguing, brushing off, ignoring, the scenario's aggravations)
into a change of the customer's heat; the customer's words come from the scenario and the phrase
bank. Everything is deterministic for a scenario and seed: the same replies give the same session.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, Callable, Protocol

from ..errors import InputError
from ..rules import load_pack
from ..text.normalize import is_blank, normalize
from ..types import Conversation
from .bank import SimulatorPack, load_simulator_pack
from .scenarios import Scenario

MAX_REPLY_CHARS = 2000
ARGUE_CATEGORIES = frozenset({"blaming", "self_defence", "flat_denial"})
BRUSH_OFF_CATEGORIES = frozenset({"dismissing", "buck_passing", "impatience", "empty_promise", "ignorance",
                                  "bare_refusal", "policy_wall", "price_excuse", "belittling"})
# the reaction the customer opens with, most telling first
REACTION_ORDER = ("violation", "argue", "brush_off", "worsens", "ignored", "resolves_early", "resolves",
                  "action_with_time", "action", "empathy", "apology")
SKILLS = ("empathy", "discovery", "solution", "compliance", "persona", "calming")

NOTE_TEXT = {
    "apology": ("致歉，先安抚了情绪", "apologised first"),
    "empathy": ("表达了理解", "showed understanding"),
    "listening": ("请客户倾诉，认真倾听", "invited the customer to vent and listened"),
    "question": ("询问了情况", "asked about the case"),
    "discovery": ("问出了关键信息：{detail}", "uncovered a hidden fact: {detail}"),
    "action": ("给出了处理动作，但没有时限", "offered an action but no time"),
    "action_with_time": ("给出了具体方案和时限", "offered a concrete action with a time"),
    "resolves": ("给出了解决办法：{detail}", "resolved the case: {detail}"),
    "resolves_early": ("还没问清情况就下结论（先问清：{detail}）", "jumped to a conclusion before asking about: {detail}"),
    "persona_fit": ("符合{detail}客户的沟通要点", "fitted the {detail} customer's playbook"),
    "persona_avoid": ("{detail}客户忌讳这种说法", "the {detail} customer's playbook warns against this"),
    "violation": ("服务忌语：{detail}", "forbidden phrase: {detail}"),
    "argue": ("与客户争论、挑客户的错", "argued with the customer"),
    "brush_off": ("敷衍打发客户", "brushed the customer off"),
    "ignored": ("没有回应客户说的问题", "ignored what the customer said"),
    "worsens": ("{detail}，让客户更生气", "{detail}: made the customer angrier"),
}


def note(code: str, detail: str = "") -> dict[str, str]:
    zh, en = NOTE_TEXT[code]
    return {"code": code, "text": zh.format(detail=detail), "text_en": en.format(detail=detail)}


@lru_cache(maxsize=1)
def default_analyzer() -> Any:
    """The shipped analysis pipeline, loaded once per process."""
    from .. import load

    return load()


@lru_cache(maxsize=4)
def turn_analyzer(analyzer: Any) -> Any:
    """The analyzer's leading turn-scoped components (normalise … pre-send check) as an Analyzer
    of their own: all a reply needs to be read, without re-running the conversation-level
    components on every turn. The full analyzer still gives the 话术 and the session's score."""
    from ..pipeline import Analyzer

    stage = list(getattr(analyzer, "turn_stage", []) or [])
    if not stage or len(stage) == len(getattr(analyzer, "components", [])):
        return analyzer
    return Analyzer(stage, getattr(analyzer, "config", None))


class Voice(Protocol):
    """Where the customer's words come from: the phrase bank by default; an LLM back-end may
    rephrase the bank's line (anfu.simulator.voice)."""

    def say(self, draft: str, context: dict[str, Any]) -> str | None: ...


@dataclass(frozen=True)
class CustomerLine:
    text: str
    emotion: str
    intensity: int

    def to_dict(self) -> dict[str, Any]:
        return {"speaker": "customer", "text": self.text, "emotion": self.emotion, "intensity": self.intensity}


@dataclass(frozen=True)
class AgentTurn:
    index: int
    text: str
    violation: bool
    findings: list[dict[str, Any]]
    rewrite: str | None
    signals: tuple[str, ...]
    notes: list[dict[str, str]]
    verdict: str
    before: int
    after: int
    better: str | None

    def to_dict(self) -> dict[str, Any]:
        """The CLI's agent line."""
        return {"speaker": "agent", "text": self.text, "violation": self.violation, "findings": self.findings}

    def feedback(self) -> dict[str, Any]:
        return {"scope": "turn", "turn": self.index, "verdict": self.verdict, "change": self.after - self.before,
                "notes": [n["text"] for n in self.notes], "codes": [n["code"] for n in self.notes],
                "better": self.better}


@dataclass
class _State:
    heat: float
    emotion: str
    intensity: int
    peak: int
    found: set[str] = field(default_factory=set)
    resolved: bool = False
    escalated: bool = False
    worsening_run: int = 0
    used_signals: dict[str, int] = field(default_factory=dict)


class Simulator:
    """One training session: `start()` → the customer's first line; `reply(text)` → the agent
    turn as read and the customer's answer; `summary()` → score, calmed, outcome, feedback."""

    def __init__(self, scenario: Scenario, seed: int = 0, *, analyzer: Any = None,
                 pack: SimulatorPack | None = None, voice: Voice | None = None,
                 rules_dir: str | None = None) -> None:
        self.scenario = scenario
        self.seed = seed
        self.analyzer = analyzer if analyzer is not None else default_analyzer()
        self.pack = pack or load_simulator_pack(rules_dir)
        self.voice = voice
        self.rng_ = random.Random(f"anfu.simulator|{scenario.id}|{seed}")
        self.state_ = _State(heat=float(scenario.intensity), emotion=scenario.emotion,
                             intensity=scenario.intensity, peak=scenario.intensity)
        self.turns_: list[tuple[str, str]] = []
        self.lines_: list[CustomerLine] = []
        self.agent_turns_: list[AgentTurn] = []
        self.said_: set[str] = set()
        self.used_parts_: set[str] = set()
        self.persona_ = scenario.persona
        self._pending_better: dict[int, Conversation] = {}
        self.playbook_ = (load_pack("personas").get("types") or {}).get(scenario.persona, {}).get("playbook") or {}
        self._summary: dict[str, Any] | None = None

    # the customer ------------------------------------------------------------------------------
    def start(self) -> CustomerLine:
        if self.lines_:
            return self.lines_[0]
        opening = self.scenario.openings[self.rng_.randrange(len(self.scenario.openings))]
        return self._say([opening], context={"kind": "opening"})

    @property
    def transcript(self) -> list[tuple[str, str]]:
        return list(self.turns_)

    @property
    def finished(self) -> bool:
        return self._summary is not None

    def _pick(self, candidates: tuple[str, ...] | list[str]) -> str | None:
        """An unused line of `candidates`, chosen by the session's random generator."""
        fresh = [c for c in candidates if c not in self.used_parts_]
        if not fresh:
            return None
        choice = fresh[self.rng_.randrange(len(fresh))]
        self.used_parts_.add(choice)
        return choice

    def _state_name(self) -> str:
        s = self.state_
        if s.escalated:
            return "escalated"
        return "hot" if s.intensity >= 3 else "tense" if s.intensity == 2 else "easing" if s.intensity == 1 else "calm"

    def _say(self, parts: list[str], context: dict[str, Any]) -> CustomerLine:
        text = "".join(parts)
        if text in self.said_ or not text:
            text = self._unique(parts)
        if self.voice is not None:
            spoken = self.voice.say(text, {**context, "scenario": self.scenario, "persona": self.persona_,
                                           "emotion": self.state_.emotion, "intensity": self.state_.intensity,
                                           "transcript": list(self.turns_)})
            if spoken and spoken not in self.said_:
                text = spoken
        self.said_.add(text)
        line = CustomerLine(text, self.state_.emotion, self.state_.intensity)
        self.lines_.append(line)
        self.turns_.append(("customer", text))
        return line

    def _unique(self, parts: list[str]) -> str:
        """A line never said before in this session: the parts plus lines of the bank, then
        pairs of them (the bank is large enough that this ends)."""
        voice = self.pack.personas[self.persona_]
        pool = [*voice.lines[self._state_name()], *self.pack.emotion_lines(self.state_.emotion, self.state_.intensity),
                *(line for lines in voice.lines.values() for line in lines)]
        base = "".join(parts)
        for extra in pool:
            if base + extra not in self.said_:
                return base + extra
        for first in pool:
            for second in pool:
                if first != second and base + first + second not in self.said_:
                    return base + first + second
        return base + f"（第{len(self.lines_) + 1}次说了）"

    # the trainee -------------------------------------------------------------------------------
    def _conversation(self, extra: tuple[str, str] | None = None) -> Conversation:
        turns = self.turns_ + ([extra] if extra else [])
        return Conversation.from_texts(turns, id=f"sim:{self.scenario.id}", channel="training",
                                       industry=self.scenario.industry)

    def reply(self, text: Any) -> tuple[AgentTurn, CustomerLine]:
        """Read one trainee reply and let the customer answer it."""
        if self._summary is not None:
            from ..errors import TrainingError

            raise TrainingError("AF704", self.scenario.id)
        if not self.lines_:
            self.start()
        if not isinstance(text, str):
            raise InputError("AF003", type(text).__name__)
        if is_blank(text):
            raise InputError("AF004")
        if len(text) > MAX_REPLY_CHARS:
            raise InputError("AF005", len(text), limit=MAX_REPLY_CHARS)
        after_doc = turn_analyzer(self.analyzer)(self._conversation(("agent", text)))
        agent = after_doc.to_dict()["turns"][-1]
        if agent.get("violation") is None:  # an analyzer without the pre-send component
            from ..qa import check_reply

            agent = {**agent, **check_reply(text, {"customer_text": self.turns_[-1][1]}).to_dict()}
        findings = list(agent.get("findings") or [])
        violation = bool(agent.get("violation"))
        turn, reaction_parts = self._react(text, violation, findings, agent.get("rewrite"))
        if turn.verdict != "good" and turn.better is None:
            # the 话术 for this customer line come from the full analysis, run when the feedback
            # is asked for (summary, details), not while the customer answers
            self._pending_better[turn.index] = self._conversation()
        self.agent_turns_.append(turn)
        self.turns_.append(("agent", text))
        line = self._say(reaction_parts, context={"kind": "reply", "signals": turn.signals, "agent_text": text})
        return turn, line

    def _signals(self, norm: str, violation: bool, findings: list[dict[str, Any]]) -> tuple[dict[str, Any], list[dict[str, str]]]:
        pack, scenario, s = self.pack, self.scenario, self.state_
        sig = {name: any(rx.search(norm) for rx in patterns) for name, patterns in pack.signals.items()}
        # findings of a reply that is no violation (the in-context check's "worth a second look")
        # do not count as arguing or brushing off
        categories = {f.get("category") for f in findings} if violation else set()
        found_now = [f for f in scenario.hidden_facts if f.id not in s.found and
                     (sig["question"] or sig["listening"]) and any(rx.search(norm) for rx in f.ask)]
        resolution = None
        early = None
        for option in scenario.resolves:
            if all(any(rx.search(norm) for rx in group) for group in option.groups):
                missing = [r for r in option.requires if r not in s.found and r not in {f.id for f in found_now}]
                if missing:
                    early = early or (option, missing)
                else:
                    resolution = option
                    break
        worsens = [w for w in scenario.worsens if any(rx.search(norm) for rx in w.patterns)]
        voice = pack.personas[self.persona_]
        out: dict[str, Any] = {
            "apology": sig["apology"], "empathy": sig["empathy"], "listening": sig["listening"],
            "question": sig["question"], "discovery": found_now,
            "action_with_time": sig["action"] and sig["time"], "action": sig["action"] and not sig["time"],
            "resolves": resolution if not s.resolved else None,
            "resolves_early": early if resolution is None and not s.resolved else None,
            "persona_fit": any(rx.search(norm) for rx in voice.fit),
            "persona_avoid": any(rx.search(norm) for rx in voice.avoid),
            "violation": violation,
            "argue": sig["argue"] or bool(categories & ARGUE_CATEGORIES),
            "brush_off": sig["brush_off"] or bool(categories & BRUSH_OFF_CATEGORIES),
            "worsens": worsens,
        }
        topical = any(k and k in norm for k in scenario.keywords) or any(
            scenario.topic[i:i + 2] in norm for i in range(max(1, len(scenario.topic) - 1)))
        out["ignored"] = not (topical or out["apology"] or out["empathy"] or out["listening"] or out["question"]
                              or sig["action"] or found_now or resolution or early or worsens)
        notes: list[dict[str, str]] = []
        if violation:
            for f in findings[:2]:
                notes.append(note("violation", str(f.get("message", "")).split("：")[0][:60]))
        for code in ("apology", "empathy", "listening"):
            if out[code]:
                notes.append(note(code))
        for fact in found_now:
            notes.append(note("discovery", fact.fact))
        if out["resolves"] is not None:
            notes.append(note("resolves", out["resolves"].what))
        elif out["resolves_early"] is not None:
            wanted = [f.fact for f in scenario.hidden_facts if f.id in out["resolves_early"][1]]
            notes.append(note("resolves_early", "；".join(wanted)))
        if out["action_with_time"] and out["resolves"] is None:
            notes.append(note("action_with_time"))
        elif out["action"]:
            notes.append(note("action"))
        if out["persona_fit"]:
            notes.append(note("persona_fit", self.persona_))
        if out["persona_avoid"]:
            notes.append(note("persona_avoid", self.persona_))
        if not violation:
            for code in ("argue", "brush_off"):
                if out[code]:
                    notes.append(note(code))
        for w in worsens:
            notes.append(note("worsens", w.what))
        if out["ignored"]:
            notes.append(note("ignored"))
        return out, notes

    def _react(self, text: str, violation: bool, findings: list[dict[str, Any]],
               rewrite: str | None) -> tuple[AgentTurn, list[str]]:
        pack, s, dyn = self.pack, self.state_, self.pack.dynamics
        norm = normalize(text)
        sig, notes = self._signals(norm, violation, findings)
        voice = pack.personas[self.persona_]

        def decayed(name: str) -> float:
            used = s.used_signals.get(name, 0)
            s.used_signals[name] = used + 1
            return float(dyn[name]) * (1 - float(dyn["repeat_decay"])) ** used

        calming = 0.0
        for name in ("apology", "empathy", "listening", "question", "action", "action_with_time", "persona_fit"):
            if sig[name]:
                calming += decayed(name)
        calming += float(dyn["discovery"]) * len(sig["discovery"])
        if sig["resolves"] is not None:
            calming += float(dyn["resolves"])
        elif sig["resolves_early"] is not None:
            calming += float(dyn["resolves_early"])
        worsening = 0.0
        if violation:
            weights = dyn["violation"]
            worsening += min(float(dyn["violation_cap"]),
                             sum(float(weights.get(f.get("severity") or "major", weights["major"])) for f in findings))
            calming *= float(dyn["poisoned_share"])
        else:
            worsening += float(dyn["argue"]) * sig["argue"] + float(dyn["brush_off"]) * sig["brush_off"]
        worsening += float(dyn["ignored"]) * sig["ignored"] + float(dyn["persona_avoid"]) * sig["persona_avoid"]
        worsening += float(dyn["worsens"]) * len(sig["worsens"])
        jitter = float(dyn["jitter"])
        delta = calming * voice.calm_rate + worsening * voice.heat_rate + self.rng_.uniform(-jitter, jitter)
        before = s.intensity
        was_escalated = s.escalated
        s.heat = min(float(dyn["max_heat"]), max(0.0, s.heat + delta))
        s.intensity = min(4, int(s.heat + 0.5))
        s.peak = max(s.peak, s.intensity)
        for fact in sig["discovery"]:
            s.found.add(fact.id)
        if sig["resolves"] is not None:
            s.resolved = True
        worsened = worsening > 0 and delta > 0
        s.worsening_run = s.worsening_run + 1 if worsened else 0
        if worsened and (s.heat >= float(dyn["escalate_at"]) or s.worsening_run >= int(dyn["escalate_after"])):
            s.escalated = True
        self._move_emotion(worsened, delta)

        verdict = "violation" if violation else "good" if (delta < 0 and worsening == 0) else "weak"
        better = rewrite if violation and rewrite else None
        signals = tuple(name for name in REACTION_ORDER + ("listening", "question", "discovery", "persona_fit",
                                                          "persona_avoid")
                        if sig.get(name))
        turn = AgentTurn(index=len(self.agent_turns_) + 1, text=text, violation=violation, findings=findings,
                         rewrite=rewrite, signals=signals, notes=notes, verdict=verdict, before=before,
                         after=s.intensity, better=better)
        return turn, self._answer(sig, was_escalated)

    def _move_emotion(self, worsened: bool, delta: float) -> None:
        s, opening = self.state_, self.scenario.emotion
        if s.escalated or (worsened and s.intensity >= 3):
            s.emotion = "angry"
        elif worsened and s.emotion in ("neutral", "satisfied"):
            s.emotion = "dissatisfied"
        elif delta < 0:
            if s.intensity == 0:
                s.emotion = "satisfied" if s.resolved else "neutral"
            elif s.intensity == 1:
                s.emotion = opening if opening in ("anxious", "doubtful", "disappointed") else "dissatisfied"
            elif s.emotion == "angry" and s.intensity <= 2:
                s.emotion = "dissatisfied"

    def _answer(self, sig: dict[str, Any], was_escalated: bool) -> list[str]:
        pack, s = self.pack, self.state_
        parts: list[str] = []
        reaction = next((name for name in REACTION_ORDER if sig.get(name)), None)
        if reaction == "worsens":
            parts.append(sig["worsens"][0].line if sig["worsens"][0].line not in self.used_parts_
                         else self._pick(pack.reactions["worsens"]) or "")
            self.used_parts_.add(sig["worsens"][0].line)
        elif reaction == "resolves" and not s.escalated:
            parts.append(sig["resolves"].line)
            self.used_parts_.add(sig["resolves"].line)
        elif reaction is not None and reaction in pack.reactions and (reaction != "apology" or s.intensity >= 2) \
                and not (s.resolved and reaction in ("action", "action_with_time", "resolves_early")):
            picked = self._pick(pack.reactions[reaction])
            if picked:
                parts.append(picked)
        if not s.escalated or not was_escalated:
            for fact in sig["discovery"]:
                parts.append(fact.reveal)
        voice = pack.personas[self.persona_]
        state = self._state_name()
        if not (reaction == "resolves" and state in ("calm", "easing")):
            if s.intensity >= 2 and not s.escalated and self.rng_.random() < 0.3:
                emotional = self._pick(pack.emotion_lines(s.emotion, s.intensity))
                if emotional:
                    parts.append(emotional)
            line = self._pick(voice.lines[state]) or self._pick(pack.emotion_lines(s.emotion, s.intensity))
            if line:
                parts.append(line)
        return [p for p in parts if p]

    # the end -------------------------------------------------------------------------------------
    @property
    def outcome(self) -> str:
        s = self.state_
        if s.escalated:
            return "escalated"
        return "resolved" if s.resolved and s.intensity <= 1 else "ongoing"

    @property
    def calmed(self) -> bool:
        s = self.state_
        return not s.escalated and s.intensity <= 1 and s.intensity < s.peak

    def skills(self) -> dict[str, float]:
        """0..1 per skill of this session (what the trainer view tracks over time)."""
        turns, s, scenario = self.agent_turns_, self.state_, self.scenario
        if not turns:
            return {k: 0.0 for k in SKILLS}
        early = turns[:2]
        empathy = sum(1 for t in early if {"apology", "empathy"} & set(t.signals) or "listening" in t.signals) / len(early)
        solution = 1.0 if s.resolved else 0.6 if any("action_with_time" in t.signals for t in turns) else \
            0.3 if any("action" in t.signals for t in turns) else 0.0
        persona = 1.0 if any("persona_fit" in t.signals for t in turns) else 0.0
        if any("persona_avoid" in t.signals for t in turns):
            persona = max(0.0, persona - 0.5)
        calming = 0.0 if s.escalated else max(0.0, min(1.0, (scenario.intensity - s.intensity) / max(1, scenario.intensity)))
        return {"empathy": round(empathy, 3),
                "discovery": round(len(s.found) / len(scenario.hidden_facts), 3),
                "solution": solution,
                "compliance": round(1 - sum(t.violation for t in turns) / len(turns), 3),
                "persona": persona, "calming": round(calming, 3)}

    def _resolve_better(self) -> None:
        """A better reply for each weak turn without a rewrite: the strategy component's first
        话术 for the customer line that reply answered."""
        for index, before in sorted(self._pending_better.items()):
            found = self.analyzer(before).to_dict().get("suggestions") or []
            better = next((s["text"] for s in found if s.get("text")), None)
            self.agent_turns_[index - 1] = replace(self.agent_turns_[index - 1], better=better)
        self._pending_better.clear()

    def summary(self) -> dict[str, Any]:
        """Score (质检 quality score of the transcript blended with the outcome), calmed, outcome
        and the feedback: one item per reply, then the rubric's findings on the whole session."""
        if self._summary is not None:
            return self._summary
        self._resolve_better()
        scoring = self.pack.scoring
        quality, findings = 0, []
        if self.agent_turns_:
            doc = self.analyzer(self._conversation()).to_dict()
            quality = int(doc.get("quality_score") or 0)
            findings = list(doc.get("quality_findings") or [])
        outcome = self.outcome
        points = float(scoring["outcome_points"][outcome])
        if outcome == "ongoing" and self.calmed:
            points = min(100.0, points + float(scoring["calmed_bonus"]))
        violations = sum(t.violation for t in self.agent_turns_)
        raw = float(scoring["quality_weight"]) * quality + float(scoring["outcome_weight"]) * points \
            - float(scoring["violation_penalty"]) * violations
        score = int(max(0, min(100, round(raw)))) if self.agent_turns_ else 0
        feedback: list[dict[str, Any]] = [t.feedback() for t in self.agent_turns_]
        feedback += [{"scope": "session", "rule_id": f.get("rule_id"), "message": f.get("message")} for f in findings
                     if f.get("rule_id") != "quality.forbidden_phrase"]
        self._summary = {"score": score, "calmed": self.calmed, "outcome": outcome, "feedback": feedback}
        return self._summary

    def details(self) -> dict[str, Any]:
        """Everything a stored session keeps: the transcript with what each line meant, the
        summary, the skills and the hidden facts found."""
        self._resolve_better()
        turns: list[dict[str, Any]] = []
        agents = iter(self.agent_turns_)
        lines = iter(self.lines_)
        for speaker, _ in self.turns_:
            if speaker == "customer":
                turns.append(next(lines).to_dict())
            else:
                turn = next(agents)
                turns.append({**turn.to_dict(), "rewrite": turn.rewrite, "verdict": turn.verdict,
                              "notes": turn.notes, "better": turn.better})
        return {"scenario": self.scenario.id, "seed": self.seed, "turns": turns, "summary": self.summary(),
                "skills": self.skills(),
                "found": sorted(self.state_.found), "playbook": self.playbook_}


def run_session(scenario: Scenario, replies: list[str], seed: int = 0, *,
                analyzer: Any = None, emit: Callable[[dict[str, Any]], None] | None = None) -> Simulator:
    """Play a whole session: the customer's opening, each reply and its answer, the summary."""
    sim = Simulator(scenario, seed, analyzer=analyzer)
    first = sim.start()
    if emit:
        emit(first.to_dict())
    for text in replies:
        turn, line = sim.reply(text)
        if emit:
            emit(turn.to_dict())
            emit(line.to_dict())
    if emit:
        emit({"summary": sim.summary()})
    return sim
