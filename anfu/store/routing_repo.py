"""Repository of routing (issue 13): queues, agents' routing profiles (skills, cap, presence),
a team's auto-assignment switch, placing a conversation in a queue, the locked assignment of
one (`dispatch`) and the queue figures of the wallboard (counted in SQL).

Every method names its tenant; another tenant's team, queue, user or conversation is reported
missing (AF503). Which queue and which agent is the service's decision
(`anfu.service.routing`); this module stores it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..errors import NotFoundError, StoreError
from ..text.names import display_name
from . import access
from .access import Principal
from .accounts import StoreBase
from .records import ConversationRecord, Team, _Record, from_row
from .routing_tables import DEFAULT_MAX_OPEN, PRESENCE, AgentRoutingRow, RoutingQueueRow
from .tables import ConversationRow, MessageRow, TeamRow, UserRow

MAX_SKILLS = 32
CODE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_-")


@dataclass(frozen=True)
class Queue(_Record):
    id: int
    tenant_id: int
    team_id: int
    name: str
    industry: str | None
    channel: str | None
    created_at: datetime


@dataclass(frozen=True)
class AgentProfile(_Record):
    """An agent's routing profile with the figures routing decides on: `open_count` counts the
    conversations assigned to them that are not closed; `idle_since` is their last assignment,
    or the moment they became available when they have had none since."""

    user_id: int
    tenant_id: int
    username: str
    display_name: str
    team_id: int | None
    active: bool
    industries: list[str]
    channels: list[str]
    max_open: int
    presence: str
    presence_since: datetime | None
    last_assigned_at: datetime | None
    open_count: int

    @property
    def idle_since(self) -> datetime | None:
        if self.last_assigned_at is None:
            return self.presence_since
        if self.presence_since is None:
            return self.last_assigned_at
        return max(self.last_assigned_at, self.presence_since)


@dataclass(frozen=True)
class QueueFigures(_Record):
    """The wallboard's row of one queue (`queue_id` None: the team's conversations that match
    no queue): open conversations, those nobody handles (`unassigned`), those whose customer
    waits for an agent's reply (`waiting`, assigned or not) and the oldest unassigned one."""

    queue_id: int | None
    team_id: int | None
    name: str | None
    open: int
    unassigned: int
    waiting: int
    oldest_unassigned_at: datetime | None


@dataclass
class Dispatch:
    """Inside `RoutingStore.dispatch`: the conversation (locked) and the team's agents with
    their load, read under the team's lock. `assign(user_id)` gives it to one of them."""

    conversation: ConversationRecord
    candidates: list[AgentProfile]
    _session: Session
    _row: ConversationRow
    _clock: Any
    assigned: ConversationRecord | None = None

    def assign(self, user_id: int) -> ConversationRecord:
        if user_id not in {c.user_id for c in self.candidates}:
            raise StoreError("AF505", f"agent {user_id} is not a candidate of this dispatch", kind="routing")
        now = self._clock()
        self._row.agent_id = user_id
        self._row.updated_at = now
        profile = _profile_for_update(self._session, self._row.tenant_id, user_id, now)
        profile.last_assigned_at = now
        self._session.flush()
        self.assigned = from_row(ConversationRecord, self._row)
        return self.assigned


def _default_profile(tenant_id: int, user_id: int, now: datetime) -> AgentRoutingRow:
    return AgentRoutingRow(user_id=user_id, tenant_id=tenant_id, industries=[], channels=[],
                           max_open=DEFAULT_MAX_OPEN, presence="offline", presence_since=now,
                           last_assigned_at=None)


