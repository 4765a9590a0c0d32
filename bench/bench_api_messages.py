"""`POST /api/v1/messages` under load: 32 concurrent clients against `anfu serve` on PostgreSQL
with 1 and with 2 server processes in the same run (the peers: the scaling ratio tells what the
second process buys on this machine, whatever else runs on it).

Each client is a helpdesk integration posting a chat as it happens: its own conversations (by
`conversation_ref`, 40 turns each, customer and agent alternating, realistic Chinese lines),
the customer's phone on every message (as the Chatwoot/Zammad connectors send it) and a
`client_msg_id` per message. A client sends its next message as soon as the previous one is
answered (closed loop: the throughput is the server's capacity). The clock starts
ANFU_BENCH_API_WARMUP_S after every client has had its first answer (a fresh process builds its
models on its first turns), and runs for ANFU_BENCH_API_SECONDS. Every answer must be 201;
anything else is counted as an error. The load generator is a minimal HTTP/1.1 keep-alive
client on asyncio (one connection per client) so that it takes as little of the machine's CPU
as possible from the server it measures.

Rate limits are a policy, not capacity: the bench turns them off (`ANFU_RATE_LIMIT_*=0`).
The database is a fresh schema of ANFU_BENCH_DATABASE_URL or ANFU_TEST_POSTGRES_URL, dropped
afterwards; without either the bench reports `skipped`.

Reported per process count: requests/s over the measured window, latency p50/p99/max (client
side, ms), errors, the machine's load average before/after, and the CPU seconds of the server
processes. Targets (issue 15): with 2 processes, >= 300 requests/s at 32 clients, p99 <= 250 ms.

Environment: ANFU_BENCH_API_CLIENTS (default 32), ANFU_BENCH_API_SECONDS (measured seconds per
run, default 20), ANFU_BENCH_API_WARMUP_S (default 3), ANFU_BENCH_API_PROCESSES (default "1,2").
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.bench_turn import AGENT, CUSTOMER

ROOT = Path(__file__).resolve().parents[1]
TURNS_PER_CONVERSATION = 40
TARGET_PER_S = 300.0
TARGET_P99_MS = 250.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _load() -> dict[str, float]:
    one, five, _ = os.getloadavg()
    return {"load1": round(one, 2), "load5": round(five, 2)}


def _schema(base: str) -> str:
    from sqlalchemy import text

    from anfu.store import make_engine

    schema = f"anfu_bench_api_{os.getpid()}_{secrets.token_hex(3)}"
    engine = make_engine(url=base)
    try:
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    finally:
        engine.dispose()
    return schema


def _drop_schema(base: str, schema: str) -> None:
    from sqlalchemy import text

    from anfu.store import make_engine

    engine = make_engine(url=base)
    try:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        engine.dispose()


def _seed(env_settings: dict[str, Any], clients: int) -> list[str]:
    """A tenant, one team and one team-scoped integration token per client."""
    from anfu.security import tokens
    from anfu.settings import get_settings
    from anfu.store import Store, upgrade

    settings = get_settings(**env_settings)
    upgrade(settings)
    store = Store.from_settings(settings)
    tenant = store.create_tenant(f"bench-api-{secrets.token_hex(3)}", "接口压测")
    team = store.create_team(tenant.id, "一组")
    out = []
    for i in range(clients):
        token, token_hash, prefix = tokens.new_api_token()
        store.create_api_token(tenant.id, f"desk-{i}", "supervisor", token_hash, prefix, team_id=team.id)
        out.append(token)
    store.engine.dispose()
    return out


async def _client(port: int, token: str, index: int, run: dict[str, Any], stats: dict[str, Any]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = (f"POST /api/v1/messages HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
            "Content-Type: application/json\r\nConnection: keep-alive\r\n")
    try:
        for n in itertools.count():
            now = time.monotonic()
            if now >= run["end"]:
                if "cpu_end" not in run:
                    run["cpu_end"], run["load_after"] = run["cpu"](), _load()
                return
            conversation, turn = divmod(n, TURNS_PER_CONVERSATION)
            speaker = "customer" if turn % 2 == 0 else "agent"
            lines = CUSTOMER if speaker == "customer" else AGENT
            body = json.dumps({"conversation_ref": f"api-{run['tag']}-{index}-{conversation}", "speaker": speaker,
                               "text": lines[(turn // 2 + index) % len(lines)],
                               "client_msg_id": f"{run['tag']}-{index}-{n}",
                               "customer": {"phone": f"139{index:04d}{conversation:04d}"}},
                              ensure_ascii=False).encode("utf-8")
            started = time.perf_counter()
            writer.write(head.encode() + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
            status_line = await reader.readline()
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            await reader.readexactly(length)
            elapsed = (time.perf_counter() - started) * 1000
            status = int(status_line.split()[1]) if status_line else 0
            if n == 0:  # every client's first answer (a cold process builds its models) opens the warm-up
                run["warm"] += 1
                if run["warm"] == run["clients"]:
                    run["start"] = time.monotonic() + run["warmup"]
                    run["end"] = run["start"] + run["seconds"]
                    asyncio.get_running_loop().call_at(run["start"], _mark_start, run)
            elif run["start"] <= now:
                stats["latency_ms"].append(elapsed)
                if status != 201:
                    stats["errors"][str(status)] = stats["errors"].get(str(status), 0) + 1
    finally:
        writer.close()


def _mark_start(run: dict[str, Any]) -> None:
    run["cpu_start"], run["load_before"] = run["cpu"](), _load()


async def _drive(port: int, tokens: list[str], seconds: float, warmup: float, tag: str,
                 cpu: Any = lambda: 0.0) -> dict[str, Any]:
    """Run the clients; the stats hold the measured window's latencies and errors, and the
    server's CPU seconds and the machine's load at its start and end."""
    stats: dict[str, Any] = {"latency_ms": [], "errors": {}}
    run: dict[str, Any] = {"start": float("inf"), "end": float("inf"), "tag": tag, "warm": 0,
                           "clients": len(tokens), "warmup": warmup, "seconds": seconds, "cpu": cpu}
    await asyncio.gather(*(_client(port, t, i, run, stats) for i, t in enumerate(tokens)))
    stats["cpu_s"] = run.get("cpu_end", 0.0) - run.get("cpu_start", 0.0)
    stats["load_before"], stats["load_after"] = run.get("load_before"), run.get("load_after")
    return stats


def _wait_up(port: int, proc: subprocess.Popen[bytes], timeout: float = 120.0) -> None:
    import httpx

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"anfu serve exited with {proc.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError("anfu serve did not start")


def _cpu_of_tree(pid: int) -> float:
    """CPU seconds (user + system) of a process and its children, from /proc."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def measure(base_url: str, processes: int, clients: int, seconds: float, warmup: float) -> dict[str, Any]:
    schema = _schema(base_url)
    url = f"{base_url}{'&' if '?' in base_url else '?'}options=-csearch_path%3D{schema}"
    try:
        with tempfile.TemporaryDirectory(prefix="anfu-bench-api-") as tmp:
            port = _free_port()
            env_settings = {"database_url": url, "secret_key": secrets.token_urlsafe(48), "data_dir": tmp,
                            "environment": "test", "rate_limit_per_minute": 0, "rate_limit_ip_per_minute": 0}
            tokens = _seed(env_settings, clients)
            env = {**os.environ, **{f"ANFU_{k.upper()}": str(v) for k, v in env_settings.items()},
                   "ANFU_LOG_LEVEL": "WARNING"}
            anfu = str(Path(sys.executable).with_name("anfu"))
            proc = subprocess.Popen([anfu, "serve", "--host", "127.0.0.1", "--port", str(port),
                                     "--workers", str(processes)] if processes > 1 else
                                    [anfu, "serve", "--host", "127.0.0.1", "--port", str(port)],
                                    env=env, cwd=str(ROOT), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    start_new_session=True)
            try:
                _wait_up(port, proc)
                stats = asyncio.run(_drive(port, tokens, seconds, warmup, secrets.token_hex(3),
                                           cpu=lambda: _cpu_of_tree(proc.pid)))
                cpu_s, before, after = stats["cpu_s"], stats["load_before"], stats["load_after"]
            finally:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
    finally:
        _drop_schema(base_url, schema)
    latency = stats["latency_ms"]
    return {"processes": processes, "clients": clients, "requests": len(latency),
            "per_s": round(len(latency) / seconds, 1),
            # no answers in the window: no latency (a target on it is missed, not met)
            "latency_ms": {"p50": round(_percentile(latency, 0.5), 1) if latency else None,
                           "p99": round(_percentile(latency, 0.99), 1) if latency else None,
                           "max": round(max(latency), 1) if latency else None},
            "errors": stats["errors"], "server_cpu_s": round(cpu_s, 1),
            "server_cpu_ms_per_request": round(cpu_s * 1000 / max(1, len(latency)), 2),
            "load_before": before, "load_after": after}


