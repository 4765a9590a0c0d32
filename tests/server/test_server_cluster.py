"""Two `anfu serve` processes on one PostgreSQL database (CI: ANFU_TEST_POSTGRES_URL): a
supervisor connected to the first sees the alert raised by a turn posted to the second, and
only their own team's (the live hub fans out through LISTEN/NOTIFY)."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from anfu.store.testing import postgres_test_url


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_up(port: int, proc: subprocess.Popen, deadline: float) -> None:
    while time.time() < deadline:
        assert proc.poll() is None, proc.stderr.read().decode(errors="replace")[-3000:] if proc.stderr else ""
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"anfu serve on port {port} did not start")


@pytest.fixture(scope="module", params=["two-serves", "serve-workers-2"])
def cluster(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Two `anfu serve` processes on two ports, or one `anfu serve --workers 2` (both ports the
    same: each connection lands on either worker). One of each per module: the tests leave the
    processes as they found them, and starting them is most of this module's time (CI budget)."""
    base = postgres_test_url()
    if base is None:
        pytest.skip("ANFU_TEST_POSTGRES_URL is not set (.ci/run starts PostgreSQL and sets it)")
    from anfu.security import tokens
    from anfu.security.passwords import hash_password
    from anfu.settings import get_settings
    from anfu.store import Store, upgrade

    from tests.server.conftest import drop_schema, postgres_schema_url

    url = postgres_schema_url(base, "cluster")
    tmp_path = tmp_path_factory.mktemp("cluster")
    env_settings = {"database_url": url, "secret_key": secrets.token_urlsafe(48), "data_dir": tmp_path,
                    "environment": "test", "scheduler_interval_s": 0}
    settings = get_settings(**env_settings)
    upgrade(settings)
    store = Store.from_settings(settings)
    tenant = store.create_tenant("cluster", "集群")
    teams = [store.create_team(tenant.id, name) for name in ("一组", "二组")]
    pw = hash_password("Lan-Hua-Shan-2024!")
    people: dict[str, str] = {}
    # an integration's token of team 1 posts the turns (as a helpdesk connector would)
    for name, role, team in (("desk1", "supervisor", teams[0]), ("sup1", "supervisor", teams[0]),
                             ("sup2", "supervisor", teams[1])):
        user = store.create_user(tenant.id, name, pw, role, team_id=team.id, display_name=name)
        token, token_hash, prefix = tokens.new_api_token()
        store.create_api_token(tenant.id, f"t-{name}", role, token_hash, prefix, team_id=user.team_id)
        people[name] = token
    store.engine.dispose()
    env = {**os.environ, **{f"ANFU_{k.upper()}": str(v) for k, v in env_settings.items()}}
    anfu = str(Path(sys.executable).with_name("anfu"))
    procs = []
    if request.param == "two-serves":
        ports, extra = [_free_port(), _free_port()], []
    else:
        port = _free_port()
        ports, extra = [port, port], ["--workers", "2"]
    try:
        for port in dict.fromkeys(ports):
            procs.append(subprocess.Popen([anfu, "serve", "--host", "127.0.0.1", "--port", str(port), *extra],
                                          env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                          start_new_session=True))
        deadline = time.time() + 120
        for port, proc in zip(dict.fromkeys(ports), procs):
            _wait_up(port, proc, deadline)
        yield {"ports": ports, "tokens": people, "mode": request.param, "pids": [p.pid for p in procs], "url": url}
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        drop_schema(url)


async def _alerts(port: int, token: str, want: int, post: Any, timeout: float = 20.0) -> list[dict[str, Any]]:
    import websockets

    got: list[dict[str, Any]] = []
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws/supervisor",
                                  additional_headers={"Authorization": f"Bearer {token}"}) as ws:
        hello = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        assert hello.get("type") != "error", hello
        await asyncio.to_thread(post)
        end = time.monotonic() + timeout
        while len(got) < want and time.monotonic() < end:
            try:
                frame = json.loads(await asyncio.wait_for(ws.recv(), end - time.monotonic()))
            except asyncio.TimeoutError:
                break
            if frame.get("type") == "alert":
                got.append(frame)
    return got


