"""Server time of the admin console's pages when its logs are large (issue 13: pages answer in
< 300 ms on the server): a tenant with `AUDIT_ROWS` audit entries over 90 days (plus another
tenant's, which must not slow it), a webhook with `DELIVERIES` deliveries, a few hundred users
and API tokens. The audit log is timed unfiltered, by family, actor, object, a one-day range and
a deep page; the other admin pages as they are. Each page: one warm-up, then `REPEATS` timed
requests in-process (FastAPI TestClient, no network), p50 and p95 in ms, with the machine's
load average beside them. `ANFU_BENCH_ADMIN_AUDIT_ROWS` changes the size."""

from __future__ import annotations

import os
import random
import secrets
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from typing import Any

AUDIT_ROWS = int(os.environ.get("ANFU_BENCH_ADMIN_AUDIT_ROWS", "200000"))
OTHER_TENANT_ROWS = AUDIT_ROWS // 4
DELIVERIES = 10_000
USERS = 300
TOKENS = 100
REPEATS = 15
TARGET_MS = 300.0
ACTIONS = ("alert.acknowledged", "alert.assigned", "alert.resolved", "conversation.claimed", "conversation.assigned",
           "ticket.closed", "ticket.stage", "auth.login", "auth.logout", "review.scored", "user.updated",
           "export.analytics")


def _fill(store: Any, tenant_id: int, other_id: int, webhook_id: int, now: datetime) -> None:
    from sqlalchemy import insert

    from anfu.store.integration_tables import WebhookDeliveryRow
    from anfu.store.tables import AuditRow

    rng = random.Random(7)
    actors = [f"user:agent{i:03d}" for i in range(200)] + ["user:wang", "user:root", "system"]

    def rows(tenant: int, n: int) -> list[dict[str, Any]]:
        return [{"tenant_id": tenant, "actor": rng.choice(actors), "action": rng.choice(ACTIONS),
                 "target": f"conversation:{rng.randint(1, 50_000)}", "detail": {"note": "已安抚，客户情绪平稳"},
                 "ip": "10.1.2.3", "at": now - timedelta(seconds=rng.uniform(0, 90 * 86400))} for _ in range(n)]

    with store.engine.begin() as conn:
        for tenant, total in ((tenant_id, AUDIT_ROWS), (other_id, OTHER_TENANT_ROWS)):
            for start in range(0, total, 20_000):
                conn.execute(insert(AuditRow), rows(tenant, min(20_000, total - start)))
        states = ("delivered", "delivered", "delivered", "failed", "pending")
        conn.execute(insert(WebhookDeliveryRow), [
            {"tenant_id": tenant_id, "webhook_id": webhook_id, "conversation_id": None, "event": "escalation.raised",
             "payload": {"level": 2}, "state": rng.choice(states), "attempts": rng.randint(1, 6), "last_status": 200,
             "last_error": None, "next_attempt_at": now, "created_at": now - timedelta(minutes=i),
             "delivered_at": now} for i in range(DELIVERIES)])


def _client(app: Any, store: Any, user: Any) -> Any:
    from fastapi.testclient import TestClient

    from anfu.security.tokens import hash_token
    from anfu.server.deps import CSRF_COOKIE, SESSION_COOKIE, csrf_token

    client = TestClient(app, raise_server_exceptions=True, follow_redirects=False)
    token = secrets.token_urlsafe(32)
    store.create_session(user.id, hash_token(token), datetime.now(timezone.utc) + timedelta(hours=4), mfa_verified=True)
    client.cookies.set(SESSION_COOKIE, token)
    client.cookies.set(CSRF_COOKIE, csrf_token(app.state.ctx, token))
    return client


def _time(client: Any, path: str) -> dict[str, Any]:
    first = client.get(path)
    assert first.status_code == 200, (path, first.status_code)
    samples = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        response = client.get(path)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    samples.sort()
    return {"p50_ms": round(statistics.median(samples), 1), "p95_ms": round(samples[round(0.95 * len(samples)) - 1], 1),
            "bytes": len(first.content)}


def run() -> dict[str, Any]:
    from anfu.security.passwords import hash_password
    from anfu.security.tokens import new_api_token
    from anfu.server.app import create_app
    from anfu.settings import get_settings
    from anfu.store import Principal, upgrade

    load_start = os.getloadavg()
    with tempfile.TemporaryDirectory() as folder:
        settings = get_settings(environment="test", data_dir=folder, secret_key=secrets.token_urlsafe(48),
                                webhook_allow_private=False)
        upgrade(settings)
        import anfu

        # the admin pages analyse nothing: a pipeline of the normaliser alone keeps model loading out
        analyzer = anfu.load({"pipeline": {"components": ["anfu.normalize.v1"]}})
        app = create_app(settings, analyzer=analyzer, scheduler=False)
        store = app.state.ctx.store
        tenant = store.create_tenant("bench-admin", "压测服务中心")
        other = store.create_tenant("bench-other", "另一家单位")
        team = store.create_team(tenant.id, "95598一组")
        pw = hash_password("Bench-Admin-2026!x")
        admin = store.update_user(store.create_user(tenant.id, "bench_root", pw, "admin").id, mfa_enabled=True)
        for i in range(USERS):
            store.create_user(tenant.id, f"agent{i:03d}", pw, "agent", team_id=team.id, display_name=f"坐席{i:03d}")
        for i in range(TOKENS):
            _, token_hash, prefix = new_api_token()
            store.create_api_token(tenant.id, f"集成{i:03d}", "supervisor", token_hash, prefix, team_id=team.id)
        hook, _ = app.state.ctx.services.webhooks.register(Principal.of_user(admin), "https://crm.example.cn/hooks",
                                                           ["escalation.raised"])
        now = datetime.now(timezone.utc)
        started = time.monotonic()
        _fill(store, tenant.id, other.id, hook.id, now)
        filled_s = time.monotonic() - started
        day = (now - timedelta(days=30)).astimezone(timezone(timedelta(hours=8))).date().isoformat()
        paths = ["/admin/users", "/admin/tokens", "/admin/webhooks", f"/admin/webhooks/{hook.id}", "/admin/connectors",
                 "/admin/settings", "/admin/audit", "/admin/audit?action=alert.", "/admin/audit?actor=user%3Awang",
                 "/admin/audit?target=conversation%3A4242", f"/admin/audit?since={day}&until={day}",
                 "/admin/audit?page=2000", f"/admin/audit?action=alert.&since={day}&until={day}&page=2"]
        client = _client(app, store, admin)
        pages = {path: _time(client, path) for path in paths}
        store.engine.dispose()
    worst = max(v["p95_ms"] for v in pages.values())
    return {
        "targets": {"worst_p95_ms": ["<=", TARGET_MS]},
        "headline": ["audit_rows", "worst_p95_ms", "load_avg_start", "load_avg_end"],
        "audit_rows": AUDIT_ROWS, "other_tenant_audit_rows": OTHER_TENANT_ROWS, "deliveries": DELIVERIES,
        "users": USERS + 1, "tokens": TOKENS, "fill_s": round(filled_s, 1), "worst_p95_ms": worst,
        "slow": [f"{p}: {v['p95_ms']:.0f} ms" for p, v in pages.items() if v["p95_ms"] > TARGET_MS],
        "pages": pages, "database": "sqlite", "server_time": "in-process TestClient, no network",
        "load_avg_start": load_start[0], "load_avg_end": os.getloadavg()[0], "cpus": os.cpu_count(),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), ensure_ascii=False, indent=1))
