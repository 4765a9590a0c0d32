"""The repository: every read and write of the service goes through `Store`.

Methods that take `visible_to` (a `Principal`) apply the rules of `anfu.store.access`; an
object the principal may not see is reported exactly like a missing one (AF503), so ids of
other tenants or teams leak nothing. Methods without a principal are for the system itself
(channels, jobs, the CLI) and the server's own checks.
"""

from __future__ import annotations

import hmac
import threading
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Callable, Iterator

from sqlalchemy import Connection, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..errors import AuthError, InputError, NotFoundError, StoreError
from ..pii import mask, mask_data
from ..text.normalize import is_blank
from ..types import SPEAKERS, Conversation, Utterance
from . import access
from .access import Principal
from .accounts import AccountsMixin, _out_of_range
from .events_repo import EVENT_NAME, EventsMixin
from .opening_repo import OpeningMixin
from .facts_repo import (FACT_COLUMNS, facts_values, negative_energy_of, turn_readings, write_facts,
                         write_turn_facts)
from .customers_repo import MAX_PAGE_SIZE, CustomersMixin, _no_nul, _page_args, normalize_email, normalize_phone  # noqa: F401
from .records import (AssessmentRecord, ConversationRecord, Event, MessageRecord, Page, from_row)
from .search_repo import index_message, message_terms
from .turn_statements import indexed_message_statement, record_statement, statement
from .windows import RecentWindows
from .tables import (CONVERSATION_STATUSES, AssessmentRow, AuditRow, ConversationRow, CustomerRow,
                     EventRow, MessageRow, TeamRow, TenantRow, UserRow)

# SQLite has one writer at a time; live turns of this process queue on a Python lock (first
# come, first served) rather than on SQLite's busy handler, which polls with sleeps of up to
# 100 ms and turns a short queue into long tails. One lock per database file.
_SQLITE_TURN_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _turn_lock(engine: Any) -> Any:
    if engine.dialect.name != "sqlite":
        return nullcontext()  # PostgreSQL: the conversation's row lock is enough
    key = str(engine.url.database)
    with _LOCKS_GUARD:
        return _SQLITE_TURN_LOCKS.setdefault(key, threading.Lock())
MAX_TEXT_CHARS = 20_000


_UNSET: Any = object()


@dataclass(frozen=True)
class ConversationFilter:
    """Filters of `Store.list_conversations`; None means "any"."""

    status: str | None = None
    channel: str | None = None
    industry: str | None = None
    team_id: int | None = None
    agent_id: int | None = None
    customer_id: int | None = None
    emotion: str | None = None
    min_escalation: int | None = None
    min_intensity: int | None = None
    updated_since: datetime | None = None
    updated_until: datetime | None = None
    statuses: tuple[str, ...] | None = None   # any of these (status, when set, must match too)
    # nobody handles it yet; visibility is then the routing queue's (`access.queue_clause`): an
    # agent sees that their team's conversation waits, not its messages
    unassigned: bool = False


@dataclass(frozen=True)
class TurnWrite:
    """What `Store.append_turn` wrote (or found, for a retry: `created` False)."""

    message: MessageRecord
    created: bool
    conversation: ConversationRecord      # after the turn
    previous_level: int                   # the escalation level before it
    assessment: AssessmentRecord | None   # the retry's stored assessment, when there is one
    events: list[Event] = field(default_factory=list)


@dataclass
class OpenTurn:
    """The turn inside `Store.open_turn`: the conversation before it (`before`), the new
    message and the latest `window` messages (the new one last). `record(...)` names what
    the transaction stores with it; `written` is set when the block has committed."""

    before: ConversationRecord | None = None
    message: MessageRecord | None = None
    window: list[MessageRecord] = field(default_factory=list)
    created: bool = False
    pending: tuple[dict[str, Any], int, list[tuple[str, dict[str, Any]]]] | None = None
    written: TurnWrite | None = None

    @classmethod
    def retried(cls, written: TurnWrite) -> "OpenTurn":
        return cls(before=written.conversation, message=written.message, created=False, written=written)

    def record(self, data: dict[str, Any], *, level: int, events: list[tuple[str, dict[str, Any]]] = ()) -> None:
        """The assessment of the window (`Assessment.to_dict()`), the conversation's escalation
        level after the turn (decided by the caller, stored as given) and the events."""
        if not self.created:
            raise StoreError("AF505", "a retried turn stores nothing", kind="turn")
        if not isinstance(level, int) or not 0 <= level <= 3:
            raise StoreError("AF505", f"escalation level {level!r} (0..3)", kind="turn")
        self.pending = (data, level, list(events))


# assess(conversation before the turn, the latest messages with the new one last)
#   -> (Assessment.to_dict(), [(event name, payload), ...])
Assess = Callable[[ConversationRecord, list[MessageRecord]], tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]]


