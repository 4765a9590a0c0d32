"""Repository of agent wellbeing and training: `CareStore(engine)`.

Privacy of wellbeing (员工心理健康): a check-in's self-check answers and note are returned only to
the agent who wrote them (`my_checkins`). Supervisors (their team) and admins (their tenant) see
requests for support (`support_requests`: who asked for a peer or the team lead, when) as a record
type without those fields; nobody else reads a check-in at all.

Training: scenarios written by trainers (supervisors, admins) for their tenant; assignments of a
scenario to an agent (a supervisor assigns within their team); simulator sessions (the agent's
own; supervisors see their team's, admins and auditors their tenant's) and the anonymised case
library (every role of the tenant reads it; supervisors, admins and auditors add to it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.exc import IntegrityError

from ..errors import AuthError, NotFoundError, TrainingError, WellbeingError
from .access import Principal, can, scope_clause
from .accounts import StoreBase
from .care_tables import (TrainingAssignmentRow, TrainingCaseRow, TrainingScenarioRow, TrainingSessionRow,
                          WellbeingCheckinRow, WellbeingPrefRow)
from .records import _Record, from_row
from .tables import ConversationRow, UserRow

CHECKIN_KINDS = ("break", "breathing", "reframe", "peer", "lead", "dismiss")
SUPPORT_KINDS = ("peer", "lead")
MAX_NOTE = 2000
MAX_SELF_CHECK = 10
TRAINER_ROLES = frozenset({"supervisor", "admin"})
CASE_WRITERS = frozenset({"supervisor", "admin", "auditor"})


def current_team(user_id: Any) -> Any:
    """The team a person belongs to now (a scalar subquery on `users`): an agent's requests for
    support and training sessions follow them to a new team lead, not the row's stamp of the team
    they were in when it was written."""
    return select(UserRow.team_id).where(UserRow.id == user_id).scalar_subquery()


@dataclass(frozen=True)
class CheckinRecord(_Record):
    """A check-in as its own agent sees it (private fields included)."""

    id: int
    tenant_id: int
    user_id: int
    team_id: int | None
    conversation_id: int | None
    kind: str
    self_check: list[int] | None
    note: str | None
    created_at: datetime
    handled_at: datetime | None


@dataclass(frozen=True)
class SupportRequest(_Record):
    """A request for a peer or the team lead as a supervisor sees it: no self-check, no note."""

    id: int
    user_id: int
    team_id: int | None
    kind: str
    created_at: datetime
    handled_at: datetime | None


@dataclass(frozen=True)
class ScenarioRecord(_Record):
    id: int
    tenant_id: int
    scenario_id: str
    data: dict[str, Any]
    created_by: int | None
    created_at: datetime


@dataclass(frozen=True)
class AssignmentRecord(_Record):
    id: int
    tenant_id: int
    team_id: int | None
    agent_id: int
    scenario_id: str
    assigned_by: int | None
    created_at: datetime
    completed_at: datetime | None
    session_id: int | None


@dataclass(frozen=True)
class SessionRecord(_Record):
    id: int
    tenant_id: int
    team_id: int | None
    agent_id: int
    scenario_id: str
    seed: int
    replies: list[str]
    status: str
    score: int | None
    outcome: str | None
    skills: dict[str, float] | None
    summary: dict[str, Any] | None
    assignment_id: int | None
    created_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True)
class CaseRecord(_Record):
    id: int
    tenant_id: int
    source_conversation_id: int | None
    title: str
    industry: str | None
    cause: str | None
    persona: str | None
    data: dict[str, Any]
    created_by: int | None
    created_at: datetime


def _own_user(principal: Principal) -> int:
    if principal.user_id is None:
        raise AuthError("AF417", "use wellbeing and training with an API token (sign in as the person)")
    return principal.user_id


class CareStore(StoreBase):
    """`CareStore(engine)`: wellbeing check-ins and preferences, training scenarios, assignments,
    sessions and cases of every tenant, with the access rules above."""

    # wellbeing ----------------------------------------------------------------------------------
    def add_checkin(self, by: Principal, kind: str, *, conversation_id: int | None = None,
                    self_check: list[int] | None = None, note: str | None = None) -> CheckinRecord:
        """The agent's answer to the after-contact prompt (AF711/AF712/AF713 on bad values)."""
        user_id = _own_user(by)
        if kind not in CHECKIN_KINDS:
            raise WellbeingError("AF711", repr(kind)[:40], allowed=", ".join(CHECKIN_KINDS))
        if self_check is not None:
            if not isinstance(self_check, list) or len(self_check) > MAX_SELF_CHECK or not all(
                    isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 4 for v in self_check):
                raise WellbeingError("AF712", repr(self_check)[:60])
        if note is not None and len(note) > MAX_NOTE:
            raise WellbeingError("AF713", len(note), limit=MAX_NOTE)
        with self._write() as s:
            if conversation_id is not None:
                conversation = s.get(ConversationRow, conversation_id)
                if conversation is None or not can(by, "conversation.view", conversation):
                    raise NotFoundError("AF503", conversation_id, kind="conversation")
            row = WellbeingCheckinRow(tenant_id=by.tenant_id, user_id=user_id, team_id=by.team_id,
                                      conversation_id=conversation_id, kind=kind, self_check=self_check,
                                      note=(note or None), created_at=self.clock())
            s.add(row)
            s.flush()
            return from_row(CheckinRecord, row)

    def my_checkins(self, principal: Principal, *, limit: int = 200) -> list[CheckinRecord]:
        """The signed-in agent's own check-ins, newest first (the only way to read the private parts)."""
        user_id = _own_user(principal)
        with self._read() as s:
            rows = s.scalars(select(WellbeingCheckinRow).where(
                WellbeingCheckinRow.tenant_id == principal.tenant_id, WellbeingCheckinRow.user_id == user_id)
                .order_by(WellbeingCheckinRow.id.desc()).limit(limit)).all()
            return [from_row(CheckinRecord, r) for r in rows]

    def _support_clause(self, principal: Principal) -> ColumnElement[bool]:
        if principal.role not in TRAINER_ROLES:
            raise AuthError("AF417", "see requests for support (supervisors and admins)")
        return and_(scope_clause(principal, WellbeingCheckinRow.tenant_id, current_team(WellbeingCheckinRow.user_id),
                                 WellbeingCheckinRow.user_id),
                    WellbeingCheckinRow.kind.in_(SUPPORT_KINDS))

    def support_requests(self, principal: Principal, *, open_only: bool = False, limit: int = 200) -> list[SupportRequest]:
        """Requests for a peer or the team lead that `principal` (supervisor: team, admin: tenant)
        may see; never the self-check or note."""
        where = [self._support_clause(principal)]
        if open_only:
            where.append(WellbeingCheckinRow.handled_at.is_(None))
        with self._read() as s:
            rows = s.execute(select(WellbeingCheckinRow.id, WellbeingCheckinRow.user_id, WellbeingCheckinRow.team_id,
                                    WellbeingCheckinRow.kind, WellbeingCheckinRow.created_at,
                                    WellbeingCheckinRow.handled_at)
                             .where(*where).order_by(WellbeingCheckinRow.id.desc()).limit(limit)).all()
            return [SupportRequest(*row) for row in rows]

    def handle_request(self, principal: Principal, request_id: int) -> SupportRequest:
        with self._write() as s:
            row = s.scalars(select(WellbeingCheckinRow).where(
                WellbeingCheckinRow.id == request_id, self._support_clause(principal))).first()
            if row is None:
                raise NotFoundError("AF503", request_id, kind="support request")
            row.handled_at = row.handled_at or self.clock()
            row.handled_by = principal.user_id
            s.flush()
            return SupportRequest(row.id, row.user_id, row.team_id, row.kind, row.created_at, row.handled_at)

    def acknowledged_contacts(self, principal: Principal, since: datetime) -> set[int]:
        """Conversations the agent already answered the after-contact prompt for."""
        user_id = _own_user(principal)
        with self._read() as s:
            ids = s.scalars(select(WellbeingCheckinRow.conversation_id).where(
                WellbeingCheckinRow.user_id == user_id, WellbeingCheckinRow.created_at >= since,
                WellbeingCheckinRow.conversation_id.is_not(None))).all()
            return {i for i in ids if i is not None}

    def set_peer_support(self, principal: Principal, enabled: bool) -> bool:
        user_id = _own_user(principal)
        with self._write() as s:
            row = s.get(WellbeingPrefRow, user_id)
            if row is None:
                row = WellbeingPrefRow(user_id=user_id, tenant_id=principal.tenant_id)
                s.add(row)
            row.peer_support = bool(enabled)
            row.updated_at = self.clock()
            return row.peer_support

    def peer_support(self, principal: Principal) -> bool:
        with self._read() as s:
            row = s.get(WellbeingPrefRow, _own_user(principal))
            return bool(row and row.peer_support)

    def peers(self, principal: Principal) -> list[int]:
        """Colleagues of the same team who opted into peer support (not the asker)."""
        if principal.team_id is None:
            return []
        with self._read() as s:
            ids = s.scalars(select(WellbeingPrefRow.user_id).join(UserRow, UserRow.id == WellbeingPrefRow.user_id)
                            .where(WellbeingPrefRow.tenant_id == principal.tenant_id, WellbeingPrefRow.peer_support,
                                   UserRow.team_id == principal.team_id, UserRow.active,
                                   UserRow.id != (principal.user_id or -1))).all()
            return sorted(ids)

    # training: scenarios ---------------------------------------------------------------------------
    def save_scenario(self, by: Principal, data: dict[str, Any]) -> ScenarioRecord:
        """Store a trainer's scenario (validate it first); AF707 when the id is taken."""
        if by.role not in TRAINER_ROLES:
            raise AuthError("AF417", "write training scenarios (trainers: supervisors and admins)")
        try:
            with self._write() as s:
                row = TrainingScenarioRow(tenant_id=by.tenant_id, scenario_id=data["id"], data=data,
                                          created_by=by.user_id, created_at=self.clock())
                s.add(row)
                s.flush()
                return from_row(ScenarioRecord, row)
        except IntegrityError:
            raise TrainingError("AF707", data["id"]) from None

    def list_scenarios(self, tenant_id: int) -> list[ScenarioRecord]:
        with self._read() as s:
            rows = s.scalars(select(TrainingScenarioRow).where(TrainingScenarioRow.tenant_id == tenant_id)
                             .order_by(TrainingScenarioRow.scenario_id)).all()
            return [from_row(ScenarioRecord, r) for r in rows]

    # training: assignments -------------------------------------------------------------------------
    def assign(self, by: Principal, agent_id: int, scenario_id: str) -> AssignmentRecord:
        """A trainer assigns a scenario to an agent (a supervisor: an agent of their team)."""
        if by.role not in TRAINER_ROLES:
            raise AuthError("AF417", "assign training (trainers: supervisors and admins)")
        with self._write() as s:
            agent = s.get(UserRow, agent_id)
            # an active agent (of the supervisor's team): training is not assigned to an auditor,
            # a team lead, an admin or someone who has left
            if agent is None or agent.tenant_id != by.tenant_id or agent.role != "agent" or not agent.active or (
                    by.role == "supervisor" and (by.team_id is None or agent.team_id != by.team_id)):
                raise NotFoundError("AF503", agent_id, kind="agent")
            row = TrainingAssignmentRow(tenant_id=by.tenant_id, team_id=agent.team_id, agent_id=agent_id,
                                        scenario_id=scenario_id, assigned_by=by.user_id, created_at=self.clock())
            s.add(row)
            s.flush()
            return from_row(AssignmentRecord, row)

    def list_assignments(self, principal: Principal, *, open_only: bool = False) -> list[AssignmentRecord]:
        where = [scope_clause(principal, TrainingAssignmentRow.tenant_id, TrainingAssignmentRow.team_id,
                              TrainingAssignmentRow.agent_id)]
        if open_only:
            where.append(TrainingAssignmentRow.completed_at.is_(None))
        with self._read() as s:
            rows = s.scalars(select(TrainingAssignmentRow).where(*where)
                             .order_by(TrainingAssignmentRow.id.desc())).all()
            return [from_row(AssignmentRecord, r) for r in rows]

    # training: sessions ----------------------------------------------------------------------------
    def start_session(self, by: Principal, scenario_id: str, seed: int, *,
                      assignment_id: int | None = None) -> SessionRecord:
        user_id = _own_user(by)
        with self._write() as s:
            if assignment_id is not None:
                assignment = s.get(TrainingAssignmentRow, assignment_id)
                if assignment is None or assignment.agent_id != user_id or assignment.tenant_id != by.tenant_id:
                    raise NotFoundError("AF503", assignment_id, kind="assignment")
                scenario_id = assignment.scenario_id
            row = TrainingSessionRow(tenant_id=by.tenant_id, team_id=by.team_id, agent_id=user_id,
                                     scenario_id=scenario_id, seed=seed, replies=[], status="active",
                                     assignment_id=assignment_id, created_at=self.clock())
            s.add(row)
            s.flush()
            return from_row(SessionRecord, row)

    def _session_clause(self, principal: Principal) -> ColumnElement[bool]:
        return scope_clause(principal, TrainingSessionRow.tenant_id, current_team(TrainingSessionRow.agent_id),
                            TrainingSessionRow.agent_id)

    def get_session(self, principal: Principal, session_id: int) -> SessionRecord:
        with self._read() as s:
            row = s.scalars(select(TrainingSessionRow).where(TrainingSessionRow.id == session_id,
                                                             self._session_clause(principal))).first()
            if row is None:
                raise NotFoundError("AF503", session_id, kind="training session")
            return from_row(SessionRecord, row)

    def _own_session(self, s: Any, principal: Principal, session_id: int) -> TrainingSessionRow:
        row = s.get(TrainingSessionRow, session_id)
        if row is None or row.tenant_id != principal.tenant_id or row.agent_id != principal.user_id:
            raise NotFoundError("AF503", session_id, kind="training session")
        if row.status != "active":
            raise TrainingError("AF704", row.scenario_id)
        return row

    def add_reply(self, principal: Principal, session_id: int, text: str) -> SessionRecord:
        """Append the trainee's reply (only the trainee, only while the session is active)."""
        with self._write() as s:
            row = self._own_session(s, principal, session_id)
            row.replies = [*row.replies, text]
            s.flush()
            return from_row(SessionRecord, row)

    def finish_session(self, principal: Principal, session_id: int, *, score: int, outcome: str,
                       skills: dict[str, float], summary: dict[str, Any]) -> SessionRecord:
        with self._write() as s:
            row = self._own_session(s, principal, session_id)
            now = self.clock()
            row.status, row.score, row.outcome, row.skills, row.summary, row.finished_at = \
                "finished", score, outcome, skills, summary, now
            if row.assignment_id is not None:
                assignment = s.get(TrainingAssignmentRow, row.assignment_id)
                if assignment is not None and assignment.completed_at is None:
                    assignment.completed_at, assignment.session_id = now, row.id
            s.flush()
            return from_row(SessionRecord, row)

    def list_sessions(self, principal: Principal, *, agent_id: int | None = None, finished_only: bool = False,
                      limit: int = 500) -> list[SessionRecord]:
        """Sessions `principal` may see, oldest first (progress over time)."""
        where = [self._session_clause(principal)]
        if agent_id is not None:
            where.append(TrainingSessionRow.agent_id == agent_id)
        if finished_only:
            where.append(TrainingSessionRow.status == "finished")
        with self._read() as s:
            rows = s.scalars(select(TrainingSessionRow).where(*where)
                             .order_by(TrainingSessionRow.id.desc()).limit(limit)).all()
            return [from_row(SessionRecord, r) for r in reversed(rows)]

    # training: cases -------------------------------------------------------------------------------
    def save_case(self, by: Principal, *, title: str, data: dict[str, Any], source_conversation_id: int | None,
                  industry: str | None, cause: str | None, persona: str | None) -> CaseRecord:
        if by.role not in CASE_WRITERS:
            raise AuthError("AF417", "add cases to the case library (supervisors, admins, auditors)")
        with self._write() as s:
            if source_conversation_id is not None:
                conversation = s.get(ConversationRow, source_conversation_id)
                if conversation is None or not can(by, "conversation.view", conversation):
                    raise NotFoundError("AF503", source_conversation_id, kind="conversation")
            row = TrainingCaseRow(tenant_id=by.tenant_id, source_conversation_id=source_conversation_id,
                                  title=title[:200], industry=industry, cause=cause, persona=persona, data=data,
                                  created_by=by.user_id, created_at=self.clock())
            s.add(row)
            s.flush()
            return from_row(CaseRecord, row)

    def list_cases(self, principal: Principal) -> list[CaseRecord]:
        with self._read() as s:
            rows = s.scalars(select(TrainingCaseRow).where(TrainingCaseRow.tenant_id == principal.tenant_id)
                             .order_by(TrainingCaseRow.id.desc())).all()
            return [from_row(CaseRecord, r) for r in rows]

    def get_case(self, principal: Principal, case_id: int) -> CaseRecord:
        with self._read() as s:
            row = s.get(TrainingCaseRow, case_id)
            if row is None or row.tenant_id != principal.tenant_id:
                raise NotFoundError("AF503", case_id, kind="case")
            return from_row(CaseRecord, row)


def is_trainer(principal: Principal) -> bool:
    return principal.role in TRAINER_ROLES


def sees_team(principal: Principal) -> bool:
    """Supervisors (their team) and admins (their tenant) see team load."""
    return principal.role in TRAINER_ROLES


__all__ = ["CASE_WRITERS", "CHECKIN_KINDS", "SUPPORT_KINDS", "TRAINER_ROLES", "AssignmentRecord", "CareStore",
           "CaseRecord", "CheckinRecord", "ScenarioRecord", "SessionRecord", "SupportRequest",
           "is_trainer", "sees_team"]
