"""`anfu serve`: migrate, create the first admin, optionally load demo data, then serve."""

from __future__ import annotations

from typing import Optional

import typer

from ..errors import AnfuError
from . import app
from .common import fail


@app.command()
def serve(
    host: Optional[str] = typer.Option(None, "--host", help="Address to listen on (default ANFU_HOST or 127.0.0.1)."),
    port: Optional[int] = typer.Option(None, "--port", min=1, max=65535, help="Port (default ANFU_PORT or 8000)."),
    demo: bool = typer.Option(False, "--demo/--no-demo", help="Load the demo team, accounts and conversations."),
    workers: int = typer.Option(1, "--workers", min=1, max=64, help="Server processes (more than 1 needs PostgreSQL)."),
) -> None:
    """Run the Anfu service (REST API, agent and supervisor WebSockets).

    The first run creates an admin with a one-time password, printed here once. With --demo a
    demo agent, supervisor and quality auditor (one-time passwords printed) and the demo conversations are added.
    """
    from ..server.runner import prepare, run, warm_up
    from ..settings import get_settings

    try:
        settings = get_settings()
        host = host or settings.host
        port = port or settings.port
        if f"http://{host}:{port}" not in settings.allowed_origins:
            settings.allowed_origins = [*settings.allowed_origins, f"http://{host}:{port}"]
        prepared = prepare(settings, demo=demo)
    except AnfuError as exc:
        raise fail(exc) from None
    if workers > 1:
        from ..errors import SettingsError
        from ..server.runner import run_workers
        from ..store import is_postgres

        if not is_postgres(prepared.app.state.ctx.store.engine):
            raise fail(SettingsError("AF402", "--workers > 1 needs PostgreSQL (ANFU_DATABASE_URL=postgresql+psycopg://…) "
                                              "(on SQLite run one process)"))
        try:
            run_workers(prepared, host, port, workers, echo=typer.echo)
        except AnfuError as exc:
            raise fail(exc) from None
        return
    warm_up(prepared.app)
    try:
        run(prepared, host, port, echo=typer.echo)
    except AnfuError as exc:
        raise fail(exc) from None
