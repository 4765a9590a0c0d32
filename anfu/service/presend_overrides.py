"""How often agents send a reply anyway after the pre-send check stopped it, per rule (issue 10).

A rule that agents override most of the time is noisy: a 班长 or an admin tunes it (an exception
in `forbidden_phrases.yaml`, a higher threshold) rather than train agents to tick "仍要发送"
without reading. Every send that the check stops is stored as a `reply.flagged_blocked` event
(the must-fix rules that stopped it), every send confirmed anyway as `reply.flagged_sent` (the
console's existing record, audited); both carry the conversation, so a supervisor sees the rates
of their team's conversations and an admin the tenant's. The rate of a rule is its confirmed
sends over the sends it stopped.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ..qa.packs import FORBIDDEN_PACK
from ..rules import load_pack
from ..store import Store
from ..store.access import Principal, require

BLOCKED_EVENT = "reply.flagged_blocked"
SENT_EVENT = "reply.flagged_sent"
MAX_EVENTS = 50_000  # newest first would need another index; this bounds one report's reading
PAGE = 1000


@dataclass(frozen=True)
class RuleOverride:
    """One rule's record: sends it stopped, sends confirmed anyway, and their ratio."""

    rule_id: str
    category: str | None
    category_name: str | None  # zh-CN name of the category (forbidden_phrases.yaml)
    blocked: int
    sent_anyway: int

    @property
    def rate(self) -> float | None:
        return min(1.0, self.sent_anyway / self.blocked) if self.blocked else None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "rate": None if self.rate is None else round(self.rate, 3)}


def must_fix(check: dict[str, Any]) -> list[dict[str, Any]]:
    """The findings of a check result (`check_draft`) that stop a send."""
    return [f for f in check.get("findings") or [] if f.get("level", "must_fix") == "must_fix"]


def record_blocked(store: Store, conversation: Any, actor: str, check: dict[str, Any]) -> None:
    """Store that the check stopped `actor`'s send in `conversation` (one event, its rules)."""
    findings = must_fix(check)
    if not findings:
        return
    store.add_event(conversation.tenant_id, BLOCKED_EVENT,
                    {"rules": sorted({f["rule_id"] for f in findings}),
                     "categories": {f["rule_id"]: f.get("category") for f in findings}, "by": actor},
                    conversation_id=conversation.id)


def _events(store: Store, principal: Principal, name: str) -> list[Any]:
    out: list[Any] = []
    after = 0
    while len(out) < MAX_EVENTS:
        batch = store.list_events(principal, after_id=after, name=name, limit=PAGE)
        out.extend(batch)
        if len(batch) < PAGE:
            break
        after = batch[-1].id
    return out


def override_rates(store: Store, principal: Principal) -> list[RuleOverride]:
    """Per rule, over the conversations `principal` may see (supervisors: their team's; admins:
    the tenant's), most often overridden first. Agents and auditors may not read it (AF417)."""
    require(principal, "supervise")
    blocked: dict[str, int] = {}
    sent: dict[str, int] = {}
    categories: dict[str, str | None] = {}
    for event in _events(store, principal, BLOCKED_EVENT):
        for rule in event.payload.get("rules") or []:
            blocked[rule] = blocked.get(rule, 0) + 1
        for rule, category in (event.payload.get("categories") or {}).items():
            categories[rule] = category or categories.get(rule)
    for event in _events(store, principal, SENT_EVENT):
        for rule in set(event.payload.get("rules") or []):
            sent[rule] = sent.get(rule, 0) + 1
    names = load_pack(FORBIDDEN_PACK)["categories"]
    rows = []
    for rule in set(blocked) | set(sent):
        category = categories.get(rule) or (rule.split(".", 1)[1] if rule.startswith("context.") else None)
        rows.append(RuleOverride(rule, category, names.get(category) if category else None,
                                 blocked.get(rule, 0), sent.get(rule, 0)))
    return sorted(rows, key=lambda r: (-(r.rate if r.rate is not None else 1.0), -r.blocked, r.rule_id))
