"""Server time of the workspace's main pages for a tenant with 5,000 conversations (issue 13:
every page answers in < 300 ms on the server, the analytics boards included).

The tenant is the demo fortnight (`seed_demo`: real analyses, tickets worked through the real
workflow, CSAT, ledger), cloned through the store's tables up to 5,000 conversations with their
messages, latest assessment (with its wellbeing and dashboard facts), tickets and ledger entries
spread over the last two weeks (a bulk insert: seconds, not the hours the pipeline would take).

The server runs in its own process (`anfu.server.app.create_app` under uvicorn, one worker, the
scheduler off, on a loopback port), so the client's work and its share of the GIL stay out of the
server's figures. Each page is requested over HTTP as each role that uses it: one warm-up, then
up to `REPEATS` timed requests (fewer when a page is slow); p50 and p95 in ms of wall time at the
client (the whole round trip; the target), of wall time in the server process, and of the server
process's CPU time for the request (the app's work from the ASGI call to the last byte, read back
from the server after each request: what the page costs, whatever else runs on the machine; on a
shared, loaded machine the wall times also hold the time spent waiting for a core). The machine's load average is recorded beside the
figures. `ANFU_BENCH_PAGES_CONVERSATIONS` changes the size (e.g. 500 for a quick look),
`ANFU_BENCH_PAGES_REPEATS` the timed requests per page; `ANFU_BENCH_PAGES_DIR` keeps the seeded
database in that folder and reuses it on the next run."""

from __future__ import annotations

import os
import queue
import random
import secrets
import statistics
import tempfile
import time
from contextlib import nullcontext
from datetime import datetime, timedelta, timezone
from typing import Any

CONVERSATIONS = int(os.environ.get("ANFU_BENCH_PAGES_CONVERSATIONS", "5000"))
REPEATS = int(os.environ.get("ANFU_BENCH_PAGES_REPEATS", "12"))
CPU_PROBE = "/__bench/cpu"  # answered by the server process's wrapper, never by the app
PAGE_BUDGET_S = 6.0      # stop repeating a page after this much time (keeps slow pages from taking minutes)
TARGET_MS = 300.0


