"""The wellbeing load's contact facts, summed in SQL (issue 13: /wellbeing and /wellbeing/team
under 300 ms for a tenant of 5,000 conversations): one row per visible conversation with its
first and last message, its ladder level, whether any assessment flagged 负能量, and its customer
moments summed (peak intensity, any abuse, angry and abusive minutes) from `turn_facts` (how each
customer message read, written with each assessment by `facts_repo.write_turn_facts`), instead of
reading every assessment's JSON. The sums follow `anfu.wellbeing.load` to the microsecond: a
moment lasts until the next later message, at most `max_gap_minutes`, the last one
`last_message_minutes`; each total is capped at `minutes_cap_per_contact`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, Integer, and_, case, cast, func, select
from sqlalchemy.orm import aliased

from ..wellbeing import ContactFacts, ContactSums, WellbeingRules
from . import access
from .access import Principal
from .accounts import StoreBase
from .facts_tables import TurnFactsRow
from .tables import AssessmentRow, ConversationRow, MessageRow


class ContactFactsStore(StoreBase):
    """`ContactFactsStore(engine)`: `contacts(...)`, the facts `anfu.wellbeing` turns into load."""

    def _seconds_between(self, start: Any, end: Any) -> Any:
        """`end - start` in seconds, exact to the microsecond on both engines (SQLite keeps
        'YYYY-MM-DD HH:MM:SS.ffffff' text; its date functions would round to milliseconds)."""
        if self.engine.dialect.name == "sqlite":
            whole = cast(func.strftime("%s", end), Integer) - cast(func.strftime("%s", start), Integer)
            micro = cast(func.substr(end, 21, 6), Integer) - cast(func.substr(start, 21, 6), Integer)
            return whole + micro / 1e6
        return cast(func.extract("epoch", end - start), Float)

    def contacts(self, visible_to: Principal, *, since: datetime, rules: WellbeingRules,
                 agent_id: int | None = None) -> list[ContactFacts]:
        """Contact facts (without CSAT: the tickets add it) of the handled conversations
        `visible_to` may see that were active since `since`, oldest start first; `agent_id` keeps
        one agent's."""
        c = ConversationRow
        where = [access.conversation_clause(visible_to), c.tenant_id == visible_to.tenant_id,
                 c.agent_id.is_not(None), c.updated_at >= since]
        if agent_id is not None:
            where.append(c.agent_id == agent_id)
        m, first, last, t, a = MessageRow, aliased(MessageRow), aliased(MessageRow), TurnFactsRow, AssessmentRow

        bounds = (select(m.conversation_id.label("cid"), func.min(m.seq).label("first_seq"),
                         func.max(m.seq).label("last_seq"))
                  .join(c, c.id == m.conversation_id).where(*where).group_by(m.conversation_id).subquery())
        contacts_stmt = (select(c.id, c.agent_id, c.escalation_level, first.sent_at, last.sent_at)
                         .join(bounds, bounds.c.cid == c.id)
                         .join(first, and_(first.conversation_id == c.id, first.seq == bounds.c.first_seq))
                         .join(last, and_(last.conversation_id == c.id, last.seq == bounds.c.last_seq)))

        later = aliased(MessageRow)
        next_at = (select(func.min(later.sent_at))
                   .where(later.conversation_id == m.conversation_id, later.sent_at > m.sent_at)
                   .correlate(m).scalar_subquery())
        # OFFSET 0 keeps the subquery from being merged into the sums below, where each
        # reference to its column would run the correlated subquery again (SQLite and PostgreSQL)
        moments = (select(m.conversation_id.label("cid"), m.sent_at.label("at"), next_at.label("next_at"),
                          t.emotion, func.coalesce(t.intensity, 0).label("intensity"),
                          case((t.abusive.is_(True), 1), else_=0).label("abusive"))
                   .join(c, c.id == m.conversation_id)
                   .outerjoin(t, and_(t.conversation_id == m.conversation_id, t.seq == m.seq))
                   .where(*where, m.speaker == "customer").offset(0).subquery())
        gap = self._seconds_between(moments.c.at, moments.c.next_at) / 60.0
        cap_gap, last_minutes = float(rules["max_gap_minutes"]), float(rules["last_message_minutes"])
        span = case((moments.c.next_at.is_(None), last_minutes), (gap < cap_gap, gap), else_=cap_gap)
        angry = (moments.c.emotion == "angry") | (moments.c.intensity >= int(rules["angry_intensity"]))
        sums_stmt = (select(moments.c.cid, func.max(moments.c.intensity), func.max(moments.c.abusive),
                            func.coalesce(func.sum(case((angry, span), else_=0.0)), 0.0),
                            func.coalesce(func.sum(case((moments.c.abusive == 1, span), else_=0.0)), 0.0))
                     .group_by(moments.c.cid))

        flags_stmt = (select(a.conversation_id, func.max(case((a.negative_energy.is_(True), 1), else_=0)),
                             func.max(a.escalation_level))
                      .join(c, c.id == a.conversation_id).where(*where).group_by(a.conversation_id))

        with self._read() as s:
            rows = s.execute(contacts_stmt).all()
            sums = {r[0]: r[1:] for r in s.execute(sums_stmt)}
            flags = {r[0]: r[1:] for r in s.execute(flags_stmt)}
        cap = float(rules["minutes_cap_per_contact"])
        out = []
        for cid, agent, level, started_at, ended_at in rows:
            peak, abusive, angry_min, abusive_min = sums.get(cid, (0, 0, 0.0, 0.0))
            negative, assessed_level = flags.get(cid, (0, 0))
            out.append(ContactFacts(
                contact_id=str(cid), agent_id=agent, started_at=started_at, ended_at=ended_at,
                negative_energy=bool(negative), escalation_level=max(int(level or 0), int(assessed_level or 0)),
                summed=ContactSums(peak_intensity=int(peak or 0), abusive=bool(abusive),
                                   angry_minutes=min(cap, float(angry_min)), abusive_minutes=min(cap, float(abusive_min)))))
        return sorted(out, key=lambda f: (f.started_at, int(f.contact_id)))


__all__ = ["ContactFactsStore"]
