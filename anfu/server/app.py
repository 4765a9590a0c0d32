"""The app factory: `create_app(settings) -> FastAPI`. Nothing is created at import time;
everything an app needs (store, analyzer, live hub) hangs off `app.state.ctx`.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from .. import __version__
from ..pipeline import Analyzer
from ..settings import Settings
from ..security import Authenticator
from ..service.container import Services
from ..store import Store
from . import errors
from .context import AppContext
from .middleware import BodyLimit, RequestLog, SecurityHeaders
from .schemas import ERROR_RESPONSES
from .ratelimit import RateLimit

API_PREFIX = "/api/v1"
INTAKE_PREFIX = f"{API_PREFIX}/intake/"
MAX_BODY_BYTES = 1_000_000
MAX_UPLOAD_BYTES = 20_000_000


def _install_log_masking() -> None:
    """Mask personal information in every log record of the process (access log, uvicorn's
    logs and error tracebacks included), before any handler sees it."""
    from ..pii.logging import install

    install()


async def _schedule(services: Services, interval_s: float, lease: Any = None) -> None:
    import logging

    log = logging.getLogger("anfu.scheduler")
    while True:
        await asyncio.sleep(interval_s)
        try:
            # several processes on one database: only the lease holder runs the tick
            if lease is not None and not await asyncio.to_thread(lease.acquire):
                continue
            await asyncio.to_thread(services.run_scheduled)
        except Exception:  # a failing tick is logged; the next one runs anyway
            log.exception("scheduler tick failed")


def create_app(settings: Settings, *, analyzer: Analyzer | None = None, store: Store | None = None,
               max_body_bytes: int = MAX_BODY_BYTES, max_upload_bytes: int = MAX_UPLOAD_BYTES,
               check_schema: bool = True, turn_workers: int | None = None, mailbox_poll_s: float | None = None,
               scheduler: bool = True) -> FastAPI:
    """Build the service for `settings`. The analyzer is loaded once here (`anfu.load()`)
    unless one is given; the database must be migrated (`anfu serve` does it). With
    `mailbox_poll_s` (what `anfu serve` passes) the app watches `settings.mailbox_dir` while
    it runs (`anfu.server.mailbox`). With `scheduler` (default) the service's scheduler runs every
    `settings.scheduler_interval_s` seconds while the app runs: the on-time "customer waiting"
    alert and the outgoing webhook deliveries (`anfu.service.container.Services.run_scheduled`)."""
    from .. import load
    from ..store.migrate import check_schema as _check

    turn_workers = settings.turn_workers if turn_workers is None else turn_workers

    store = store or Store.from_settings(settings)
    if check_schema:
        _check(store.engine)
    analyzer = analyzer or load()
    from ..service.fanout import make_hub

    hub = make_hub(store.engine)  # PostgreSQL: LISTEN/NOTIFY across server processes
    services = Services.build(store, analyzer, hub, settings.secret_key.get_secret_value(),
                              allow_private_webhooks=settings.webhook_allow_private)
    ctx = AppContext(settings=settings, store=store, analyzer=analyzer, auth=Authenticator(store, settings),
                     hub=hub, turns=services.turns,
                     executor=ThreadPoolExecutor(max_workers=turn_workers, thread_name_prefix="anfu-turn"),
                     desk=services.desk, services=services, turn_workers=turn_workers)
    _install_log_masking()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # The analyzer's rules and models live as long as the process: move them out of the
        # garbage collector's sight, so that a full collection pauses a live turn for
        # microseconds instead of tens of milliseconds.
        gc.collect()
        gc.freeze()
        watcher = None
        if mailbox_poll_s and settings.mailbox_dir is not None:
            from .mailbox import watch

            watcher = asyncio.create_task(watch(ctx, Path(settings.mailbox_dir), mailbox_poll_s))
        ticker = lease = None
        if scheduler and settings.scheduler_interval_s > 0:
            from ..store import Lease, is_postgres

            lease = Lease(store.engine, "scheduler", ttl_s=max(30.0, 3 * settings.scheduler_interval_s)) \
                if is_postgres(store.engine) else None
            ticker = asyncio.create_task(_schedule(services, settings.scheduler_interval_s, lease))
        yield
        for task in (watcher, ticker):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        ctx.executor.shutdown(wait=True)
        if hasattr(hub, "close"):
            hub.close()
        if ticker is not None and lease is not None:
            with contextlib.suppress(Exception):
                lease.release()

    app = FastAPI(lifespan=lifespan, title="Anfu (安抚) API", version=__version__,
                  description="Customer emotion management for service centres: ingest messages, "
                              "live assessments, pre-send checks, supervisor alerts.",
                  openapi_url=f"{API_PREFIX}/openapi.json", docs_url=None, redoc_url=None)
    app.state.ctx = ctx
    errors.install(app)

    from .routes import analyze, auth, conversations, customers, events, intake, messages, meta, wellbeing
    from .routes import admin, alerts, analytics, connectors, inspection, notes, replies, tickets, webhooks
    from .routes import routing
    for module in (meta, auth, analyze, messages, conversations, customers, events, intake, wellbeing,
                   tickets, alerts, analytics, admin, replies, webhooks, connectors, inspection, notes, routing):
        app.include_router(module.router, prefix=API_PREFIX, responses=ERROR_RESPONSES)
    from .routes import saved_views, search  # search and the lists' saved views (issue 13)
    for module in (search, saved_views):
        app.include_router(module.router, prefix=API_PREFIX, responses=ERROR_RESPONSES)
    from .routes import helpdesks, survey, tenant_settings, training  # issue 11: what only pages did
    for module in (helpdesks, tenant_settings, survey, training):
        app.include_router(module.router, prefix=API_PREFIX, responses=ERROR_RESPONSES)
    from . import ws
    app.include_router(ws.router)
    from . import web  # the web workspace: pages, HTMX fragments and /static
    web.install(app)

    # Outermost first: logging sees every request, headers go on every response (errors
    # included), and the body limit runs before anything reads the body.
    app.add_middleware(BodyLimit, limit=max_body_bytes, upload_limit=max_upload_bytes,  # type: ignore[arg-type]
                       upload_prefix=INTAKE_PREFIX, page_error=web.page_errors.refusal_page)
    app.add_middleware(RateLimit, per_minute=settings.rate_limit_per_minute,  # type: ignore[arg-type]
                       ip_per_minute=settings.rate_limit_ip_per_minute,
                       auth_failures_per_minute=settings.rate_limit_auth_failures_per_minute)
    app.add_middleware(SecurityHeaders, hsts=settings.environment == "production")  # type: ignore[arg-type]
    app.add_middleware(RequestLog)  # type: ignore[arg-type]
    from . import observability  # /metrics (Prometheus) and JSON logs
    observability.install(app, ctx)
    if settings.log_format == "json":
        observability.configure_json_logging()
    return app
