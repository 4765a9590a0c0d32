"""How long `make run` spends seeding its demo fortnight (`anfu.server.demo_data.seed_demo`), in
seconds, with the machine's load beside it (a timing is a benchmark here, never a test)."""

from __future__ import annotations

import os
import secrets
import tempfile
import time
from datetime import datetime, timezone
from typing import Any

TARGETS = {"seed_s": ["<=", 20.0]}


def run() -> dict[str, Any]:
    import anfu
    from anfu.server.app import create_app
    from anfu.server.demo_data import seed_demo
    from anfu.settings import get_settings
    from anfu.store import upgrade

    load_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as folder:
        settings = get_settings(environment="test", data_dir=folder, secret_key=secrets.token_urlsafe(48))
        upgrade(settings)
        app = create_app(settings, analyzer=anfu.load())
        store = app.state.ctx.store
        tenant = store.create_tenant("demo", "演示服务中心")
        started = time.monotonic()
        seed = seed_demo(store, app.state.ctx.turns, tenant, now=datetime.now(timezone.utc))
        seconds = time.monotonic() - started
    return {"targets": TARGETS, "headline": ["conversations", "load_avg_start", "load_avg_end"],
            "seed_s": round(seconds, 2), "conversations": seed.conversations,
            "load_avg_start": load_start, "load_avg_end": os.getloadavg()[0]}