def _profile_for_update(s: Session, tenant_id: int, user_id: int, now: datetime) -> AgentRoutingRow:
    """The agent's routing profile, locked (PostgreSQL: FOR UPDATE), created with the defaults
    on first use. Two first uses at once (the agent's presence, an admin's skills, a dispatch)
    insert it once: the insert does nothing when a concurrent one committed first."""
    row = s.get(AgentRoutingRow, user_id, with_for_update=True)
    if row is not None:
        return row
    default = _default_profile(tenant_id, user_id, now)
    values = {c.key: getattr(default, c.key) for c in AgentRoutingRow.__table__.columns}
    insert = postgresql.insert if s.get_bind().dialect.name == "postgresql" else sqlite.insert
    s.execute(insert(AgentRoutingRow).values(**values).on_conflict_do_nothing(index_elements=["user_id"]))
    row = s.get(AgentRoutingRow, user_id, with_for_update=True)
    assert row is not None  # inserted now, or by the concurrent first use
    return row


def _codes(values: Any, kind: str) -> list[str]:
    """Skill codes as stored: lower-case codes (e.g. `power`, `webchat`), sorted, no repeats."""
    if not isinstance(values, (list, tuple)) or len(values) > MAX_SKILLS:
        raise StoreError("AF505", f"{kind}: a list of at most {MAX_SKILLS} codes", kind="routing")
    out = set()
    for value in values:
        if not isinstance(value, str) or not value or len(value) > 32 or not set(value) <= CODE_CHARS:
            raise StoreError("AF505", f"{kind} {value!r} (a code such as power or webchat)", kind="routing")
        out.add(value)
    return sorted(out)


def _code(value: str | None, kind: str) -> str | None:
    if value is None or value == "":
        return None
    return _codes([value], kind)[0]


