"""Object-level access rules: the one place that decides who may see or change what.

- Nobody crosses tenants.
- An agent (坐席) sees the conversations assigned to them, a supervisor (班长) those of their
  team, an admin and an auditor (质检/审计) every conversation of their tenant.
- Auditors only read. Only supervisors (their team) and admins take over a conversation;
  once taken over, the assigned agent may no longer reply as the agent.
- A customer is visible when one of their conversations is (admins and auditors: all of the
  tenant's customers).

`can()` answers for one object; `conversation_clause()` and `customer_clause()` give the same
rules as SQL filters for lists, so lists and single reads cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, select

from ..errors import AuthError
from .tables import ROLES, ConversationRow, CustomerRow

TENANT_WIDE = frozenset({"admin", "auditor"})

# Actions that do not concern one conversation: which roles may do them in their tenant.
TENANT_ACTIONS: dict[str, frozenset[str]] = {
    "users.manage": frozenset({"admin"}),
    "tokens.manage": frozenset({"admin"}),
    "customer.delete": frozenset({"admin"}),
    "audit.view": frozenset({"admin", "auditor"}),
    "export": frozenset({"supervisor", "admin", "auditor"}),
    "events.view": frozenset(ROLES),
    "supervise": frozenset({"supervisor", "admin"}),
    "conversation.create": frozenset({"agent", "supervisor", "admin"}),
}
# Roles that see a customer's identity (name, phone, e-mail) unmasked: the people who handle
# the case. Admins and auditors see it masked (they manage and review, they do not call back).
IDENTITY_ROLES = frozenset({"agent", "supervisor"})
CONVERSATION_ACTIONS = ("conversation.view", "conversation.write", "conversation.reply_as_agent",
                        "conversation.take_over")


@dataclass(frozen=True)
class Principal:
    """Who is asking: a signed-in user or an integration's API token."""

    tenant_id: int
    role: str
    user_id: int | None = None
    team_id: int | None = None
    name: str = ""

    @classmethod
    def of_user(cls, user: Any) -> "Principal":
        return cls(tenant_id=user.tenant_id, role=user.role, user_id=user.id, team_id=user.team_id,
                   name=user.username)

    @classmethod
    def of_token(cls, token: Any) -> "Principal":
        return cls(tenant_id=token.tenant_id, role=token.role, user_id=None, team_id=token.team_id,
                   name=token.name)

    @property
    def actor(self) -> str:
        """How the audit log names this principal."""
        return f"user:{self.name}" if self.user_id is not None else f"token:{self.name}"


def _sees(principal: Principal, conversation: Any) -> bool:
    if conversation.tenant_id != principal.tenant_id:
        return False
    if principal.role in TENANT_WIDE:
        return True
    if principal.role == "supervisor":
        return principal.team_id is not None and conversation.team_id == principal.team_id
    if principal.role == "agent":
        return principal.user_id is not None and conversation.agent_id == principal.user_id
    return False


def can(principal: Principal, action: str, conversation: Any = None, *, tenant_id: int | None = None) -> bool:
    """May `principal` do `action` (on `conversation`, or in `tenant_id` for tenant actions)?"""
    if action in TENANT_ACTIONS:
        allowed = (tenant_id is None or tenant_id == principal.tenant_id) and principal.role in TENANT_ACTIONS[action]
        if action == "conversation.create":
            # a principal that could never see the conversation it opens (a supervisor token without a
            # team, an agent-role token without a user) opens none: refused before anything is written
            allowed = allowed and (principal.role in TENANT_WIDE or (
                principal.team_id is not None if principal.role == "supervisor" else principal.user_id is not None))
        return allowed
    if action not in CONVERSATION_ACTIONS:
        raise ValueError(f"unknown action {action!r}; known: {sorted(TENANT_ACTIONS) + list(CONVERSATION_ACTIONS)}")
    if conversation is None or not _sees(principal, conversation):
        return False
    if action == "conversation.view":
        return True
    if principal.role == "auditor":
        return False
    if action == "conversation.write":
        return True
    if action == "conversation.reply_as_agent":
        taken = conversation.taken_over_by
        return taken is None or taken == principal.user_id or principal.role != "agent"
    return principal.role in ("supervisor", "admin")  # conversation.take_over


def sees_identity(principal: Principal) -> bool:
    """May `principal` see customers' names, phone numbers and e-mail addresses unmasked?"""
    return principal.role in IDENTITY_ROLES


def require(principal: Principal, action: str, conversation: Any = None, *, tenant_id: int | None = None) -> None:
    """Raise `AuthError` AF417 unless `can(...)`."""
    if not can(principal, action, conversation, tenant_id=tenant_id):
        if action == "conversation.create" and principal.role in TENANT_ACTIONS[action]:
            raise AuthError("AF417", "open conversations with a supervisor token that has no team or an agent "
                                     "token without a user (it could never see them): issue the token with a "
                                     "team_id, or with the admin role")
        raise AuthError("AF417", action.replace(".", " "))


def scope_clause(principal: Principal, tenant_id: Any, team_id: Any, user_id: Any) -> ColumnElement[bool]:
    """SQL filter of what `principal` may see in a table with these tenant, team and owning-user
    columns: the whole tenant (admin, auditor), its team's rows (supervisor), its own (agent)."""
    same_tenant = tenant_id == principal.tenant_id
    if principal.role in TENANT_WIDE:
        return same_tenant
    if principal.role == "supervisor" and principal.team_id is not None:
        return and_(same_tenant, team_id == principal.team_id)
    if principal.role == "agent" and principal.user_id is not None:
        return and_(same_tenant, user_id == principal.user_id)
    return false()


def conversation_clause(principal: Principal) -> ColumnElement[bool]:
    """SQL filter on `conversations` equal to `can(principal, "conversation.view", row)`."""
    return scope_clause(principal, ConversationRow.tenant_id, ConversationRow.team_id, ConversationRow.agent_id)


def queue_clause(principal: Principal) -> ColumnElement[bool]:
    """SQL filter on `conversations`: the routing queue `principal` may see waiting (as a record,
    not its messages): their team's (agents, supervisors), the tenant's (admins, auditors).
    Combine it with "unassigned" (the store's `ConversationFilter.unassigned`)."""
    same_tenant = ConversationRow.tenant_id == principal.tenant_id
    if principal.role in TENANT_WIDE:
        return same_tenant
    if principal.role in ("agent", "supervisor") and principal.team_id is not None:
        return and_(same_tenant, ConversationRow.team_id == principal.team_id)
    return false()


def customer_clause(principal: Principal) -> ColumnElement[bool]:
    """SQL filter on `customers`: same tenant, and a visible conversation unless tenant-wide."""
    same_tenant = CustomerRow.tenant_id == principal.tenant_id
    if principal.role in TENANT_WIDE:
        return same_tenant
    visible = exists(select(ConversationRow.id).where(
        ConversationRow.customer_id == CustomerRow.id, conversation_clause(principal)))
    return and_(same_tenant, visible if principal.role in ROLES else false())
