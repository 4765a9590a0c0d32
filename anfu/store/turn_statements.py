"""The live turn's SQL statements (`anfu.store.repo.Store`'s turn path), each built once per
dialect and kept: the turn runs them on every message, and SQLAlchemy caches their compiled form
by these objects' cache keys. On PostgreSQL two of them each write several tables in one round
trip (`indexed_message_statement`, `record_statement`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, Integer, String, bindparam, cast, func, literal, literal_column, select, true, update
from sqlalchemy.dialects import postgresql, sqlite

from .facts_repo import FACT_COLUMNS, upsert_statement
from .facts_tables import TurnFactsRow
from .search_tables import SearchDocumentRow
from .tables import AssessmentRow, ConversationRow, EventRow, MessageRow

# The live turn's statements, built once per dialect (the turn runs them all on every message;
# SQLAlchemy caches their compiled form by these objects' cache keys).
_STATEMENTS: dict[tuple[str, str], Any] = {}


def statement(conn: Any, kind: str) -> Any:
    dialect = conn.dialect.name
    stmt = _STATEMENTS.get((dialect, kind))
    if stmt is not None:
        return stmt
    c, m = ConversationRow.__table__, MessageRow.__table__
    if kind == "conversation_locked":
        stmt = select(c).where(c.c.id == bindparam("id")).with_for_update()
    elif kind == "message":
        # idempotency by client_msg_id in the INSERT itself: a retry's insert does nothing and
        # returns no id (the unique constraint uq_messages_tenant_client_msg_id decides)
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = (insert(m).on_conflict_do_nothing(index_elements=[m.c.tenant_id, m.c.client_msg_id])
                .returning(m.c.id))
    elif kind == "window":
        stmt = (select(m).where(m.c.conversation_id == bindparam("conversation_id"),
                                m.c.seq > bindparam("after"), m.c.seq < bindparam("before")).order_by(m.c.seq))
    elif kind == "assessment":
        stmt = AssessmentRow.__table__.insert().returning(AssessmentRow.__table__.c.id)
    elif kind == "events":
        stmt = EventRow.__table__.insert().returning(EventRow.__table__.c.id, sort_by_parameter_order=True)
    elif kind in ("conversation_seq", "conversation_turn"):
        # bound names differ from the columns' (SQLAlchemy reserves those for the SET clause)
        names = ("last_seq", "updated_at") + (("emotion", "intensity", "escalation_level")
                                               if kind == "conversation_turn" else ())
        stmt = update(c).where(c.c.id == bindparam("conv_id")).values({n: bindparam(f"new_{n}") for n in names})
    else:
        raise ValueError(kind)
    _STATEMENTS[(dialect, kind)] = stmt
    return stmt


def indexed_message_statement(columns: tuple[str, ...]) -> Any:
    """PostgreSQL: the "message" statement (`statement`: the tenant's `client_msg_id` decides,
    a retry inserts nothing and returns no id) and the message's search document (what
    `index_message` inserts, with the terms as `doc_terms`) as ONE statement: the document is
    inserted from the message insert's RETURNING, so a retry writes neither. Returns the new
    message's id. Built once per set of columns given."""
    key = ("postgresql", "message_indexed", columns)
    stmt = _STATEMENTS.get(key)
    if stmt is not None:
        return stmt
    m, d = MessageRow.__table__, SearchDocumentRow.__table__
    added = (postgresql.insert(m).values({k: bindparam(k) for k in columns})
             .on_conflict_do_nothing(index_elements=[m.c.tenant_id, m.c.client_msg_id])
             .returning(m.c.id, m.c.tenant_id, m.c.conversation_id).cte("added"))
    document = select(added.c.tenant_id, literal("message", String), added.c.id, added.c.conversation_id,
                      bindparam("doc_terms", type_=d.c.terms.type))
    stmt = (d.insert().from_select(["tenant_id", "kind", "ref_id", "conversation_id", "terms"], document)
            .returning(d.c.ref_id))
    _STATEMENTS[key] = stmt
    return stmt


_ASSESSMENT_COLUMNS = ("tenant_id", "conversation_id", "upto_seq", "emotion", "intensity", "escalation_level", "data",
                       "negative_energy", "created_at")
_TURN_STATE = ("last_seq", "updated_at", "emotion", "intensity", "escalation_level")


def record_statement() -> Any:
    """PostgreSQL: what `Store._record_turn` writes besides the events — the assessment, the
    conversation's new state, its analytics facts and the readings of the customer turns the
    assessment covers — as ONE statement of data-modifying CTEs, i.e. one round trip and one
    execution instead of four. The parts write different tables and none reads what another
    writes, except that the readings take the new assessment's id from its RETURNING; each does
    what the statement `_record_turn` runs on SQLite does (`statement`, `facts_repo`). The
    readings come as arrays (`r_seq`, `r_emotion`, `r_intensity`, `r_abusive`, one item per
    customer turn), so the statement is the same for any number of them: built, compiled and
    prepared once. Returns the assessment's id."""
    key = ("postgresql", "record")
    stmt = _STATEMENTS.get(key)
    if stmt is not None:
        return stmt
    a, c = AssessmentRow.__table__, ConversationRow.__table__
    assessed = (postgresql.insert(a).values({k: bindparam(f"a_{k}") for k in _ASSESSMENT_COLUMNS})
                .returning(a.c.id, a.c.conversation_id, a.c.tenant_id, a.c.upto_seq).cte("assessed"))
    moved = (update(c).where(c.c.id == bindparam("conv_id")).values({n: bindparam(f"new_{n}") for n in _TURN_STATE})
             .returning(c.c.id).cte("moved"))
    facts = (upsert_statement("postgresql", "conversation")
             .values({k: bindparam(f"f_{k}") for k in ("conversation_id", "tenant_id", *FACT_COLUMNS)})
             .returning(literal_column("1")).cte("facts"))
    given = func.unnest(cast(bindparam("r_seq"), postgresql.ARRAY(Integer)),
                        cast(bindparam("r_emotion"), postgresql.ARRAY(String)),
                        cast(bindparam("r_intensity"), postgresql.ARRAY(Integer)),
                        cast(bindparam("r_abusive"), postgresql.ARRAY(Boolean))
                        ).table_valued("seq", "emotion", "intensity", "abusive").render_derived(name="given")
    rows = select(assessed.c.conversation_id, given.c.seq, assessed.c.tenant_id, given.c.emotion, given.c.intensity,
                  given.c.abusive, assessed.c.upto_seq, assessed.c.id).select_from(assessed).join(given, true())
    readings = (upsert_statement("postgresql", "turn")
                .from_select(["conversation_id", "seq", "tenant_id", "emotion", "intensity", "abusive", "upto_seq",
                              "assessment_id"], rows)
                .returning(TurnFactsRow.__table__.c.seq).cte("readings"))
    stmt = select(assessed.c.id).add_cte(moved, facts, readings)
    _STATEMENTS[key] = stmt
    return stmt
