"""Every service of one running app, wired together once (`Services.build`): the turn
service and the complaint desk tell the webhooks about their events; the scheduler job runs
the on-time waiting alert, the tickets' SLA warnings and breaches, and the webhook deliveries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from ..pipeline import Analyzer
from ..store import ConnectorStore, IdempotencyStore, IntegrationStore, NoteStore, Store, WorkflowStore
from .alerts import Alerts
from .desk import TicketDesk
from .helpdesks import Helpdesks
from .lists import ConversationLists
from .live import Hub
from .notes import Notes
from .replies import ReplyLibrary
from .routing import Routing
from .search import Search
from .staff import Staff
from .tenant_settings import TenantSettings
from .turns import TurnService
from .waiting import WaitingWatch
from .webhooks import Webhooks


@dataclass
class Services:
    turns: TurnService
    desk: TicketDesk
    alerts: Alerts
    routing: Routing
    staff: Staff
    replies: ReplyLibrary
    webhooks: Webhooks
    waiting: WaitingWatch
    notes: Notes
    helpdesks: Helpdesks
    tenant_settings: TenantSettings
    # read-only over the store: made from the turn service's store
    search: Search = field(init=False)
    lists: ConversationLists = field(init=False)
    # the API's Idempotency-Key claims (anfu.server.idempotency)
    idempotency: IdempotencyStore = field(init=False)

    def __post_init__(self) -> None:
        self.search = Search(self.turns.store)
        self.lists = ConversationLists(self.turns.store)
        self.idempotency = IdempotencyStore(self.turns.store.engine)

    @classmethod
    def build(cls, store: Store, analyzer: Analyzer, hub: Hub, secret_key: str, *, allow_private_webhooks: bool = False,
              webhook_transport: httpx.BaseTransport | None = None) -> "Services":
        integrations = IntegrationStore(store.engine, mask_text=store.mask_text)
        webhooks = Webhooks(integrations, secret_key, allow_private=allow_private_webhooks,
                            transport=webhook_transport, audit=store.audit)
        listeners = [webhooks.enqueue]
        workflow = WorkflowStore(store.engine, mask_text=store.mask_text)
        routing = Routing(store, hub)
        return cls(turns=TurnService(store, analyzer, hub, listeners=listeners, route=routing.route_new),
                   desk=TicketDesk(store, workflow, hub, secret_key, listeners=listeners),
                   alerts=Alerts(store), routing=routing, staff=Staff(store, routing),
                   replies=ReplyLibrary(integrations), webhooks=webhooks,
                   waiting=WaitingWatch(store, hub, listeners=listeners),
                   notes=Notes(store, workflow, NoteStore(store.engine, mask_text=store.mask_text)),
                   helpdesks=Helpdesks(ConnectorStore(store.engine), secret_key, audit=store.audit,
                                       allow_private=allow_private_webhooks),
                   tenant_settings=TenantSettings(store))

    def run_scheduled(self) -> dict[str, Any]:
        """One scheduler tick (a worker thread calls it): waiting alerts, SLA warnings and
        breaches of open tickets, then due deliveries. Each job runs even when another fails (a
        broken waiting rule must not hold back the webhooks); the first failure is raised after
        all ran, for the tick's log."""
        counts: dict[str, Any] = {}
        failure: Exception | None = None
        for key, job in (("raised", self.waiting.check), ("sla", self.desk.sweep_sla),
                         ("deliveries", self.webhooks.deliver_due)):
            try:
                counts[key] = len(job())
            except Exception as exc:  # noqa: BLE001 - raised below, once every job had its turn
                failure = failure or exc
        if failure is not None:
            raise failure
        return counts
