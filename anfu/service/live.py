"""The live hub: fan-out of alerts, turns and control notices to connected WebSockets.

Ingestion runs in worker threads; subscribers live on the event loop. `publish_*` may be
called from any thread: each delivery is scheduled on the subscriber's loop. Who receives
what follows `anfu.store.access` (a supervisor only hears about their team's conversations).

- alerts: supervisors and admins, for every visible conversation whose escalation level is
  ≥ 1 (the ladder; 升级预警)
- turns: supervisors who joined that conversation
- control (taken over, released, joined): everyone connected who can see the conversation

Admins and auditors read personal data masked here as in the REST API (`anfu.store.access.
sees_identity`): their copy of a message has every string masked (`anfu.pii.mask_data`).
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from dataclasses import dataclass, field
from typing import Any

from ..pii import mask_data
from ..store.access import Principal, can, sees_identity

QUEUE_LIMIT = 5000


@dataclass(eq=False)
class Subscriber:
    principal: Principal
    kind: str  # "agent" | "supervisor"
    queue: asyncio.Queue[dict[str, Any]]
    loop: asyncio.AbstractEventLoop
    joined: set[int] = field(default_factory=set)
    overflowed: bool = False


class Hub:
    def __init__(self) -> None:
        self._subs: list[Subscriber] = []
        self._lock = threading.Lock()
        self._seq = itertools.count(1)

    def subscribe(self, principal: Principal, kind: str) -> Subscriber:
        """Call on the event loop that will read the subscriber's queue."""
        sub = Subscriber(principal, kind, asyncio.Queue(maxsize=QUEUE_LIMIT), asyncio.get_running_loop())
        with self._lock:
            self._subs.append(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        with self._lock:
            if sub in self._subs:
                self._subs.remove(sub)

    @property
    def subscribers(self) -> int:
        with self._lock:
            return len(self._subs)

    def _deliver(self, sub: Subscriber, message: dict[str, Any]) -> None:
        def put() -> None:
            try:
                sub.queue.put_nowait(message)
            except asyncio.QueueFull:
                # A consumer that cannot keep up is disconnected rather than silently
                # losing messages; it reconnects and catches up from GET /api/v1/events.
                sub.overflowed = True
        try:
            sub.loop.call_soon_threadsafe(put)
        except RuntimeError:  # the subscriber's loop is closed: it is going away
            self.unsubscribe(sub)

    def _fan_out(self, conversation: Any, message: dict[str, Any], want: Any) -> int:
        message = {**message, "hub_seq": next(self._seq)}
        with self._lock:
            targets = [s for s in self._subs if want(s) and can(s.principal, "conversation.view", conversation)]
        masked = None
        for sub in targets:
            if sees_identity(sub.principal):
                self._deliver(sub, message)
            else:
                masked = mask_data(message) if masked is None else masked
                self._deliver(sub, masked)
        return len(targets)

    def publish_alert(self, conversation: Any, message: dict[str, Any]) -> int:
        return self._fan_out(conversation, message, lambda s: s.kind == "supervisor")

    def publish_turn(self, conversation: Any, message: dict[str, Any]) -> int:
        return self._fan_out(conversation, message,
                             lambda s: s.kind == "supervisor" and conversation.id in s.joined)

    def publish_control(self, conversation: Any, message: dict[str, Any]) -> int:
        return self._fan_out(conversation, message, lambda s: True)