def _clone(store: Any, tenant_id: int, total: int, now: datetime, seed: int = 13) -> dict[str, int]:
    """Copy the tenant's conversations (messages, latest assessment, ticket, ledger entry) until
    it has `total`, each copy moved to a random moment of the last 14 days."""
    from sqlalchemy import func, insert, select

    from anfu.store.facts_repo import turn_readings
    from anfu.store.facts_tables import ConversationFactsRow, TurnFactsRow
    from anfu.store.tables import AssessmentRow, ConversationRow, MessageRow
    from anfu.store.workflow_tables import LedgerRow, TicketRow

    rng = random.Random(seed)
    engine = store.engine
    with engine.connect() as conn:
        convs = [dict(r._mapping) for r in conn.execute(select(ConversationRow.__table__)
                                                        .where(ConversationRow.tenant_id == tenant_id))]
        have = len(convs)
        ids = [c["id"] for c in convs]
        messages: dict[int, list[dict[str, Any]]] = {}
        for r in conn.execute(select(MessageRow.__table__).where(MessageRow.conversation_id.in_(ids))):
            messages.setdefault(r.conversation_id, []).append(dict(r._mapping))
        newest = select(func.max(AssessmentRow.id)).where(AssessmentRow.conversation_id.in_(ids)) \
            .group_by(AssessmentRow.conversation_id)
        assessments = {r.conversation_id: dict(r._mapping)
                       for r in conn.execute(select(AssessmentRow.__table__).where(AssessmentRow.id.in_(newest)))}
        tickets = {r.conversation_id: dict(r._mapping) for r in conn.execute(
            select(TicketRow.__table__).where(TicketRow.tenant_id == tenant_id))}
        ledger = {r.ticket_id: dict(r._mapping) for r in conn.execute(
            select(LedgerRow.__table__).where(LedgerRow.tenant_id == tenant_id))}
        facts = {r.conversation_id: dict(r._mapping) for r in conn.execute(
            select(ConversationFactsRow.__table__).where(ConversationFactsRow.tenant_id == tenant_id))}
    sources = [c for c in convs if c["id"] in assessments]
    made = {"conversations": have, "messages": sum(len(v) for v in messages.values()), "tickets": len(tickets)}
    copy = 0
    with engine.begin() as conn:
        while made["conversations"] < total:
            copy += 1
            src = rng.choice(sources)
            shift = now - timedelta(days=rng.uniform(0, 14)) - src["created_at"].replace(tzinfo=timezone.utc)
            row = {k: v for k, v in src.items() if k != "id"}
            row["external_ref"] = f"{src['external_ref'] or src['id']}#copy{copy}"
            for key in ("created_at", "updated_at"):
                row[key] = min(src[key].replace(tzinfo=timezone.utc) + shift, now)
            # a few open ones (today's live queue), some of them waiting for an agent
            if rng.random() < 0.04:
                row["status"] = "open"
                if rng.random() < 0.3:
                    row["agent_id"] = None
            cid = conn.execute(insert(ConversationRow).values(**row)).inserted_primary_key[0]
            batch = []
            for m in messages.get(src["id"], []):
                m2 = {k: v for k, v in m.items() if k != "id"}
                m2.update(conversation_id=cid, client_msg_id=None,
                          sent_at=m["sent_at"].replace(tzinfo=timezone.utc) + shift,
                          received_at=m["received_at"].replace(tzinfo=timezone.utc) + shift)
                batch.append(m2)
            if batch:
                conn.execute(insert(MessageRow), batch)
                made["messages"] += len(batch)
            a = {k: v for k, v in assessments[src["id"]].items() if k != "id"}
            a.update(conversation_id=cid, created_at=row["updated_at"])
            aid = conn.execute(insert(AssessmentRow).values(**a)).inserted_primary_key[0]
            # how each customer message read (the wellbeing load's facts), as the store writes them
            # with the (copied) assessment
            readings = [{**values, "conversation_id": cid, "seq": seq, "tenant_id": tenant_id, "assessment_id": aid,
                         "upto_seq": a["upto_seq"]} for seq, values in turn_readings(a["data"], a["upto_seq"]).items()]
            if readings:
                conn.execute(insert(TurnFactsRow), readings)
            if src["id"] in facts:  # the dashboards' facts, as the store writes them with an assessment
                conn.execute(insert(ConversationFactsRow).values(**{**facts[src["id"]], "conversation_id": cid}))
            t = tickets.get(src["id"])
            if t is not None:
                t2 = {k: v for k, v in t.items() if k != "id"}
                number = f"{t['number']}-C{copy}"
                t2.update(number=number, conversation_id=cid, data={**t["data"], "id": number},
                          created_at=t["created_at"].replace(tzinfo=timezone.utc) + shift,
                          updated_at=t["updated_at"].replace(tzinfo=timezone.utc) + shift)
                tid = conn.execute(insert(TicketRow).values(**t2)).inserted_primary_key[0]
                made["tickets"] += 1
                entry = ledger.get(t["id"])
                if entry is not None:
                    e2 = {k: v for k, v in entry.items() if k != "id"}
                    e2.update(ticket_id=tid, data={**entry["data"], "ticket_id": number})
                    conn.execute(insert(LedgerRow).values(**e2))
            made["conversations"] += 1
    return made


def _counts(store: Any, tenant_id: int) -> dict[str, int]:
    from sqlalchemy import func, select

    from anfu.store.tables import ConversationRow, MessageRow
    from anfu.store.workflow_tables import TicketRow

    with store.engine.connect() as conn:
        return {name: conn.execute(select(func.count()).select_from(table).where(table.tenant_id == tenant_id)).scalar()
                for name, table in (("conversations", ConversationRow), ("messages", MessageRow),
                                    ("tickets", TicketRow))}


