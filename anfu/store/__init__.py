"""The store: the only package that imports SQLAlchemy, Alembic and psycopg.

Start-up::

    from anfu.settings import get_settings
    from anfu.store import Store, make_engine, upgrade, check_schema

    settings = get_settings()
    upgrade(settings)                      # Alembic migrations to head (creates an empty DB)
    engine = make_engine(settings)         # SQLite WAL + synchronous=FULL, or PostgreSQL (psycopg 3)
    check_schema(engine)                   # AF502 when the schema is not at head
    store = Store(engine, mask_text=settings.store_masked_text)

Everything returns frozen records (`anfu.store.records`, each with `to_dict()`), never ORM
rows. Errors: `NotFoundError` AF503 (missing *or not visible*: other tenants' ids leak
nothing), `StoreError` AF504 (duplicate name) / AF505 (invalid value), `AuthError` AF417
(visible but not allowed), `InputError` AF003–AF007 for bad message text or speaker.

Access (`anfu.store.access`): `Principal(tenant_id, role, user_id, team_id, name)`, built with
`Principal.of_user(user)` / `Principal.of_token(api_token)`; `can(principal, action, conv)`,
`require(...)`. Conversation actions: `conversation.view|write|reply_as_agent|take_over`;
tenant actions: `users.manage`, `tokens.manage`, `customer.delete`, `audit.view`, `export`,
`events.view`, `supervise`. Agents see their own conversations, supervisors their team's,
admins and auditors their tenant's (auditors read only); nobody crosses tenants.

`Store` methods (`visible_to`/`by` = a Principal; omitted = system call, no check):

Tenants, teams, users
    create_tenant(slug, name) / get_tenant(id) / get_tenant_by_slug(slug) / list_tenants()
    create_team(tenant_id, name) / get_team(id) / list_teams(tenant_id)
    create_user(tenant_id, username, password_hash, role, *, team_id, display_name,
                must_change_password) / get_user(id) / get_user_by_username(name)
    list_users(tenant_id) / count_users() / update_user(id, **USER_FIELDS)
    register_login_failure(id, *, max_attempts, lockout) / register_login_success(id)
Sessions and API tokens (hashes only; see anfu.security.tokens)
    create_session(user_id, token_hash, expires_at, *, mfa_verified, ip, user_agent)
    get_session(token_hash) -> AuthSession | None   (live: unrevoked, unexpired, user active)
    extend_session(id, expires_at) / mark_session_mfa_verified(id)
    revoke_session(id) -> bool / revoke_user_sessions(user_id, *, keep) -> int
    create_api_token(tenant_id, name, role, token_hash, prefix, *, team_id, created_by)
    get_api_token(token_hash) / list_api_tokens(tenant_id) / revoke_api_token(id, *, tenant_id)
Customers (one timeline across channels)
    upsert_customer(tenant_id, *, external_ref, phone, email, display_name) -> (Customer, created)
        matches by external ref, then phone (digits, +86 dropped), then e-mail; fills gaps
    get_customer(id, visible_to) / list_customers(visible_to, *, page, page_size) -> Page
    customer_timeline(id, visible_to, *, page, page_size) -> Page[TimelineItem]
    delete_customer_data(id, *, by) -> DeletionReport   (admin; removes conversations,
        messages, assessments, events and the customer; audited)
Conversations and messages
    create_conversation(tenant_id, *, channel, customer_id, team_id, agent_id, industry,
                        external_ref, status) / get_or_create_conversation(tenant_id, external_ref, **kw)
    open_conversation(by, *, external_ref, channel, industry, agent_id, customer) -> (record, created)
        a new message's conversation in one transaction: agent checked, customer upserted,
        conversation found (visible to `by`, else AF503 and nothing written) or created
    get_conversation(id, visible_to) / update_conversation(id, *, by, status, agent_id, team_id, industry)
    take_over(id, *, by, release=False, ip)   (event conversation.taken_over/released + audit)
    list_conversations(visible_to, ConversationFilter(status, channel, industry, team_id,
        agent_id, customer_id, emotion, min_escalation, min_intensity, updated_since, updated_until, statuses,
        unassigned),
        *, page=1, page_size=50) -> Page[ConversationRecord]   (newest activity first)
    append_message(conversation_id, speaker, text, *, client_msg_id, channel, sent_at, by)
        -> (MessageRecord, created)   committed durably BEFORE it returns (ack after it);
        same client_msg_id again -> the stored message, created=False
    append_turn(conversation_id, speaker, text, assess, *, client_msg_id, channel, sent_at, by, window)
        -> TurnWrite(message, created, conversation, previous_level, assessment, events)
        the live path: message + assessment (`assess(conversation, latest messages)` ->
        (data, [(event name, payload)])) + events in ONE durable transaction
    list_messages(conversation_id, visible_to, *, after_seq, limit)
    load_conversation(id, visible_to) -> anfu.types.Conversation   (for the Analyzer)
Assessments, events, audit
    save_assessment(conversation_id, Assessment | dict, *, upto_seq, by) -> AssessmentRecord
        (copies emotion / intensity / escalation level onto the conversation for filters)
    latest_assessment(conversation_id, visible_to) / list_assessments(conversation_id, visible_to)
    add_event(tenant_id, "noun.verb", payload, *, conversation_id) -> Event
    list_events(visible_to, *, after_id, name, conversation_id, limit) -> list[Event]  (poll by id)
    audit(tenant_id, actor, action, *, target, detail, ip) -> AuditEntry   (PII in detail masked)
    list_audit(visible_to, *, action, page, page_size) -> Page[AuditEntry]   (admin, auditor)

Complaint workflow (`WorkflowStore(engine)`, tables in workflow_tables.py): tickets, their
follow-ups and 四个不漏 ledger entries, stored as the workflow objects' `to_dict()`.

Wellbeing and training (`CareStore(engine)`, tables in care_tables.py, rules in care_repo.py):
after-contact check-ins (self-check and note private to their agent), peer-support opt-in,
trainers' scenarios, assignments, simulator sessions and the anonymised case library.

Integrations (`IntegrationStore(engine)`, tables in integration_tables.py): the canned-reply
library (话术库), outgoing webhooks and their delivery log (issue 11).

Idempotency keys (`IdempotencyStore(engine)`, table in idempotency_tables.py): claim(tenant_id,
    owner, scope, key, digest) -> Claim (a finished request's resource_id, or this request's
    claim; AF445 for a key used with another body) / complete(claim, resource_id) / release(claim)

Helpdesk connectors (`ConnectorStore(engine)`, table in connector_tables.py): each tenant's
Chatwoot and Zammad settings (secrets sealed by the service) and the last connection test.

Private notes (`NoteStore(engine)`, table in notes_tables.py): staff's notes (内部备注) on one
conversation or one ticket; never in a ticket's history, an export or a webhook (issue 13).

Search (`SearchStore(engine)`, table in search_tables.py, `docs/search.md`): the full-text index of
messages, tickets and customers (jieba tokens; FTS5 on SQLite, GIN on PostgreSQL), written by the
write paths above in their own transactions; `search(principal, terms, kinds=…)` applies the access
rules in the query. Saved views (`SavedViewStore(engine)`, lists_tables.py): each user's named lists.

Migrations: `upgrade(settings_or_engine, "heads")`, `downgrade(settings_or_engine, "base")`,
`current_revision(engine)`, `head_revision()`; scripts in `anfu/store/migrations/versions/`.
"""

