"""The 四个不漏 ledger (Haier's "four nothing-missed" rule):

1. 一个不漏地记录 — every complaint is recorded (the ticket exists);
2. 一个不漏地处理 — every complaint is handled (the ticket was resolved);
3. 一个不漏地复查 — every result is re-checked (the follow-up confirmed it);
4. 一个不漏地反映 — every result is fed back to its owning department (design, production,
   billing, network, logistics…), with the feedback's state kept visible.

The cause → department map is data (`departments` rule pack). `gaps()` lists what is
missing at each step; `repeated_causes()` surfaces causes that keep coming back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable

from ..errors import WorkflowError
from ..glossary import CAUSES, INDUSTRIES
from ..rules import validator
from ..rules.checked import load_checked
from ..events import Event
from ..events import FeedbackSent, FeedbackUpdated
from .tickets import Ticket, aware

STEPS: tuple[str, ...] = ("recorded", "handled", "rechecked", "fed_back")
FEEDBACK_STATES: tuple[str, ...] = ("pending", "sent", "acknowledged", "actioned", "rejected")
# states a department may move feedback to after it was sent
FEEDBACK_REPLIES: tuple[str, ...] = ("acknowledged", "actioned", "rejected")


class Departments:
    """Owning department of each cause, with per-industry overrides."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.names: dict[str, dict[str, str]] = dict(data["departments"])
        self.causes: dict[str, str] = dict(data["causes"])
        self.industries: dict[str, dict[str, str]] = {k: dict(v or {}) for k, v in
                                                      (data.get("industries") or {}).items()}

    @classmethod
    def load(cls, rules_dir: str | Path | None = None) -> "Departments":
        return cls(load_checked("departments", rules_dir=rules_dir))

    def for_cause(self, cause: str, industry: str | None = None) -> str:
        override = self.industries.get(industry or "", {})
        return override.get(cause) or self.causes.get(cause) or self.causes["other"]

    def display(self, department: str, locale: str = "zh_CN") -> str:
        names = self.names.get(department, {})
        return names.get(locale) or names.get("en") or department


@dataclass
class LedgerEntry:
    ticket_id: str
    cause: str
    industry: str | None
    department: str
    recorded_at: datetime
    handled_at: datetime | None = None
    rechecked_at: datetime | None = None
    recheck_ok: bool | None = None
    recheck_note: str = ""
    feedback_state: str = "pending"
    feedback_sent_at: datetime | None = None
    feedback_updated_at: datetime | None = None
    feedback_note: str = ""
    feedback_history: list[tuple[str, str, str, str]] = field(default_factory=list)  # (at, actor, state, note)

    def done(self, step: str) -> bool:
        return {
            "recorded": True,
            "handled": self.handled_at is not None,
            "rechecked": self.recheck_ok is True,
            "fed_back": self.feedback_state != "pending",
        }[step]

    @property
    def missing(self) -> list[str]:
        return [step for step in STEPS if not self.done(step)]

    @property
    def complete(self) -> bool:
        return not self.missing

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in self.__dict__.items():
            out[key] = value.isoformat() if isinstance(value, datetime) else value
        out["feedback_history"] = [list(item) for item in self.feedback_history]
        out["missing"] = self.missing
        return out


@dataclass(frozen=True)
class RepeatedCause:
    cause: str
    department: str
    count: int
    ticket_ids: tuple[str, ...]


