"""Quality inspection API (质检): apply a centre's scorecard to stored conversations (live or
closed), the 复核 queue (every low score and a sample), agents' appeals (申诉) and the auditor's
decisions, labelled corrections for `anfu train-replies`, and the week-over-week trend report.

Auditors (质检员) write here and nowhere else: re-checks and appeal decisions are their work."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field

from ...errors import AuthError
from ...inspection.scorecard import PACK_FOLDER, load_scorecard
from ...inspection.service import correction_rows, inspect_messages, trend_report
from ...rules import pack_dir
from ...store import ConversationFilter, InspectionStore
from ...store.customers_repo import MAX_PAGE_SIZE
from ...store.inspection_repo import MAX_TEXT, RUNNERS
from ..deps import Authed, Ctx
from ..schemas import _In
from ..views import seen_by

router = APIRouter(tags=["inspection"])
MAX_RUN = 500


class ScorecardItemPublic(BaseModel):
    id: str
    name: str
    kind: str
    weight: float


class ScorecardPublic(BaseModel):
    name: str
    title: str
    version: int
    pass_score: float
    low_score: float
    sample_rate: float
    items: list[ScorecardItemPublic]


class InspectionRun(_In):
    scorecard: str = Field("default", pattern=r"^[A-Za-z0-9_]{1,64}$")
    conversation_ids: list[Annotated[int, Field(ge=1, le=2**53)]] | None = Field(None, max_length=MAX_RUN)
    since: datetime | None = Field(None, description="inspect conversations active since (when no ids are given)")


class FindingPublic(BaseModel):
    id: int
    item_id: str
    item_name: str
    kind: str
    weight: float
    evidence: list[dict[str, Any]]
    status: str


class InspectionPublic(BaseModel):
    id: int
    conversation_id: int
    team_id: int | None
    agent_id: int | None
    scorecard: str
    scorecard_version: int
    score: float
    final_score: float
    zeroed: bool
    passed: bool
    low: bool
    sampled: bool
    review_status: str
    review_note: str | None
    reviewed_at: datetime | None
    created_at: datetime


class InspectionDetail(InspectionPublic):
    items: list[dict[str, Any]]
    findings: list[FindingPublic]


class InspectionPage(BaseModel):
    items: list[InspectionPublic]
    total: int
    page: int
    page_size: int


class RunResult(BaseModel):
    inspected: int
    pending_review: int
    items: list[InspectionPublic]


class ReviewCreate(_In):
    final_score: float = Field(ge=0, le=100)
    note: str | None = Field(None, max_length=MAX_TEXT)


class AppealCreate(_In):
    reason: str = Field(min_length=1, max_length=MAX_TEXT)


class AppealPublic(BaseModel):
    id: int
    finding_id: int
    inspection_id: int
    agent_id: int | None
    reason: str
    status: str
    decision_note: str | None
    created_at: datetime
    decided_at: datetime | None


class DecisionCreate(_In):
    decision: Literal["upheld", "overturned"]
    note: str | None = Field(None, max_length=MAX_TEXT)


def _store(ctx: Any) -> InspectionStore:
    return InspectionStore(ctx.store.engine, mask_text=ctx.store.mask_text, clock=ctx.store.clock)


def _public(record: Any, principal: Any = None) -> InspectionPublic:
    data = {k: getattr(record, k) for k in InspectionPublic.model_fields}
    data["review_note"] = seen_by(principal, data["review_note"])
    return InspectionPublic(**data)


def _appeal(record: Any, principal: Any = None) -> AppealPublic:
    data = {k: getattr(record, k) for k in AppealPublic.model_fields}
    data["reason"], data["decision_note"] = seen_by(principal, data["reason"]), seen_by(principal, data["decision_note"])
    return AppealPublic(**data)


@router.get("/inspection/scorecards", response_model=list[ScorecardPublic])
def list_scorecards(ctx: Ctx, auth: Authed) -> list[ScorecardPublic]:
    """The scorecards (质检评分表) of the rule packs: `scorecards/<name>.yaml`."""
    folder = pack_dir() / PACK_FOLDER
    out = []
    for path in sorted(folder.glob("*.yaml")):
        card = load_scorecard(path.stem)
        out.append(ScorecardPublic(name=card.name, title=card.title, version=card.version, pass_score=card.pass_score,
                                   low_score=card.low_score, sample_rate=card.sample_rate,
                                   items=[ScorecardItemPublic(id=i["id"], name=i["name"], kind=i["kind"],
                                                              weight=float(i.get("weight", 0))) for i in card.items]))
    return out


def _recent(store: Any, principal: Any, where: ConversationFilter) -> list[Any]:
    """The first MAX_RUN conversations `where` selects, read a store page (MAX_PAGE_SIZE) at a time."""
    out: list[Any] = []
    page = 1
    while len(out) < MAX_RUN:
        found = store.list_conversations(principal, where, page=page, page_size=MAX_PAGE_SIZE)
        out.extend(found.items)
        if page >= found.pages:
            break
        page += 1
    return out[:MAX_RUN]


@router.post("/inspection/run", response_model=RunResult)
def run_inspection(body: InspectionRun, ctx: Ctx, auth: Authed) -> RunResult:
    """Apply a scorecard to conversations you may see (supervisors: your team; admins, auditors:
    your tenant): the given ids, or those active since `since` (default the last 24 hours), at
    most 500, live ones included. A conversation with new turns is scored again unless it was
    re-checked or appealed. Low scores and a sample go to the 复核 queue."""
    principal = auth.principal
    if principal.role not in RUNNERS:
        raise AuthError("AF417", "run quality inspection (supervisors, admins, auditors)")
    card = load_scorecard(body.scorecard)
    store = _store(ctx)
    if body.conversation_ids:
        # an id named twice is inspected once (dict.fromkeys keeps the caller's order)
        conversations = [ctx.store.get_conversation(cid, visible_to=principal)
                         for cid in dict.fromkeys(body.conversation_ids)]
    else:
        since = body.since or (ctx.store.clock() - timedelta(hours=24))
        if since.tzinfo is None:
            since = since.replace(tzinfo=timezone.utc)
        conversations = _recent(ctx.store, principal, ConversationFilter(updated_since=since))
    done = []
    for conversation in conversations:
        messages = ctx.store.list_messages(conversation.id, visible_to=principal, limit=10_000)
        if not any(m.speaker == "customer" for m in messages):
            continue
        result, facts, review, drawn = inspect_messages(ctx.analyzer, card, str(conversation.id), messages,
                                                        industry=conversation.industry)
        done.append(store.save_inspection(principal, conversation.id, result, facts=facts,
                                          upto_seq=conversation.last_seq, review=review, sampled=drawn,
                                          pass_score=card.pass_score))
    return RunResult(inspected=len(done), pending_review=sum(1 for r in done if r.review_status == "pending"),
                     items=[_public(r, principal) for r in done])


@router.get("/inspection/inspections", response_model=InspectionPage)
def list_inspections(ctx: Ctx, auth: Authed,
                     review_status: Annotated[Literal["none", "pending", "done"] | None, Query()] = None,
                     agent_id: Annotated[int | None, Query(ge=1, le=2**53)] = None,
                     low: Annotated[bool | None, Query()] = None,
                     page: Annotated[int, Query(ge=1, le=100_000)] = 1,
                     page_size: Annotated[int, Query(ge=1, le=500)] = 50) -> InspectionPage:
    """Inspections you may see, lowest final score first; `review_status=pending` is the 复核 queue."""
    result = _store(ctx).list_inspections(auth.principal, review_status=review_status, agent_id=agent_id, low=low,
                                          page=page, page_size=page_size)
    return InspectionPage(items=[_public(r, auth.principal) for r in result.items], total=result.total,
                          page=result.page, page_size=result.page_size)


def _detail(store: InspectionStore, principal: Any, inspection_id: int) -> InspectionDetail:
    record = store.get_inspection(principal, inspection_id)
    findings = store.findings(principal, inspection_id)
    return InspectionDetail(**_public(record, principal).model_dump(), items=seen_by(principal, record.result["items"]),
                            findings=[FindingPublic(**{k: seen_by(principal, getattr(f, k)) if k == "evidence"
                                                       else getattr(f, k) for k in FindingPublic.model_fields})
                                      for f in findings])


@router.get("/inspection/inspections/{inspection_id}", response_model=InspectionDetail)
def get_inspection(inspection_id: Annotated[int, Path(ge=1, le=2**53)], ctx: Ctx, auth: Authed) -> InspectionDetail:
    """One inspection: every item with its evidence spans (turn, start, end, text) and the findings."""
    return _detail(_store(ctx), auth.principal, inspection_id)


@router.post("/inspection/inspections/{inspection_id}/review", response_model=InspectionDetail)
def review_inspection(inspection_id: Annotated[int, Path(ge=1, le=2**53)], body: ReviewCreate, ctx: Ctx,
                      auth: Authed) -> InspectionDetail:
    """复核: an auditor, admin or the team's supervisor sets the final score and a note."""
    store = _store(ctx)
    store.review(auth.principal, inspection_id, body.final_score, body.note)
    return _detail(store, auth.principal, inspection_id)