def test_supervisor_on_one_process_sees_alert_from_the_other(cluster: Any) -> None:
    first, second = cluster["ports"]
    tokens = cluster["tokens"]
    posted: dict[str, Any] = {}

    def post() -> None:
        r = httpx.post(f"http://127.0.0.1:{second}/api/v1/messages",
                       headers={"Authorization": f"Bearer {tokens['desk1']}"},
                       json={"conversation_ref": "cluster-1",
                             "text": "停电三天了还没人来修！！！再不来我就打12345投诉你们！"}, timeout=30)
        assert r.status_code == 201, r.text
        posted["id"] = r.json()["conversation"]["id"]

    alerts = asyncio.run(_alerts(first, tokens["sup1"], 1, post))
    assert alerts and alerts[0]["conversation"]["id"] == posted["id"]
    assert alerts[0]["level"] >= 1 and alerts[0]["text"].startswith("停电三天")

    # the other team's supervisor, on the same first process, hears nothing of it
    def post_again() -> None:
        r = httpx.post(f"http://127.0.0.1:{second}/api/v1/messages",
                       headers={"Authorization": f"Bearer {tokens['desk1']}"},
                       json={"conversation_ref": "cluster-2", "text": "你们到底管不管？我要去12345投诉！"}, timeout=30)
        assert r.status_code == 201, r.text

    assert asyncio.run(_alerts(first, tokens["sup2"], 1, post_again, timeout=6.0)) == []


@pytest.mark.parametrize("cluster", ["serve-workers-2"], indirect=True)
def test_workers_share_the_connections(cluster: Any) -> None:
    """`--workers 2`: a burst of connections is spread over both processes (each has its own
    SO_REUSEPORT socket, anfu.server.workers). With uvicorn's one shared socket, the first worker
    woken accepted the whole burst (40 connections: 32 / 8 here, 2,668 / 0 turns in the bench)."""
    psutil = pytest.importorskip("psutil")
    port = cluster["ports"][0]
    workers = [p for p in psutil.Process(cluster["pids"][0]).children(recursive=True)
               if any(c.status == psutil.CONN_LISTEN and c.laddr.port == port for c in p.net_connections("tcp"))]
    assert len(workers) == 2
    conns = [socket.create_connection(("127.0.0.1", port)) for _ in range(100)]
    try:
        deadline = time.monotonic() + 10
        while True:
            served = [sum(1 for c in w.net_connections("tcp") if c.status == psutil.CONN_ESTABLISHED
                          and c.laddr.port == port) for w in workers]
            if sum(served) == 100 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    finally:
        for conn in conns:
            conn.close()
    assert sum(served) == 100
    assert min(served) >= 30, served  # a fair coin gives fewer than 30 of 100 once in 25,000 runs


@pytest.mark.parametrize("cluster", ["serve-workers-2"], indirect=True)
def test_workers_refuse_a_port_in_use(cluster: Any, tmp_path: Path) -> None:
    """A second `anfu serve --workers 2` on a port the first holds is refused with AF402, not
    let in to share its traffic through SO_REUSEPORT."""
    env = {**os.environ, "ANFU_DATABASE_URL": cluster["url"],
           "ANFU_DATA_DIR": str(tmp_path), "ANFU_ENVIRONMENT": "test", "ANFU_SECRET_KEY": secrets.token_urlsafe(48)}
    done = subprocess.run([str(Path(sys.executable).with_name("anfu")), "serve", "--workers", "2", "--host",
                           "127.0.0.1", "--port", str(cluster["ports"][0])], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "error AF402" in done.stderr and "another program may hold the port" in done.stderr


def test_workers_need_postgresql(tmp_path: Path) -> None:
    env = {**os.environ, "ANFU_DATABASE_URL": f"sqlite:///{tmp_path / 'one.db'}", "ANFU_DATA_DIR": str(tmp_path),
           "ANFU_ENVIRONMENT": "test", "ANFU_SECRET_KEY": secrets.token_urlsafe(48)}
    done = subprocess.run([str(Path(sys.executable).with_name("anfu")), "serve", "--workers", "2", "--port",
                           str(_free_port())], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "error AF402" in done.stderr and "PostgreSQL" in done.stderr


def test_a_server_process_opens_its_database_connections_before_requests(postgres_schema: Any,
                                                                          tmp_path: Path) -> None:
    """`warm_up` fills the pool (turn threads, `ANFU_TURN_WORKERS`, + 2) so the first burst of turns
    after a restart does not pay a PostgreSQL sign-in each; SQLite has nothing to open."""
    from anfu.server.app import create_app
    from anfu.server.runner import warm_pool, warm_up
    from anfu.settings import get_settings
    from anfu.store import make_engine, upgrade

    settings = get_settings(database_url=postgres_schema("warm"), secret_key=secrets.token_urlsafe(48),
                            data_dir=tmp_path, environment="test", scheduler_interval_s=0, turn_workers=3)
    upgrade(settings)
    app = create_app(settings)
    assert app.state.ctx.turn_workers == 3 and app.state.ctx.executor._max_workers == 3
    engine = app.state.ctx.store.engine
    engine.dispose()
    assert engine.pool.checkedin() == 0
    warm_up(app)
    assert engine.pool.checkedin() == 5
    engine.dispose()
    sqlite = make_engine(url=f"sqlite:///{tmp_path / 'one.db'}")
    assert warm_pool(sqlite, 5) == 0
    sqlite.dispose()
