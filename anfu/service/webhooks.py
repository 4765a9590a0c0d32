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

Server-side request forgery is refused twice: at registration (`check_url`: every spelling of a
private, loopback, link-local or reserved address, and a name that resolves to one) and at
delivery, where the connection itself resolves the name, checks every address and connects to
the checked one (a name rebound to 127.0.0.1 after registration reaches nothing). Redirects are
not followed, proxies from the environment are not used (a proxy would resolve the name past
the check), the answer's body is never read, and a delivery has `timeout` seconds in all, not
per read. Several server processes may tick at once (a tick longer than the scheduler lease):
each delivery is claimed in one conditional UPDATE before it is sent, so it goes out once; a
process that dies while sending leaves a claim that expires after CLAIM, and the delivery is
sent again then (receivers de-duplicate on `X-Anfu-Delivery`).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import re
import secrets
import socket
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any, Callable
from urllib.parse import urlsplit

import httpcore
import httpx

from ..errors import AnfuError, InputError
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
CLAIM = timedelta(minutes=5)  # how long a sending process holds a delivery (longer than any send)
TICK_BUDGET_S = 20.0  # a tick starts no new delivery after this (the rest wait for the next tick)
log = logging.getLogger("anfu.webhooks")


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


_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_NUMERIC_HOST = re.compile(r"[0-9a-fx.]+")
_Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _embedded_v4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (IPv4-mapped ::ffff:a.b.c.d, IPv4-compatible ::a.b.c.d,
    NAT64, 6to4, Teredo): the host it reaches is that IPv4 address."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if int(address) >> 32 == 0 or any(address in net for net in _NAT64):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    return None