def _client(app: Any, store: Any, user: Any) -> Any:
    """An in-process TestClient signed in as `user` (for profiling a page with cProfile in one
    process; the benchmark itself requests a separate server process)."""
    from fastapi.testclient import TestClient

    from anfu.security.tokens import hash_token
    from anfu.server.deps import CSRF_COOKIE, SESSION_COOKIE, csrf_token

    client = TestClient(app, raise_server_exceptions=True, follow_redirects=False)
    token = secrets.token_urlsafe(32)
    store.create_session(user.id, hash_token(token), datetime.now(timezone.utc) + timedelta(hours=4),
                         mfa_verified=True)
    client.cookies.set(SESSION_COOKIE, token)
    client.cookies.set(CSRF_COOKIE, csrf_token(app.state.ctx, token))
    return client


def _http_client(base_url: str, ctx: Any, store: Any, user: Any) -> Any:
    """An HTTP client signed in as `user` (a fresh session, MFA done) against the server process."""
    import httpx

    from anfu.security.tokens import hash_token
    from anfu.server.deps import CSRF_COOKIE, SESSION_COOKIE, csrf_token

    token = secrets.token_urlsafe(32)
    store.create_session(user.id, hash_token(token), datetime.now(timezone.utc) + timedelta(hours=4),
                         mfa_verified=True)
    return httpx.Client(base_url=base_url, follow_redirects=False, timeout=120.0,
                        cookies={SESSION_COOKIE: token, CSRF_COOKIE: csrf_token(ctx, token)})


class _CpuProbe:
    """The app as the server process runs it: each request's CPU time of this process and its
    wall time in the server are kept, and `GET /__bench/cpu` answers the previous request's,
    "cpu_ms wall_ms" (one request at a time: the client waits for each answer, and the
    scheduler is off)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.last = "0 0"

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == CPU_PROBE:
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"text/plain")]})
            await send({"type": "http.response.body", "body": self.last.encode()})
            return
        started, started_wall = time.process_time(), time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            self.last = f"{(time.process_time() - started) * 1000:.3f} {(time.perf_counter() - started_wall) * 1000:.3f}"


def _serve(folder: str, ports: Any) -> None:
    """The server process: the bench's app under uvicorn on a free loopback port (sent back)."""
    import socket

    import uvicorn

    import anfu
    from anfu.server.app import create_app

    app = create_app(_settings(folder), analyzer=anfu.load(), scheduler=False)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    ports.put(sock.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(_CpuProbe(app), log_level="warning", access_log=False,
                                           lifespan="on"))
    server.run(sockets=[sock])


def _start_server(folder: str) -> tuple[Any, str]:
    """Start `_serve` in a fresh (spawned) process; wait until it answers."""
    import multiprocessing

    import httpx

    spawn = multiprocessing.get_context("spawn")
    ports = spawn.Queue()
    process = spawn.Process(target=_serve, args=(folder, ports), daemon=True)
    process.start()
    deadline = time.monotonic() + 600  # loading the analyzer takes seconds, more on a loaded machine
    while True:
        try:
            base_url = f"http://127.0.0.1:{ports.get(timeout=1.0)}"
            break
        except queue.Empty:
            if not process.is_alive() or time.monotonic() > deadline:
                process.terminate()
                raise RuntimeError(f"the bench server process did not start (exit code {process.exitcode})") from None
    deadline = time.monotonic() + 120
    while True:
        try:
            httpx.get(base_url + CPU_PROBE, timeout=5.0)
            return process, base_url
        except httpx.TransportError:
            if time.monotonic() > deadline or not process.is_alive():
                process.terminate()
                raise
            time.sleep(0.2)


