"""Escalation ladder (升级阶梯): L0 agent handles → L1 team lead notified → L2 team lead
joins or takes over → L3 complaint desk or manager, with plain zh-CN reasons, and an
`escalation.raised` workflow event for every step up.

Rules are data (escalation_ladder pack): each rule's conditions read the current and peak
intensity, threats (escalation_risk), abuse, negative-energy signals, repeated contacts
and waiting time. The level is evaluated after every turn and never goes down.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Sequence

from .. import registry
from ..rules import validator
from ..rules.checked import each_mapping, load_checked, number, regex, str_list
from ..text.normalize import normalize, t2s
from ..text.numerals import parse_number
from ..types import Assessment, Conversation, EscalationResult, Signal
from ..events import EscalationRaised
from ..lru import Lru
from .base import Component
from .negative_energy import SIGNAL_TYPES, NegativeEnergyModel
from .negative_energy import load_model as load_negative_energy

PACK = "escalation_ladder"
INT_CONDITIONS = ("current_intensity_at_least", "peak_intensity_at_least", "strong_turns_at_least",
                  "escalation_risk_turns_at_least", "outside_risk_turns_at_least",
                  "abusive_turns_at_least", "repeat_contacts_at_least", "response_wait_minutes_at_least",
                  "stated_wait_hours_at_least", "agent_violations_at_least", "answered_violations_at_least",
                  "manager_request_turns_at_least",
                  "agent_replies_at_least", "vulnerable_turns_at_least")
CONDITIONS = INT_CONDITIONS + ("negative_flag", "signals_at_least", "calming")
STRONG = 3  # intensity of a "strong" turn (glossary.INTENSITY_NAMES)
CUE_MEMO = 4096  # customer turns whose cues `Ladder.cues` remembers
SAMPLE_FACTS = {"intensity": 4, "peak": 4, "strong_turns": 2, "risk_turns": 2, "outside_risk_turns": 1,
                "abusive_turns": 2, "contacts": 3,
                "wait_minutes": 15, "stated_wait_hours": 48, "agent_violations": 2, "answered_violations": 2,
                "manager_requests": 1,
                "agent_replies": 1, "vulnerable_turns": 1}


# regex lists of the pack, each matched as one alternation over the customer's normalised turn
CUE_LISTS = ("calming_cues", "manager_requests", "vulnerable_cues", "resolved_contacts")


def _any_cue(pack: dict[str, Any], key: str) -> re.Pattern[str]:
    """One regex for the pack's list `key` (Traditional folded to Simplified); never matches
    when the list is empty."""
    return re.compile("|".join(f"(?:{t2s(rx)})" for rx in pack.get(key) or []) or "(?!)")


@validator(PACK)
def validate_ladder(data: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    levels = data.get("levels")
    if not isinstance(levels, dict) or sorted(levels) != [0, 1, 2, 3] or not all(
            isinstance(v, str) for v in levels.values()):
        problems.append("levels must name each of the levels 0, 1, 2, 3")
    rules = data.get("rules")
    if not isinstance(rules, list) or not rules:
        return problems + ["rules must be a non-empty list"]
    ids: set[str] = set()
    for where, rule in each_mapping(rules, "rules", problems):
        if not isinstance(rule.get("id"), str) or rule["id"] in ids:
            problems.append(f"{where}.id must be a unique string")
        ids.add(str(rule.get("id")))
        if rule.get("level") not in (1, 2, 3):
            problems.append(f"{where}.level must be 1, 2 or 3")
        when = rule.get("when")
        if not isinstance(when, dict) or not when or set(when) - set(CONDITIONS):
            problems.append(f"{where}.when must use only {', '.join(CONDITIONS)}")
            continue
        for key in INT_CONDITIONS:
            if key in when:
                number(when[key], f"{where}.when.{key}", problems, 0, 100000)
        for flag in ("negative_flag", "calming"):
            if flag in when and not isinstance(when[flag], bool):
                problems.append(f"{where}.when.{flag} must be true or false")
        if "signals_at_least" in when:
            sig = when["signals_at_least"]
            if not isinstance(sig, dict) or not sig or set(sig) - set(SIGNAL_TYPES):
                problems.append(f"{where}.when.signals_at_least must map {', '.join(SIGNAL_TYPES)} to counts")
        reason = rule.get("reason")
        if not isinstance(reason, str) or not reason:
            problems.append(f"{where}.reason must be a zh-CN sentence")
        else:
            try:
                reason.format(**SAMPLE_FACTS)
            except (KeyError, IndexError, ValueError) as exc:
                problems.append(f"{where}.reason uses an unknown field ({exc})")
    for where, item in each_mapping(data.get("repeat_contacts") or [], "repeat_contacts", problems,
                                    " must be a mapping with regex and count"):
        _check_regex(item.get("regex"), where, problems)
        number(item.get("count"), f"{where}.count", problems, 1, 1000)
    str_list(data.get("internal_channels") or [], "internal_channels", problems, allow_empty=True)
    for key in CUE_LISTS:
        for i, rx in enumerate(str_list(data.get(key) or [], key, problems)):
            _check_regex(rx, f"{key}[{i}]", problems)
    for i, rx in enumerate(str_list(data.get("stated_waits"), "stated_waits", problems)):
        _check_regex(rx, f"stated_waits[{i}]", problems, groups=("n", "unit"))
    units = data.get("unit_hours")
    if not isinstance(units, dict) or not units:
        problems.append("unit_hours must map time units to hours")
    else:
        for unit, hours in units.items():
            number(hours, f"unit_hours.{unit}", problems, 0, 100000)
    return problems


def _check_regex(rx: Any, where: str, problems: list[str], groups: tuple[str, ...] = ()) -> None:
    compiled = regex(rx, where, problems)
    if compiled is None:
        return
    for group in groups:
        if group not in compiled.groupindex:
            problems.append(f"{where}: regex needs a group named {group}")


@dataclass
class Facts:
    """What the ladder's conditions read, for a prefix of the conversation."""

    intensity: int | None = None
    peak: int | None = None
    strong_turns: int = 0
    risk_turns: int = 0
    # risk turns that name a body outside the company (a regulator, the media, a court, the
    # police): every threat channel but the pack's `internal_channels` (投诉, 差评, a manager)
    outside_risk_turns: int = 0
    abusive_turns: int = 0
    contacts: int = 1
    wait_minutes: int = 0
    stated_wait_hours: int = 0
    negative_flag: bool = False
    signals: dict[str, int] | None = None
    # the agent's handling visibly works: the latest customer turn is well below the peak, or accepts
    calming: bool = False
    # agent replies so far that the pre-send check judged violations in context (no progress)
    agent_violations: int = 0
    # those of them the customer has answered: violations before the latest customer turn, so a
    # rule reading it waits for the customer's reaction to the last reply (a customer who gives up
    # quietly after it, "行吧……算了", is no alert by the guide)
    answered_violations: int = 0
    # customer turns that demand a manager, a team lead or someone in charge (`manager_requests`)
    manager_requests: int = 0
    # agent replies before the latest customer turn: the agent has had a chance to handle the
    # customer's state that the conditions read (0 on a customer's opening turns)
    agent_replies: int = 0
    # customer turns that say someone vulnerable depends on the service (`vulnerable_cues`: an
    # elderly or bedridden person, medical equipment, a baby)
    vulnerable_turns: int = 0

    def snapshot(self) -> "Facts":
        """A copy that the walk's later turns do not change (its own signal counts); what
        `dataclasses.replace` gives, without re-running `__init__` at every turn of every window."""
        copy = object.__new__(Facts)
        copy.__dict__.update(self.__dict__)
        copy.signals = dict(self.signals or {})
        return copy

    def fields(self) -> dict[str, Any]:
        return {"intensity": self.intensity if self.intensity is not None else "未知",
                "peak": self.peak if self.peak is not None else "未知",
                "strong_turns": self.strong_turns,
                "risk_turns": self.risk_turns, "outside_risk_turns": self.outside_risk_turns,
                "abusive_turns": self.abusive_turns,
                "contacts": self.contacts, "wait_minutes": self.wait_minutes,
                "stated_wait_hours": self.stated_wait_hours, "agent_violations": self.agent_violations,
                "answered_violations": self.answered_violations,
                "manager_requests": self.manager_requests, "agent_replies": self.agent_replies,
                "vulnerable_turns": self.vulnerable_turns}