def is_public(address: _Address) -> bool:
    """May a webhook reach `address`? Only globally routable unicast addresses: not private,
    loopback, link-local (169.254.169.254, the cloud metadata service), shared (100.64/10),
    reserved, unspecified or multicast — nor an IPv6 address that embeds such an IPv4 one."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_v4(address)
        if embedded is not None:
            return is_public(embedded)
    return address.is_global and not address.is_multicast


def _literal(host: str) -> _Address | None:
    """`host` as an IP address when it is one, in any spelling a resolver accepts: besides the
    usual ones, the forms of inet_aton (http://2130706433/, 0x7f000001, 0177.0.0.1, 127.1),
    which HTTP clients connect to as IPv4 addresses."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _NUMERIC_HOST.fullmatch(host) and any(c.isdigit() for c in host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def _resolve(host: str, port: int) -> list[_Address]:
    """Every address `host` resolves to (`socket.getaddrinfo`, looked up at call time)."""
    out: list[_Address] = []
    for *_rest, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in out:
            out.append(address)
    return out


def _private_refusal(url: str, why: str) -> InputError:
    return InputError("AF671", repr(url[:200]), why=f"{why} (set ANFU_WEBHOOK_ALLOW_PRIVATE=true for an "
                                                   "internal receiver)")


def check_url(url: str, allow_private: bool = False, *, resolve: bool = False) -> str:
    """http(s) only, with a host and a valid port, no credentials (not even an empty `@`); no
    loopback/private/link-local/reserved address in any spelling unless allowed. With `resolve`
    (registration), a name that resolves to such an address is refused too; one that does not
    resolve now is accepted (the delivery checks again, on the addresses it connects to)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:  # "http://[::1/", "https://host:99999/": not a URL anyone can send to
        raise InputError("AF671", repr(url[:200]), why=f"not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        raise InputError("AF671", repr(url[:200]), why="use http:// or https:// with a host and no user:password")
    if allow_private:
        return url
    host = parts.hostname.strip("[]").lower().rstrip(".")
    if not host or host == "localhost" or host.endswith(".localhost"):
        raise _private_refusal(url, "a private or loopback address")
    address = _literal(host)
    if address is not None:
        if not is_public(address):
            raise _private_refusal(url, "a private or loopback address")
        return url
    if resolve:
        try:
            addresses = _resolve(host, port or (443 if parts.scheme == "https" else 80))
        except (OSError, UnicodeError, ValueError):
            return url  # not resolvable now: the delivery checks what it connects to
        bad = [str(a) for a in addresses if not is_public(a)]
        if bad:
            raise _private_refusal(url, f"the name resolves to a private or loopback address ({', '.join(bad)})")
    return url


# deliveries over the network ------------------------------------------------------------------
_deadline = threading.local()  # the monotonic time by which the current thread's delivery must end


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read and write waits at most until the delivery's deadline, so a
    receiver that trickles its answer byte by byte cannot hold the scheduler."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    @staticmethod
    def _left(timeout: float | None) -> float | None:
        deadline = getattr(_deadline, "value", None)
        if deadline is None:
            return timeout
        left = deadline - time.monotonic()
        if left <= 0:
            raise httpcore.ReadTimeout("the delivery's time limit passed")
        return left if timeout is None else min(timeout, left)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._left(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._left(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, self._left(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _GuardedBackend(httpcore.SyncBackend):
    """Resolves the receiver's name itself, refuses it unless every address is public (unless
    private receivers are allowed), and connects to an address it checked: a name rebound to a
    private address after registration (DNS rebinding) reaches nothing. TLS still verifies the
    name (httpcore passes it as the server name)."""

    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Any = None) -> httpcore.NetworkStream:
        name = host.strip("[]").rstrip(".")
        literal = _literal(name.lower())
        try:
            addresses = [literal] if literal is not None else _resolve(name, port)
        except (OSError, UnicodeError, ValueError) as exc:
            raise httpcore.ConnectError(f"cannot resolve {name!r}: {exc}") from None
        if not self.allow_private:
            bad = [str(a) for a in addresses if not is_public(a)]
            if bad:
                raise _private_refusal(f"{name}:{port}", f"the name resolves to a private or loopback address "
                                                         f"({', '.join(bad)})")
        error: Exception = httpcore.ConnectError(f"no address for {name!r}")
        for address in addresses:
            try:
                stream = super().connect_tcp(str(address), port, _DeadlineStream._left(timeout), local_address,
                                             socket_options)
                return _DeadlineStream(stream)
            except httpcore.ConnectError as exc:
                error = exc
        raise error


def network_transport(allow_private: bool) -> httpx.HTTPTransport:
    """The transport for every request Anfu makes to an address a tenant admin chose (webhook
    deliveries, a tenant's helpdesk connector): it connects only to addresses it checked at
    connection time. trust_env=False: no proxy from the environment (a proxy would resolve the
    name itself, past the address check)."""
    transport = httpx.HTTPTransport(trust_env=False)
    transport._pool._network_backend = _GuardedBackend(allow_private)  # type: ignore[attr-defined]
    return transport


class Webhooks:
    def __init__(self, store: IntegrationStore, secret_key: str, *, allow_private: bool = False,
                 transport: httpx.BaseTransport | None = None, timeout: float = 5.0,
                 tick_budget_s: float = TICK_BUDGET_S,
                 clock: Callable[[], datetime] | None = None, audit: Callable[..., Any] | None = None) -> None:
        self.store = store
        self.audit = audit  # Store.audit: who registered or stopped which webhook
        self.secret_key = secret_key
        self.allow_private = allow_private
        self.transport = transport
        self.timeout = timeout  # seconds a delivery may take in all (connect, send, answer)
        self.tick_budget_s = tick_budget_s
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
        check_url(url, self.allow_private, resolve=True)
        unknown = [e for e in events if e not in EVENTS]
        if not events or unknown:
            raise InputError("AF672", ", ".join(unknown) or "(none)", allowed=", ".join(EVENTS))
        secret = "whsec_" + secrets.token_urlsafe(32)
        hook = self.store.create_webhook(principal.tenant_id, url=url, events=list(dict.fromkeys(events)),
                                         secret=secretbox.seal(secret, self.secret_key), by=principal.actor)
        self._active.pop(principal.tenant_id, None)
        self._audited(principal, "webhook.registered", hook, ip, {"events": list(hook.events)})
        return hook, secret

    def registered(self, principal: Principal, webhook_id: int) -> tuple[Webhook, str]:
        """A webhook this tenant registered, with its signing secret: what `register` answered,
        for a retry of that request (the API's Idempotency-Key) whose first reply was lost."""
        hook = self.get(principal, webhook_id)
        return hook, secretbox.open_secret(hook.secret, self.secret_key) or ""

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
        """Send every delivery that is due now (those this process claims first); returns them as
        logged after this attempt. One delivery's failure, whatever it is, is its own: it is
        logged on the delivery and the next one is sent."""
        done = []
        started = time.monotonic()
        transport = self.transport or network_transport(self.allow_private)
        with httpx.Client(transport=transport, timeout=self.timeout, follow_redirects=False,
                          trust_env=False) as client:
            for delivery in self.store.due_deliveries(self.clock(), limit):
                if time.monotonic() - started > self.tick_budget_s:
                    break  # the rest stay due for the next tick (the lease is renewed between ticks)
                now = self.clock()
                claimed = self.store.claim_delivery(delivery.id, now, now + CLAIM)
                if claimed is None:
                    continue  # another process sends (or sent) it
                try:
                    done.append(self._send(client, claimed))
                except Exception:  # noqa: BLE001 - e.g. the row went with its tenant: log, go on
                    log.exception("webhook delivery %s could not be sent or logged", delivery.id)
        return done

    def _send(self, client: httpx.Client, delivery: WebhookDelivery) -> WebhookDelivery:
        """Attempt `delivery` (claimed: its `attempts` counts this attempt already)."""
        hook = self.store.get_webhook(delivery.webhook_id)
        now = self.clock()
        attempt = delivery.attempts
        if attempt > MAX_ATTEMPTS:  # its sender died during the last attempt: give up, as after a failure
            return self.store.record_attempt(delivery.id, state="failed", status=None, counted=True,
                                             error=delivery.last_error or "no answer recorded (the sender stopped)",
                                             next_attempt_at=None)
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
            _deadline.value = time.monotonic() + self.timeout
            try:
                check_url(hook.url, self.allow_private)
                # the status line is the answer: the body is never read (a receiver may send
                # gigabytes), and the connection is closed with the response
                with client.stream("POST", hook.url, content=body, headers=headers) as response:
                    status = response.status_code
                if 200 <= status < 300:
                    return self.store.record_attempt(delivery.id, state="delivered", status=status, error=None,
                                                     next_attempt_at=None, counted=True)
                error = f"HTTP {status}"
            except (httpx.HTTPError, httpcore.TimeoutException, AnfuError) as exc:
                error = f"{type(exc).__name__}: {exc}"[:500]
            except Exception as exc:  # noqa: BLE001 - a URL httpx cannot send, a bug: this delivery's failure
                log.warning("webhook delivery %s failed unexpectedly", delivery.id, exc_info=True)
                error = f"{type(exc).__name__}: {exc}"[:500]
            finally:
                _deadline.value = None
        if not hook.active or attempt >= MAX_ATTEMPTS:
            return self.store.record_attempt(delivery.id, state="failed", status=status, error=error,
                                             next_attempt_at=None, counted=True)
        return self.store.record_attempt(delivery.id, state="pending", status=status, error=error,
                                         next_attempt_at=now + BACKOFF[attempt - 1], counted=True)