from __future__ import annotations

from .access import Principal, can, require
from .engine import make_engine
from .migrate import check_schema, current_revision, downgrade, head_revision, upgrade
from .records import (ApiToken, AssessmentRecord, AuditEntry, AuthSession, ConversationRecord, Customer,
                      DeletionReport, Event, MessageRecord, Page, Team, Tenant, TimelineItem, User)
from .repo import ConversationFilter, Store, TurnWrite
from .tables import CONVERSATION_STATUSES, ROLES
from .workflow_repo import FollowUpRecord, LedgerRecord, TicketChange, TicketRecord, WorkflowStore
from .care_repo import CareStore  # noqa: E402  (wellbeing and training tables, issue 14)
from .integration_repo import CannedReply, IntegrationStore, Webhook, WebhookDelivery  # noqa: E402  (issue 11)
from .inspection_repo import InspectionStore  # noqa: E402  (quality inspection, issue 15)
from .notify import Notifier, is_postgres  # noqa: E402  (live fan-out across processes, issue 15)
from .lease import Lease  # noqa: E402  (background work once per cluster, issue 15)
from .search_repo import SearchHit, SearchStore  # noqa: E402  (full-text search, issue 13)
from .lists_repo import SavedView, SavedViewStore  # noqa: E402  (saved views of the lists, issue 13)
from .routing_repo import AgentProfile, Queue, QueueFigures, RoutingStore  # noqa: E402  (queues, skills, auto-assignment, issue 13)
from .connector_repo import ConnectorConfig, ConnectorStore  # noqa: E402  (helpdesk connectors per tenant, issue 13)
from .notes_repo import Note, NoteStore  # noqa: E402  (private notes on conversations and tickets, issue 13)
from .idempotency_repo import Claim, IdempotencyStore  # noqa: E402  (the API's Idempotency-Key)

__all__ = ["CONVERSATION_STATUSES", "ROLES", "ApiToken", "AssessmentRecord", "AuditEntry", "AuthSession",
           "ConversationFilter", "ConversationRecord", "Customer", "DeletionReport", "Event", "MessageRecord",
           "Page", "Principal", "Store", "Team", "TurnWrite", "Tenant", "TimelineItem", "User", "can", "check_schema",
           "current_revision", "downgrade", "head_revision", "make_engine", "require", "upgrade",
           "FollowUpRecord", "LedgerRecord", "TicketChange", "TicketRecord", "WorkflowStore", "CareStore",
           "CannedReply", "IntegrationStore", "Webhook", "WebhookDelivery", "Note", "NoteStore",
           "ConnectorConfig", "ConnectorStore", "Claim", "IdempotencyStore"]
