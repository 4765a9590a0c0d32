"""Table of the API's idempotency keys (`Idempotency-Key` on `POST /api/v1/notes` and
`POST /api/v1/webhooks`): which key a tenant's user or token sent for which endpoint, a digest
of the request body, and the id of what the first request created. A retry with the same key
and body gets that record back instead of a second one. Same `Base` as `tables.py`
(migration 0013)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .tables import Base, UTCDateTime, utcnow


class IdempotencyKeyRow(Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("tenant_id", "owner", "scope", "key", name="uq_idempotency_keys_owner_scope_key"),
        Index("ix_idempotency_keys_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    owner: Mapped[str] = mapped_column(String(200))           # user:<id> or token:<name>
    scope: Mapped[str] = mapped_column(String(64))            # the endpoint, e.g. "POST /notes"
    key: Mapped[str] = mapped_column(String(255))
    request_digest: Mapped[str] = mapped_column(String(64))   # SHA-256 of the canonical request body
    resource_id: Mapped[int | None] = mapped_column(BigInteger)  # None while the first request runs
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
