"""Table of the helpdesk connectors' per-tenant configuration (issue 13, admin console):
one row per tenant and helpdesk (Chatwoot, Zammad). Same `Base` as `tables.py`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .tables import Base, UTCDateTime, utcnow

CONNECTOR_KINDS = ("chatwoot", "zammad")


class ConnectorConfigRow(Base):
    """Where a tenant's helpdesk is and how Anfu talks to it. `api_token` and `webhook_secret`
    are sealed by the service with the server's key (`anfu.security.secretbox`), never clear."""

    __tablename__ = "connector_configs"
    __table_args__ = (UniqueConstraint("tenant_id", "kind", name="uq_connector_configs_tenant_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    base_url: Mapped[str] = mapped_column(String(1000))
    account: Mapped[str | None] = mapped_column(String(64))
    api_token: Mapped[str] = mapped_column(Text)
    token_hint: Mapped[str] = mapped_column(String(16))
    webhook_secret: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    tested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    test_ok: Mapped[bool | None] = mapped_column(Boolean)
    test_detail: Mapped[str | None] = mapped_column(String(300))
