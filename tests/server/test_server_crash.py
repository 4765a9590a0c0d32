"""Through the real server: `anfu serve` in a subprocess on 127.0.0.1 ingests messages from
concurrent clients and is killed with SIGKILL mid-ingestion; every message it acknowledged
is in the database afterwards, with the assessment committed in the same transaction. The
same server also picks up an e-mail from the mailbox drop folder. SQLite and PostgreSQL."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from anfu.security import tokens
from anfu.settings import get_settings
from anfu.store import Store, make_engine, upgrade

ROOT = Path(__file__).resolve().parents[2]
LINES = ["停电五个小时了，冰箱里的东西全坏了，你们赔不赔？", "电费单上多收了两百块，给我查清楚！",
         "好的，谢谢，麻烦尽快派人来。", "再没人管我就打12398投诉你们！"]
EML = ("From: 钱女士 <qian@example.com>\r\nSubject: 抄表错误\r\nMessage-ID: <crash-mail@example.com>\r\n"
       "Date: Wed, 01 May 2024 09:30:00 +0800\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
       "这个月电费是平时的三倍，家里根本没人住，请核实是不是抄表错了。\r\n").encode("utf-8")
KILL_AFTER = 40


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(base: str, proc: subprocess.Popen[bytes], timeout: float = 120.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise AssertionError(f"anfu serve exited with {proc.returncode}")
        try:
            if httpx.get(f"{base}/api/v1/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError("anfu serve did not start")


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_sigkill_of_the_server_loses_no_acknowledged_message(engine: str, tmp_path: Path,
                                                              request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue("postgres_schema")("crash") if engine == "postgresql" \
        else f"sqlite:///{tmp_path / 'anfu.db'}"
    port = _free_port()
    env = {**os.environ, "ANFU_ENVIRONMENT": "test", "ANFU_DATA_DIR": str(tmp_path), "ANFU_DATABASE_URL": url,
           "ANFU_SECRET_KEY": secrets.token_urlsafe(48), "ANFU_MAILBOX_POLL_S": "0.3",
           "ANFU_ALLOWED_ORIGINS": f"http://127.0.0.1:{port}", "PYTHONPATH": str(ROOT),
           # durability, not policy: a quiet machine outruns the per-token rate limit (a 429 is
           # a refusal, not a loss, but it would hide what this test is about)
           "ANFU_RATE_LIMIT_PER_MINUTE": "0", "ANFU_RATE_LIMIT_IP_PER_MINUTE": "0"}
    settings = get_settings(environment="test", data_dir=tmp_path, database_url=url,
                            secret_key=env["ANFU_SECRET_KEY"])
    upgrade(settings)
    store = Store.from_settings(settings)
    tenant = store.create_tenant("default", "默认租户")
    team = store.create_team(tenant.id, "抢修班组")
    token, token_hash, prefix = tokens.new_api_token()
    store.create_api_token(tenant.id, "crash-test", "supervisor", token_hash, prefix, team_id=team.id)
    mailbox = tmp_path / "mailbox"
    mailbox.mkdir()
    (mailbox / "m1.eml").write_bytes(EML)

    proc = subprocess.Popen([sys.executable, "-c", "from anfu.cli import main; main()", "serve", "--host", "127.0.0.1", "--port", str(port)],
                            env=env, cwd=str(tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    acked: list[str] = []
    refused: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def client(worker: int) -> None:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
            n = 0
            while not stop.is_set():
                msg_id = f"w{worker}-{n}"
                body = {"conversation_ref": f"crash-{worker}", "client_msg_id": msg_id,
                        "text": LINES[n % len(LINES)], "customer": {"phone": f"1390000{worker:04d}"}}
                n += 1
                try:
                    reply = http.post("/api/v1/messages", json=body)
                except httpx.HTTPError:
                    return  # the server is gone: this request was never acknowledged
                with lock:
                    if reply.status_code in (200, 201):
                        acked.append(msg_id)
                    else:
                        refused.append(f"{reply.status_code} {reply.text[:300]}")

    try:
        _wait_ready(base, proc)
        threads = [threading.Thread(target=client, args=(w,), daemon=True) for w in range(4)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 120
        processed = mailbox / "processed" / "m1.eml.json"
        while (len(acked) < KILL_AFTER or not processed.exists()) and time.monotonic() < deadline \
                and proc.poll() is None:
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)  # requests are in flight: it dies mid-ingestion
        stop.set()
        for t in threads:
            t.join(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
        stderr = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
    assert proc.returncode == -signal.SIGKILL, stderr[-2000:]
    assert not refused, refused[:3]
    assert len(acked) >= KILL_AFTER, stderr[-2000:]
    store.engine.dispose()

    fresh = Store(make_engine(url=url))
    try:
        from sqlalchemy import text

        with fresh.engine.connect() as conn:
            stored = dict(conn.execute(text("SELECT client_msg_id, seq FROM messages WHERE client_msg_id LIKE 'w%'")).all())
            assessed = {(int(c), int(s)) for c, s in conn.execute(text("SELECT conversation_id, upto_seq FROM assessments"))}
            seqs = {int(c): sorted(int(s) for (s,) in conn.execute(
                text("SELECT seq FROM messages WHERE conversation_id = :c"), {"c": c})) for (c,) in
                conn.execute(text("SELECT id FROM conversations"))}
            with_ids = conn.execute(text("SELECT client_msg_id, conversation_id, seq FROM messages "
                                         "WHERE client_msg_id LIKE 'w%'")).all()
        lost = sorted(set(acked) - set(stored))
        assert not lost, f"acknowledged but not stored: {lost}"
        # the message, its assessment and its events are one transaction: never one without the other
        assert all((int(c), int(s)) in assessed for _, c, s in with_ids)
        assert all(s == list(range(1, len(s) + 1)) for s in seqs.values()), "gaps in a conversation's sequence"
        # the drop folder was picked up by the same server before it died
        assert (mailbox / "processed" / "m1.eml.json").exists()
        page = fresh.list_conversations(_admin(fresh, tenant.id), None)
        assert any(c.channel == "email" for c in page.items)
    finally:
        fresh.engine.dispose()


def _admin(store: Store, tenant_id: int) -> Any:
    from anfu.store import Principal

    return Principal(tenant_id=tenant_id, role="admin", name="check")
