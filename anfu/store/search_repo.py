"""Full-text search over a tenant's messages, tickets and customers (issue 13).

Writing: the store's own write paths call `index_message`, `index_ticket` and
`index_customer` inside the transaction that writes the row (one owner: this module), so the
index never lags behind a committed write; `forget` removes the documents of erased
customers (`Store.delete_customer_data`) and `purge` compacts the SQLite index afterwards, so
erased words do not linger in old FTS5 segments.

Reading: `SearchStore.search(principal, terms, kinds, limit)` matches documents holding every
term (see `anfu.text.segment`) with SQLite FTS5 or PostgreSQL full text, newest first,
and applies the access rules of `anfu.store.access` in the same query: a message is found only
when its conversation is visible, a ticket when it is (`ticket_clause`), a customer when one of
their conversations is. Nothing of another tenant is ever read. Masking by role is the
service's job (`anfu.service.search`), as for every other read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, column, delete, func, insert, or_, select, table, text
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import cast

from ..text.normalize import normalize
from ..text.segment import index_terms
from . import access
from .access import Principal
from .accounts import StoreBase
from .records import Customer, _Record, from_row
from .search_tables import FTS_TABLE, KINDS, SearchDocumentRow
from .tables import ConversationRow, CustomerRow, MessageRow
from .workflow_tables import TicketRow

MAX_LIMIT = 50
# messages are read newest first in pages of this many rows, at most this many pages, to find one
# per conversation (a busy conversation's many matches are skipped)
MESSAGE_PAGE = 150
MESSAGE_PAGES = 8
_fts = table(FTS_TABLE, column("rowid"), column("terms"))
_INSERT_DOCUMENT = SearchDocumentRow.__table__.insert()


@dataclass(frozen=True)
class SearchHit(_Record):
    """One document that matched, with what a result list shows of it (as stored: the
    service masks it by role). `id` is the message's, ticket's or customer's id."""

    kind: str
    id: int
    conversation_id: int | None
    text: str
    at: datetime
    title: str = ""            # ticket number, customer name
    speaker: str | None = None
    status: str | None = None  # the conversation's or the ticket's status
    channel: str | None = None
    customer: Customer | None = None


def ticket_text(number: str, data: dict[str, Any]) -> str:
    """What a ticket is found by: number, summary, cause, survey comment and history notes."""
    parts = [number, str(data.get("summary") or ""), str(data.get("cause") or ""),
             str(data.get("csat_comment") or "")]
    parts += [str(t.get("note") or "") for t in data.get("history") or [] if isinstance(t, dict)]
    return " ".join(p for p in parts if p)


def customer_text(row: Any) -> str:
    """What a customer is found by: name, reference, e-mail and phone (as stored)."""
    return _joined(row.display_name, row.external_ref, row.email, row.phone)


def _joined(*fields: str | None) -> str:
    return " ".join(str(v) for v in fields if v)


_HAN = re.compile(r"[\u4e00-\u9fff]+")
_DIGIT = re.compile(r"\d")
PHONE_TAIL = 4  # the digits an agent asks a caller for (手机尾号)


def customer_terms(display_name: str | None, external_ref: str | None, email: str | None,
                   phone: str | None) -> str:
    """What a customer is found by, as the index stores it: the words of the name, reference,
    e-mail and phone, and what an agent types to find a caller. A Chinese name is indexed by
    each character and each pair of characters too (王小明 is found by 小明; jieba keeps an
    unknown name whole or cuts it differently), and a phone number by its last four digits
    (尾号5678 is asked for far more often than the whole number)."""
    words = index_terms(_joined(display_name, external_ref, email, phone)).split()
    for run in _HAN.findall(normalize(display_name or "")):
        words += [*run, *(run[i:i + 2] for i in range(len(run) - 1))]
    digits = "".join(_DIGIT.findall(phone or ""))
    if len(digits) >= 7:
        words.append(digits[-PHONE_TAIL:])
    return " ".join(dict.fromkeys(words))


def _put(s: Session, tenant_id: int, kind: str, ref_id: int, conversation_id: int | None, terms: str) -> None:
    row = s.scalar(select(SearchDocumentRow).where(SearchDocumentRow.kind == kind,
                                                   SearchDocumentRow.ref_id == ref_id))
    if row is None:
        s.add(SearchDocumentRow(tenant_id=tenant_id, kind=kind, ref_id=ref_id, conversation_id=conversation_id,
                                terms=terms))
    elif row.terms != terms or row.conversation_id != conversation_id:
        row.terms, row.conversation_id = terms, conversation_id


def message_terms(text: str) -> str:
    """What a message is found by: the words of its stored text."""
    return index_terms(text)


def message_document(row: Any) -> dict[str, Any]:
    """The search document of a message (a row or any object with its columns): its stored text.
    (PostgreSQL's live turn inserts it in the message's own statement, `Store._add_message`.)"""
    return {"tenant_id": row.tenant_id, "kind": "message", "ref_id": row.id, "conversation_id": row.conversation_id,
            "terms": message_terms(row.text)}