def run() -> dict[str, Any]:
    base = os.environ.get("ANFU_BENCH_DATABASE_URL") or os.environ.get("ANFU_TEST_POSTGRES_URL")
    if not base or not base.startswith("postgresql"):
        return {"skipped": "needs PostgreSQL: set ANFU_BENCH_DATABASE_URL (or ANFU_TEST_POSTGRES_URL)"}
    clients = int(os.environ.get("ANFU_BENCH_API_CLIENTS", "32"))
    seconds = float(os.environ.get("ANFU_BENCH_API_SECONDS", "20"))
    warmup = float(os.environ.get("ANFU_BENCH_API_WARMUP_S", "3"))
    counts = [int(p) for p in os.environ.get("ANFU_BENCH_API_PROCESSES", "1,2").split(",") if p.strip()]
    result: dict[str, Any] = {"cpus": len(os.sched_getaffinity(0)), "seconds_per_run": seconds}
    for p in counts:
        result[f"processes_{p}"] = measure(base, p, clients, seconds, warmup)
    if "processes_1" in result and "processes_2" in result:
        result["scaling_2_over_1"] = round(result["processes_2"]["per_s"] / max(result["processes_1"]["per_s"], 1e-9), 2)
    result["targets"] = {}
    if "processes_2" in result:
        result["targets"] = {"processes_2.per_s": [">=", TARGET_PER_S],
                             "processes_2.latency_ms.p99": ["<=", TARGET_P99_MS]}
    result["headline"] = [f"processes_{p}.{m}" for p in counts for m in ("per_s", "latency_ms.p99",
                                                                         "server_cpu_ms_per_request")]
    return result


if __name__ == "__main__":
    print(json.dumps(run(), ensure_ascii=False, indent=2))
