"""`anfu db`: database schema migrations (Alembic) for the configured ANFU_DATABASE_URL."""

from __future__ import annotations

import typer

from ..errors import AnfuError
from . import app
from .common import fail

db_app = typer.Typer(help="Database schema: upgrade, downgrade, show the current revision.",
                     no_args_is_help=True)
app.add_typer(db_app, name="db")


def _settings():  # noqa: ANN202
    from ..settings import get_settings

    try:
        return get_settings()
    except AnfuError as exc:
        raise fail(exc) from None


def _migrate(step, revision: str) -> None:  # noqa: ANN001
    settings = _settings()
    try:
        step(settings, revision)
    except AnfuError as exc:
        raise fail(exc) from None
    typer.echo(f"database {settings.redacted_database_url()} is at {revision}")


@db_app.command()
def upgrade(revision: str = typer.Argument("heads", help="Target revision (default: the newest).")) -> None:
    """Migrate the database up to REVISION (creates it when empty)."""
    from ..store.migrate import upgrade as step

    _migrate(step, revision)


@db_app.command()
def downgrade(revision: str = typer.Argument(..., help="Target revision, e.g. 0001 or base.")) -> None:
    """Migrate the database down to REVISION (data in dropped tables is lost)."""
    from ..store.migrate import downgrade as step

    _migrate(step, revision)


@db_app.command()
def current() -> None:
    """Print the database's schema revision and the newest one this version knows."""
    from ..store import make_engine
    from ..store.migrate import current_revision, head_revision

    settings = _settings()
    engine = make_engine(settings)
    try:
        typer.echo(f"current: {current_revision(engine) or '(empty database)'}\nnewest:  {head_revision()}")
    finally:
        engine.dispose()
