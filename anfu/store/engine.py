"""Database engines: SQLite (embedded default) and PostgreSQL through psycopg 3.

SQLite runs in WAL mode with `synchronous=FULL`, so a committed transaction is in the WAL
on disk before `commit()` returns: that is what lets the store acknowledge a message only
after it is durable. Writes take the lock up front (`BEGIN IMMEDIATE`) so that concurrent
writers queue on `busy_timeout` instead of failing with "database is locked" mid-transaction.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError

from ..errors import StoreError

BUSY_TIMEOUT_MS = 10_000
# a pooled PostgreSQL connection idle for longer than this is pinged before use (`_ping_when_idle`)
PING_AFTER_IDLE_S = 5.0
_LAST_USED = "anfu_last_used"
WRITE_OPTION = "anfu_write"


def _json_dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def make_engine(settings: Any = None, *, url: str | None = None, echo: bool = False) -> Engine:
    """An engine for `settings.database_url` (or an explicit `url`).

    Raises `StoreError` AF501 for an unsupported or malformed URL.
    """
    raw = url if url is not None else settings.database_url
    try:
        parsed = make_url(raw)
    except (ArgumentError, ValueError):  # ValueError: a port that is no number
        raise StoreError("AF501", "(malformed URL: check the host, the port number and the database name)") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(raw, parsed.database, echo)
    if backend == "postgresql":
        if parsed.drivername != "postgresql+psycopg":
            raise StoreError("AF501", f"{parsed.drivername}:// (use postgresql+psycopg://)")
        engine = create_engine(raw, echo=echo, json_serializer=_json_dumps, pool_size=10, max_overflow=20)
        _ping_when_idle(engine)
        return engine
    raise StoreError("AF501", f"{parsed.drivername}://")


def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled PostgreSQL connection before use when it has been idle for more than
    `PING_AFTER_IDLE_S` (a restarted server, a firewall that dropped the socket): a dead one is
    replaced before the request uses it, as `pool_pre_ping` would. A connection that was in use
    moments ago is not pinged: SQLAlchemy's `pool_pre_ping` sends a `SELECT 1` round trip on
    every checkout, i.e. on every request (issue 15), and a connection that breaks while in use
    fails its statement either way (the pool then drops every connection older than the error)."""

    @event.listens_for(engine, "connect")
    def _fresh(_dbapi_connection: Any, record: Any) -> None:
        record.info[_LAST_USED] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[_LAST_USED] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info.get(_LAST_USED, float("-inf")) <= PING_AFTER_IDLE_S:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # any failure of the ping means: use another connection
            raise DisconnectionError(f"pooled connection is dead ({type(exc).__name__})") from exc


def _sqlite_engine(raw: str, database: str | None, echo: bool) -> Engine:
    if not database or database == ":memory:":
        raise StoreError("AF501", "in-memory SQLite (give a file path: sqlite:///var/anfu.db)")
    _private_file(Path(database))
    engine = create_engine(raw, echo=echo, json_serializer=_json_dumps,
                           connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy's "begin" hook below (pysqlite's own
        # implicit BEGIN would defer the write lock).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # Deleted rows are overwritten with zeros, so erased personal data does not linger in
        # free pages of the file (customer deletion also checkpoints the WAL).
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _private_file(path: Path) -> None:
    """Create the database file (and its folder) readable by this user only: 0600 / 0700.
    SQLite gives the `-wal` and `-shm` files the database file's permissions."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
    if not path.exists():
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            pass


def writer(engine: Engine) -> Engine:
    """The same engine, marked so that SQLite transactions take the write lock at BEGIN."""
    return engine.execution_options(**{WRITE_OPTION: True})


def connection_error(exc: BaseException) -> StoreError | None:
    """AF501 for a database that refused or did not answer the connection (the command line
    prints it instead of SQLAlchemy's traceback); None for any other exception. The server's
    message names the host and port, never the password."""
    from sqlalchemy.exc import InterfaceError, OperationalError

    if not isinstance(exc, (OperationalError, InterfaceError)):
        return None
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:300]
    return StoreError("AF501", f"(cannot connect: {reason})")
