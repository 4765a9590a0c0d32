"""Repository of quality inspection (质检): `InspectionStore(engine)`.

Who sees what: agents their own inspections, supervisors their team's, admins and auditors their
tenant's (`scope_clause`). Who writes what: inspections are saved by supervisors, admins and
auditors (or the system); a re-check (复核) is done by an auditor, admin or the team's
supervisor; an appeal (申诉) only by the agent whose conversation it is; the decision on an appeal
only by an auditor or admin. Auditors write nothing else in Anfu: inspection is their work.

An overturned finding counts as passed: the inspection's `final_score` is recomputed from its
stored items (an overturned automatic-zero item lifts the zero). A re-check sets the final score
by hand and closes the review.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, select
from sqlalchemy.orm import Session

from ..errors import AuthError, InspectionError, NotFoundError
from .access import Principal, can, scope_clause
from .accounts import StoreBase
from .inspection_tables import InspectionAppealRow, InspectionFindingRow, InspectionRow
from .records import Page, _Record, from_row
from .tables import ConversationRow

RUNNERS = frozenset({"supervisor", "admin", "auditor"})
REVIEWERS = frozenset({"supervisor", "admin", "auditor"})
DECIDERS = frozenset({"admin", "auditor"})
REVIEW_STATUSES = ("none", "pending", "done")
DECISIONS = ("upheld", "overturned")
MAX_TEXT = 2000


@dataclass(frozen=True)
class FindingRecord(_Record):
    id: int
    inspection_id: int
    item_id: str
    item_name: str
    kind: str
    weight: float
    evidence: list[dict[str, Any]]
    status: str
    created_at: datetime


@dataclass(frozen=True)
class InspectionRecord(_Record):
    id: int
    tenant_id: int
    conversation_id: int
    team_id: int | None
    agent_id: int | None
    scorecard: str
    scorecard_version: int
    upto_seq: int
    score: float
    final_score: float
    zeroed: bool
    passed: bool
    low: bool
    sampled: bool
    review_status: str
    review_note: str | None
    reviewed_by: int | None
    reviewed_at: datetime | None
    result: dict[str, Any]
    facts: dict[str, Any]
    conversation_at: datetime
    created_at: datetime


@dataclass(frozen=True)
class AppealRecord(_Record):
    id: int
    tenant_id: int
    finding_id: int
    inspection_id: int
    agent_id: int | None
    team_id: int | None
    reason: str
    status: str
    decision_note: str | None
    decided_by: int | None
    created_at: datetime
    decided_at: datetime | None


def _text(value: str | None, what: str) -> str | None:
    if value is None:
        return None
    if len(value) > MAX_TEXT:
        raise InspectionError("AF803", what, length=len(value), limit=MAX_TEXT)
    return value


def rescore(result: dict[str, Any], overturned: set[str]) -> tuple[float, bool]:
    """(score, zeroed) of a stored result with the `overturned` items counted as passed."""
    earned = possible = 0.0
    zeroed = False
    for item in result["items"]:
        passed = item["passed"] or item["id"] in overturned
        if item["kind"] == "zero":
            zeroed = zeroed or not passed
            continue
        if item["applies"]:
            possible += item["weight"]
            earned += item["weight"] if passed else 0.0
    score = round(100.0 * earned / possible, 1) if possible else 100.0
    return (0.0 if zeroed else score), zeroed


class InspectionStore(StoreBase):
    """Inspections, findings, re-checks and appeals, with the access rules above."""

    # saving -------------------------------------------------------------------------------
    def save_inspection(self, by: Principal | None, conversation_id: int, result: dict[str, Any], *,
                        facts: dict[str, Any], upto_seq: int, review: bool, sampled: bool,
                        pass_score: float) -> InspectionRecord:
        """Store (or refresh) the scorecard `result` of a conversation. An inspection that was
        re-checked or has appeals is kept as it is (its findings are someone's work)."""
        if by is not None and by.role not in RUNNERS:
            raise AuthError("AF417", "run quality inspection (supervisors, admins, auditors)")
        with self._write() as s:
            # locked (PostgreSQL: FOR UPDATE): two runs over the conversation at the same moment
            # store one inspection; the second finds the first's and refreshes or keeps it
            conversation = s.get(ConversationRow, conversation_id, with_for_update=True)
            if conversation is None or (by is not None and not can(by, "conversation.view", conversation)):
                raise NotFoundError("AF503", conversation_id, kind="conversation")
            row = s.scalars(select(InspectionRow).where(InspectionRow.conversation_id == conversation_id,
                                                        InspectionRow.scorecard == result["scorecard"])).first()
            if row is not None:
                touched = row.review_status == "done" or s.scalar(
                    select(func.count()).select_from(InspectionAppealRow)
                    .where(InspectionAppealRow.inspection_id == row.id)) > 0
                if touched or row.upto_seq == upto_seq:
                    return from_row(InspectionRecord, row)
                s.execute(delete(InspectionFindingRow).where(InspectionFindingRow.inspection_id == row.id))
            else:
                row = InspectionRow(tenant_id=conversation.tenant_id, conversation_id=conversation_id,
                                    scorecard=result["scorecard"], created_at=self.clock())
                s.add(row)
            row.team_id, row.agent_id = conversation.team_id, conversation.agent_id
            row.scorecard_version = int(result.get("scorecard_version", 1))
            row.upto_seq = upto_seq
            result = dict(result, pass_score=pass_score)
            row.score = row.final_score = float(result["score"])
            row.zeroed, row.passed, row.low = bool(result["zeroed"]), result["score"] >= pass_score, bool(result["low"])
            row.sampled = sampled
            row.review_status = "pending" if review else "none"
            row.result = self._stored(result)
            row.facts = self._stored(facts)
            row.conversation_at = conversation.created_at
            s.flush()
            for item in result["items"]:
                if item["passed"] is False:
                    s.add(InspectionFindingRow(tenant_id=conversation.tenant_id, inspection_id=row.id,
                                               item_id=item["id"], item_name=item["name"], kind=item["kind"],
                                               weight=item["weight"], evidence=self._stored(item["evidence"]),
                                               created_at=self.clock()))
            s.flush()
            return from_row(InspectionRecord, row)

    # reading ------------------------------------------------------------------------------
    def _visible(self, s: Session, principal: Principal, inspection_id: int) -> InspectionRow:
        row = s.scalars(select(InspectionRow).where(
            InspectionRow.id == inspection_id,
            scope_clause(principal, InspectionRow.tenant_id, InspectionRow.team_id, InspectionRow.agent_id))).first()
        if row is None:
            raise NotFoundError("AF503", inspection_id, kind="inspection")
        return row

    def get_inspection(self, principal: Principal, inspection_id: int) -> InspectionRecord:
        with self._read() as s:
            return from_row(InspectionRecord, self._visible(s, principal, inspection_id))

    def list_inspections(self, principal: Principal, *, review_status: str | None = None,
                         agent_id: int | None = None, team_id: int | None = None, low: bool | None = None,
                         since: datetime | None = None, page: int = 1, page_size: int = 50) -> Page[InspectionRecord]:
        where = [scope_clause(principal, InspectionRow.tenant_id, InspectionRow.team_id, InspectionRow.agent_id)]
        if review_status is not None:
            if review_status not in REVIEW_STATUSES:
                raise InspectionError("AF801", repr(review_status)[:40], allowed=", ".join(REVIEW_STATUSES))
            where.append(InspectionRow.review_status == review_status)
        for column, value in ((InspectionRow.agent_id, agent_id), (InspectionRow.team_id, team_id),
                              (InspectionRow.low, low)):
            if value is not None:
                where.append(column == value)
        if since is not None:
            where.append(InspectionRow.conversation_at >= since)
        page, page_size = max(1, page), min(max(1, page_size), 500)
        with self._read() as s:
            total = s.scalar(select(func.count()).select_from(InspectionRow).where(*where)) or 0
            rows = s.scalars(select(InspectionRow).where(*where).order_by(InspectionRow.final_score, InspectionRow.id)
                             .offset((page - 1) * page_size).limit(page_size)).all()
            return Page(items=[from_row(InspectionRecord, r) for r in rows], total=total, page=page,
                        page_size=page_size)

    def iter_facts(self, principal: Principal, since: datetime | None = None) -> list[tuple[InspectionRecord, list[FindingRecord]]]:
        """Every visible inspection since `since` with its findings (for the trend report)."""
        where = [scope_clause(principal, InspectionRow.tenant_id, InspectionRow.team_id, InspectionRow.agent_id)]
        if since is not None:
            where.append(InspectionRow.conversation_at >= since)
        with self._read() as s:
            rows = s.scalars(select(InspectionRow).where(*where).order_by(InspectionRow.id).limit(100_000)).all()
            findings: dict[int, list[FindingRecord]] = {}
            ids = [r.id for r in rows]
            for start in range(0, len(ids), 500):
                for f in s.scalars(select(InspectionFindingRow).where(
                        InspectionFindingRow.inspection_id.in_(ids[start:start + 500]))):
                    findings.setdefault(f.inspection_id, []).append(from_row(FindingRecord, f))
            return [(from_row(InspectionRecord, r), findings.get(r.id, [])) for r in rows]

    def findings(self, principal: Principal, inspection_id: int) -> list[FindingRecord]:
        with self._read() as s:
            self._visible(s, principal, inspection_id)
            rows = s.scalars(select(InspectionFindingRow).where(InspectionFindingRow.inspection_id == inspection_id)
                             .order_by(InspectionFindingRow.id))
            return [from_row(FindingRecord, r) for r in rows]

    # 复核 ----------------------------------------------------------------------------------
    def review(self, principal: Principal, inspection_id: int, final_score: float, note: str | None = None) -> InspectionRecord:
        """A human re-check: the final score (0–100) and a note; closes the review."""
        if principal.role not in REVIEWERS:
            raise AuthError("AF417", "re-check inspections (auditors, supervisors, admins)")
        if not isinstance(final_score, (int, float)) or isinstance(final_score, bool) or not 0 <= final_score <= 100:
            raise InspectionError("AF804", repr(final_score)[:40])
        with self._write() as s:
            row = self._visible(s, principal, inspection_id)
            row.final_score = float(final_score)
            row.passed = final_score >= float(row.result["pass_score"])
            row.review_status = "done"
            row.review_note = self._stored(_text(note, "note"))
            row.reviewed_by = principal.user_id
            row.reviewed_at = self.clock()
            s.flush()
            return from_row(InspectionRecord, row)

    # 申诉 ----------------------------------------------------------------------------------
    def appeal(self, principal: Principal, finding_id: int, reason: str) -> AppealRecord:
        """The agent of the conversation appeals a finding with a reason (AF802 when the
        finding is not open)."""
        if principal.role != "agent" or principal.user_id is None:
            raise AuthError("AF417", "appeal a finding (the agent whose conversation it is)")
        if not isinstance(reason, str) or not reason.strip():
            raise InspectionError("AF803", "reason", length=0, limit=MAX_TEXT)
        with self._write() as s:
            # the conversation's lock first, as a re-run of its inspection takes it
            # (`save_inspection` replaces the findings of an inspection nobody appealed): an appeal
            # is saved before the re-run, which then keeps the inspection, or finds its finding
            # replaced (AF503); and one appeal per finding (the finding's lock)
            seen = s.get(InspectionFindingRow, finding_id)
            inspection = s.get(InspectionRow, seen.inspection_id) if seen is not None else None
            if inspection is not None:
                s.scalars(select(ConversationRow.id).where(ConversationRow.id == inspection.conversation_id)
                          .with_for_update()).first()
            finding = s.get(InspectionFindingRow, finding_id, with_for_update=True, populate_existing=True)
            if finding is None or inspection is None or inspection.tenant_id != principal.tenant_id \
                    or inspection.agent_id != principal.user_id:
                raise NotFoundError("AF503", finding_id, kind="finding")
            if finding.status != "open":
                raise InspectionError("AF802", finding_id, status=finding.status)
            finding.status = "appealed"
            row = InspectionAppealRow(tenant_id=inspection.tenant_id, finding_id=finding.id, inspection_id=inspection.id,
                                      agent_id=principal.user_id, team_id=inspection.team_id,
                                      reason=self._stored(_text(reason.strip(), "reason")), created_at=self.clock())
            s.add(row)
            s.flush()
            return from_row(AppealRecord, row)

    def list_appeals(self, principal: Principal, *, status: str | None = None) -> list[AppealRecord]:
        where = [scope_clause(principal, InspectionAppealRow.tenant_id, InspectionAppealRow.team_id,
                              InspectionAppealRow.agent_id)]
        if status is not None:
            where.append(InspectionAppealRow.status == status)
        with self._read() as s:
            rows = s.scalars(select(InspectionAppealRow).where(*where).order_by(InspectionAppealRow.id).limit(1000))
            return [from_row(AppealRecord, r) for r in rows]

    def decide(self, principal: Principal, appeal_id: int, decision: str, note: str | None = None) -> AppealRecord:
        """The auditor upholds or overturns an appeal; overturning recomputes the final score."""
        if principal.role not in DECIDERS:
            raise AuthError("AF417", "decide appeals (auditors and admins)")
        if decision not in DECISIONS:
            raise InspectionError("AF801", repr(decision)[:40], allowed=", ".join(DECISIONS))
        with self._write() as s:
            # locked (PostgreSQL): two auditors deciding at once decide once, the other gets AF802
            appeal = s.scalars(select(InspectionAppealRow).where(
                InspectionAppealRow.id == appeal_id, InspectionAppealRow.tenant_id == principal.tenant_id)
                .with_for_update()).first()
            if appeal is None:
                raise NotFoundError("AF503", appeal_id, kind="appeal")
            if appeal.status != "open":
                raise InspectionError("AF802", f"appeal {appeal_id}", status=appeal.status)
            appeal.status = decision
            appeal.decision_note = self._stored(_text(note, "note"))
            appeal.decided_by = principal.user_id
            appeal.decided_at = self.clock()
            finding = s.get(InspectionFindingRow, appeal.finding_id)
            finding.status = decision
            inspection = s.get(InspectionRow, appeal.inspection_id)
            overturned = set(s.scalars(select(InspectionFindingRow.item_id).where(
                InspectionFindingRow.inspection_id == inspection.id, InspectionFindingRow.status == "overturned")))
            if decision == "overturned" and inspection.review_status != "done":
                inspection.final_score, inspection.zeroed = rescore(inspection.result, overturned)
                inspection.passed = inspection.final_score >= float(inspection.result["pass_score"])
            s.flush()
            return from_row(AppealRecord, appeal)

    def corrections(self, principal: Principal) -> list[tuple[FindingRecord, InspectionRecord, str]]:
        """Decided appeals of the tenant: (finding, inspection, decision), oldest first."""
        if principal.role not in DECIDERS | {"supervisor"}:
            raise AuthError("AF417", "export inspection corrections (auditors, supervisors, admins)")
        with self._read() as s:
            rows = s.execute(select(InspectionFindingRow, InspectionRow, InspectionAppealRow.status)
                             .join(InspectionRow, InspectionRow.id == InspectionFindingRow.inspection_id)
                             .join(InspectionAppealRow, InspectionAppealRow.finding_id == InspectionFindingRow.id)
                             .where(and_(scope_clause(principal, InspectionRow.tenant_id, InspectionRow.team_id,
                                                      InspectionRow.agent_id),
                                         InspectionAppealRow.status.in_(DECISIONS)))
                             .order_by(InspectionAppealRow.id)).all()
            return [(from_row(FindingRecord, f), from_row(InspectionRecord, i), status) for f, i, status in rows]