class RoutingStore(StoreBase):
    """`RoutingStore(engine)`: the routing tables and the routing columns of teams and conversations."""

    # teams ------------------------------------------------------------------------------
    def _team(self, s: Session, tenant_id: int, team_id: int) -> TeamRow:
        row = s.get(TeamRow, team_id)
        if row is None or row.tenant_id != tenant_id:
            raise NotFoundError("AF503", team_id, kind="team")
        return row

    def update_team(self, tenant_id: int, team_id: int, *, name: str | None = None,
                    auto_assign: bool | None = None) -> Team:
        """Rename a team (AF504 when the tenant has one of that name) or switch auto-assignment."""
        try:
            with self._write() as s:
                row = self._team(s, tenant_id, team_id)
                if name is not None:
                    row.name = display_name(name, "team")
                if auto_assign is not None:
                    row.auto_assign = bool(auto_assign)
                s.flush()
                return from_row(Team, row)
        except IntegrityError:
            raise StoreError("AF504", name, kind="team") from None

    def auto_assign_teams(self, tenant_id: int) -> list[int]:
        with self._read() as s:
            return list(s.scalars(select(TeamRow.id).where(TeamRow.tenant_id == tenant_id,
                                                           TeamRow.auto_assign.is_(True)).order_by(TeamRow.id)))

    # queues -----------------------------------------------------------------------------
    def list_queues(self, tenant_id: int, *, team_id: int | None = None) -> list[Queue]:
        where = [RoutingQueueRow.tenant_id == tenant_id]
        if team_id is not None:
            where.append(RoutingQueueRow.team_id == team_id)
        with self._read() as s:
            rows = s.scalars(select(RoutingQueueRow).where(*where).order_by(RoutingQueueRow.id))
            return [from_row(Queue, r) for r in rows]

    def get_queue(self, tenant_id: int, queue_id: int) -> Queue:
        with self._read() as s:
            return from_row(Queue, self._queue(s, tenant_id, queue_id))

    def _queue(self, s: Session, tenant_id: int, queue_id: int) -> RoutingQueueRow:
        row = s.get(RoutingQueueRow, queue_id)
        if row is None or row.tenant_id != tenant_id:
            raise NotFoundError("AF503", queue_id, kind="queue")
        return row

    def create_queue(self, tenant_id: int, team_id: int, name: str, *, industry: str | None = None,
                     channel: str | None = None) -> Queue:
        name = display_name(name, "queue")
        industry, channel = _code(industry, "industry"), _code(channel, "channel")
        try:
            with self._write() as s:
                self._team(s, tenant_id, team_id)
                row = RoutingQueueRow(tenant_id=tenant_id, team_id=team_id, name=name, industry=industry,
                                      channel=channel, created_at=self.clock())
                s.add(row)
                s.flush()
                return from_row(Queue, row)
        except IntegrityError:
            raise StoreError("AF504", name, kind="queue") from None

    def update_queue(self, tenant_id: int, queue_id: int, **changes: Any) -> Queue:
        """Change a queue's `name`, `team_id`, `industry` or `channel` (None: any)."""
        unknown = set(changes) - {"name", "team_id", "industry", "channel"}
        if unknown:
            raise StoreError("AF505", f"cannot change {sorted(unknown)}", kind="queue")
        try:
            with self._write() as s:
                row = self._queue(s, tenant_id, queue_id)
                if "name" in changes:
                    row.name = display_name(changes["name"], "queue")
                if "team_id" in changes:
                    self._team(s, tenant_id, changes["team_id"])
                    row.team_id = changes["team_id"]
                for key in ("industry", "channel"):
                    if key in changes:
                        setattr(row, key, _code(changes[key], key))
                s.flush()
                return from_row(Queue, row)
        except IntegrityError:
            raise StoreError("AF504", changes.get("name"), kind="queue") from None

    def delete_queue(self, tenant_id: int, queue_id: int) -> Queue:
        """Remove a queue; its conversations stay in their team, in no queue."""
        with self._write() as s:
            row = self._queue(s, tenant_id, queue_id)
            record = from_row(Queue, row)
            s.execute(update(ConversationRow).where(ConversationRow.tenant_id == tenant_id,
                                                    ConversationRow.queue_id == queue_id).values(queue_id=None))
            s.delete(row)
            return record

    # agents -----------------------------------------------------------------------------
    def _profiles(self, s: Session, tenant_id: int, where: list[Any]) -> list[AgentProfile]:
        load = (select(ConversationRow.agent_id.label("uid"), func.count().label("n"))
                .where(ConversationRow.tenant_id == tenant_id, ConversationRow.agent_id.is_not(None),
                       ConversationRow.status != "closed")
                .group_by(ConversationRow.agent_id).subquery())
        rows = s.execute(select(UserRow, AgentRoutingRow, func.coalesce(load.c.n, 0))
                         .outerjoin(AgentRoutingRow, AgentRoutingRow.user_id == UserRow.id)
                         .outerjoin(load, load.c.uid == UserRow.id)
                         .where(UserRow.tenant_id == tenant_id, UserRow.role == "agent", *where).order_by(UserRow.id)).all()
        out = []
        for user, profile, count in rows:
            out.append(AgentProfile(
                user_id=user.id, tenant_id=user.tenant_id, username=user.username, display_name=user.display_name,
                team_id=user.team_id, active=user.active,
                industries=list(profile.industries) if profile else [],
                channels=list(profile.channels) if profile else [],
                max_open=profile.max_open if profile else DEFAULT_MAX_OPEN,
                presence=profile.presence if profile else "offline",
                presence_since=profile.presence_since if profile else None,
                last_assigned_at=profile.last_assigned_at if profile else None, open_count=int(count)))
        return out

    def agent_profiles(self, tenant_id: int, *, team_id: int | None = None) -> list[AgentProfile]:
        """The tenant's agents (or one team's) with their routing profile and load."""
        where = [] if team_id is None else [UserRow.team_id == team_id]
        with self._read() as s:
            return self._profiles(s, tenant_id, where)

    def agent_profile(self, tenant_id: int, user_id: int) -> AgentProfile:
        with self._read() as s:
            found = self._profiles(s, tenant_id, [UserRow.id == user_id])
        if not found:
            raise NotFoundError("AF503", user_id, kind="agent")
        return found[0]

    def _profile_row(self, s: Session, tenant_id: int, user_id: int) -> AgentRoutingRow:
        user = s.get(UserRow, user_id)
        if user is None or user.tenant_id != tenant_id or user.role != "agent":
            raise NotFoundError("AF503", user_id, kind="agent")
        return _profile_for_update(s, tenant_id, user_id, self.clock())

    def set_profile(self, tenant_id: int, user_id: int, *, industries: list[str] | None = None,
                    channels: list[str] | None = None, max_open: int | None = None) -> AgentProfile:
        """Set an agent's skills (industry and channel codes; empty: any) and cap (0..100)."""
        if max_open is not None and (isinstance(max_open, bool) or not isinstance(max_open, int)
                                     or not 0 <= max_open <= 100):
            raise StoreError("AF505", f"max_open {max_open!r} (0..100)", kind="routing")
        with self._write() as s:
            row = self._profile_row(s, tenant_id, user_id)
            if industries is not None:
                row.industries = _codes(industries, "industry")
            if channels is not None:
                row.channels = _codes(channels, "channel")
            if max_open is not None:
                row.max_open = max_open
            s.flush()
        return self.agent_profile(tenant_id, user_id)

    def set_presence(self, tenant_id: int, user_id: int, presence: str) -> AgentProfile:
        if presence not in PRESENCE:
            raise StoreError("AF505", f"presence {presence!r}, use {'/'.join(PRESENCE)}", kind="routing")
        with self._write() as s:
            row = self._profile_row(s, tenant_id, user_id)
            if row.presence != presence:
                row.presence = presence
                row.presence_since = self.clock()
            s.flush()
        return self.agent_profile(tenant_id, user_id)

    # conversations ----------------------------------------------------------------------
    def place(self, conversation_id: int, *, team_id: int | None, queue_id: int | None) -> ConversationRecord:
        """Put a conversation in a team's queue (the system's routing; no principal)."""
        with self._write() as s:
            row = s.get(ConversationRow, conversation_id)
            if row is None:
                raise NotFoundError("AF503", conversation_id, kind="conversation")
            if team_id is not None:
                self._team(s, row.tenant_id, team_id)
            if queue_id is not None:
                queue = self._queue(s, row.tenant_id, queue_id)
                if queue.team_id != team_id:
                    raise StoreError("AF505", f"queue {queue_id} is not a queue of team {team_id}", kind="queue")
            row.team_id, row.queue_id = team_id, queue_id
            row.updated_at = self.clock()
            s.flush()
            return from_row(ConversationRecord, row)

    @contextmanager
    def dispatch(self, conversation_id: int) -> Iterator[Dispatch | None]:
        """Assign one conversation under its team's lock: yields None when it is not open, has
        an agent already or has no team; otherwise a `Dispatch` whose candidates are the team's
        active agents with their profile and load. Concurrent dispatches of a team queue on the
        team's row lock (PostgreSQL `FOR NO KEY UPDATE`; SQLite serialises every write), so two
        arrivals never both see an agent's last free slot."""
        with self._write() as s:
            head = s.get(ConversationRow, conversation_id)
            if head is None:
                raise NotFoundError("AF503", conversation_id, kind="conversation")
            if head.team_id is None:
                yield None
                return
            team = s.get(TeamRow, head.team_id, with_for_update={"key_share": True})
            row = s.get(ConversationRow, conversation_id, with_for_update=True, populate_existing=True)
            if team is None or row is None or row.team_id != team.id or row.agent_id is not None \
                    or row.status != "open":
                yield None
                return
            candidates = self._profiles(s, row.tenant_id, [UserRow.team_id == team.id, UserRow.active.is_(True)])
            yield Dispatch(from_row(ConversationRecord, row), candidates, s, row, self.clock)

    def release(self, conversation_id: int, agent_id: int) -> ConversationRecord | None:
        """Take an open conversation back from `agent_id` into its queue (nobody handles it);
        None when it is no longer theirs, closed, or taken over by a supervisor."""
        with self._write() as s:
            row = s.get(ConversationRow, conversation_id, with_for_update=True)
            if row is None or row.agent_id != agent_id or row.status != "open" or row.taken_over_by is not None:
                return None
            row.agent_id = None
            row.updated_at = self.clock()
            s.flush()
            return from_row(ConversationRecord, row)

    def assigned_open(self, tenant_id: int, agent_id: int) -> list[ConversationRecord]:
        """The agent's open conversations, oldest first."""
        with self._read() as s:
            rows = s.scalars(select(ConversationRow).where(
                ConversationRow.tenant_id == tenant_id, ConversationRow.agent_id == agent_id,
                ConversationRow.status == "open").order_by(ConversationRow.created_at, ConversationRow.id))
            return [from_row(ConversationRecord, r) for r in rows]

    def queued(self, tenant_id: int, team_id: int, *, limit: int = 200) -> list[ConversationRecord]:
        """The team's open conversations nobody handles, oldest first (to hand out when an
        agent becomes available or a slot frees)."""
        with self._read() as s:
            rows = s.scalars(select(ConversationRow).where(
                ConversationRow.tenant_id == tenant_id, ConversationRow.team_id == team_id,
                ConversationRow.agent_id.is_(None), ConversationRow.status == "open")
                .order_by(ConversationRow.created_at, ConversationRow.id).limit(limit))
            return [from_row(ConversationRecord, r) for r in rows]

    def queue_figures(self, visible_to: Principal) -> list[QueueFigures]:
        """Per queue of what `visible_to` may see: open, unassigned and waiting conversations
        (grouped and counted in SQL). Waiting: the newest message is the customer's."""
        last = (select(MessageRow.speaker).where(MessageRow.conversation_id == ConversationRow.id)
                .order_by(MessageRow.seq.desc()).limit(1).correlate(ConversationRow).scalar_subquery())
        unassigned = ConversationRow.agent_id.is_(None)
        stmt = (select(ConversationRow.queue_id, ConversationRow.team_id, func.count(),
                       func.sum(case((unassigned, 1), else_=0)),
                       func.sum(case((last == "customer", 1), else_=0)),
                       func.min(case((unassigned, ConversationRow.created_at), else_=None)))
                .where(access.conversation_clause(visible_to), ConversationRow.status == "open")
                .group_by(ConversationRow.queue_id, ConversationRow.team_id))
        queues_where = [RoutingQueueRow.tenant_id == visible_to.tenant_id]
        if visible_to.role not in access.TENANT_WIDE:
            queues_where.append(RoutingQueueRow.team_id == visible_to.team_id)
        with self._read() as s:
            counted = s.execute(stmt).all()
            queues = {q.id: q for q in s.scalars(select(RoutingQueueRow).where(*queues_where))}
        rows: dict[tuple[int | None, int | None], list[Any]] = {}
        for queue_id, team_id, total, free, waiting, oldest in counted:
            queue = queues.get(queue_id) if queue_id is not None else None
            key = (queue.id if queue else None, queue.team_id if queue else team_id)
            acc = rows.setdefault(key, [0, 0, 0, None])
            acc[0] += int(total)
            acc[1] += int(free or 0)
            acc[2] += int(waiting or 0)
            if oldest is not None:
                oldest = oldest if isinstance(oldest, datetime) else datetime.fromisoformat(str(oldest))
                oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=self.clock().tzinfo)
                acc[3] = oldest if acc[3] is None else min(acc[3], oldest)
        for queue in queues.values():
            rows.setdefault((queue.id, queue.team_id), [0, 0, 0, None])
        out = [QueueFigures(queue_id=qid, team_id=tid, name=queues[qid].name if qid in queues else None,
                            open=v[0], unassigned=v[1], waiting=v[2], oldest_unassigned_at=v[3])
               for (qid, tid), v in rows.items()]
        return sorted(out, key=lambda f: (-f.unassigned, -f.waiting, f.team_id or 0, f.queue_id is None,
                                          f.queue_id or 0))


__all__ = ["AgentProfile", "Dispatch", "Queue", "QueueFigures", "RoutingStore"]