def _time(client: Any, path: str) -> dict[str, Any]:
    first = client.get(path)
    if first.status_code != 200:
        return {"status": first.status_code}
    samples: list[float] = []
    cpu: list[float] = []
    server: list[float] = []
    spent = time.perf_counter()
    while len(samples) < REPEATS and (len(samples) < 3 or time.perf_counter() - spent < PAGE_BUDGET_S):
        started = time.perf_counter()
        response = client.get(path)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
        cpu_ms, server_ms = client.get(CPU_PROBE).text.split()  # the server process's view of that request
        cpu.append(float(cpu_ms))
        server.append(float(server_ms))
    return {"p50_ms": round(statistics.median(samples), 1), "p95_ms": round(_p95(samples), 1),
            "server_p50_ms": round(statistics.median(server), 1), "server_p95_ms": round(_p95(server), 1),
            "cpu_p50_ms": round(statistics.median(cpu), 1), "cpu_p95_ms": round(_p95(cpu), 1),
            "n": len(samples), "bytes": len(first.content)}


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]


def pages(ids: dict[str, int]) -> dict[str, list[str]]:
    """The main pages each role works with (ids: a conversation and ticket each may see)."""
    boards = ["/analytics", *(f"/analytics/{b}" for b in ("emotion", "causes", "escalation", "csat", "sla",
                                                          "agents", "teams"))]
    return {
        "agent": ["/console", f"/console/{ids['agent_conversation']}", "/console/list", "/tickets",
                  f"/tickets/{ids['agent_ticket']}", "/analytics", "/wellbeing", "/routing/presence"],
        "supervisor": ["/console", "/wallboard", "/wallboard/board", "/wallboard/queues", "/tickets",
                       f"/tickets/{ids['team_ticket']}", f"/console/{ids['team_conversation']}", "/review",
                       "/ledger", *boards, "/wellbeing/team"],
        "auditor": ["/review", f"/review/{ids['team_conversation']}", "/tickets", "/analytics", "/admin/audit"],
        "admin": ["/console", "/wallboard", "/tickets", "/analytics", "/admin/users", "/admin/teams",
                  "/admin/audit", "/admin/tokens", "/admin/webhooks", "/admin/connectors", "/admin/settings",
                  "/review"],
    }


def prepare(folder: str) -> dict[str, Any]:
    """The seeded tenant in `folder` (seeded and cloned on first use, reused after): the app, its
    store, the person of each role, the ids the pages need and the tenant's counts."""
    import anfu
    from anfu.security.passwords import hash_password
    from anfu.server.app import create_app
    from anfu.server.demo_data import seed_demo
    from anfu.store import ConversationFilter, Principal, upgrade

    settings = _settings(folder)
    upgrade(settings)
    app = create_app(settings, analyzer=anfu.load())
    ctx = app.state.ctx
    store = ctx.store
    now = datetime.now(timezone.utc)
    tenant = store.get_tenant_by_slug("bench")
    seeded_s = cloned_s = 0.0
    if tenant is None:
        tenant = store.create_tenant("bench", "压测服务中心")
        started = time.monotonic()
        seed_demo(store, ctx.turns, tenant, now=now)
        seeded_s = time.monotonic() - started
        started = time.monotonic()
        _clone(store, tenant.id, CONVERSATIONS, now)
        cloned_s = time.monotonic() - started
        store.create_user(tenant.id, "bench_admin", hash_password("Bench-Admin-2026!x"), "admin")
    made = _counts(store, tenant.id)
    users = {u.username: u for u in store.list_users(tenant.id)}
    admin = store.update_user(users["bench_admin"].id, mfa_enabled=True)
    # the agent and supervisor of a team with tickets (the demo agent may have none)
    by_id = {u.id: u for u in users.values()}
    ticket = next(t for t in ctx.desk.workflow.all_tickets(Principal.of_user(admin))
                  if t.owner_id in by_id and by_id[t.owner_id].role == "agent")
    agent = by_id[ticket.owner_id]
    supervisor = next(u for u in users.values() if u.role == "supervisor" and u.team_id == agent.team_id)
    people = {"agent": agent, "supervisor": supervisor, "auditor": users["demo_auditor"], "admin": admin}
    for role, person in people.items():  # demo accounts start with a one-time password: set up
        people[role] = store.update_user(person.id, must_change_password=False,
                                         mfa_enabled=person.role == "admin")
    sup_p = Principal.of_user(supervisor)
    ids = {"agent_conversation": ticket.conversation_id,
           "team_conversation": store.list_conversations(sup_p, ConversationFilter(status="closed"),
                                                         page_size=1).items[0].id,
           "agent_ticket": ticket.id, "team_ticket": ticket.id}
    return {"app": app, "store": store, "tenant": tenant, "people": people, "ids": ids, "made": made,
            "seeded_s": seeded_s, "cloned_s": cloned_s, "settings": settings}


