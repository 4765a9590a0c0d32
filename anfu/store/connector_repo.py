"""Repository of the helpdesk connectors' per-tenant configuration. Every read and write
names its tenant; secrets arrive sealed and leave sealed (the service opens them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..errors import ConflictError, StoreError
from .accounts import StoreBase, unique_violation
from .connector_tables import CONNECTOR_KINDS, ConnectorConfigRow
from .records import _Record, from_row


@dataclass(frozen=True)
class ConnectorConfig(_Record):
    id: int
    tenant_id: int
    kind: str
    base_url: str
    account: str | None
    api_token: str
    token_hint: str
    webhook_secret: str | None
    active: bool
    updated_by: str
    updated_at: datetime
    tested_at: datetime | None
    test_ok: bool | None
    test_detail: str | None


CONFIG_FIELDS = frozenset({"base_url", "account", "api_token", "token_hint", "webhook_secret", "active"})


class ConnectorStore(StoreBase):
    """`ConnectorStore(engine)`: the connector settings of every tenant."""

    @staticmethod
    def _check_kind(kind: str) -> None:
        if kind not in CONNECTOR_KINDS:
            raise StoreError("AF505", f"{kind!r}, use one of {', '.join(CONNECTOR_KINDS)}", kind="connector")

    def get_connector(self, tenant_id: int, kind: str) -> ConnectorConfig | None:
        self._check_kind(kind)
        with self._read() as s:
            row = s.scalar(select(ConnectorConfigRow).where(ConnectorConfigRow.tenant_id == tenant_id,
                                                            ConnectorConfigRow.kind == kind))
            return from_row(ConnectorConfig, row) if row is not None else None

    def list_connectors(self, tenant_id: int) -> list[ConnectorConfig]:
        with self._read() as s:
            rows = s.scalars(select(ConnectorConfigRow).where(ConnectorConfigRow.tenant_id == tenant_id)
                             .order_by(ConnectorConfigRow.kind))
            return [from_row(ConnectorConfig, r) for r in rows]

    def save_connector(self, tenant_id: int, kind: str, *, by: str, create: bool = False,
                       **changes: Any) -> ConnectorConfig:
        """Create or change the tenant's configuration of `kind`; a new one needs base_url,
        api_token and token_hint. Any change clears the last test result. `create`: the caller
        found none (and, e.g., generated its webhook secret): one saved by someone else meanwhile
        is AF679 (409) and nothing is written, so two admins setting it up at once never replace
        each other's token and secret."""
        self._check_kind(kind)
        unknown = set(changes) - CONFIG_FIELDS
        if unknown:
            raise StoreError("AF505", f"fields {sorted(unknown)}", kind="connector")
        try:
            with self._write() as s:
                row = s.scalar(select(ConnectorConfigRow).where(ConnectorConfigRow.tenant_id == tenant_id,
                                                                ConnectorConfigRow.kind == kind))
                if row is not None and create:
                    raise ConflictError("AF679", kind)
                if row is None:
                    missing = [f for f in ("base_url", "api_token", "token_hint") if not changes.get(f)]
                    if missing:
                        raise StoreError("AF505", f"a new {kind} connector needs {', '.join(missing)}",
                                         kind="connector")
                    row = ConnectorConfigRow(tenant_id=tenant_id, kind=kind, active=True)
                    s.add(row)
                for name, value in changes.items():
                    setattr(row, name, value)
                row.updated_by = by
                row.updated_at = self.clock()
                row.tested_at = row.test_ok = row.test_detail = None
                s.flush()
                return from_row(ConnectorConfig, row)
        except IntegrityError as exc:
            # only the race is AF679 (PostgreSQL: a concurrent first save committed first); a
            # missing tenant, a NULL or any other constraint is a bug or bad input, not "someone
            # else set it up meanwhile"
            if not unique_violation(exc, "uq_connector_configs_tenant_kind"):
                raise
            raise ConflictError("AF679", kind) from None

    def record_connector_test(self, tenant_id: int, kind: str, *, ok: bool, detail: str) -> ConnectorConfig:
        with self._write() as s:
            row = s.scalar(select(ConnectorConfigRow).where(ConnectorConfigRow.tenant_id == tenant_id,
                                                            ConnectorConfigRow.kind == kind))
            if row is None:
                raise StoreError("AF505", f"no {kind} connector configured", kind="connector")
            row.tested_at = self.clock()
            row.test_ok = ok
            row.test_detail = detail[:300]
            s.flush()
            return from_row(ConnectorConfig, row)
