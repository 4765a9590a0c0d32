"""The analytics facts of conversations: written with each assessment (`write_facts`, called
inside the store's assessment transactions) and summed in SQL per local day, channel, team and
agent (`FactsStore.sums`) for the dashboards, under the same access rules as every list."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Mapping

from sqlalchemy import Connection, Integer, and_, case, cast, delete, func, literal_column, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..analytics.buckets import STRONG, AssessmentFacts
from . import access
from .access import Principal
from .accounts import StoreBase
from .facts_tables import EMOTION_COLUMNS, ConversationFactsRow, TurnFactsRow
from .tables import ConversationRow


def facts_values(data: Mapping[str, Any]) -> dict[str, Any] | None:
    """The facts row of an assessment (`Assessment.to_dict()`); None for one without turns (an
    utterance-level result: the dashboards count conversations)."""
    if "turns" not in data:
        return None
    facts = AssessmentFacts.of(data)
    values: dict[str, Any] = {"peak": facts.peak, "end_intensity": facts.end, "calmed": facts.calmed,
                              "escalation_level": facts.escalation_level, "cause": facts.cause,
                              "valence": facts.valence, "quality_score": facts.quality_score}
    values.update({EMOTION_COLUMNS[k]: v for k, v in facts.emotion_counts().items()})
    values["violations"] = violations_of(data)
    return values


def violations_of(data: Mapping[str, Any]) -> int:
    """How many turns of an assessment carry a 服务忌语 violation (the 质检复核 queue's signal)."""
    return sum(1 for t in data.get("turns") or [] if isinstance(t, dict) and t.get("violation"))


# the columns `facts_values` fills, i.e. every column but the keys (what an upsert replaces; a
# column added to the table and not filled there fails every write, loudly)
FACT_COLUMNS = tuple(c.name for c in ConversationFactsRow.__table__.c
                     if c.name not in ("conversation_id", "tenant_id"))
_UPSERTS: dict[tuple[str, str], Any] = {}


def _connection(s: Session | Connection) -> Connection:
    """The connection of the caller's transaction (the live turn passes its connection)."""
    return s.connection() if isinstance(s, Session) else s


def _upsert(conn: Connection, kind: str) -> Any:
    """The upsert statement of `kind` for the connection's dialect, built once (INSERT … ON
    CONFLICT DO UPDATE: one statement on the live turn path instead of a SELECT and an UPDATE;
    executed with a list of rows, and compiled once per dialect)."""
    return upsert_statement(conn.dialect.name, kind)


def upsert_statement(dialect: str, kind: str) -> Any:
    """`_upsert` by dialect name ("conversation": the conversation's facts, "turn": the readings
    of its customer turns); PostgreSQL's live turn also puts them, with their values, into its
    one statement (`anfu.store.turn_statements.record_statement`)."""
    key = (dialect, kind)
    stmt = _UPSERTS.get(key)
    if stmt is None:
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        if kind == "conversation":
            table = ConversationFactsRow.__table__
            base = insert(table)
            stmt = base.on_conflict_do_update(
                index_elements=[table.c.conversation_id],
                set_={name: base.excluded[name] for name in FACT_COLUMNS})
        else:
            table = TurnFactsRow.__table__
            base = insert(table)
            new = base.excluded
            stmt = base.on_conflict_do_update(
                index_elements=[table.c.conversation_id, table.c.seq],
                # a later assessment (by upto_seq, then id) keeps its reading
                where=or_(table.c.upto_seq < new.upto_seq,
                          and_(table.c.upto_seq == new.upto_seq, table.c.assessment_id <= new.assessment_id)),
                set_={k: new[k] for k in ("emotion", "intensity", "abusive", "upto_seq", "assessment_id")})
        _UPSERTS[key] = stmt
    return stmt


def write_facts(s: Session | Connection, conversation_id: int, tenant_id: int, data: Mapping[str, Any]) -> None:
    """Replace the conversation's facts with those of its newest assessment (in `s`'s
    transaction; a session or its connection): one upsert statement."""
    conn = _connection(s)
    values = facts_values(data)
    if values is None:
        conn.execute(delete(ConversationFactsRow).where(ConversationFactsRow.conversation_id == conversation_id))
        return
    conn.execute(_upsert(conn, "conversation"), [{"conversation_id": conversation_id, "tenant_id": tenant_id, **values}])


def negative_energy_of(data: Mapping[str, Any]) -> bool:
    """The 负能量 flag of an assessment document (kept on its row for the wellbeing sums)."""
    ne = data.get("negative_energy")
    return bool(isinstance(ne, dict) and ne.get("flag"))


def turn_readings(data: Mapping[str, Any], upto_seq: int) -> dict[int, dict[str, Any]]:
    """The reading of each customer message an assessment covers, by message seq (the
    assessment's turns are the window of messages that ends at `upto_seq`)."""
    turns = data.get("turns") or []
    first = upto_seq - len(turns) + 1
    out: dict[int, dict[str, Any]] = {}
    for offset, turn in enumerate(turns):
        if isinstance(turn, dict) and turn.get("speaker") == "customer" and first + offset >= 1:
            emotion = turn.get("emotion")
            out[first + offset] = {"emotion": emotion if isinstance(emotion, str) else None,
                                   "intensity": int(turn.get("intensity") or 0), "abusive": bool(turn.get("abusive"))}
    return out


def write_turn_facts(s: Session | Connection, assessment: Any, data: Mapping[str, Any]) -> None:
    """Give each customer message the assessment covers its reading, unless a later assessment
    (by upto_seq, then id) already gave it one (in `s`'s transaction; `assessment` is the flushed
    `AssessmentRow` or an `AssessmentRecord`)."""
    readings = turn_readings(data, assessment.upto_seq)
    if not readings:
        return
    rows = [{"conversation_id": assessment.conversation_id, "seq": seq, "tenant_id": assessment.tenant_id,
             "upto_seq": assessment.upto_seq, "assessment_id": assessment.id, **values}
            for seq, values in readings.items()]
    conn = _connection(s)
    conn.execute(_upsert(conn, "turn"), rows)


@dataclass(frozen=True)
class FactsSums:
    """The sums of one (local day, channel, team, agent) group: `anfu.analytics.Bucket`'s
    fields with the team and agent as ids."""

    day: date
    channel: str | None
    team_id: int | None
    agent_id: int | None
    conversations: int = 0
    peak_sum: int = 0
    peak_n: int = 0
    strong: int = 0
    end_sum: int = 0
    end_n: int = 0
    valence_sum: float = 0.0
    valence_n: int = 0
    level_n: int = 0
    escalated: int = 0
    calm_eligible: int = 0
    calmed: int = 0
    quality_sum: int = 0
    quality_n: int = 0
    emotions: Mapping[str, int] = field(default_factory=dict)
    causes: Mapping[str, int] = field(default_factory=dict)


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


@dataclass(frozen=True)
class ReviewFacts:
    """What the 质检复核 queue reads of a conversation's newest assessment."""

    conversation_id: int
    quality_score: int | None
    violations: int | None  # None: a row written before the column existed and not backfilled


class FactsStore(StoreBase):
    """`FactsStore(engine)`: the dashboards' sums."""

    def of_conversations(self, visible_to: Principal, conversation_ids: list[int]) -> dict[int, ReviewFacts]:
        """The facts of these conversations that `visible_to` may see, in one query (an
        invisible conversation, or one without facts, is absent)."""
        if not conversation_ids:
            return {}
        f = ConversationFactsRow
        with self._read() as s:
            rows = s.execute(select(f.conversation_id, f.quality_score, f.violations)
                             .join(ConversationRow, ConversationRow.id == f.conversation_id)
                             .where(f.conversation_id.in_(conversation_ids), access.conversation_clause(visible_to)))
            return {r[0]: ReviewFacts(r[0], r[1], r[2]) for r in rows}

    def _local_day(self, utc_offset_minutes: int) -> Any:
        minutes = int(utc_offset_minutes)
        if self.engine.dialect.name == "sqlite":
            return func.date(ConversationRow.created_at, f"{minutes:+d} minutes")
        return func.date(ConversationRow.created_at + literal_column(f"INTERVAL '{minutes} minutes'"))

    def sums(self, visible_to: Principal, *, utc_offset_minutes: int) -> list[FactsSums]:
        """One row per local day (conversation start, UTC shifted by `utc_offset_minutes`),
        channel, team and agent over the assessed conversations `visible_to` may see."""
        f = ConversationFactsRow
        day = self._local_day(utc_offset_minutes).label("day")
        keys = (day, ConversationRow.channel, ConversationRow.team_id, ConversationRow.agent_id)
        strong = f.peak >= STRONG
        n = lambda column: func.count(column)  # noqa: E731  (non-null values)
        total = lambda expr: func.coalesce(func.sum(expr), 0)  # noqa: E731
        flag = lambda cond: total(case((cond, 1), else_=0))  # noqa: E731
        emotions = [total(getattr(f, column)).label(label) for label, column in EMOTION_COLUMNS.items()]
        where = [access.conversation_clause(visible_to), f.tenant_id == visible_to.tenant_id]
        stmt = (select(*keys, func.count().label("conversations"),
                       total(f.peak), n(f.peak), flag(strong), total(f.end_intensity), n(f.end_intensity),
                       total(f.valence), n(f.valence), n(f.escalation_level), flag(f.escalation_level >= 1),
                       flag(strong & f.calmed.is_not(None)), flag(strong & f.calmed.is_(True)),
                       total(f.quality_score), n(f.quality_score), *emotions)
                .join(f, f.conversation_id == ConversationRow.id).where(*where).group_by(*keys))
        causes_stmt = (select(*keys, f.cause, cast(func.count(), Integer))
                       .join(f, f.conversation_id == ConversationRow.id)
                       .where(*where, f.cause.is_not(None)).group_by(*keys, f.cause))
        with self._read() as s:
            rows = s.execute(stmt).all()
            cause_rows = s.execute(causes_stmt).all()
        causes: dict[tuple[Any, ...], dict[str, int]] = {}
        for d, channel, team_id, agent_id, cause, count in cause_rows:
            causes.setdefault((_as_date(d), channel, team_id, agent_id), {})[cause] = int(count)
        out = []
        for row in rows:
            d, channel, team_id, agent_id, conversations, *sums = row
            key = (_as_date(d), channel, team_id, agent_id)
            (peak_sum, peak_n, strong_n, end_sum, end_n, valence_sum, valence_n, level_n, escalated,
             calm_eligible, calmed, quality_sum, quality_n) = sums[:13]
            emotion_counts = {label: int(v) for label, v in zip(EMOTION_COLUMNS, sums[13:]) if v}
            out.append(FactsSums(day=key[0], channel=channel, team_id=team_id, agent_id=agent_id,
                                 conversations=int(conversations), peak_sum=int(peak_sum), peak_n=int(peak_n),
                                 strong=int(strong_n), end_sum=int(end_sum), end_n=int(end_n),
                                 valence_sum=float(valence_sum), valence_n=int(valence_n), level_n=int(level_n),
                                 escalated=int(escalated), calm_eligible=int(calm_eligible), calmed=int(calmed),
                                 quality_sum=int(quality_sum), quality_n=int(quality_n), emotions=emotion_counts,
                                 causes=causes.get(key, {})))
        return out


__all__ = ["FactsStore", "FactsSums", "ReviewFacts", "facts_values", "negative_energy_of", "turn_readings", "violations_of", "write_facts",
           "write_turn_facts"]
