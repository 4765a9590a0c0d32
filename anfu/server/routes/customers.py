"""Customers: the one timeline across channels, and the deletion request (个人信息删除)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from ...pii import mask_identity
from ...store.access import require, sees_identity
from ..deps import Authed, Ctx, client_ip
from ..schemas import MAX_ID, CustomerPublic, DeletionPublic, TimelineItemPublic, TimelinePublic
from ..views import _dump, message_public

router = APIRouter(tags=["customers"])


def customer_public(customer: Any, principal: Any) -> CustomerPublic:
    """The customer as `principal` may see them: name, phone and e-mail in clear only for the
    roles that handle the case (`anfu.store.access.IDENTITY_ROLES`), masked for the others."""
    data = _dump(customer)
    if not sees_identity(principal):
        for key in ("display_name", "phone", "email", "external_ref"):
            if data.get(key):
                data[key] = mask_identity(key, data[key])
    return CustomerPublic.model_validate(data)


@router.get("/customers/{customer_id}/timeline", response_model=TimelinePublic)
def timeline(customer_id: Annotated[int, Path(ge=1, le=MAX_ID)], ctx: Ctx, auth: Authed,
             page: Annotated[int, Query(ge=1, le=100_000)] = 1,
             page_size: Annotated[int, Query(ge=1, le=200)] = 100) -> TimelinePublic:
    """Every message of the customer that you may see, across channels, oldest first."""
    customer = ctx.store.get_customer(customer_id, visible_to=auth.principal)
    result = ctx.store.customer_timeline(customer_id, visible_to=auth.principal, page=page, page_size=page_size)
    items = [TimelineItemPublic(message=message_public(i.message, auth.principal), conversation_id=i.conversation_id,
                                channel=i.channel) for i in result.items]
    return TimelinePublic(customer=customer_public(customer, auth.principal), items=items,
                          total=result.total, page=result.page, page_size=result.page_size, pages=result.pages)


@router.delete("/customers/{customer_id}", response_model=DeletionPublic)
def delete_customer(customer_id: Annotated[int, Path(ge=1, le=MAX_ID)], ctx: Ctx, auth: Authed, request: Request) -> DeletionPublic:
    """Erase a customer's data everywhere (admins only; audited with counts, not content)."""
    require(auth.principal, "customer.delete")
    report = ctx.store.delete_customer_data(customer_id, by=auth.principal)
    ctx.store.audit(auth.principal.tenant_id, auth.principal.actor, "customer.deletion_requested",
                    target=f"customer:{customer_id}", detail={"via": auth.via}, ip=client_ip(request))
    return DeletionPublic.model_validate(_dump(report))