class Ladder:
    """The escalation_ladder pack compiled; picklable."""

    def __init__(self, pack: dict[str, Any], negative: NegativeEnergyModel) -> None:
        self.levels: dict[int, str] = pack["levels"]
        self.rules: list[dict[str, Any]] = pack["rules"]
        self.contact_patterns = [(t2s(item["regex"]), int(item["count"])) for item in pack.get("repeat_contacts") or []]
        self.wait_patterns = [t2s(rx) for rx in pack.get("stated_waits") or []]
        self.calming_rx = _any_cue(pack, "calming_cues")
        self.manager_rx = _any_cue(pack, "manager_requests")
        self.vulnerable_rx = _any_cue(pack, "vulnerable_cues")
        self.resolved_rx = _any_cue(pack, "resolved_contacts")
        self.unit_hours: dict[str, float] = pack["unit_hours"]
        self.internal_channels = frozenset(pack.get("internal_channels") or ())
        self.negative = negative

    # -- facts ------------------------------------------------------------------------
    def contacts_in(self, norm: str) -> int:
        """Contacts the customer reports in this turn (1 when none), unless they say the earlier
        contact solved it (`resolved_contacts`: 上次打过电话，已经修好了)."""
        best = 1
        if self.resolved_rx.search(norm):
            return best
        for rx, default in self.contact_patterns:
            for m in re.finditer(rx, norm):
                value = parse_number(m.group("n")) if "n" in m.re.groupindex and m.group("n") else None
                best = max(best, int(value) if value else default)
        return best

    def names_outside_body(self, turn: Any) -> bool:
        """A risk turn whose threat goes outside the company: one of its escalation triggers names
        a channel that is not internal (a risk turn without triggers counts as outside)."""
        if not turn.escalation_risk:
            return False
        channels = {t.label for t in turn.triggers if t.kind == "escalation"}
        return not channels or bool(channels - self.internal_channels)

    def stated_wait_in(self, norm: str) -> float:
        best = 0.0
        for rx in self.wait_patterns:
            for m in re.finditer(rx, norm):
                amount = parse_number(m.group("n"))
                unit = m.group("unit").lstrip("个")
                if amount is not None and unit in self.unit_hours:
                    best = max(best, amount * float(self.unit_hours[unit]))
        return best

    def cues(self, norm: str) -> tuple[bool, bool, bool, int, int]:
        """What the pack's patterns read in one customer turn — accepting or calming, a manager
        demanded, a vulnerable customer, the contacts reported, the stated wait in hours —
        remembered per text (CUE_MEMO texts): a live chat's window is walked again at each turn."""
        memo = self.__dict__.get("_cue_memo")
        if memo is None:
            memo = self.__dict__.setdefault("_cue_memo", Lru(CUE_MEMO))
        found = memo.get(norm)
        if found is None:
            found = (bool(self.calming_rx.search(norm)), bool(self.manager_rx.search(norm)),
                     bool(self.vulnerable_rx.search(norm)), self.contacts_in(norm), int(self.stated_wait_in(norm)))
            memo.put(norm, found)
        return found

    def timeline(self, doc: Assessment, signals: Sequence[Signal]) -> list[Facts]:
        """Facts after each turn, in one pass (Facts of turn i cover turns 0..i)."""
        conv: Conversation = doc.conversation
        f = Facts(signals={})
        metadata = doc.contact_count
        if isinstance(metadata, int) and not isinstance(metadata, bool):
            f.contacts = max(f.contacts, metadata)
        by_turn: dict[int, list[Signal]] = {}
        for sig in signals:
            by_turn.setdefault(sig.turn, []).append(sig)
        seen: list[Signal] = []
        pending: float | None = None  # timestamp of the first unanswered customer turn
        replies = 0  # agent turns so far
        out: list[Facts] = []
        for i, turn in enumerate(doc.turns):
            stamp = conv.turns[i].timestamp if i < len(conv.turns) else None
            if turn.speaker == "agent":
                f.agent_violations += bool(turn.violation)
                replies += 1
                if pending is not None and stamp is not None:
                    f.wait_minutes = max(f.wait_minutes, int((stamp - pending) // 60))
                pending = None
            else:
                if pending is None and stamp is not None:
                    pending = stamp
                calming, manager, vulnerable, contacts, stated_wait = self.cues(turn.norm or normalize(turn.text))
                f.agent_replies = replies
                f.answered_violations = f.agent_violations
                if turn.intensity is not None:
                    f.intensity = turn.intensity
                    f.peak = turn.intensity if f.peak is None else max(f.peak, turn.intensity)
                    f.strong_turns += turn.intensity >= STRONG
                # well down from the peak (4 → 2), or accepting the plan; 4 → 3 is still angry
                f.calming = bool((f.peak is not None and f.intensity is not None and f.intensity <= f.peak - 2)
                                 or calming)
                f.risk_turns += bool(turn.escalation_risk)
                f.outside_risk_turns += self.names_outside_body(turn)
                f.abusive_turns += bool(turn.abusive)
                f.manager_requests += manager
                f.vulnerable_turns += vulnerable
                f.contacts = max(f.contacts, contacts)
                f.stated_wait_hours = max(f.stated_wait_hours, stated_wait)
            if i in by_turn:
                seen.extend(by_turn[i])
                for sig in by_turn[i]:
                    f.signals[sig.type] = f.signals.get(sig.type, 0) + 1
                f.negative_flag = self.negative.flagged(seen)
            out.append(f.snapshot())
        return out

    # -- decision ---------------------------------------------------------------------
    def _compiled(self) -> list[tuple[dict[str, Any], tuple[tuple[str, Any], ...], dict[str, Any]]]:
        """Each rule with its integer conditions split out (checked inline by `fired`) from the
        others (flags, signals: `holds`); built once."""
        compiled = self.__dict__.get("_compiled_rules")
        if compiled is None:
            compiled = [(rule, tuple((k, t) for k, t in rule["when"].items() if k in INT_CONDITIONS),
                         {k: t for k, t in rule["when"].items() if k not in INT_CONDITIONS})
                        for rule in self.rules]
            self.__dict__["_compiled_rules"] = compiled
        return compiled

    @staticmethod
    def values(f: Facts) -> dict[str, Any]:
        """The integer conditions' values for `f` (computed once per turn for all rules)."""
        return {"current_intensity_at_least": f.intensity, "peak_intensity_at_least": f.peak,
                "strong_turns_at_least": f.strong_turns,
                "escalation_risk_turns_at_least": f.risk_turns,
                "outside_risk_turns_at_least": f.outside_risk_turns, "abusive_turns_at_least": f.abusive_turns,
                "repeat_contacts_at_least": f.contacts, "response_wait_minutes_at_least": f.wait_minutes,
                "stated_wait_hours_at_least": f.stated_wait_hours,
                "agent_violations_at_least": f.agent_violations,
                "answered_violations_at_least": f.answered_violations,
                "manager_request_turns_at_least": f.manager_requests,
                "agent_replies_at_least": f.agent_replies,
                "vulnerable_turns_at_least": f.vulnerable_turns}

    @staticmethod
    def holds(rest: dict[str, Any], f: Facts) -> bool:
        """A rule's flag and signal conditions (its integer ones are checked inline by `fired`)."""
        for key, threshold in rest.items():
            if key == "signals_at_least":
                if any((f.signals or {}).get(kind, 0) < n for kind, n in threshold.items()):
                    return False
            elif getattr(f, key) != threshold:  # negative_flag, calming
                return False
        return True

    def fired(self, f: Facts) -> list[tuple[int, str, tuple[str, ...]]]:
        """(level, reason, family) of every rule that holds, in pack order; a rule's family
        is the set of conditions it reads, so "intensity ≥ 3" and "intensity ≥ 4" compete."""
        values = self.values(f)
        held = []
        for rule, ints, rest in self._compiled():
            for key, threshold in ints:
                value = values[key]
                if value is None or value < threshold:
                    break
            else:
                if not rest or self.holds(rest, f):
                    held.append(rule)
        if not held:
            return []
        fields = f.fields()
        return [(rule["level"], rule["reason"].format(**fields), tuple(sorted(rule["when"]))) for rule in held]

    def run(self, doc: Assessment, signals: Sequence[Signal]) -> tuple[EscalationResult, list[EscalationRaised]]:
        """Walk the conversation turn by turn; the level only goes up. Reasons keep the
        strongest observation of each family of rules."""
        level, events = 0, []
        strongest: dict[tuple[str, ...], tuple[int, str]] = {}
        for i, facts in enumerate(self.timeline(doc, signals)):
            fired = self.fired(facts)
            for lv, reason, family in fired:
                if family not in strongest or lv >= strongest[family][0]:
                    strongest[family] = (lv, reason)
            new_level = max((lv for lv, _, _ in fired), default=0)
            if new_level > level:
                why = tuple(dict.fromkeys(r for lv, r, _ in fired if lv > level))
                events.append(EscalationRaised(conversation_id=doc.conversation.id, level=new_level,
                                               previous_level=level, reasons=why, turn=i))
                level = new_level
        ranked = sorted(enumerate(strongest.values()), key=lambda item: (-item[1][0], item[0]))
        reasons = [reason for _, (_, reason) in ranked]
        return EscalationResult(level=level, label=self.levels[level], reasons=tuple(reasons)), events


def load_ladder(rules_dir: str | None = None) -> Ladder:
    return Ladder(load_checked(PACK, rules_dir=rules_dir), load_negative_energy(rules_dir))


@registry.components.register("anfu.escalation.v1")
class Escalation(Component):
    name = "anfu.escalation.v1"
    provides = ("escalation", "events")
    requires = ("turn.norm",)
    reads = ("turn.intensity", "turn.escalation_risk", "turn.abusive", "turn.violation", "negative_energy",
             "contact_count")

    def __init__(self, rules_dir: str | None = None) -> None:
        self.rules_dir = rules_dir
        self.ladder_ = load_ladder(rules_dir)

    def predict(self, docs: Sequence[Assessment]) -> list[tuple[EscalationResult, list[EscalationRaised]] | None]:
        out: list[tuple[EscalationResult, list[EscalationRaised]] | None] = []
        for doc in docs:
            if doc.is_utterance:
                out.append(None)
                continue
            if doc.negative_energy is not None:
                signals = list(doc.negative_energy.signals)
            else:
                signals = self.ladder_.negative.signals(doc.turns)
            out.append(self.ladder_.run(doc, signals))
        return out

    def set_annotations(self, docs: Sequence[Assessment], outputs: list[Any]) -> None:
        for doc, result in zip(docs, outputs):
            if result is not None:
                doc.escalation, events = result
                doc.replace_events(EscalationRaised.name, events)
