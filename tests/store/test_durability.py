"""A message acknowledged to a client is in the database: kill -9 the writer mid-ingestion
and find every acknowledged message (SQLite WAL + synchronous=FULL; PostgreSQL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from anfu.store import Store, make_engine

CHILD = Path(__file__).with_name("ingest_child.py")
ROOT = Path(__file__).resolve().parents[2]


def test_sigkill_loses_no_acknowledged_message(db_url: str) -> None:
    engine = make_engine(url=db_url)
    store = Store(engine)
    tenant = store.create_tenant("kill-test", "断电测试")
    conv = store.create_conversation(tenant.id, channel="webchat")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, str(CHILD), db_url, str(conv.id)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env)
    acked: list[str] = []
    try:
        assert child.stdout is not None
        for line in child.stdout:
            acked.append(line.split()[1])
            if len(acked) >= 60:
                child.send_signal(signal.SIGKILL)  # still ingesting: it never stops by itself
                break
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL, child.stderr.read() if child.stderr else ""
    engine.dispose()

    fresh = Store(make_engine(url=db_url))
    stored = fresh.list_messages(conv.id, limit=100_000)
    stored_ids = {m.client_msg_id for m in stored}
    assert len(acked) == 60
    assert set(acked) <= stored_ids, f"lost acknowledged messages: {sorted(set(acked) - stored_ids)}"
    assert [m.seq for m in stored] == list(range(1, len(stored) + 1))  # no gaps, no torn writes
    assert fresh.get_conversation(conv.id).last_seq == len(stored)
    fresh.engine.dispose()
