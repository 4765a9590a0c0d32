"""The app factory uvicorn's worker processes call (`anfu serve --workers N`): settings from the
environment, the database already migrated by the parent. With several processes the database
must be PostgreSQL: the live hub fans out through LISTEN/NOTIFY and the scheduler runs under a
lease (one process at a time). The mailbox drop folder is watched only by a single process
(`--workers 1`), so two processes never race for the same file."""

from __future__ import annotations

from typing import Any


def app_from_env() -> Any:
    from ..settings import get_settings
    from .app import create_app
    from .runner import warm_up

    app = create_app(get_settings())
    warm_up(app)
    return app