@router.post("/inspection/findings/{finding_id}/appeal", response_model=AppealPublic, status_code=201)
def appeal_finding(finding_id: Annotated[int, Path(ge=1, le=2**53)], body: AppealCreate, ctx: Ctx,
                   auth: Authed) -> AppealPublic:
    """申诉: the agent of the conversation appeals an open finding with a reason."""
    return _appeal(_store(ctx).appeal(auth.principal, finding_id, body.reason), auth.principal)


@router.get("/inspection/appeals", response_model=list[AppealPublic])
def list_appeals(ctx: Ctx, auth: Authed,
                 status: Annotated[Literal["open", "upheld", "overturned"] | None, Query()] = None) -> list[AppealPublic]:
    """Appeals you may see (agents: your own; supervisors: your team's; admins, auditors: the tenant's)."""
    return [_appeal(a, auth.principal) for a in _store(ctx).list_appeals(auth.principal, status=status)]


@router.post("/inspection/appeals/{appeal_id}/decision", response_model=AppealPublic)
def decide_appeal(appeal_id: Annotated[int, Path(ge=1, le=2**53)], body: DecisionCreate, ctx: Ctx,
                  auth: Authed) -> AppealPublic:
    """The auditor (or an admin) upholds or overturns an appeal; an overturned finding counts as
    passed and the final score is recomputed."""
    return _appeal(_store(ctx).decide(auth.principal, appeal_id, body.decision, body.note), auth.principal)


