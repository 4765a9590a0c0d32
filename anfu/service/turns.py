"""One turn through the service: ingest → analyse → store → events. REST ingestion, the
agent WebSocket, the channel uploads, the mail watcher and the helpdesk connectors all go
through `TurnService`, so they behave the same.

A live turn is ONE locked, durable transaction (`Store.open_turn`, driven from here: the store
calls nothing back): the message, the assessment
of the window ending with it and the events it caused are committed together, and the
acknowledgement a client receives is sent after that commit, i.e. after the message is on
disk. A retry with the same `client_msg_id` gets the stored message and its assessment back,
and emits nothing twice. A connection resolves each conversation once (`ConnectionCache`);
the store re-checks access inside every turn's transaction, so the cache never widens it.

The escalation level of a conversation has one owner, `ladder_level` below: the analysis of a
window proposes a level, the conversation keeps the highest level it has reached (the
ladder never goes down, even when the threat has left the analysed window), and
`escalation.raised` is decided here and nowhere else.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

from ..channels.base import CustomerHints, Thread, fit_ref, in_time_range
from ..errors import InputError, NotFoundError
from ..events import EscalationRaised
from ..events import Event as AnalysisEvent
from ..lru import Lru
from ..pipeline import Analyzer
from ..store import Store
from ..store.access import Principal, can
from ..store.records import ConversationRecord, Event, MessageRecord
from ..types import Conversation, Utterance
from .live import Hub

Listener = Callable[[int, str, dict[str, Any]], None]  # (tenant id, event name, payload)
Route = Callable[[Principal, ConversationRecord], ConversationRecord]  # (creator, new conversation) -> routed

# The live path analyses at most this many latest turns (about the last eight exchanges), so a
# turn costs the same in a two-hour chat as in a new one.
LIVE_WINDOW = 16
# Conversations the REST ingestion of one process remembers having resolved (`TurnService.ingest`).
RESOLVED_CACHE_SIZE = 4096


@dataclass
class TurnResult:
    message: MessageRecord
    created: bool
    conversation: ConversationRecord
    live: dict[str, Any] | None
    events: list[Event] = field(default_factory=list)
    server_ms: float = 0.0


class ConnectionCache(Lru[tuple[Any, ...], ConversationRecord]):
    """The conversations one connection (an agent WebSocket) already resolved, by who asked
    and what the frame named (id or channel reference, channel, industry, customer hints,
    agent). Only the conversation id is reused: access is checked again in each turn's
    transaction. Thread-safe, so one cache can also serve every REST request of a process
    (`TurnService.ingest`)."""

    def __init__(self, size: int = 256) -> None:
        super().__init__(size)

    def forget(self, conversation_id: int) -> None:
        self.discard_where(lambda _key, record: record.id == conversation_id)


def live_view(data: dict[str, Any], presend: dict[str, Any] | None = None) -> dict[str, Any]:
    """The agent's view of an assessment (`Assessment.to_dict()` of the analysed window): the
    newest turn, the latest customer emotion and the conversation-level conclusions."""
    turns = data.get("turns") or []
    turn = dict(turns[-1]) if turns else {}
    customer = [t for t in turns if t.get("speaker") == "customer"]
    last = customer[-1] if customer else {}
    out: dict[str, Any] = {"turn": turn, "emotion": last.get("emotion"), "intensity": last.get("intensity")}
    for key in ("trajectory", "persona", "sop_stage", "next_actions", "escalation", "negative_energy", "calmed"):
        out[key] = data.get(key)
    out["suggestions"] = list(data.get("suggestions") or [])
    if presend is None and turn.get("speaker") == "agent" and "violation" in turn:
        presend = {"violation": turn["violation"], "findings": turn.get("findings", [])}
    out["presend"] = presend
    return out


def utc(value: datetime | float | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, (int, float)):
        if not in_time_range(value):
            raise InputError("AF032", f"the time {value!r}: out of range (a time between 1970 and 9999)")
        return datetime.fromtimestamp(value, tz=timezone.utc)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def ladder_level(previous: int, proposed: int) -> int:
    """The conversation's level after a turn: the analysis proposes, the ladder never goes down."""
    return max(int(previous or 0), int(proposed or 0))


