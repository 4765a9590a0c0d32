"""Saved views of the conversation lists (issue 13): each user's own named filters.

A view belongs to the user who saved it: only they list, read and delete it (anybody else, of
any role or tenant, gets AF503 as for a missing id). The filters are stored as given by the
service (`anfu.service.lists`), which validates them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..errors import NotFoundError, StoreError
from .access import Principal
from .accounts import StoreBase
from .lists_tables import SavedViewRow
from .records import _Record, from_row

MAX_VIEWS = 50


@dataclass(frozen=True)
class SavedView(_Record):
    id: int
    tenant_id: int
    user_id: int
    name: str
    scope: str
    filters: dict[str, Any]
    created_at: datetime


def _owner(principal: Principal) -> int:
    if principal.user_id is None:
        raise StoreError("AF505", "saved views belong to a signed-in user, not to an API token", kind="view")
    return principal.user_id


class SavedViewStore(StoreBase):
    """`SavedViewStore(engine)`: every user's saved views."""

    def list_views(self, owner: Principal) -> list[SavedView]:
        """The user's views by name."""
        if owner.user_id is None:
            return []
        with self._read() as s:
            rows = s.scalars(select(SavedViewRow).where(SavedViewRow.tenant_id == owner.tenant_id,
                                                        SavedViewRow.user_id == owner.user_id)
                             .order_by(SavedViewRow.name, SavedViewRow.id))
            return [from_row(SavedView, r) for r in rows]

    def get_view(self, view_id: int, owner: Principal) -> SavedView:
        with self._read() as s:
            row = s.get(SavedViewRow, view_id)
            if row is None or row.tenant_id != owner.tenant_id or row.user_id != owner.user_id:
                raise NotFoundError("AF503", view_id, kind="saved view")
            return from_row(SavedView, row)

    def create_view(self, owner: Principal, name: str, scope: str, filters: dict[str, Any]) -> SavedView:
        """AF504 when the user already has a view of that name; AF505 past `MAX_VIEWS` views."""
        user_id = _owner(owner)
        try:
            with self._write() as s:
                count = s.scalar(select(func.count()).select_from(SavedViewRow)
                                 .where(SavedViewRow.user_id == user_id)) or 0
                if count >= MAX_VIEWS:
                    raise StoreError("AF505", f"at most {MAX_VIEWS} saved views per user; delete one first",
                                     kind="view")
                row = SavedViewRow(tenant_id=owner.tenant_id, user_id=user_id, name=name, scope=scope,
                                   filters=dict(filters), created_at=self.clock())
                s.add(row)
                s.flush()
                return from_row(SavedView, row)
        except IntegrityError:
            raise StoreError("AF504", name, kind="saved view") from None

    def delete_view(self, view_id: int, owner: Principal) -> None:
        with self._write() as s:
            row = s.get(SavedViewRow, view_id)
            if row is None or row.tenant_id != owner.tenant_id or row.user_id != owner.user_id:
                raise NotFoundError("AF503", view_id, kind="saved view")
            s.delete(row)


__all__ = ["MAX_VIEWS", "SavedView", "SavedViewStore"]