class Ledger:
    """The ledger over a set of tickets; `sync(ticket)` after every ticket change."""

    def __init__(self, departments: Departments | None = None) -> None:
        self.departments = departments or Departments.load()
        self.entries: dict[str, LedgerEntry] = {}

    def entry(self, ticket_id: str) -> LedgerEntry:
        try:
            return self.entries[ticket_id]
        except KeyError:
            raise WorkflowError("AF640", ticket_id) from None

    def record(self, ticket: Ticket) -> LedgerEntry:
        """Step 1. Recording twice keeps the first entry."""
        if ticket.id not in self.entries:
            self.entries[ticket.id] = LedgerEntry(
                ticket_id=ticket.id, cause=ticket.cause, industry=ticket.industry,
                department=self.departments.for_cause(ticket.cause, ticket.industry),
                recorded_at=ticket.created_at,
            )
        return self.entries[ticket.id]

    def sync(self, ticket: Ticket, at: datetime | None = None) -> LedgerEntry:
        """Step 2 follows the ticket: handled once resolved; a reopened ticket is not handled
        any more and its earlier re-check no longer counts. A cause corrected after the result was
        fed back to its department moves the entry to the new department with its feedback pending
        again (that department has not been told); the history keeps who was told what."""
        entry = self.record(ticket)
        department = self.departments.for_cause(ticket.cause, ticket.industry)
        if department != entry.department and entry.feedback_state != "pending":
            entry.feedback_history.append((at.isoformat() if at else "", "system", "pending",
                                           f"cause {entry.cause} → {ticket.cause}: department "
                                           f"{entry.department} → {department}, to be told again"))
            entry.feedback_state, entry.feedback_sent_at, entry.feedback_updated_at = "pending", None, at
            entry.feedback_note = ""
        entry.cause = ticket.cause
        entry.department = department
        if ticket.status in ("resolved", "closed"):
            if entry.handled_at is None:
                entry.handled_at = ticket.resolved_at or ticket.closed_at
        elif entry.handled_at is not None:
            entry.handled_at = None
            entry.rechecked_at, entry.recheck_ok = None, None
        return entry

    def recheck(self, ticket_id: str, *, at: datetime, actor: str, ok: bool, note: str = "") -> LedgerEntry:
        """Step 3: someone other than the handler checked the result (复查), e.g. at 回访."""
        entry = self.entry(ticket_id)
        if entry.handled_at is None:
            raise WorkflowError("AF641", "rechecked", ticket=ticket_id, reason="the ticket is not handled yet")
        if aware(at, "at") < entry.handled_at:
            raise WorkflowError("AF641", "rechecked", ticket=ticket_id, reason="the re-check is dated before "
                                "the ticket was handled")
        entry.rechecked_at, entry.recheck_ok, entry.recheck_note = at, bool(ok), note or f"复查人 {actor}"
        return entry

    def feed_back(self, ticket_id: str, *, at: datetime, actor: str, note: str = "") -> list[Event]:
        """Step 4: send the result to the owning department."""
        entry = self.entry(ticket_id)
        if entry.recheck_ok is not True:
            raise WorkflowError("AF641", "fed_back", ticket=ticket_id,
                                reason="the result has not passed its re-check yet")
        if entry.feedback_state != "pending":
            raise WorkflowError("AF641", "fed_back", ticket=ticket_id,
                                reason=f"feedback was already sent (state {entry.feedback_state})")
        aware(at, "at")
        entry.feedback_state, entry.feedback_sent_at, entry.feedback_updated_at = "sent", at, at
        entry.feedback_note = note
        entry.feedback_history.append((at.isoformat(), actor, "sent", note))
        return [FeedbackSent(ticket_id=ticket_id, at=at.isoformat(), actor=actor,
                             department=entry.department, cause=entry.cause)]

    def update_feedback(self, ticket_id: str, state: str, *, at: datetime, actor: str,
                        note: str = "") -> list[Event]:
        """The department answered: acknowledged, actioned (fixed at the source) or rejected."""
        entry = self.entry(ticket_id)
        if state not in FEEDBACK_REPLIES:
            raise WorkflowError("AF601", repr(state), kind="feedback state", allowed=", ".join(FEEDBACK_REPLIES))
        if entry.feedback_state == "pending":
            raise WorkflowError("AF641", state, ticket=ticket_id, reason="the feedback was not sent yet")
        aware(at, "at")
        entry.feedback_state, entry.feedback_updated_at, entry.feedback_note = state, at, note
        entry.feedback_history.append((at.isoformat(), actor, state, note))
        return [FeedbackUpdated(ticket_id=ticket_id, at=at.isoformat(), actor=actor,
                                department=entry.department, state=state, note=note)]

    def gaps(self) -> dict[str, list[str]]:
        """Ticket ids missing each step (漏): the figure the 四个不漏 rule wants at zero."""
        return {step: sorted(e.ticket_id for e in self.entries.values() if not e.done(step)) for step in STEPS}

    def summary(self) -> dict[str, Any]:
        entries = list(self.entries.values())
        states = {s: sum(e.feedback_state == s for e in entries) for s in FEEDBACK_STATES}
        by_department: dict[str, dict[str, int]] = {}
        for e in entries:
            row = by_department.setdefault(e.department, {s: 0 for s in FEEDBACK_STATES})
            row[e.feedback_state] += 1
        return {"total": len(entries), "steps": {s: sum(e.done(s) for e in entries) for s in STEPS},
                "complete": sum(e.complete for e in entries), "feedback": states,
                "by_department": by_department}


def repeated_causes(
    entries: Iterable[LedgerEntry] | Ledger,
    *,
    threshold: int = 3,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[RepeatedCause]:
    """Causes recorded at least `threshold` times in [since, until), most frequent first,
    grouped with their department: the ones to push back to the source."""
    if isinstance(entries, Ledger):
        entries = entries.entries.values()
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 1:
        raise WorkflowError("AF601", repr(threshold), kind="threshold", allowed="a whole number ≥ 1")
    groups: dict[tuple[str, str], list[str]] = {}
    for e in entries:
        if since is not None and e.recorded_at < aware(since, "since"):
            continue
        if until is not None and e.recorded_at >= aware(until, "until"):
            continue
        groups.setdefault((e.cause, e.department), []).append(e.ticket_id)
    found = [RepeatedCause(cause, dept, len(ids), tuple(sorted(ids)))
             for (cause, dept), ids in groups.items() if len(ids) >= threshold]
    return sorted(found, key=lambda r: (-r.count, r.cause, r.department))


@validator("departments")
def validate_departments(data: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    names = data.get("departments")
    if not isinstance(names, dict) or not names:
        return ["departments must map department keys to {zh_CN, en} names"]
    for key, value in names.items():
        if not isinstance(value, dict) or not all(isinstance(value.get(loc), str) and value.get(loc)
                                                  for loc in ("zh_CN", "en")):
            problems.append(f"departments.{key} needs non-empty zh_CN and en names")
    causes = data.get("causes")
    if not isinstance(causes, dict):
        return problems + ["causes must map every cause label to a department"]
    for cause in CAUSES:
        if cause not in causes:
            problems.append(f"causes.{cause} is missing: every cause needs an owning department")
    tables = [("causes", causes)]
    industries = data.get("industries") or {}
    if not isinstance(industries, dict):
        problems.append("industries must map industry names to {cause: department}")
        industries = {}
    for industry, table in industries.items():
        if industry not in INDUSTRIES:
            problems.append(f"industries.{industry} is not a known industry ({', '.join(INDUSTRIES)})")
        if not isinstance(table, dict):
            problems.append(f"industries.{industry} must map causes to departments")
            continue
        tables.append((f"industries.{industry}", table))
    for where, table in tables:
        for cause, dept in table.items():
            if cause not in CAUSES:
                problems.append(f"{where}.{cause} is not a cause label ({', '.join(CAUSES)})")
            if dept not in names:
                problems.append(f"{where}.{cause} names unknown department {dept!r}")
    return problems
