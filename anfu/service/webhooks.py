"""Outgoing webhooks: an admin registers a URL and the events it wants (`escalation.raised`,
`ticket.*`, `csat.low`, …); every matching event of the tenant becomes a delivery, sent by
the scheduler (`deliver_due`), signed, retried with backoff and logged.

A delivery is `POST url` with the JSON body
`{"id": delivery id, "event": name, "tenant_id": …, "created_at": ISO time, "data": payload}`
and the headers `X-Anfu-Event`, `X-Anfu-Delivery`, `X-Anfu-Timestamp` (Unix seconds) and
`X-Anfu-Signature: sha256=<hex>`, the HMAC-SHA256 of `"{timestamp}.{body}"` under the
webhook's secret (shown once, when it is registered). Receivers check it with `verify()`.
A 2xx answer delivers it; anything else (or no answer in `timeout` seconds) is retried after
BACKOFF[attempt] and marked failed after the last try. The secret is stored sealed with the
server's key (`anfu.security.secretbox`).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import secrets
import time
from datetime import datetime, timedelta, timezone
from typing import Any, Callable
from urllib.parse import urlsplit

import httpx

from ..errors import InputError
from ..security import secretbox
from ..store import IntegrationStore, Webhook, WebhookDelivery
from ..store.access import Principal, require
from ..events import EVENT_TYPES

BACKOFF = (timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10), timedelta(hours=1),
           timedelta(hours=6))
MAX_ATTEMPTS = len(BACKOFF) + 1
CACHE_S = 2.0
TICKET_EVENTS = tuple(sorted(name for name in EVENT_TYPES if name.startswith("ticket.")))
EVENTS = ("escalation.raised", "supervisor.alerted", "csat.low", "csat.submitted", "sla.warned", "sla.breached",
          "ticket.*", *TICKET_EVENTS)
SIGNATURE_HEADER = "X-Anfu-Signature"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, timestamp: str | int, body: bytes, signature: str, *, tolerance_s: int = 300,
           now: float | None = None) -> bool:
    """For receivers: is `signature` right for this body, and the timestamp recent?"""
    try:
        stamp = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - stamp) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, stamp, body), signature or "")


def matches(subscribed: list[str], name: str) -> bool:
    return any(s == name or (s.endswith(".*") and name.startswith(s[:-1])) for s in subscribed)


def check_url(url: str, allow_private: bool = False) -> str:
    """http(s) only, no credentials; no loopback/private/link-local address unless allowed."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        raise InputError("AF671", repr(url[:200]), why="use http:// or https:// with a host and no user:password")
    if not allow_private:
        host = parts.hostname.strip("[]").lower()
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            address = None
        if host == "localhost" or host.endswith(".localhost") or (
                address is not None and (address.is_private or address.is_loopback or address.is_link_local
                                         or address.is_reserved or address.is_unspecified)):
            raise InputError("AF671", repr(url[:200]), why="a private or loopback address "
                                                            "(set ANFU_WEBHOOK_ALLOW_PRIVATE=true for an internal receiver)")
    return url


