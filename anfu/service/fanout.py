"""The live hub of several server processes: `ClusterHub` delivers to this process's WebSockets
like `Hub` and also publishes every alert, turn and control notice through PostgreSQL
LISTEN/NOTIFY (`anfu.store.notify`); the other processes deliver it to theirs with the same
access rules (a supervisor hears only about their team's conversations); after the listener's
connection was lost and re-established, every local client gets a `resync` frame (catch up from
`GET /api/v1/events`). `make_hub` picks it
when the database is PostgreSQL; on SQLite (one process) the hub stays in memory."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .live import Hub

KINDS = ("alert", "turn", "control")
CONVERSATION_FIELDS = ("id", "tenant_id", "team_id", "agent_id", "taken_over_by")


@dataclass(frozen=True)
class RemoteConversation:
    """What the access rules read of a conversation published by another process."""

    id: int
    tenant_id: int
    team_id: int | None
    agent_id: int | None
    taken_over_by: int | None


class ClusterHub(Hub):
    def __init__(self, notifier: Any) -> None:
        super().__init__()
        self.notifier = notifier
        notifier.start(self._receive, self._gap, self._idle)

    def _publish(self, kind: str, conversation: Any, message: dict[str, Any]) -> None:
        self.notifier.publish({"kind": kind, "message": message,
                               "conversation": {f: getattr(conversation, f, None) for f in CONVERSATION_FIELDS}})

    def publish_alert(self, conversation: Any, message: dict[str, Any]) -> int:
        delivered = super().publish_alert(conversation, message)
        self._publish("alert", conversation, message)
        return delivered

    def publish_turn(self, conversation: Any, message: dict[str, Any]) -> int:
        delivered = super().publish_turn(conversation, message)
        self._publish("turn", conversation, message)
        return delivered

    def publish_control(self, conversation: Any, message: dict[str, Any]) -> int:
        delivered = super().publish_control(conversation, message)
        self._publish("control", conversation, message)
        return delivered

    def _idle(self) -> bool:
        """Nobody is connected to this process: a message of another process would reach no one
        here, so the notifier need not unpack it. It still takes its place in this hub's
        sequence (`hub_seq`), as if it had been fanned out to nobody."""
        with self._lock:
            if self._subs:
                return False
            next(self._seq)
            return True

    def _receive(self, envelope: dict[str, Any]) -> None:
        kind = envelope.get("kind")
        if kind not in KINDS:
            return
        conversation = RemoteConversation(**{f: envelope["conversation"].get(f) for f in CONVERSATION_FIELDS})
        getattr(Hub, f"publish_{kind}")(self, conversation, envelope["message"])

    def _gap(self) -> None:
        """The listener lost its connection and listens again: alerts, turns and notices of the
        other processes sent meanwhile are gone. Every client connected here is told so (a
        `resync` frame) and catches up from GET /api/v1/events instead of missing them silently."""
        with self._lock:
            targets = list(self._subs)
        for sub in targets:
            self._deliver(sub, {"type": "resync", "catch_up": "/api/v1/events", "hub_seq": next(self._seq),
                                "reason": "live fan-out between server processes was interrupted"})

    def close(self) -> None:
        self.notifier.close()


def make_hub(engine: Any) -> Hub:
    """`ClusterHub` on PostgreSQL, the in-memory `Hub` otherwise."""
    from ..store.notify import Notifier, is_postgres

    return ClusterHub(Notifier(engine)) if is_postgres(engine) else Hub()
