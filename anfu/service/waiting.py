"""The "customer waiting" alert, on time: a scheduler job (`WaitingWatch.check`, run by the
app every `ANFU_SCHEDULER_INTERVAL_S` seconds) finds conversations whose customer has had no
agent reply for as long as a wait rule of the escalation ladder names
(`response_wait_minutes_at_least` in escalation_ladder.yaml), measured from the customer's
first unanswered turn, and raises the ladder there and then: it no longer waits for the
customer's next message. The level only goes up (`anfu.service.turns.ladder_level`), so a
later turn's analysis does not raise the same step twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from ..rules.checked import load_checked
from ..store import Event, Store
from .live import Hub
from .turns import ladder_level

Listener = Callable[[int, str, dict[str, Any]], None]


@dataclass(frozen=True)
class WaitRule:
    id: str
    level: int
    minutes: int
    reason: str


def wait_rules(rules_dir: Any = None) -> list[WaitRule]:
    """The ladder's rules that read only the response wait, shortest first."""
    pack = load_checked("escalation_ladder", rules_dir=rules_dir)
    out = [WaitRule(r["id"], int(r["level"]), int(r["when"]["response_wait_minutes_at_least"]), r["reason"])
           for r in pack["rules"] if set(r["when"]) == {"response_wait_minutes_at_least"}]
    return sorted(out, key=lambda r: (r.minutes, r.level))


class WaitingWatch:
    def __init__(self, store: Store, hub: Hub, *, rules: list[WaitRule] | None = None,
                 clock: Callable[[], datetime] | None = None, listeners: list[Listener] | None = None) -> None:
        self.store = store
        self.hub = hub
        self.rules = wait_rules() if rules is None else rules
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.listeners: list[Listener] = listeners if listeners is not None else []

    def check(self) -> list[Event]:
        """Raise every conversation whose customer waits past a rule; returns the new events."""
        if not self.rules:
            return []
        now = self.clock()
        raised: list[Event] = []
        for conversation, since in self.store.waiting_customers(now - timedelta(minutes=self.rules[0].minutes)):
            waited = int((now - since).total_seconds() // 60)
            due = [r for r in self.rules if r.minutes <= waited]
            if not due:
                continue
            rule = max(due, key=lambda r: r.level)
            level = ladder_level(conversation.escalation_level, rule.level)
            if level <= conversation.escalation_level:
                continue
            reason = rule.reason.replace("{wait_minutes}", str(waited))
            payload = {"conversation_id": str(conversation.id), "level": level,
                       "previous_level": conversation.escalation_level, "reasons": [reason], "rule_id": rule.id,
                       "wait_minutes": waited, "waiting_since": since.isoformat(), "source": "scheduler"}
            record, event = self.store.raise_escalation(conversation.id, level, "escalation.raised", payload)
            if event is None:
                continue  # a turn raised it meanwhile
            raised.append(event)
            self.hub.publish_alert(record, {"type": "alert", "event_id": event.id, "name": event.name,
                                            "conversation": record.to_dict(), "level": level, "reasons": [reason],
                                            "emotion": record.emotion, "intensity": record.intensity, "text": None})
            for listener in self.listeners:
                listener(record.tenant_id, event.name, {**event.payload, "event_id": event.id,
                                                        "conversation_id": record.id})
        return raised
