"""Repository of the API's idempotency keys (`anfu.server.idempotency`).

`claim` records a key before the request's work runs, in its own transaction: the unique
constraint (tenant, owner, scope, key) lets exactly one of two concurrent requests with the same
key go ahead. The winner then `complete`s the claim with the id of what it created, or
`release`s it when its work failed (so the key can be used again). A claim left pending by a
crashed process is taken over after `STALE_PENDING`; keys are forgotten after `KEEP`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from ..errors import StoreError
from .accounts import StoreBase, unique_violation
from .idempotency_tables import IdempotencyKeyRow

KEEP = timedelta(hours=24)
STALE_PENDING = timedelta(minutes=2)


@dataclass(frozen=True)
class Claim:
    """A key as `claim` found it: `resource_id` set means a finished request (replay it);
    None means this request holds the key and does the work (`id` is its row)."""

    id: int
    resource_id: int | None


class IdempotencyStore(StoreBase):
    """`IdempotencyStore(engine)`: the idempotency keys of every tenant."""

    def claim(self, tenant_id: int, owner: str, scope: str, key: str, digest: str) -> Claim:
        """The key for this request: a new claim, or the finished request it repeats. AF445
        when the key was used with another body, or its first request is still running."""
        for _ in range(2):
            try:
                return self._claim(tenant_id, owner, scope, key, digest)
            except IntegrityError as exc:  # PostgreSQL: a concurrent request claimed it first
                if not unique_violation(exc, "uq_idempotency_keys_owner_scope_key"):
                    raise
        return self._claim(tenant_id, owner, scope, key, digest)

    def _claim(self, tenant_id: int, owner: str, scope: str, key: str, digest: str) -> Claim:
        now = self.clock()
        with self._write() as s:
            row = s.scalar(select(IdempotencyKeyRow).where(
                IdempotencyKeyRow.tenant_id == tenant_id, IdempotencyKeyRow.owner == owner,
                IdempotencyKeyRow.scope == scope, IdempotencyKeyRow.key == key).with_for_update())
            if row is not None and row.created_at < now - KEEP:
                s.delete(row)  # expired: the key is new again
                s.flush()
                row = None
            if row is None:
                s.execute(delete(IdempotencyKeyRow).where(IdempotencyKeyRow.tenant_id == tenant_id,
                                                          IdempotencyKeyRow.created_at < now - KEEP))
                row = IdempotencyKeyRow(tenant_id=tenant_id, owner=owner, scope=scope, key=key,
                                        request_digest=digest, resource_id=None, created_at=now)
                s.add(row)
                s.flush()
                return Claim(row.id, None)
            if row.request_digest != digest:
                raise StoreError("AF445", repr(key[:80]), why="with a different request body")
            if row.resource_id is not None:
                return Claim(row.id, row.resource_id)
            if row.created_at < now - STALE_PENDING:  # its request died without an answer
                row.created_at = now
                return Claim(row.id, None)
            raise StoreError("AF445", repr(key[:80]), why="by a request that is still running (wait a few seconds)")

    def complete(self, claim: Claim, resource_id: int) -> None:
        with self._write() as s:
            s.execute(update(IdempotencyKeyRow).where(IdempotencyKeyRow.id == claim.id)
                      .values(resource_id=resource_id))

    def release(self, claim: Claim) -> None:
        with self._write() as s:
            s.execute(delete(IdempotencyKeyRow).where(IdempotencyKeyRow.id == claim.id,
                                                      IdempotencyKeyRow.resource_id.is_(None)))