class Webhooks:
    def __init__(self, store: IntegrationStore, secret_key: str, *, allow_private: bool = False,
                 transport: httpx.BaseTransport | None = None, timeout: float = 5.0,
                 clock: Callable[[], datetime] | None = None, audit: Callable[..., Any] | None = None) -> None:
        self.store = store
        self.audit = audit  # Store.audit: who registered or stopped which webhook
        self.secret_key = secret_key
        self.allow_private = allow_private
        self.transport = transport
        self.timeout = timeout
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        # tenant -> (read at, active webhooks): every recorded event asks, most tenants have none,
        # so the list is read at most every CACHE_S seconds (and at once after a change here)
        self._active: dict[int, tuple[float, list[Webhook]]] = {}

    def _subscriptions(self, tenant_id: int) -> list[Webhook]:
        cached = self._active.get(tenant_id)
        now = time.monotonic()
        if cached is None or now - cached[0] > CACHE_S:
            cached = (now, self.store.list_webhooks(tenant_id, active=True))
            self._active[tenant_id] = cached
        return cached[1]

    # administration ---------------------------------------------------------------------
    def _audited(self, principal: Principal, action: str, hook: Webhook, ip: str | None,
                 detail: dict[str, Any] | None = None) -> None:
        if self.audit is not None:
            self.audit(principal.tenant_id, principal.actor, action, target=f"webhook:{hook.id}",
                       detail=detail or {}, ip=ip)

    def register(self, principal: Principal, url: str, events: list[str], *,
                 ip: str | None = None) -> tuple[Webhook, str]:
        """A new subscription (audited `webhook.registered`); returns it with its signing
        secret (shown this once)."""
        require(principal, "tokens.manage")  # admins
        check_url(url, self.allow_private)
        unknown = [e for e in events if e not in EVENTS]
        if not events or unknown:
            raise InputError("AF672", ", ".join(unknown) or "(none)", allowed=", ".join(EVENTS))
        secret = "whsec_" + secrets.token_urlsafe(32)
        hook = self.store.create_webhook(principal.tenant_id, url=url, events=list(dict.fromkeys(events)),
                                         secret=secretbox.seal(secret, self.secret_key), by=principal.actor)
        self._active.pop(principal.tenant_id, None)
        self._audited(principal, "webhook.registered", hook, ip, {"events": list(hook.events)})
        return hook, secret

    def list(self, principal: Principal) -> list[Webhook]:
        require(principal, "tokens.manage")
        return self.store.list_webhooks(principal.tenant_id)

    def get(self, principal: Principal, webhook_id: int) -> Webhook:
        """One of the tenant's webhooks (another tenant's id is reported missing, AF503)."""
        require(principal, "tokens.manage")
        return self.store.get_webhook(webhook_id, principal.tenant_id)

    def deactivate(self, principal: Principal, webhook_id: int, *, ip: str | None = None) -> Webhook:
        """Stop a webhook (audited `webhook.deactivated`); pending deliveries fail on their next try."""
        require(principal, "tokens.manage")
        self._active.pop(principal.tenant_id, None)
        hook = self.store.set_webhook_active(webhook_id, principal.tenant_id, False)
        self._audited(principal, "webhook.deactivated", hook, ip)
        return hook

    def deliveries(self, principal: Principal, webhook_id: int, limit: int = 100) -> list[WebhookDelivery]:
        require(principal, "tokens.manage")
        return self.store.list_deliveries(webhook_id, principal.tenant_id, limit=limit)

    # events in ------------------------------------------------------------------------------
    def enqueue(self, tenant_id: int, name: str, payload: dict[str, Any]) -> list[WebhookDelivery]:
        """A listener of the turn service and the desk: one delivery per matching webhook."""
        return [self.store.enqueue_delivery(hook, name, payload)
                for hook in self._subscriptions(tenant_id) if matches(hook.events, name)]

    # deliveries out -------------------------------------------------------------------------
    def deliver_due(self, limit: int = 100) -> list[WebhookDelivery]:
        """Send every delivery that is due now; returns them as logged after this attempt."""
        done = []
        with httpx.Client(transport=self.transport, timeout=self.timeout, follow_redirects=False) as client:
            for delivery in self.store.due_deliveries(self.clock(), limit):
                done.append(self._send(client, delivery))
        return done

    def _send(self, client: httpx.Client, delivery: WebhookDelivery) -> WebhookDelivery:
        hook = self.store.get_webhook(delivery.webhook_id)
        now = self.clock()
        body = json.dumps({"id": delivery.id, "event": delivery.event, "tenant_id": delivery.tenant_id,
                           "created_at": delivery.created_at.isoformat(), "data": delivery.payload},
                          ensure_ascii=False, sort_keys=True, default=str).encode("utf-8")
        stamp = int(now.timestamp())
        secret = secretbox.open_secret(hook.secret, self.secret_key) or ""
        headers = {"Content-Type": "application/json", "User-Agent": "anfu-webhooks/1",
                   "X-Anfu-Event": delivery.event, "X-Anfu-Delivery": str(delivery.id),
                   "X-Anfu-Timestamp": str(stamp), SIGNATURE_HEADER: sign(secret, stamp, body)}
        status, error = None, None
        if not hook.active:
            error = "webhook deactivated"
        else:
            try:
                check_url(hook.url, self.allow_private)
                response = client.post(hook.url, content=body, headers=headers)
                status = response.status_code
                if 200 <= status < 300:
                    return self.store.record_attempt(delivery.id, state="delivered", status=status, error=None,
                                                     next_attempt_at=None)
                error = f"HTTP {status}"
            except (httpx.HTTPError, InputError) as exc:
                error = f"{type(exc).__name__}: {exc}"[:500]
        attempt = delivery.attempts + 1
        if not hook.active or attempt >= MAX_ATTEMPTS:
            return self.store.record_attempt(delivery.id, state="failed", status=status, error=error,
                                             next_attempt_at=None)
        return self.store.record_attempt(delivery.id, state="pending", status=status, error=error,
                                         next_attempt_at=now + BACKOFF[attempt - 1])