def _summary(data: dict[str, Any]) -> tuple[str | None, int | None, int]:
    """(emotion, intensity, escalation level) of an `Assessment.to_dict()`: the utterance's, or
    the last customer turn's for a conversation."""
    source = data
    if "turns" in data:
        customer = [t for t in data.get("turns") or [] if t.get("speaker") == "customer"]
        source = customer[-1] if customer else {}
    escalation = data.get("escalation") or {}
    level = escalation.get("level") if isinstance(escalation, dict) else None
    intensity = source.get("intensity")
    return (source.get("emotion"), int(intensity) if intensity is not None else None,
            int(level) if level is not None else 0)


class Store(EventsMixin, OpeningMixin, CustomersMixin, AccountsMixin):
    """Repository over one engine. `Store(make_engine(settings), mask_text=settings.store_masked_text)`."""

    @property
    def recent(self) -> RecentWindows:
        """The latest messages of the conversations this store's live turns wrote (see
        `anfu.store.windows`; one per store, created on first use)."""
        windows = self.__dict__.get("_recent")
        if windows is None:
            windows = self.__dict__.setdefault("_recent", RecentWindows())
        return windows

    @classmethod
    def from_settings(cls, settings: Any) -> "Store":
        from .engine import make_engine

        return cls(make_engine(settings), mask_text=settings.store_masked_text,
                   pii_key=settings.secret_key.get_secret_value())

    def _visible_conversation(self, s: Session, conversation_id: int,
                              visible_to: Principal | None) -> ConversationRow:
        row = s.get(ConversationRow, conversation_id)
        if row is None or (visible_to is not None and not access.can(visible_to, "conversation.view", row)):
            raise NotFoundError("AF503", conversation_id, kind="conversation")
        return row

    def _same_tenant(self, s: Session, tenant_id: int, row_type: type, row_id: int | None, kind: str) -> None:
        if row_id is not None:
            row = s.get(row_type, row_id)
            if row is None or row.tenant_id != tenant_id:
                raise StoreError("AF505", f"{kind} {row_id} is not in tenant {tenant_id}", kind=kind)

    def create_conversation(self, tenant_id: int, *, channel: str = "webchat", customer_id: int | None = None,
                            team_id: int | None = None, agent_id: int | None = None,
                            industry: str | None = None, external_ref: str | None = None,
                            status: str = "open") -> ConversationRecord:
        external_ref = _no_nul(external_ref)
        if status not in CONVERSATION_STATUSES:
            raise InputError("AF505", f"status {status!r}, use {'/'.join(CONVERSATION_STATUSES)}",
                             kind="conversation")
        try:
            with self._write() as s:
                self._get(s, TenantRow, tenant_id, "tenant")
                self._same_tenant(s, tenant_id, CustomerRow, customer_id, "customer")
                self._same_tenant(s, tenant_id, TeamRow, team_id, "team")
                self._same_tenant(s, tenant_id, UserRow, agent_id, "agent")
                now = self.clock()
                row = ConversationRow(tenant_id=tenant_id, customer_id=customer_id, team_id=team_id,
                                      agent_id=agent_id, channel=channel, industry=industry,
                                      external_ref=external_ref, status=status, last_seq=0,
                                      escalation_level=0, created_at=now, updated_at=now)
                s.add(row)
                s.flush()
                return from_row(ConversationRecord, row)
        except IntegrityError:
            raise StoreError("AF504", external_ref, kind="conversation") from None

    def get_or_create_conversation(self, tenant_id: int, external_ref: str,
                                   **fields_: Any) -> tuple[ConversationRecord, bool]:
        """The conversation a channel calls `external_ref` (an e-mail thread, a call id)."""
        external_ref = _no_nul(external_ref)
        with self._read() as s:
            row = s.scalar(select(ConversationRow).where(ConversationRow.tenant_id == tenant_id,
                                                         ConversationRow.external_ref == external_ref))
            if row is not None:
                return from_row(ConversationRecord, row), False
        try:
            return self.create_conversation(tenant_id, external_ref=external_ref, **fields_), True
        except StoreError as exc:
            if exc.code != "AF504":
                raise
        return self.get_or_create_conversation(tenant_id, external_ref, **fields_)

    def get_conversation(self, conversation_id: int, visible_to: Principal | None = None) -> ConversationRecord:
        with self._read() as s:
            return from_row(ConversationRecord, self._visible_conversation(s, conversation_id, visible_to))

    def update_conversation(self, conversation_id: int, *, by: Principal | None = None,
                            status: str = _UNSET, agent_id: int | None = _UNSET,
                            team_id: int | None = _UNSET, industry: str | None = _UNSET) -> ConversationRecord:
        """Change status, assignment or industry. Reassigning needs a supervisor or admin."""
        with self._write() as s:
            row = self._visible_conversation(s, conversation_id, by)
            if by is not None:
                access.require(by, "conversation.write", row)
                if (agent_id is not _UNSET or team_id is not _UNSET):
                    access.require(by, "conversation.take_over", row)
            if status is not _UNSET:
                if status not in CONVERSATION_STATUSES:
                    raise InputError("AF505", f"status {status!r}", kind="conversation")
                row.status = status
            if agent_id is not _UNSET:
                self._same_tenant(s, row.tenant_id, UserRow, agent_id, "agent")
                if by is not None and agent_id is not None:
                    self.check_assignable(by, agent_id)
                row.agent_id = agent_id
            if team_id is not _UNSET:
                self._same_tenant(s, row.tenant_id, TeamRow, team_id, "team")
                if by is not None and by.role == "supervisor" and team_id != by.team_id:
                    raise AuthError("AF417", "move a conversation to another team")
                row.team_id = team_id
            if industry is not _UNSET:
                row.industry = industry
            row.updated_at = self.clock()
            s.flush()
            return from_row(ConversationRecord, row)

    def unassigned_conversations(self, visible_to: Principal, *, limit: int = 100) -> list[ConversationRecord]:
        """Open conversations that nobody handles yet (routing's queue), oldest first: an agent
        and a supervisor see their team's, an admin and an auditor the tenant's. An agent sees
        only that such a conversation waits (its record), not its messages, until they claim it."""
        where = [ConversationRow.tenant_id == visible_to.tenant_id, ConversationRow.agent_id.is_(None),
                 ConversationRow.status == "open"]
        if visible_to.role not in access.TENANT_WIDE:
            if visible_to.team_id is None:
                return []
            where.append(ConversationRow.team_id == visible_to.team_id)
        with self._read() as s:
            rows = s.scalars(select(ConversationRow).where(*where)
                             .order_by(ConversationRow.created_at, ConversationRow.id).limit(limit))
            return [from_row(ConversationRecord, r) for r in rows]

    def claim_unassigned(self, conversation_id: int, *, by: Principal) -> ConversationRecord:
        """An agent takes an open, unassigned conversation of their own team (first come, first
        served: a conversation someone else claimed meanwhile answers AF417; one of another team
        or tenant is missing, AF503)."""
        if by.role != "agent" or by.user_id is None:
            raise AuthError("AF417", "claim an unassigned conversation (agents)")
        with self._write() as s:
            # locked (PostgreSQL: FOR UPDATE): of two agents claiming at once, the second reads the
            # first one's claim and is refused
            row = s.get(ConversationRow, conversation_id, with_for_update=True)
            if row is None or row.tenant_id != by.tenant_id or by.team_id is None or row.team_id != by.team_id:
                raise NotFoundError("AF503", conversation_id, kind="conversation")
            if row.agent_id is not None and row.agent_id != by.user_id or row.status != "open":
                raise AuthError("AF417", "claim a conversation someone already handles")
            row.agent_id = by.user_id
            row.updated_at = self.clock()
            s.flush()
            return from_row(ConversationRecord, row)

    def take_over(self, conversation_id: int, *, by: Principal, release: bool = False,
                  ip: str | None = None) -> ConversationRecord:
        """A supervisor or admin takes over (or, with `release`, hands back) a conversation;
        records a `conversation.taken_over`/`conversation.released` event and an audit entry."""
        with self._write() as s:
            row = self._visible_conversation(s, conversation_id, by)
            access.require(by, "conversation.take_over", row)
            row.taken_over_by = None if release else by.user_id
            row.updated_at = now = self.clock()
            name = "conversation.released" if release else "conversation.taken_over"
            payload = {"by": by.actor, "user_id": by.user_id}
            s.add(EventRow(tenant_id=row.tenant_id, conversation_id=row.id, name=name, payload=payload,
                           created_at=now))
            s.add(AuditRow(tenant_id=row.tenant_id, actor=by.actor, action=name,
                           target=f"conversation:{row.id}", detail={}, ip=ip, at=now))
            s.flush()
            return from_row(ConversationRecord, row)

    def list_conversations(self, visible_to: Principal, filters: ConversationFilter | None = None, *,
                           page: int = 1, page_size: int = 50) -> Page[ConversationRecord]:
        """Conversations `visible_to` may see, newest activity first."""
        page, page_size = _page_args(page, page_size)
        f = filters or ConversationFilter()
        if f.unassigned:
            where = [access.queue_clause(visible_to), ConversationRow.agent_id.is_(None)]
        else:
            where = [access.conversation_clause(visible_to)]
        if f.statuses is not None:
            where.append(ConversationRow.status.in_(f.statuses))
        for name in ("status", "channel", "industry", "team_id", "agent_id", "customer_id", "emotion"):
            value = getattr(f, name)
            if value is not None:
                where.append(getattr(ConversationRow, name) == value)
        if f.min_escalation is not None:
            where.append(ConversationRow.escalation_level >= f.min_escalation)
        if f.min_intensity is not None:
            where.append(ConversationRow.intensity >= f.min_intensity)
        if f.updated_since is not None:
            where.append(ConversationRow.updated_at >= f.updated_since)
        if f.updated_until is not None:
            where.append(ConversationRow.updated_at < f.updated_until)
        with self._read() as s:
            total = s.scalar(select(func.count()).select_from(ConversationRow).where(*where)) or 0
            rows = s.scalars(select(ConversationRow).where(*where)
                             .order_by(ConversationRow.updated_at.desc(), ConversationRow.id.desc())
                             .offset((page - 1) * page_size).limit(page_size))
            return Page([from_row(ConversationRecord, r) for r in rows], total, page, page_size)

    # messages -----------------------------------------------------------------------------
    def append_message(self, conversation_id: int, speaker: str, text: str, *,
                       client_msg_id: str | None = None, channel: str | None = None,
                       sent_at: datetime | None = None, by: Principal | None = None,
                       check_text: bool = False) -> tuple[MessageRecord, bool]:
        """Append a message; returns (message, created).

        The transaction is committed — on disk, with SQLite `synchronous=FULL` — before this
        returns, so the caller may acknowledge the message to its client right after. A retry
        with the same `client_msg_id` returns the stored message and `created=False`; with
        `check_text`, only when its text is the stored one's (AF446 otherwise: a reused id).
        """
        self._check_message(speaker, text)
        client_msg_id = _no_nul(client_msg_id)
        same = text if check_text else None
        try:
            with _out_of_range(), self._writer.begin() as conn:
                conv = self._locked_conversation(conn, conversation_id, by)
                message = self._add_message(conn, conv, speaker, text, channel, client_msg_id, sent_at, by)
                if message is None:
                    return self._message_of(conn, conv, client_msg_id or "", same), False
                conn.execute(statement(conn, "conversation_seq"),
                             {"conv_id": conv.id, "new_last_seq": message.seq, "new_updated_at": message.received_at})
            return message, True
        except IntegrityError:
            existing = self._existing_message(conversation_id, client_msg_id, same) if client_msg_id else None
            if existing is None:
                raise
            return existing, False

    @staticmethod
    def _locked_conversation(conn: Any, conversation_id: int, by: Principal | None) -> Any:
        """The conversation's row (a plain row), locked for the rest of the transaction
        (PostgreSQL `FOR UPDATE`; SQLite's `BEGIN IMMEDIATE` already serialises every write);
        AF503 when it is missing or `by` may not see it."""
        conv = conn.execute(statement(conn, "conversation_locked"), {"id": conversation_id}).first()
        if conv is None or (by is not None and not access.can(by, "conversation.view", conv)):
            raise NotFoundError("AF503", conversation_id, kind="conversation")
        return conv

    def _add_message(self, conn: Any, conv: Any, speaker: str, text: str, channel: str | None,
                     client_msg_id: str | None, sent_at: datetime | None,
                     by: Principal | None) -> MessageRecord | None:
        """Insert the conversation's next message and its search document (Core statements in
        the caller's transaction; the caller moves `last_seq` on). None when the tenant already
        has a message with this `client_msg_id` (a retry: nothing is written). Write access is
        checked first, except that a principal who may only read still gets a retry answered,
        as before: the stored message is theirs to see."""
        if by is not None:
            allowed = access.can(by, "conversation.write", conv) and (
                speaker != "agent" or access.can(by, "conversation.reply_as_agent", conv))
            if not allowed:
                if client_msg_id is not None and self._message_row(conn, conv.tenant_id, client_msg_id) is not None:
                    return None
                access.require(by, "conversation.write", conv)
                if speaker == "agent":
                    access.require(by, "conversation.reply_as_agent", conv)
        now = self.clock()
        text = _no_nul(text)
        stored = mask(text) if self.mask_text else text
        values = {"tenant_id": conv.tenant_id, "conversation_id": conv.id, "seq": conv.last_seq + 1,
                  "speaker": speaker, "text": stored, "masked": stored != text, "channel": channel or conv.channel,
                  "client_msg_id": client_msg_id, "sent_at": sent_at or now, "received_at": now}
        # a retry's text is compared with the text as sent, which the stored one (masked) may not be
        digest = self.pii_digest(text) if client_msg_id is not None else None
        params = {**values, "text_digest": digest}
        if conn.dialect.name == "postgresql":  # the message and its search document in one statement
            message_id = conn.execute(indexed_message_statement(tuple(params)),
                                      {**params, "doc_terms": message_terms(stored)}).scalar()
            if message_id is None:
                return None
            self._started_at(conn, conv, sent_at)
            return MessageRecord(id=message_id, **values)
        message_id = conn.execute(statement(conn, "message"), params).scalar()
        if message_id is None:
            return None
        message = MessageRecord(id=message_id, **values)
        index_message(conn, message)
        self._started_at(conn, conv, sent_at)
        return message

    @staticmethod
    def _started_at(conn: Any, conv: Any, sent_at: datetime | None) -> None:
        """A conversation starts when its first message was sent: an import, a mailbox backlog or
        a transcript stored later is counted on the day it happened (analytics group on
        `created_at`), not on the day it reached us."""
        if conv.last_seq != 0 or sent_at is None:
            return
        created = conv.created_at if conv.created_at.tzinfo else conv.created_at.replace(tzinfo=timezone.utc)
        if sent_at < created:
            conn.execute(update(ConversationRow.__table__).where(ConversationRow.__table__.c.id == conv.id)
                         .values(created_at=sent_at))

    @staticmethod
    def _message_row(conn: Any, tenant_id: int, client_msg_id: str) -> Any:
        m = MessageRow.__table__.c
        return conn.execute(select(MessageRow.__table__).where(m.tenant_id == tenant_id,
                                                               m.client_msg_id == client_msg_id)).first()

    def _message_of(self, conn: Any, conv: Any, client_msg_id: str, text: str | None = None) -> MessageRecord:
        """The stored message a retry names (AF505 when it belongs to another conversation;
        AF446 when `text` is given and is not the stored message's)."""
        row = self._message_row(conn, conv.tenant_id, client_msg_id)
        if row is None:  # the conflicting insert was rolled back meanwhile: the caller retries
            raise StoreError("AF505", f"client_msg_id {client_msg_id!r} was taken and released; send it again",
                             kind="message")
        if row.conversation_id != conv.id:
            raise StoreError("AF505", f"client_msg_id {client_msg_id!r} is already used by another "
                                      "conversation; use a new id per message", kind="message")
        self._same_text(row, client_msg_id, text)
        return from_row(MessageRecord, row)

    def _same_text(self, row: Any, client_msg_id: str, text: str | None) -> None:
        """AF446 unless a retry's `text` (None: not checked) is the stored message's: by the keyed
        digest of the text as sent, or, for a message stored before migration 0013, by the text
        as the store keeps it."""
        if text is None:
            return
        text = _no_nul(text)
        if row.text_digest is not None:
            same = hmac.compare_digest(row.text_digest, self.pii_digest(text) or "")
        else:
            same = row.text == (mask(text) if self.mask_text else text)
        if not same:
            raise StoreError("AF446", repr(client_msg_id[:80]))

    @contextmanager
    def open_turn(self, conversation_id: int, speaker: str, text: str, *, client_msg_id: str | None = None,
                  channel: str | None = None, sent_at: datetime | None = None, by: Principal | None = None,
                  window: int = 16, check_text: bool = False) -> Iterator["OpenTurn"]:
        """A live turn as ONE locked, durable transaction, driven by its caller (the service
        layer) without any callback from the store::

            with store.open_turn(conv_id, "customer", text, client_msg_id=..., by=p) as turn:
                if turn.created:
                    data, level, events = analyse(turn.before, turn.window)
                    turn.record(data, level=level, events=events)
            written = turn.written          # TurnWrite, after the commit is on disk

        Inside the block the message is inserted (not yet committed) and the conversation row is
        locked (PostgreSQL `FOR UPDATE`, SQLite `BEGIN IMMEDIATE` plus a per-file lock), so the
        window, the level before the turn and the sequence number are consistent. Leaving the
        block with an exception stores nothing. A retry with the same `client_msg_id` writes
        nothing: `turn.created` is False and `turn.written` holds the stored message and the
        assessment stored for it; with `check_text`, only when the retry's text is the stored
        message's (AF446 otherwise, nothing written). `record` is required for a new turn (AF505
        otherwise)."""
        self._check_message(speaker, text)
        client_msg_id = _no_nul(client_msg_id)
        same = text if check_text else None
        yielded = False
        with _turn_lock(self.engine):
            try:
                # Core statements in a plain transaction: the rows are only copied into records, so
                # an ORM session's identity map and unit of work would be pure overhead
                with _out_of_range(), self._writer.begin() as conn:
                    conv = self._locked_conversation(conn, conversation_id, by)
                    message = self._add_message(conn, conv, speaker, text, channel, client_msg_id, sent_at, by)
                    if message is None:
                        existing = self._message_of(conn, conv, client_msg_id or "", same)
                        retried = OpenTurn.retried(self._retried_turn(conn, conv, existing, client_msg_id or ""))
                        yielded = True
                        yield retried
                        return
                    before = from_row(ConversationRecord, conv)
                    # the window: as this process remembers it when that provably equals the
                    # table (`anfu.store.windows`: same newest seq under the row lock), else read
                    earlier = () if conv.last_seq == 0 else self.recent.get(conv.id, conv.created_at, conv.last_seq,
                                                                             window - 1)
                    if earlier is None:
                        earlier = tuple(from_row(MessageRecord, m) for m in conn.execute(
                            statement(conn, "window"), {"conversation_id": conv.id, "after": message.seq - window,
                                                         "before": message.seq})) if window > 1 else ()
                    turn = OpenTurn(before=before, message=message, window=[*earlier, message], created=True)
                    yielded = True
                    yield turn
                    if turn.pending is None:
                        raise StoreError("AF505", "a new turn was left without its assessment (call "
                                                  "turn.record(data, level=…, events=…))", kind="turn")
                    turn.written = self._record_turn(conn, before, message, *turn.pending)
                # committed: the window ending with this message is the table's
                self.recent.put(conv.id, conv.created_at, turn.window, window)
            except IntegrityError:
                # a concurrent insert of the same client_msg_id (PostgreSQL) won: report it
                existing_message = self._existing_message(conversation_id, client_msg_id, same) \
                    if client_msg_id and not yielded else None
                if yielded or existing_message is None:
                    raise
                with self._read() as s:
                    conv = s.get(ConversationRow, conversation_id)
                    found = s.get(MessageRow, existing_message.id)
                    retried = OpenTurn.retried(self._retried_turn(s, conv, found, client_msg_id or ""))
                yield retried

    def _record_turn(self, conn: Any, before: ConversationRecord, message: MessageRecord, data: dict[str, Any],
                     level: int, wanted: list[tuple[str, dict[str, Any]]]) -> TurnWrite:
        """Store what a new turn's analysis found (in the turn's transaction): the assessment,
        the events, the conversation's new state (one UPDATE: sequence number, time, emotion,
        escalation level) and the analytics facts."""
        for name, _ in wanted:
            self._check_event_name(name)
        if self.mask_text:
            data = mask_data(data)
        emotion, intensity, _ = _summary(data)
        now = message.received_at
        values = {"tenant_id": before.tenant_id, "conversation_id": before.id, "upto_seq": message.seq,
                  "emotion": emotion, "intensity": intensity, "escalation_level": level, "data": data,
                  "negative_energy": negative_energy_of(data), "created_at": now}
        state = {"conv_id": before.id, "new_last_seq": message.seq, "new_updated_at": now,
                 "new_emotion": emotion, "new_intensity": intensity, "new_escalation_level": level}
        facts = facts_values(data) if conn.dialect.name == "postgresql" else None
        if facts is not None:  # PostgreSQL: one statement (`record_statement`)
            readings = turn_readings(data, message.seq)
            params = {**{f"a_{k}": v for k, v in values.items()}, **state, "f_conversation_id": before.id,
                      "f_tenant_id": before.tenant_id, **{f"f_{k}": facts[k] for k in FACT_COLUMNS},
                      **{f"r_{k}": [r[k] for r in readings.values()] for k in ("emotion", "intensity", "abusive")},
                      "r_seq": list(readings)}
            assessment_id = conn.execute(record_statement(), params).scalar_one()
        else:
            assessment_id = conn.execute(statement(conn, "assessment"), values).scalar_one()
        assessed = AssessmentRecord(id=assessment_id, **{k: v for k, v in values.items() if k != "negative_energy"})
        events: list[Event] = []
        if wanted:
            rows = [{"tenant_id": before.tenant_id, "conversation_id": before.id, "name": name,
                     "payload": self._stored(payload), "created_at": now} for name, payload in wanted]
            ids = conn.execute(statement(conn, "events"), rows).scalars().all()
            events = [Event(id=i, **row) for i, row in zip(ids, rows)]
        if facts is None:
            conn.execute(statement(conn, "conversation_turn"), state)
            write_facts(conn, before.id, before.tenant_id, data)
            write_turn_facts(conn, assessed, data)
        after = replace(before, last_seq=message.seq, updated_at=now, emotion=emotion, intensity=intensity,
                        escalation_level=level)
        return TurnWrite(message, True, after, before.escalation_level, assessed, events)

    def append_turn(self, conversation_id: int, speaker: str, text: str, assess: Assess, *,
                    client_msg_id: str | None = None, channel: str | None = None,
                    sent_at: datetime | None = None, by: Principal | None = None,
                    window: int = 16) -> TurnWrite:
        """`open_turn` for callers with a ready function (scripts, tests):
        `assess(conversation before the turn, window)` -> (data, events); the level stored is
        the one `data["escalation"]` names. The live service drives `open_turn` itself."""
        with self.open_turn(conversation_id, speaker, text, client_msg_id=client_msg_id, channel=channel,
                            sent_at=sent_at, by=by, window=window) as turn:
            if turn.created:
                data, wanted = assess(turn.before, turn.window)
                turn.record(data, level=_summary(data)[2], events=wanted)
        assert turn.written is not None
        return turn.written

    def _retried_turn(self, s: Session | Connection, conv: Any, existing: Any, client_msg_id: str) -> TurnWrite:
        if existing.conversation_id != conv.id:
            raise StoreError("AF505", f"client_msg_id {client_msg_id!r} is already used by another "
                                      "conversation; use a new id per message", kind="message")
        a = AssessmentRow.__table__.c
        stored = s.execute(select(AssessmentRow.__table__).where(a.conversation_id == conv.id, a.upto_seq == existing.seq)
                           .order_by(a.id.desc()).limit(1)).first()
        record = from_row(ConversationRecord, conv)
        return TurnWrite(from_row(MessageRecord, existing), False, record, record.escalation_level,
                         None if stored is None else from_row(AssessmentRecord, stored), [])

    @staticmethod
    def _check_message(speaker: str, text: Any) -> None:
        if speaker not in SPEAKERS:
            raise InputError("AF007", repr(speaker))
        if not isinstance(text, str):
            raise InputError("AF003", type(text).__name__)
        if is_blank(text):
            raise InputError("AF004")
        if len(text) > MAX_TEXT_CHARS:
            raise InputError("AF005", len(text), limit=MAX_TEXT_CHARS)

    @staticmethod
    def _check_event_name(name: str) -> None:
        if not EVENT_NAME.fullmatch(name):
            raise InputError("AF505", f"event name {name!r} (use noun.verb, e.g. escalation.raised)",
                             kind="event")

    def sent_message(self, conversation_id: int, client_msg_id: str) -> MessageRecord | None:
        """The message of `conversation_id` stored under `client_msg_id`, or None (AF505 when
        another conversation uses the id)."""
        return self._existing_message(conversation_id, client_msg_id)

    def _existing_message(self, conversation_id: int, client_msg_id: str,
                          text: str | None = None) -> MessageRecord | None:
        with self._read() as s:
            conv = s.get(ConversationRow, conversation_id)
            if conv is None:
                raise NotFoundError("AF503", conversation_id, kind="conversation")
            row = s.scalar(select(MessageRow).where(MessageRow.tenant_id == conv.tenant_id,
                                                    MessageRow.client_msg_id == client_msg_id))
            if row is None:
                return None
            if row.conversation_id != conversation_id:
                raise StoreError("AF505", f"client_msg_id {client_msg_id!r} is already used by another "
                                          "conversation; use a new id per message", kind="message")
            self._same_text(row, client_msg_id, text)
            return from_row(MessageRecord, row)

    def list_messages(self, conversation_id: int, visible_to: Principal | None = None, *,
                      after_seq: int = 0, limit: int = 500) -> list[MessageRecord]:
        with self._read() as s:
            self._visible_conversation(s, conversation_id, visible_to)
            rows = s.scalars(select(MessageRow).where(MessageRow.conversation_id == conversation_id,
                                                      MessageRow.seq > after_seq)
                             .order_by(MessageRow.seq).limit(limit))
            return [from_row(MessageRecord, r) for r in rows]

    def messages_of_conversations(self, visible_to: Principal, conversation_ids: list[int],
                                  ) -> dict[int, list[MessageRecord]]:
        """The messages of these conversations that `visible_to` may see, in one query, by
        conversation and in order (pages that read many conversations at once; an invisible
        conversation is simply absent)."""
        if not conversation_ids:
            return {}
        # plain rows, not ORM objects: a fortnight of contacts is thousands of messages
        with self._read() as s:
            rows = s.execute(select(*MessageRow.__table__.columns)
                             .join(ConversationRow, ConversationRow.id == MessageRow.conversation_id)
                             .where(MessageRow.conversation_id.in_(conversation_ids),
                                    access.conversation_clause(visible_to))
                             .order_by(MessageRow.conversation_id, MessageRow.seq))
            out: dict[int, list[MessageRecord]] = {}
            for r in rows:
                out.setdefault(r.conversation_id, []).append(from_row(MessageRecord, r))
            return out

    def assessments_of_conversations(self, visible_to: Principal, conversation_ids: list[int],
                                     ) -> dict[int, list[AssessmentRecord]]:
        """Every stored assessment of these conversations that `visible_to` may see, in one
        query, by conversation and in order."""
        if not conversation_ids:
            return {}
        with self._read() as s:
            rows = s.execute(select(*AssessmentRow.__table__.columns)
                             .join(ConversationRow, ConversationRow.id == AssessmentRow.conversation_id)
                             .where(AssessmentRow.conversation_id.in_(conversation_ids),
                                    access.conversation_clause(visible_to))
                             .order_by(AssessmentRow.conversation_id, AssessmentRow.id))
            out: dict[int, list[AssessmentRecord]] = {}
            for r in rows:
                out.setdefault(r.conversation_id, []).append(from_row(AssessmentRecord, r))
            return out

    def load_conversation(self, conversation_id: int, visible_to: Principal | None = None) -> Conversation:
        """The stored conversation as the core type the `Analyzer` takes."""
        record = self.get_conversation(conversation_id, visible_to)
        turns = tuple(Utterance(text=m.text, speaker=m.speaker, id=str(m.id), channel=m.channel,  # type: ignore[arg-type]
                                timestamp=m.sent_at.timestamp())
                      for m in self.list_messages(conversation_id, limit=100_000))
        return Conversation(turns=turns, id=str(record.id), channel=record.channel, industry=record.industry)

    def waiting_customers(self, waited_since: datetime, *, limit: int = 1000) -> list[tuple[ConversationRecord, datetime]]:
        """Conversations (every tenant; not closed) whose customer has been waiting for an
        agent's reply since `waited_since` or earlier: (conversation, sent_at of the first
        customer turn after the last agent turn). For the service's scheduler."""
        last_agent = (select(MessageRow.conversation_id.label("cid"), func.max(MessageRow.seq).label("seq"))
                      .where(MessageRow.speaker == "agent").group_by(MessageRow.conversation_id).subquery())
        since = func.min(MessageRow.sent_at)
        pending = (select(MessageRow.conversation_id, since.label("since"))
                   .outerjoin(last_agent, last_agent.c.cid == MessageRow.conversation_id)
                   .where(MessageRow.speaker == "customer",
                          MessageRow.seq > func.coalesce(last_agent.c.seq, 0))
                   .group_by(MessageRow.conversation_id).having(since <= waited_since).subquery())
        with self._read() as s:
            rows = s.execute(select(ConversationRow, pending.c.since)
                             .join(pending, pending.c.conversation_id == ConversationRow.id)
                             .where(ConversationRow.status != "closed")
                             .order_by(pending.c.since).limit(limit)).all()
            out = []
            for conv, first in rows:
                first = first if first.tzinfo else first.replace(tzinfo=self.clock().tzinfo)
                out.append((from_row(ConversationRecord, conv), first))
            return out

    def raise_escalation(self, conversation_id: int, level: int, name: str,
                         payload: dict[str, Any]) -> tuple[ConversationRecord, Event | None]:
        """Set the conversation's escalation level to `level` and record the event, in one
        locked transaction, unless it already stands at `level` or above (then nothing is
        written and the event is None). The service layer decides the level."""
        self._check_event_name(name)
        with _turn_lock(self.engine), self._write() as s:
            conv = s.get(ConversationRow, conversation_id, with_for_update=True)
            if conv is None:
                raise NotFoundError("AF503", conversation_id, kind="conversation")
            if conv.escalation_level >= level:
                return from_row(ConversationRecord, conv), None
            now = self.clock()
            conv.escalation_level = level
            conv.updated_at = now
            row = EventRow(tenant_id=conv.tenant_id, conversation_id=conv.id, name=name,
                           payload=self._stored(payload), created_at=now)
            s.add(row)
            s.flush()
            return from_row(ConversationRecord, conv), from_row(Event, row)

    # assessments --------------------------------------------------------------------------
    def save_assessment(self, conversation_id: int, assessment: Any, *, upto_seq: int | None = None,
                        by: Principal | None = None) -> AssessmentRecord:
        """Store an `Assessment` (or its `to_dict()`) and copy its emotion, intensity and
        escalation level onto the conversation for filtering."""
        data = assessment.to_dict() if hasattr(assessment, "to_dict") else dict(assessment)
        if self.mask_text:
            data = mask_data(data)
        emotion, intensity, level = _summary(data)
        with self._write() as s:
            conv = self._visible_conversation(s, conversation_id, by)
            if by is not None:
                access.require(by, "conversation.write", conv)
            now = self.clock()
            row = AssessmentRow(tenant_id=conv.tenant_id, conversation_id=conv.id,
                                upto_seq=conv.last_seq if upto_seq is None else upto_seq, emotion=emotion,
                                intensity=intensity, escalation_level=level, data=data,
                                negative_energy=negative_energy_of(data), created_at=now)
            conv.emotion, conv.intensity, conv.escalation_level = emotion, intensity, level
            conv.updated_at = now
            s.add(row)
            write_facts(s, conv.id, conv.tenant_id, data)
            s.flush()
            write_turn_facts(s, row, data)
            s.flush()
            return from_row(AssessmentRecord, row)

    def latest_assessment(self, conversation_id: int, visible_to: Principal | None = None) -> AssessmentRecord | None:
        with self._read() as s:
            self._visible_conversation(s, conversation_id, visible_to)
            row = s.scalar(select(AssessmentRow).where(AssessmentRow.conversation_id == conversation_id)
                           .order_by(AssessmentRow.id.desc()).limit(1))
            return None if row is None else from_row(AssessmentRecord, row)

    def latest_assessments(self, visible_to: Principal, conversation_ids: list[int]) -> dict[int, AssessmentRecord]:
        """The newest assessment of each of these conversations that `visible_to` may see, in
        one query (lists and queues; an invisible conversation is simply absent)."""
        if not conversation_ids:
            return {}
        newest = (select(func.max(AssessmentRow.id)).join(ConversationRow, ConversationRow.id == AssessmentRow.conversation_id)
                  .where(AssessmentRow.conversation_id.in_(conversation_ids), access.conversation_clause(visible_to))
                  .group_by(AssessmentRow.conversation_id))
        with self._read() as s:
            rows = s.scalars(select(AssessmentRow).where(AssessmentRow.id.in_(newest)))
            return {r.conversation_id: from_row(AssessmentRecord, r) for r in rows}

    def list_assessments(self, conversation_id: int, visible_to: Principal | None = None) -> list[AssessmentRecord]:
        with self._read() as s:
            self._visible_conversation(s, conversation_id, visible_to)
            rows = s.scalars(select(AssessmentRow).where(AssessmentRow.conversation_id == conversation_id)
                             .order_by(AssessmentRow.id))
            return [from_row(AssessmentRecord, r) for r in rows]


__all__ = ["ConversationFilter", "OpenTurn", "Store", "TurnWrite", "normalize_email", "normalize_phone"]