def index_message(s: Session | Connection, row: Any) -> None:
    """Index a new message (a flushed row or a `MessageRecord`) in the caller's transaction (a
    session or its connection): one INSERT, at once."""
    conn = s.connection() if isinstance(s, Session) else s
    conn.execute(_INSERT_DOCUMENT, message_document(row))


def index_ticket(s: Session, row: TicketRow) -> None:
    """Index a created or changed ticket in the caller's transaction."""
    _put(s, row.tenant_id, "ticket", row.id, row.conversation_id, index_terms(ticket_text(row.number, row.data or {})))


def index_customer(s: Session, row: CustomerRow) -> None:
    """Index a created or changed customer in the caller's transaction."""
    _put(s, row.tenant_id, "customer", row.id, None,
         customer_terms(row.display_name, row.external_ref, row.email, row.phone))


def forget(s: Session, *, conversation_ids: Any, customer_ids: list[int], ticket_ids: Any) -> None:
    """Remove the documents of erased conversations (their messages), tickets and customers."""
    s.execute(delete(SearchDocumentRow).where(or_(
        SearchDocumentRow.conversation_id.in_(conversation_ids),
        (SearchDocumentRow.kind == "ticket") & SearchDocumentRow.ref_id.in_(ticket_ids),
        (SearchDocumentRow.kind == "customer") & SearchDocumentRow.ref_id.in_(customer_ids))))


