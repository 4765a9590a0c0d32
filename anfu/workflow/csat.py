"""Customer satisfaction survey (满意度回访, CSAT) reached through a signed, expiring link that
needs no login: the link carries the ticket id signed with the application secret
(itsdangerous `URLSafeTimedSerializer`), so it cannot be forged or pointed at another
ticket. The customer gives a score from 1 to 5 and an optional comment; a low score
(≤ 2) reopens the ticket and alerts the supervisor.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer

from ..errors import WorkflowError
from ..events import Event
from ..events import CsatSubmitted, SupervisorAlerted
from .tickets import Ticket, aware

SCORES: tuple[int, ...] = (1, 2, 3, 4, 5)
LOW_SCORE = 2                 # this score or lower reopens the ticket
MAX_COMMENT = 500
MIN_SECRET = 16
SALT = "anfu.csat.v1"         # keeps these tokens apart from other signed values (CSRF…)
SURVEY_ACTOR = "customer"


class SurveyLinks:
    """Makes and reads survey tokens. Pass the app secret (settings.secret_key)."""

    def __init__(self, secret: str, *, max_age: timedelta = timedelta(days=7), salt: str = SALT) -> None:
        if not isinstance(secret, str) or len(secret) < MIN_SECRET:
            shown = f"{len(secret)} characters" if isinstance(secret, str) else type(secret).__name__
            raise WorkflowError("AF634", shown)
        self.max_age = max_age
        self._serializer = URLSafeTimedSerializer(secret, salt=salt)

    def token(self, ticket_id: str, *, ref: int | None = None, tenant: int | None = None,
              resolution: int = 0) -> str:
        """A signed token for ticket `ticket_id` (its number); the service also signs the
        stored ticket's row id (`ref`) and tenant, which is how it finds the ticket: numbers
        are unique per tenant only. `resolution` (the ticket's `reopen_count`) ties the link to
        one resolution: a link of an earlier one is refused (AF638)."""
        data: dict[str, Any] = {"ticket": ticket_id}
        if ref is not None:
            data.update(ref=ref, tenant=tenant)
        if resolution:
            data["resolution"] = resolution
        return self._serializer.dumps(data)

    def url(self, ticket_id: str, base_url: str, *, ref: int | None = None, tenant: int | None = None,
            resolution: int = 0) -> str:
        """Link to put in the SMS / e-mail, e.g. base_url = https://kf.example.cn/survey."""
        return f"{base_url.rstrip('/')}/{self.token(ticket_id, ref=ref, tenant=tenant, resolution=resolution)}"

    def resolution_of(self, token: str) -> int:
        """The resolution a token (checked by `read`) was made for; 0 for links made before."""
        data = self._serializer.loads(token)
        value = data.get("resolution", 0) if isinstance(data, dict) else 0
        return value if isinstance(value, int) and not isinstance(value, bool) else 0

    def read_ref(self, token: str) -> tuple[str, int, int]:
        """(ticket number, stored ticket id, tenant id) of a token made with `ref` and
        `tenant`; AF630 for a token without them."""
        number = self.read(token)
        data = self._serializer.loads(token)  # the signature and age were checked by read()
        ref, tenant = data.get("ref"), data.get("tenant")
        if not (isinstance(ref, int) and isinstance(tenant, int)) or isinstance(ref, bool) or isinstance(tenant, bool):
            raise WorkflowError("AF630", "the link names no stored ticket")
        return number, ref, tenant

    def read(self, token: str) -> str:
        """The ticket id in a token; AF631 when it expired, AF630 when it is not ours."""
        try:
            data = self._serializer.loads(token, max_age=int(self.max_age.total_seconds()))
        except SignatureExpired as exc:
            signed = exc.date_signed.isoformat() if exc.date_signed else "unknown time"
            raise WorkflowError("AF631", f"signed {signed}, valid {self.max_age}") from None
        except BadData:
            raise WorkflowError("AF630", "bad signature") from None
        if not isinstance(data, dict) or not isinstance(data.get("ticket"), str):
            raise WorkflowError("AF630", "no ticket in the link")
        return data["ticket"]


@dataclass(frozen=True)
class SurveyAnswer:
    ticket_id: str
    score: int
    comment: str
    at: datetime

    @property
    def low(self) -> bool:
        return self.score <= LOW_SCORE

    def to_dict(self) -> dict[str, Any]:
        return {"ticket_id": self.ticket_id, "score": self.score, "comment": self.comment,
                "at": self.at.isoformat(), "low": self.low}


def check_score(score: Any) -> int:
    if isinstance(score, bool) or not isinstance(score, int) or score not in SCORES:
        raise WorkflowError("AF632", repr(score))
    return score


def submit_survey(
    ticket: Ticket,
    token: str,
    *,
    score: Any,
    comment: str = "",
    at: datetime,
    links: SurveyLinks,
) -> tuple[SurveyAnswer, list[Event]]:
    """Check the link and the answer, store it on the ticket and react to a low score."""
    linked = links.read(token)
    if linked != ticket.id:
        raise WorkflowError("AF636", linked, expected=ticket.id)
    resolution = links.resolution_of(token)
    if ticket.rated_for(resolution):
        raise WorkflowError("AF633", ticket.id)  # this link's survey was answered (a double tap…)
    if resolution != ticket.reopen_count:
        raise WorkflowError("AF638", ticket.id)
    if ticket.status not in ("resolved", "closed"):
        raise WorkflowError("AF635", ticket.id, status=ticket.status)
    score = check_score(score)
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise WorkflowError("AF637", len(comment), limit=MAX_COMMENT)
    aware(at, "at")
    answer = SurveyAnswer(ticket.id, score, comment, at)
    ticket.record_survey(score, comment, at=at, actor=SURVEY_ACTOR)
    events: list[Event] = [CsatSubmitted(ticket_id=ticket.id, at=at.isoformat(), score=score, low=answer.low)]
    if answer.low:
        reason = f"满意度评分 {score} 分" + (f"：{comment}" if comment else "")
        events += ticket.reopen(at=at, actor=SURVEY_ACTOR, reason=reason)
        events.append(SupervisorAlerted(ticket_id=ticket.id, at=at.isoformat(), reason="low_csat",
                                        detail=reason, owner=ticket.owner))
    return answer, events