def _settings(folder: str) -> Any:
    from anfu.settings import get_settings

    return get_settings(environment="test", data_dir=folder, secret_key="bench-pages-" + "k" * 40)


def run() -> dict[str, Any]:
    load_start = os.getloadavg()
    kept = os.environ.get("ANFU_BENCH_PAGES_DIR")  # a folder to keep (and reuse) the seeded database in
    with (nullcontext(kept) if kept else tempfile.TemporaryDirectory()) as folder:
        bench = prepare(folder)
        app, store, people = bench["app"], bench["store"], bench["people"]
        made, seeded_s, cloned_s = bench["made"], bench["seeded_s"], bench["cloned_s"]
        results: dict[str, Any] = {}
        server, base_url = _start_server(folder)
        try:
            for role, paths in pages(bench["ids"]).items():
                with _http_client(base_url, app.state.ctx, store, people[role]) as client:
                    for path in paths:
                        results[f"{role} {path}"] = _time(client, path)
        finally:
            server.terminate()
            server.join(30)
            store.engine.dispose()
    timed = {k: v for k, v in results.items() if "p95_ms" in v}
    slow = sorted(((v["p95_ms"], k) for k, v in timed.items() if v["p95_ms"] > TARGET_MS), reverse=True)
    slow_cpu = sorted(((v["cpu_p95_ms"], k) for k, v in timed.items() if v["cpu_p95_ms"] > TARGET_MS), reverse=True)
    return {
        "targets": {"worst_p95_ms": ["<=", TARGET_MS], "pages_over_target": ["<=", 0],
                    "worst_cpu_p95_ms": ["<=", TARGET_MS]},
        "headline": ["conversations", "messages", "tickets", "worst_p95_ms", "worst_server_p95_ms", "pages_over_target",
                     "worst_cpu_p95_ms", "pages_over_target_cpu", "load_avg_start", "load_avg_end"],
        "conversations": made["conversations"], "messages": made["messages"], "tickets": made["tickets"],
        "seed_demo_s": round(seeded_s, 1), "clone_s": round(cloned_s, 1),
        "worst_p95_ms": max(v["p95_ms"] for v in timed.values()),
        # the same requests' wall time inside the server process (no client, no socket)
        "worst_server_p95_ms": max(v["server_p95_ms"] for v in timed.values()),
        "pages_over_target": len(slow), "slow": [f"{k}: {p:.0f} ms" for p, k in slow],
        # the server's own CPU time per request: what the page costs, whatever else runs on the machine
        "worst_cpu_p95_ms": max(v["cpu_p95_ms"] for v in timed.values()),
        "pages_over_target_cpu": len(slow_cpu), "slow_cpu": [f"{k}: {p:.0f} ms" for p, k in slow_cpu],
        "not_200": {k: v["status"] for k, v in results.items() if "status" in v},
        "pages": results, "database": "sqlite", "repeats": REPEATS,
        "server_time": "separate server process (uvicorn, 1 worker, scheduler off), HTTP over loopback; "
                       "p50/p95 = client round trip, server_* = wall time in the server process, "
                       "cpu_* = that process's CPU time per request",
        "load_avg_start": load_start[0], "load_avg_end": os.getloadavg()[0], "cpus": os.cpu_count(),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), ensure_ascii=False, indent=1))
