"""Repository of the integrations: canned replies (话术库), webhooks and their deliveries.
Every read and write names its tenant; another tenant's row is reported missing (AF503)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from ..errors import ConflictError, NotFoundError
from .accounts import StoreBase
from .integration_tables import CannedReplyRow, WebhookDeliveryRow, WebhookRow
from .records import _Record, from_row


@dataclass(frozen=True)
class CannedReply(_Record):
    id: int
    tenant_id: int
    title: str
    text: str
    category: str | None
    emotion: str | None
    active: bool
    created_by: str
    updated_by: str
    created_at: datetime
    updated_at: datetime
    persona: str | None = None


@dataclass(frozen=True)
class Webhook(_Record):
    id: int
    tenant_id: int
    url: str
    events: list[str]
    secret: str
    active: bool
    created_by: str
    created_at: datetime


@dataclass(frozen=True)
class WebhookDelivery(_Record):
    id: int
    tenant_id: int
    webhook_id: int
    conversation_id: int | None
    event: str
    payload: dict[str, Any]
    state: str
    attempts: int
    last_status: int | None
    last_error: str | None
    next_attempt_at: datetime
    created_at: datetime
    delivered_at: datetime | None


REPLY_FIELDS = frozenset({"title", "text", "category", "emotion", "persona", "active"})


class IntegrationStore(StoreBase):
    """`IntegrationStore(engine)`: canned replies, webhooks and deliveries of every tenant."""

    def _owned(self, s: Any, row_type: type, row_id: int, tenant_id: int, kind: str, *, lock: bool = False) -> Any:
        row = s.get(row_type, row_id, with_for_update=lock)
        if row is None or row.tenant_id != tenant_id:
            raise NotFoundError("AF503", row_id, kind=kind)
        return row

    # canned replies ---------------------------------------------------------------------
    def create_reply(self, tenant_id: int, *, title: str, text: str, category: str | None, emotion: str | None,
                     by: str, persona: str | None = None) -> CannedReply:
        with self._write() as s:
            now = self.clock()
            row = CannedReplyRow(tenant_id=tenant_id, title=title, text=text, category=category, emotion=emotion,
                                 persona=persona, active=True, created_by=by, updated_by=by, created_at=now, updated_at=now)
            s.add(row)
            s.flush()
            return from_row(CannedReply, row)

    def get_reply(self, reply_id: int, tenant_id: int) -> CannedReply:
        with self._read() as s:
            return from_row(CannedReply, self._owned(s, CannedReplyRow, reply_id, tenant_id, "canned reply"))

    def update_reply(self, reply_id: int, tenant_id: int, *, by: str, expected_updated_at: datetime | None = None,
                     **changes: Any) -> CannedReply:
        """Change a canned reply. `expected_updated_at`: its `updated_at` when the caller read it
        (the edit form); one saved since is AF673 (409) and nothing is written. Fields equal to the
        stored ones are no change: a PATCH that changes nothing keeps `updated_at`."""
        unknown = set(changes) - REPLY_FIELDS
        if unknown:
            raise ValueError(f"unknown canned reply fields {sorted(unknown)}")
        with self._write() as s:
            row = self._owned(s, CannedReplyRow, reply_id, tenant_id, "canned reply", lock=True)
            if expected_updated_at is not None and row.updated_at != expected_updated_at:
                raise ConflictError("AF673", reply_id)
            changes = {k: v for k, v in changes.items() if getattr(row, k) != v}
            if not changes:  # nothing differs: nothing written, the ETag (updated_at) stays
                return from_row(CannedReply, row)
            for key, value in changes.items():
                setattr(row, key, value)
            row.updated_by = by
            row.updated_at = self.clock()
            s.flush()
            return from_row(CannedReply, row)

    def list_replies(self, tenant_id: int, *, category: str | None = None, emotion: str | None = None,
                     active: bool | None = True, persona: str | None = None) -> list[CannedReply]:
        where = [CannedReplyRow.tenant_id == tenant_id]
        if category is not None:
            where.append(CannedReplyRow.category == category)
        if emotion is not None:
            where.append(CannedReplyRow.emotion == emotion)
        if persona is not None:
            where.append(CannedReplyRow.persona == persona)
        if active is not None:
            where.append(CannedReplyRow.active == active)
        with self._read() as s:
            rows = s.scalars(select(CannedReplyRow).where(*where).order_by(CannedReplyRow.id)).all()
            return [from_row(CannedReply, r) for r in rows]

    # webhooks -------------------------------------------------------------------------------
    def create_webhook(self, tenant_id: int, *, url: str, events: list[str], secret: str, by: str) -> Webhook:
        with self._write() as s:
            row = WebhookRow(tenant_id=tenant_id, url=url, events=list(events), secret=secret, active=True,
                             created_by=by, created_at=self.clock())
            s.add(row)
            s.flush()
            return from_row(Webhook, row)

    def get_webhook(self, webhook_id: int, tenant_id: int | None = None) -> Webhook:
        with self._read() as s:
            row = s.get(WebhookRow, webhook_id)
            if row is None or (tenant_id is not None and row.tenant_id != tenant_id):
                raise NotFoundError("AF503", webhook_id, kind="webhook")
            return from_row(Webhook, row)

    def list_webhooks(self, tenant_id: int, *, active: bool | None = None) -> list[Webhook]:
        where = [WebhookRow.tenant_id == tenant_id]
        if active is not None:
            where.append(WebhookRow.active == active)
        with self._read() as s:
            return [from_row(Webhook, r) for r in s.scalars(select(WebhookRow).where(*where).order_by(WebhookRow.id))]

    def set_webhook_active(self, webhook_id: int, tenant_id: int, active: bool) -> Webhook:
        with self._write() as s:
            row = self._owned(s, WebhookRow, webhook_id, tenant_id, "webhook")
            row.active = active
            s.flush()
            return from_row(Webhook, row)

    # deliveries -----------------------------------------------------------------------------
    def enqueue_delivery(self, webhook: Webhook, event: str, payload: dict[str, Any]) -> WebhookDelivery:
        with self._write() as s:
            now = self.clock()
            conversation = payload.get("conversation_id")
            try:
                conversation_id = int(conversation) if conversation is not None else None
            except (TypeError, ValueError):
                conversation_id = None
            row = WebhookDeliveryRow(tenant_id=webhook.tenant_id, webhook_id=webhook.id, event=event,
                                     conversation_id=conversation_id,
                                     payload=self._stored(payload), state="pending", attempts=0,
                                     next_attempt_at=now, created_at=now)
            s.add(row)
            s.flush()
            return from_row(WebhookDelivery, row)

    def due_deliveries(self, now: datetime, limit: int = 100) -> list[WebhookDelivery]:
        with self._read() as s:
            rows = s.scalars(select(WebhookDeliveryRow).where(WebhookDeliveryRow.state == "pending",
                                                              WebhookDeliveryRow.next_attempt_at <= now)
                             .order_by(WebhookDeliveryRow.next_attempt_at, WebhookDeliveryRow.id).limit(limit)).all()
            return [from_row(WebhookDelivery, r) for r in rows]

    def claim_delivery(self, delivery_id: int, now: datetime, until: datetime) -> WebhookDelivery | None:
        """Take a due delivery for sending until `until`, in one conditional UPDATE that also
        counts the attempt: of several processes that found it due, exactly one gets the
        delivery (the others None, and skip it). A claimer that dies leaves the delivery due
        again at `until` (sent again then, never lost) with the attempt counted, so a delivery
        that kills its sender is not retried forever."""
        with self._write() as s:
            taken = s.execute(update(WebhookDeliveryRow).where(
                WebhookDeliveryRow.id == delivery_id, WebhookDeliveryRow.state == "pending",
                WebhookDeliveryRow.next_attempt_at <= now)
                .values(next_attempt_at=until, attempts=WebhookDeliveryRow.attempts + 1)
                .execution_options(synchronize_session=False)).rowcount
            if taken != 1:
                return None
            row = s.get(WebhookDeliveryRow, delivery_id, populate_existing=True)
            return from_row(WebhookDelivery, row)

    def record_attempt(self, delivery_id: int, *, state: str, status: int | None, error: str | None,
                       next_attempt_at: datetime | None, counted: bool = False) -> WebhookDelivery:
        """The outcome of an attempt; `counted`: the attempt was counted when it was claimed."""
        with self._write() as s:
            row = s.get(WebhookDeliveryRow, delivery_id)
            if row is None:
                raise NotFoundError("AF503", delivery_id, kind="webhook delivery")
            now = self.clock()
            if not counted:
                row.attempts += 1
            row.state = state
            row.last_status = status
            row.last_error = (error or None) and error[:1000]
            if next_attempt_at is not None:
                row.next_attempt_at = next_attempt_at
            if state == "delivered":
                row.delivered_at = now
            s.flush()
            return from_row(WebhookDelivery, row)

    def list_deliveries(self, webhook_id: int, tenant_id: int, *, limit: int = 100) -> list[WebhookDelivery]:
        with self._read() as s:
            self._owned(s, WebhookRow, webhook_id, tenant_id, "webhook")
            rows = s.scalars(select(WebhookDeliveryRow).where(WebhookDeliveryRow.webhook_id == webhook_id)
                             .order_by(WebhookDeliveryRow.id.desc()).limit(limit)).all()
            return [from_row(WebhookDelivery, r) for r in rows]