def hold_level(data: dict[str, Any], level: int) -> dict[str, Any]:
    """`data` with its escalation block at the conversation's `level` (the level that was
    reached stays, with a reason saying so, when the threat has left the analysed window)."""
    escalation = data.get("escalation")
    if not isinstance(escalation, dict):
        return data
    proposed = int(escalation.get("level") or 0)
    if proposed >= level:
        return data
    reasons = list(escalation.get("reasons") or [])
    reasons.append(f"本会话此前已升级至L{level}，升级阶梯不回落")
    held = {**escalation, "level": level, "reasons": reasons}
    if "label" in escalation:
        from ..rules.checked import load_checked

        held["label"] = load_checked("escalation_ladder")["levels"].get(level, escalation["label"])
    return {**data, "escalation": held}


class TurnService:
    def __init__(self, store: Store, analyzer: Analyzer, hub: Hub, window: int = LIVE_WINDOW,
                 listeners: list[Listener] | None = None, route: Route | None = None) -> None:
        self.store = store
        # puts a conversation created without an agent in its queue (`Routing.route_new`)
        self.route = route
        self.analyzer = analyzer
        self.hub = hub
        self.window = window
        # called after the commit with every event a turn recorded (outgoing webhooks)
        self.listeners: list[Listener] = listeners if listeners is not None else []
        # what `ingest` resolved, for every principal of this process (see `ingest`)
        self.resolved = ConnectionCache(RESOLVED_CACHE_SIZE)

    # conversations --------------------------------------------------------------------
    def resolve(self, principal: Principal, *, conversation_id: int | None = None,
                conversation_ref: str | None = None, channel: str = "webchat", industry: str | None = None,
                customer: CustomerHints | None = None, agent_id: int | None = None,
                cache: ConnectionCache | None = None) -> ConversationRecord:
        """The conversation a message belongs to: by id (must be visible), by the channel's
        reference (created on first use), or a new one. With a `cache`, a connection resolves
        the same id or reference once."""
        key = None
        if cache is not None and (conversation_id is not None or conversation_ref is not None):
            key = (principal, conversation_id, conversation_ref, channel, industry, customer, agent_id)
            known = cache.get(key)
            if known is not None:
                return known
        record = self._resolve(principal, conversation_id, conversation_ref, channel, industry, customer, agent_id)
        if key is not None and cache is not None:
            cache.put(key, record)
        return record

    def _resolve(self, principal: Principal, conversation_id: int | None, conversation_ref: str | None,
                 channel: str, industry: str | None, customer: CustomerHints | None,
                 agent_id: int | None) -> ConversationRecord:
        if conversation_id is not None:
            return self.store.get_conversation(conversation_id, visible_to=principal)
        # (`Store.open_conversation` refuses, before anything is written, a principal that may not
        # create conversations: a read-only auditor, a token that could never see what it opens)
        if principal.role == "agent":
            agent_id = principal.user_id
        hints = None
        if customer is not None and (customer.external_id or customer.phone or customer.email):
            hints = dict(external_ref=customer.external_id, phone=customer.phone, email=customer.email,
                         display_name=customer.name)
        # one transaction: the agent checked, the customer matched, the conversation found or created
        conversation, created = self.store.open_conversation(principal, external_ref=conversation_ref, channel=channel,
                                                             industry=industry, agent_id=agent_id, customer=hints)
        if created and conversation.agent_id is None and self.route is not None:
            conversation = self.route(principal, conversation)
        elif can(principal, "conversation.view", conversation):
            return conversation
        # Visibility is checked after creation and routing too: a conversation its creator may
        # not see (a routed one) is reported as missing.
        return self.store.get_conversation(conversation.id, visible_to=principal)

    def ingest(self, principal: Principal, speaker: str, text: str, *, conversation_id: int | None = None,
               conversation_ref: str | None = None, channel: str = "webchat", industry: str | None = None,
               customer: CustomerHints | None = None, agent_id: int | None = None,
               client_msg_id: str | None = None, sent_at: datetime | float | None = None) -> TurnResult:
        """Resolve the conversation a request names and add the turn (`POST /messages`).

        The conversations resolved here are remembered per process (`self.resolved`, keyed by
        the principal and everything the request says about the conversation and its
        customer), so the later messages of a chat do no lookups and no customer upsert
        before their turn: nothing is written when nothing changed, and new customer hints
        are a new key (resolved, and upserted, again). The turn's own transaction re-checks
        that the principal may see and write the conversation, so the cache never widens
        access; a remembered conversation that is gone or no longer visible is forgotten and
        resolved afresh, once."""
        key = (principal, conversation_id, conversation_ref, channel, industry, customer, agent_id)
        remembered = (conversation_id is not None or conversation_ref is not None) and self.resolved.get(key) is not None
        conversation = self.resolve(principal, conversation_id=conversation_id, conversation_ref=conversation_ref,
                                    channel=channel, industry=industry, customer=customer, agent_id=agent_id,
                                    cache=self.resolved)
        try:
            return self.add_turn(principal, conversation, speaker, text, client_msg_id=client_msg_id,
                                 sent_at=sent_at, channel=channel, cache=self.resolved, check_text=True)
        except NotFoundError:
            if not remembered:
                raise
        conversation = self.resolve(principal, conversation_id=conversation_id, conversation_ref=conversation_ref,
                                    channel=channel, industry=industry, customer=customer, agent_id=agent_id,
                                    cache=self.resolved)
        return self.add_turn(principal, conversation, speaker, text, client_msg_id=client_msg_id,
                             sent_at=sent_at, channel=channel, cache=self.resolved, check_text=True)

    # turns ------------------------------------------------------------------------------
    def add_turn(self, principal: Principal, conversation: ConversationRecord, speaker: str, text: str, *,
                 client_msg_id: str | None = None, sent_at: datetime | float | None = None,
                 channel: str | None = None, analyse: bool = True,
                 cache: ConnectionCache | None = None, check_text: bool = False) -> TurnResult:
        """Store and (unless `analyse` is False: long imports) analyse one turn; the result
        is durable when this returns. `cache`: the connection's, forgotten on AF503.
        `check_text` (a client's own message: `POST /messages`, the agent socket): a retry's
        `client_msg_id` with another text is AF446 instead of the stored message (a channel
        thread delivered again keeps its first text, as before)."""
        started = time.perf_counter()
        if not analyse:
            message, created = self.store.append_message(conversation.id, speaker, text, client_msg_id=client_msg_id,
                                                         channel=channel, sent_at=utc(sent_at), by=principal,
                                                         check_text=check_text)
            current = self.store.get_conversation(conversation.id)
            return TurnResult(message, created, current, None, [], (time.perf_counter() - started) * 1000)
        try:
            with self.store.open_turn(conversation.id, speaker, text, client_msg_id=client_msg_id, channel=channel,
                                      sent_at=utc(sent_at), by=principal, window=self.window,
                                      check_text=check_text) as turn:
                if turn.created:
                    assert turn.before is not None
                    data, level, events = self._analyse(turn.before, turn.window)
                    turn.record(data, level=level, events=events)
        except NotFoundError:
            if cache is not None:
                cache.forget(conversation.id)
            raise
        written = turn.written
        assert written is not None
        if not written.created:
            stored = written.assessment
            return TurnResult(written.message, False, written.conversation,
                              live_view(stored.data) if stored else None, [], (time.perf_counter() - started) * 1000)
        data = written.assessment.data if written.assessment else {}
        live = live_view(data)
        self._broadcast(written.conversation, written.message, live, written.events)
        self.notify(written.conversation.tenant_id, written.events)
        return TurnResult(written.message, True, written.conversation, live, written.events,
                          (time.perf_counter() - started) * 1000)

    def notify(self, tenant_id: int, events: list[Event]) -> None:
        for event in events:
            for listener in self.listeners:
                listener(tenant_id, event.name, {**event.payload, "event_id": event.id,
                                                 "conversation_id": event.conversation_id})

    def _analyse(self, conversation: ConversationRecord, messages: list[MessageRecord]
                 ) -> tuple[dict[str, Any], int, list[tuple[str, dict[str, Any]]]]:
        """Inside the turn's transaction: analyse the window, decide the level, name the events."""
        turns = tuple(Utterance(text=m.text, speaker=m.speaker, id=str(m.id), channel=m.channel,  # type: ignore[arg-type]
                                timestamp=m.sent_at.timestamp()) for m in messages)
        window = Conversation(turns=turns, id=str(conversation.id), channel=conversation.channel,
                              industry=conversation.industry)
        assessment = self.analyzer(window)
        data = assessment.to_dict()
        escalation = data.get("escalation")
        proposed = int(escalation.get("level") or 0) if isinstance(escalation, dict) else 0
        level = ladder_level(conversation.escalation_level, proposed)
        data = hold_level(data, level)
        return data, level, self._events(conversation, data, assessment.events, messages[-1].seq)

    @staticmethod
    def _events(conversation: ConversationRecord, data: dict[str, Any], analysed: "list[AnalysisEvent]",
                seq: int) -> list[tuple[str, dict[str, Any]]]:
        """Events this turn causes: the ladder moving up, plus the components' events about the
        newest turn (earlier turns' events were recorded when those turns arrived)."""
        out: list[tuple[str, dict[str, Any]]] = []
        newest = len(data.get("turns") or []) - 1
        previous_level = conversation.escalation_level
        escalation = data.get("escalation") or {}
        level = int(escalation.get("level") or 0) if isinstance(escalation, dict) else 0
        if level > previous_level:
            reasons = tuple(escalation.get("reasons") or ())
            raised = EscalationRaised(conversation_id=str(conversation.id), level=level,
                                      previous_level=previous_level, reasons=reasons, turn=newest)
            payload = {**raised.to_dict(), "seq": seq}
            payload.pop("name")
            out.append((raised.name, payload))
        for event in analysed:
            if event.name == EscalationRaised.name or getattr(event, "turn", None) != newest:
                continue
            payload = {k: v for k, v in event.to_dict().items() if k != "name"}
            name = event.name
            payload.update(conversation_id=str(conversation.id), seq=seq)
            out.append((name, payload))
        return out

    def _broadcast(self, conversation: ConversationRecord, message: MessageRecord, live: dict[str, Any],
                   events: list[Event]) -> None:
        conv = conversation.to_dict()
        self.hub.publish_turn(conversation, {"type": "turn", "conversation": conv,
                                             "message": message.to_dict(), "assessment": live})
        for event in events:
            if event.name == EscalationRaised.name or event.payload.get("supervisor_alert"):
                self.hub.publish_alert(conversation, {
                    "type": "alert", "event_id": event.id, "name": event.name, "conversation": conv,
                    "level": conversation.escalation_level,
                    "reasons": (live.get("escalation") or {}).get("reasons", []),
                    "emotion": live.get("emotion"), "intensity": live.get("intensity"),
                    "text": message.text if message.speaker == "customer" else None})

    # channel threads --------------------------------------------------------------------
    def ingest_thread(self, principal: Principal, thread: Thread, industry: str | None = None,
                      analyse_each: bool = False) -> tuple[ConversationRecord, int]:
        """Put a channel thread on the customer's timeline; returns (conversation, new messages).
        Only the last message is analysed unless `analyse_each` (imports can be long)."""
        conversation = self.resolve(principal, conversation_ref=fit_ref(f"{thread.channel}:{thread.key}")
                                    if thread.key else None, channel=thread.channel, industry=industry,
                                    customer=thread.customer.fitted())
        created = 0
        last = len(thread.utterances) - 1
        for i, utterance in enumerate(thread.utterances):
            msg_id = fit_ref(f"{thread.channel}:{thread.key}:{utterance.id}" if thread.key and utterance.id
                             else utterance.id)
            result = self.add_turn(principal, conversation, utterance.speaker, utterance.text,
                                   client_msg_id=msg_id, sent_at=utterance.timestamp
                                   if utterance.timestamp and utterance.timestamp > 10**8 else None,
                                   channel=thread.channel, analyse=analyse_each or i == last)
            created += int(result.created)
        return self.store.get_conversation(conversation.id), created
