"""One turn through the service: store it durably, analyse the conversation, store the
assessment, record and broadcast the events. REST ingestion, the agent WebSocket and the
channel uploads all go through `TurnService`, so they behave the same.

The acknowledgement a client receives is sent after `Store.append_message` returned, i.e.
after the message is on disk. A retry with the same `client_msg_id` gets the stored message
and its assessment back, and emits nothing twice.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from ..channels.base import CustomerHints, Thread
from ..errors import InputError
from ..pipeline import Analyzer
from ..store import Store
from ..store.access import Principal
from ..store.records import ConversationRecord, Event, MessageRecord
from ..types import Conversation, Utterance
from ..workflow.events import EscalationRaised
from .live import Hub

# The live path analyses at most this many latest turns (about the last eight exchanges), so a
# turn costs the same in a two-hour chat as in a new one.
LIVE_WINDOW = 16


@dataclass
class TurnResult:
    message: MessageRecord
    created: bool
    conversation: ConversationRecord
    live: dict[str, Any] | None
    events: list[Event] = field(default_factory=list)
    server_ms: float = 0.0


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
        return datetime.fromtimestamp(value, tz=timezone.utc)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


class TurnService:
    def __init__(self, store: Store, analyzer: Analyzer, hub: Hub, window: int = LIVE_WINDOW) -> None:
        self.store = store
        self.analyzer = analyzer
        self.hub = hub
        self.window = window

    # conversations --------------------------------------------------------------------
    def customer_id(self, principal: Principal, hints: CustomerHints | None) -> int | None:
        if hints is None or not (hints.external_id or hints.phone or hints.email):
            return None
        customer, _ = self.store.upsert_customer(principal.tenant_id, external_ref=hints.external_id,
                                                 phone=hints.phone, email=hints.email,
                                                 display_name=hints.name)
        return customer.id

    def resolve(self, principal: Principal, *, conversation_id: int | None = None,
                conversation_ref: str | None = None, channel: str = "webchat", industry: str | None = None,
                customer: CustomerHints | None = None, agent_id: int | None = None) -> ConversationRecord:
        """The conversation a message belongs to: by id (must be visible), by the channel's
        reference (created on first use), or a new one."""
        if conversation_id is not None:
            return self.store.get_conversation(conversation_id, visible_to=principal)
        if principal.role == "agent":
            agent_id = principal.user_id
        team_id = principal.team_id
        if agent_id is not None and team_id is None:
            agent = self.store.get_user(agent_id)
            if agent.tenant_id != principal.tenant_id:
                raise InputError("AF505", f"agent {agent_id} is not in your tenant", kind="conversation")
            team_id = agent.team_id
        fields_ = dict(channel=channel, industry=industry, customer_id=self.customer_id(principal, customer),
                       team_id=team_id, agent_id=agent_id)
        if conversation_ref is None:
            conversation = self.store.create_conversation(principal.tenant_id, **fields_)
        else:
            conversation, _ = self.store.get_or_create_conversation(principal.tenant_id, conversation_ref, **fields_)
        # Visibility is checked after creation too: a reference that names somebody else's
        # conversation is reported as missing.
        return self.store.get_conversation(conversation.id, visible_to=principal)

    # turns ------------------------------------------------------------------------------
    def add_turn(self, principal: Principal, conversation: ConversationRecord, speaker: str, text: str, *,
                 client_msg_id: str | None = None, sent_at: datetime | float | None = None,
                 channel: str | None = None, analyse: bool = True) -> TurnResult:
        started = time.perf_counter()
        message, created = self.store.append_message(conversation.id, speaker, text, client_msg_id=client_msg_id,
                                                     channel=channel, sent_at=utc(sent_at), by=principal)
        if not created:
            stored = [a for a in self.store.list_assessments(conversation.id) if a.upto_seq == message.seq]
            current = self.store.get_conversation(conversation.id)
            return TurnResult(message, False, current, live_view(stored[-1].data) if stored else None,
                              [], (time.perf_counter() - started) * 1000)
        before = self.store.get_conversation(conversation.id)
        if not analyse:
            return TurnResult(message, True, before, None, [], (time.perf_counter() - started) * 1000)
        assessment = self.analyzer(self._window(before, message.seq))
        data = assessment.to_dict()
        self.store.save_assessment(conversation.id, data, upto_seq=message.seq)
        after = self.store.get_conversation(conversation.id)
        events = self._events(after, before.escalation_level, data, assessment.extras, message.seq)
        live = live_view(data)
        self._broadcast(after, message, live, events)
        return TurnResult(message, True, after, live, events, (time.perf_counter() - started) * 1000)

    def _window(self, conversation: ConversationRecord, upto_seq: int) -> Conversation:
        messages = self.store.list_messages(conversation.id, after_seq=max(0, upto_seq - self.window),
                                            limit=self.window)
        turns = tuple(Utterance(text=m.text, speaker=m.speaker, id=str(m.id), channel=m.channel,  # type: ignore[arg-type]
                                timestamp=m.sent_at.timestamp()) for m in messages if m.seq <= upto_seq)
        return Conversation(turns=turns, id=str(conversation.id), channel=conversation.channel,
                            industry=conversation.industry)

    def _events(self, conversation: ConversationRecord, previous_level: int, data: dict[str, Any],
                extras: dict[str, Any], seq: int) -> list[Event]:
        """Events this turn caused: the ladder moving up, plus the components' events about the
        newest turn (earlier turns' events were recorded when those turns arrived)."""
        out: list[Event] = []
        newest = len(data.get("turns") or []) - 1
        level = conversation.escalation_level
        if level > previous_level:
            reasons = tuple((data.get("escalation") or {}).get("reasons") or ())
            raised = EscalationRaised(conversation_id=str(conversation.id), level=level,
                                      previous_level=previous_level, reasons=reasons, turn=newest)
            payload = {**raised.to_dict(), "seq": seq}
            payload.pop("name")
            out.append(self.store.add_event(conversation.tenant_id, raised.name, payload,
                                            conversation_id=conversation.id))
        for event in extras.get("events") or []:
            name = event.get("name") if isinstance(event, dict) else None
            if not name or name == EscalationRaised.name or event.get("turn") != newest:
                continue
            payload = {k: v for k, v in event.items() if k != "name"}
            payload.update(conversation_id=str(conversation.id), seq=seq)
            out.append(self.store.add_event(conversation.tenant_id, name, payload,
                                            conversation_id=conversation.id))
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
        conversation = self.resolve(principal, conversation_ref=f"{thread.channel}:{thread.key}" if thread.key else None,
                                    channel=thread.channel, industry=industry, customer=thread.customer)
        created = 0
        last = len(thread.utterances) - 1
        for i, utterance in enumerate(thread.utterances):
            msg_id = f"{thread.channel}:{thread.key}:{utterance.id}" if thread.key and utterance.id else utterance.id
            result = self.add_turn(principal, conversation, utterance.speaker, utterance.text,
                                   client_msg_id=msg_id, sent_at=utterance.timestamp
                                   if utterance.timestamp and utterance.timestamp > 10**8 else None,
                                   channel=thread.channel, analyse=analyse_each or i == last)
            created += int(result.created)
        return self.store.get_conversation(conversation.id), created
