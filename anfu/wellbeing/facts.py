"""Contact facts for the load index, from what the store kept of each conversation: its
messages (times), the analysed assessments (emotion, intensity, abuse per customer message,
负能量 flag, ladder level) and the CSAT score of its ticket."""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from .load import ContactFacts, CustomerMoment


def contact_facts(conversation: Any, messages: Iterable[Any], assessments: Iterable[Any],
                  csat: int | None = None) -> ContactFacts | None:
    """`ContactFacts` of one stored conversation (records of `anfu.store`); None without messages.

    Each stored assessment covers the window of messages that ends at its `upto_seq`; a customer
    message takes the reading of the latest assessment that covers it."""
    msgs = sorted(messages, key=lambda m: m.seq)
    if not msgs:
        return None
    readings: dict[int, Mapping[str, Any]] = {}
    negative = False
    level = int(getattr(conversation, "escalation_level", 0) or 0)
    for assessment in sorted(assessments, key=lambda a: (a.upto_seq, a.id)):
        data = assessment.data or {}
        turns = data.get("turns") or []
        first = assessment.upto_seq - len(turns) + 1
        for offset, turn in enumerate(turns):
            if isinstance(turn, dict) and turn.get("speaker") == "customer":
                readings[first + offset] = turn
        ne = data.get("negative_energy")
        negative = negative or bool(isinstance(ne, dict) and ne.get("flag"))
        level = max(level, int(assessment.escalation_level or 0))
    moments = []
    for m in msgs:
        if m.speaker != "customer":
            continue
        turn = readings.get(m.seq, {})
        moments.append(CustomerMoment(at=m.sent_at, emotion=turn.get("emotion"),
                                      intensity=int(turn.get("intensity") or 0), abusive=bool(turn.get("abusive"))))
    return ContactFacts(contact_id=str(conversation.id), agent_id=conversation.agent_id,
                        started_at=msgs[0].sent_at, ended_at=msgs[-1].sent_at, moments=tuple(moments),
                        message_times=tuple(m.sent_at for m in msgs), negative_energy=negative,
                        escalation_level=level, csat=csat)
