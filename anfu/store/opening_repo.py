"""Opening a conversation (the `OpeningMixin` part of `anfu.store.Store`): who may be assigned
one, and the conversation a new message opens or continues, with its customer, in one
transaction (`open_conversation`, the first message of a chat)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..errors import AuthError, InputError, NotFoundError, StoreError
from . import access
from .access import Principal
from .accounts import StoreBase
from .customers_repo import _no_nul
from .records import ConversationRecord, from_row
from .tables import ConversationRow, CustomerRow, TeamRow, TenantRow, UserRow


class OpeningMixin(StoreBase):
    def check_assignable(self, by: Principal, agent_id: int) -> None:
        """May `by` hand conversations to `agent_id`? Same tenant always, an active user who can act
        (not the read-only auditor: AF505); a supervisor only to the agents of their own team (AF417);
        agents and auditors assign nobody else."""
        with self._read() as s:
            self._assignable(s, by, agent_id)

    @staticmethod
    def _assignable(s: Session, by: Principal, agent_id: int) -> UserRow:
        """`check_assignable` in the caller's session; the agent's row."""
        agent = s.get(UserRow, agent_id)
        if agent is None or agent.tenant_id != by.tenant_id:
            raise InputError("AF505", f"agent {agent_id} is not in your tenant", kind="conversation")
        # work goes to someone who can act on it: not the read-only auditor, not a deactivated user
        if agent.role == "auditor":
            raise InputError("AF505", f"user {agent_id} is an auditor (read-only): hand the work to an agent "
                                      "or a supervisor", kind="conversation")
        if not agent.active:
            raise InputError("AF505", f"user {agent_id} is deactivated", kind="conversation")
        if by.role in ("admin",) or agent_id == by.user_id:
            return agent
        if by.role == "supervisor" and by.team_id is not None and agent.team_id == by.team_id:
            return agent
        raise AuthError("AF417", "assign a conversation to an agent outside your team")

    def open_conversation(self, by: Principal, *, external_ref: str | None = None, channel: str = "webchat",
                          industry: str | None = None, agent_id: int | None = None,
                          customer: dict[str, str | None] | None = None) -> tuple[ConversationRecord, bool]:
        """The conversation a new message opens or continues, in one transaction (the first
        message of a chat, `TurnService.resolve`): the agent checked as `check_assignable` (the
        team defaults to `by`'s, else the agent's), the customer `customer` names (keyword
        arguments of `upsert_customer`) matched or created as `upsert_customer` does for `by`,
        then the conversation the channel calls `external_ref` (created on first use; a new one
        when None). Returns (conversation, created). A reference naming a conversation `by` may not
        see is missing (AF503) and nothing is written; a concurrent first use of the same
        reference or customer is retried and finds the winner's rows."""
        access.require(by, "conversation.create")
        external_ref = _no_nul(external_ref)
        for attempt in range(3):
            try:
                with self._write() as s:
                    self._get(s, TenantRow, by.tenant_id, "tenant")
                    team_id = by.team_id
                    if agent_id is not None:
                        agent = self._assignable(s, by, agent_id)
                        team_id = agent.team_id if team_id is None else team_id
                    row = None if external_ref is None else s.scalar(select(ConversationRow).where(
                        ConversationRow.tenant_id == by.tenant_id, ConversationRow.external_ref == external_ref))
                    if row is not None:
                        if not access.can(by, "conversation.view", row):
                            raise NotFoundError("AF503", external_ref, kind="conversation")
                        if customer:
                            self._hints_on_open_chat(s, row, by, customer)
                        return from_row(ConversationRecord, row), False
                    customer_id = None
                    if customer:
                        customer_id = self._upsert_customer_row(s, by.tenant_id, by=by, **customer)[0].id
                    self._same_tenant(s, by.tenant_id, TeamRow, team_id, "team")
                    now = self.clock()
                    row = ConversationRow(tenant_id=by.tenant_id, customer_id=customer_id, team_id=team_id,
                                          agent_id=agent_id, channel=channel, industry=industry,
                                          external_ref=external_ref, status="open", last_seq=0,
                                          escalation_level=0, created_at=now, updated_at=now)
                    s.add(row)
                    s.flush()
                    return from_row(ConversationRecord, row), True
            except IntegrityError:
                # a concurrent first message of the same chat (or customer) committed first: the retry
                # finds its rows (the conversation is looked up before any customer is written)
                if attempt == 2:
                    raise StoreError("AF504", external_ref, kind="conversation") from None
        raise AssertionError("unreachable")

    def _hints_on_open_chat(self, s: Session, row: ConversationRow, by: Principal,
                            customer: dict[str, str | None]) -> None:
        """Customer hints on a chat that already exists: a chat that named nobody yet is linked to
        the customer they name (matched or created; unlinked, that customer would stay invisible to
        `by` and every later message make another); hints naming the chat's own customer fill its
        gaps (a new e-mail); hints naming someone else are ignored: the chat keeps its customer, so
        neither its history moves to another person (whose erasure would then miss it) nor a copy
        of that person is left behind on every message."""
        if row.customer_id is None:
            found, _ = self._upsert_customer_row(s, row.tenant_id, by=by, **customer)
            row.customer_id = found.id
            row.updated_at = self.clock()
            s.flush()
        elif self._names(s.get(CustomerRow, row.customer_id), **customer):
            self._upsert_customer_row(s, row.tenant_id, by=by, **customer)