def purge(engine: Engine) -> None:
    """SQLite: merge the FTS5 index into one segment, dropping deleted documents' words for good
    (FTS5 only marks them deleted until segments merge). PostgreSQL: nothing (VACUUM's job)."""
    if engine.dialect.name != "sqlite":
        return
    with engine.begin() as conn:
        conn.exec_driver_sql(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('optimize')")


class SearchStore(StoreBase):
    """`SearchStore(engine)`: the search index of every tenant."""

    def _matching(self, terms: list[str], kind: str, tenant_id: int) -> tuple[Any, Any, Any, Any]:
        """(FROM clause, match condition, order, the ordering id) for the documents of one kind of one tenant
        holding every term, newest first: a contact centre looks for the recent case, and
        newest-first lets both engines stop at the first matches instead of ranking all of a
        common word's (bm25 ranking, with the kind filtered after the match, gave a p95 of 236 ms
        in the 100,000-message benchmark on a loaded machine; see docs/search.md)."""
        doc = SearchDocumentRow
        if self.engine.dialect.name == "postgresql":
            vector = func.array_to_tsvector(func.string_to_array(doc.terms, " "))
            query = cast(" & ".join(f"'{t}'" for t in terms), TSQUERY)
            return (doc.__table__, and_(vector.op("@@")(query), doc.kind == kind, doc.tenant_id == tenant_id),
                    doc.id.desc(), doc.id)
        # kind and tenant are FTS5 columns: the match itself narrows to them (see 0007_search)
        words = " ".join(f'"{t}"' for t in terms)
        match = f'terms : ({words}) AND kind : "{kind}" AND tenant_id : "{int(tenant_id)}"'
        source = _fts.join(doc.__table__, doc.id == _fts.c.rowid)
        return (source, and_(text(f"{FTS_TABLE} MATCH :match").bindparams(match=match), doc.tenant_id == tenant_id),
                _fts.c.rowid.desc(), _fts.c.rowid)

    def search(self, visible_to: Principal, terms: list[str], *, kinds: tuple[str, ...] = KINDS,
               limit: int = 20, digests: list[str] = ()) -> dict[str, list[SearchHit]]:
        """The newest `limit` (+1, so the caller knows there are more) matches of each kind that
        `visible_to` may see; for messages, the newest matching message of each of the newest
        `limit` (+1) conversations (a conversation with many matches must not hide the others).
        `terms` come from `anfu.text.segment.query_terms`; `digests` are `Store.pii_digest`s of the
        query read as a phone number or e-mail address."""
        if not terms:
            return {kind: [] for kind in kinds}
        limit = max(1, min(limit, MAX_LIMIT)) + 1
        doc = SearchDocumentRow
        out: dict[str, list[SearchHit]] = {}
        with self._read() as s:
            if "message" in kinds:
                out["message"] = self._messages(s, visible_to, terms, limit)
            if "ticket" in kinds:
                from .workflow_repo import ticket_clause

                source, matches, newest, _ = self._matching(terms, "ticket", visible_to.tenant_id)
                rows = s.execute(
                    select(TicketRow).select_from(source).join(TicketRow, TicketRow.id == doc.ref_id)
                    .where(matches, ticket_clause(visible_to))
                    .order_by(newest).limit(limit)).all()
                out["ticket"] = [SearchHit("ticket", t.id, t.conversation_id, ticket_text(t.number, t.data or {}),
                                           t.updated_at, title=t.number, status=t.status,
                                           channel=(t.data or {}).get("channel"))
                                 for (t,) in rows]
            if "customer" in kinds:
                # a phone number or e-mail address in any spelling (+86 138-1234-5678) finds the
                # customer by its keyed digest first, as customers are matched on ingestion
                exact = []
                if digests:
                    exact = list(s.scalars(select(CustomerRow).where(
                        CustomerRow.tenant_id == visible_to.tenant_id, access.customer_clause(visible_to),
                        or_(CustomerRow.phone_digest.in_(digests), CustomerRow.email_digest.in_(digests)))
                        .order_by(CustomerRow.id.desc()).limit(limit)))
                source, matches, newest, _ = self._matching(terms, "customer", visible_to.tenant_id)
                rows = s.scalars(
                    select(CustomerRow).select_from(source).join(CustomerRow, CustomerRow.id == doc.ref_id)
                    .where(matches, access.customer_clause(visible_to))
                    .order_by(newest).limit(limit)).all()
                seen: set[int] = set()
                out["customer"] = []
                for c in [*exact, *rows]:
                    if c.id not in seen and len(seen) < limit:
                        seen.add(c.id)
                        out["customer"].append(SearchHit("customer", c.id, None, customer_text(c), c.created_at,
                                                         title=c.display_name, customer=from_row(Customer, c)))
        return out

    def _messages(self, s: Session, visible_to: Principal, terms: list[str], limit: int) -> list[SearchHit]:
        """The newest matching message of each of the newest `limit` conversations: read newest
        first in pages (`MESSAGE_PAGE` rows, at most `MESSAGE_PAGES` of them), so a common word
        still stops early, and a conversation's older matches are skipped."""
        doc = SearchDocumentRow
        source, matches, newest, order_id = self._matching(terms, "message", visible_to.tenant_id)
        hits: list[SearchHit] = []
        seen: set[int] = set()
        cursor = None
        page = max(MESSAGE_PAGE, limit * 3)
        for _ in range(MESSAGE_PAGES):
            where = [matches, access.conversation_clause(visible_to)]
            if cursor is not None:
                where.append(order_id < cursor)
            rows = s.execute(
                select(MessageRow, ConversationRow.status, order_id).select_from(source)
                .join(MessageRow, MessageRow.id == doc.ref_id).join(ConversationRow, ConversationRow.id == doc.conversation_id)
                .where(*where).order_by(newest).limit(page)).all()
            for m, status, at in rows:
                cursor = at
                if m.conversation_id in seen:
                    continue
                seen.add(m.conversation_id)
                hits.append(SearchHit("message", m.id, m.conversation_id, m.text, m.sent_at,
                                      speaker=m.speaker, status=status, channel=m.channel))
                if len(hits) >= limit:
                    return hits
            if len(rows) < page:
                break
        return hits

    def scan(self, visible_to: Principal, needle: str, *, limit: int = 20) -> list[SearchHit]:
        """The peer the benchmark compares with: messages whose text contains `needle`
        (LIKE '%…%', a full scan), newest first, same access rules."""
        pattern = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        with self._read() as s:
            rows = s.execute(select(MessageRow, ConversationRow.status).join(
                ConversationRow, ConversationRow.id == MessageRow.conversation_id)
                .where(MessageRow.tenant_id == visible_to.tenant_id, MessageRow.text.like(pattern, escape="\\"),
                       access.conversation_clause(visible_to))
                .order_by(MessageRow.id.desc()).limit(limit)).all()
            return [SearchHit("message", m.id, m.conversation_id, m.text, m.sent_at, speaker=m.speaker,
                              status=status, channel=m.channel) for m, status in rows]

    def reindex(self, tenant_id: int | None = None, *, batch: int = 2000) -> int:
        """Rebuild the documents of every message, ticket and customer (of one tenant, or all);
        returns how many were written. For repairs and bulk imports; the write paths keep the
        index current by themselves."""
        written = 0
        for row_type, kind in ((MessageRow, "message"), (TicketRow, "ticket"), (CustomerRow, "customer")):
            last = 0
            while True:
                with self._write() as s:
                    where = [row_type.id > last]
                    if tenant_id is not None:
                        where.append(row_type.tenant_id == tenant_id)
                    if row_type is MessageRow:  # the bulk of it: columns only, one insert per batch
                        rows: Any = s.execute(select(MessageRow.id, MessageRow.tenant_id, MessageRow.conversation_id,
                                                     MessageRow.text).where(*where).order_by(MessageRow.id)
                                              .limit(batch)).all()
                    else:
                        rows = s.scalars(select(row_type).where(*where).order_by(row_type.id).limit(batch)).all()
                    if not rows:
                        break
                    ids = [r.id for r in rows]
                    s.execute(delete(SearchDocumentRow).where(SearchDocumentRow.kind == kind,
                                                              SearchDocumentRow.ref_id.in_(ids)))
                    if row_type is MessageRow:
                        s.execute(insert(SearchDocumentRow), [message_document(r) for r in rows])
                    else:
                        s.flush()
                        for r in rows:
                            (index_ticket if kind == "ticket" else index_customer)(s, r)
                    written += len(rows)
                    last = ids[-1]
        return written

__all__ = ["MAX_LIMIT", "SearchHit", "SearchStore", "customer_text", "forget", "index_customer", "index_message",
           "index_ticket", "message_document", "purge", "ticket_text"]