@router.get("/inspection/corrections", response_class=Response,
            responses={200: {"content": {"application/x-ndjson": {}}}})
def export_corrections(ctx: Ctx, auth: Authed) -> Response:
    """Decided appeals as labelled replies, one JSON object per line (`text`, `violation`,
    `category`): what `anfu train-replies --data` reads. Overturned findings are labelled
    compliant, upheld ones violations of their pre-send category. Admins and auditors get the
    replies masked (personal data replaced, lengths kept), as they read messages."""
    rows = [dict(r, text=seen_by(auth.principal, r["text"]))
            for r in correction_rows(_store(ctx).corrections(auth.principal))]
    body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    return Response(body, media_type="application/x-ndjson",
                    headers={"Content-Disposition": 'attachment; filename="inspection-corrections.jsonl"'})


@router.get("/inspection/trends")
def inspection_trends(ctx: Ctx, auth: Authed,
                      weeks: Annotated[int, Query(ge=1, le=52, description="weeks of history")] = 4) -> dict[str, Any]:
    """Week over week: conversations, anger and complaint rates and mean score; for the latest week
    against the one before, the causes, agents, teams, hours, phrases and scorecard items that
    drive anger and complaints; outlier agents (more than 2 standard deviations from their peers)."""
    principal = auth.principal
    since = ctx.store.clock() - timedelta(weeks=weeks)
    pairs = _store(ctx).iter_facts(principal, since=since)
    users = {u.id: (u.display_name or u.username) for u in ctx.store.list_users(principal.tenant_id)}
    teams = {t.id: t.name for t in ctx.store.list_teams(principal.tenant_id)}
    return trend_report(pairs, names=users, team_names=teams)
