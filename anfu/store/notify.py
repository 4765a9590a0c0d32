"""PostgreSQL LISTEN/NOTIFY for the live hub of several server processes (issue 15).

`Notifier(engine)` publishes JSON messages on a channel named after the database and schema
(`anfu_live_<hash>`: every process on the same schema shares it, test schemas never cross) and
runs one listener thread with its own autocommit connection that hands each message from
another process to a callback. A message over NOTIFY's 8,000-byte limit is sent compressed
(zlib, base64: a live turn's message is about 9 KB of JSON, 4-5 KB so), and one still over it
goes through the `live_spill` table (its id is notified; every listener deletes rows older than
`SPILL_TTL_S` about once a minute). The listener reconnects after a lost connection; what
was published while it was away is not replayed, but `on_gap` is called once it listens again
(the hub tells its clients to catch up from `GET /api/v1/events`), so nothing is lost silently.

A batch the database refused is dropped (logged); the next batch that goes out starts with a
`gap` notice, on which the other processes call `on_gap` as well.

Publishing is off the caller's path: `publish` queues the message and one sender thread per
process sends what has queued, in order, in one autocommit statement (a live turn does not wait
for a database round trip after its commit, and a burst of turns costs one statement). Each
message carries a per-process number, so two equal messages are never folded into one (a
transaction's equal notifications are delivered once). Live fan-out is best effort: a message
the database refused is logged and dropped, never raised into the turn that already committed.
Only for PostgreSQL: on SQLite the hub stays in memory (one process).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import logging
import queue
import threading
import time
import uuid
import zlib
from datetime import timedelta
from typing import Any, Callable

from sqlalchemy import delete, event, insert, select, text
from sqlalchemy.engine import Engine

from .live_tables import LiveSpillRow
from .tables import utcnow

log = logging.getLogger("anfu.live")
MAX_PAYLOAD = 7900
SPILL_TTL_S = 300
SPILL_SWEEP_S = 60.0  # how often each listener deletes spill rows older than SPILL_TTL_S
SEND_BATCH = 64  # messages one statement sends at most


def _notify_many(connection: Any, channel: str, bodies: list[str]) -> None:
    """Notify the queued messages of one batch, in their order, in one statement on `connection`
    (a SQLAlchemy connection: run on its psycopg connection, in its transaction or autocommit).
    Each message is its own parameter: binding a few KB of text as a parameter costs a fraction
    of dumping it into a text[] array, and SQLAlchemy's execution layer adds nothing here."""
    sql = ("SELECT pg_notify(%s, m.body) FROM (VALUES " + ", ".join(f"({i}, %s)" for i in range(len(bodies)))
           + ") AS m(n, body) ORDER BY m.n")
    connection.connection.dbapi_connection.execute(sql, [channel, *bodies])


class _Marker:
    """Put in the outbox by `flush`: set once everything queued before it was sent."""

    def __init__(self, done: threading.Event) -> None:
        self.done = done


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


class Notifier:
    def __init__(self, engine: Engine) -> None:
        if not is_postgres(engine):
            raise ValueError("LISTEN/NOTIFY needs PostgreSQL")
        self.engine = engine
        self.origin = uuid.uuid4().hex
        with engine.connect() as conn:
            where = conn.execute(text("SELECT current_database(), current_schema()")).one()
        self.channel = "anfu_live_" + hashlib.sha256(f"{where[0]}|{where[1]}".encode()).hexdigest()[:16]
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._last_cleanup = 0.0
        self._last_sweep = 0.0
        self._outbox: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._numbers = itertools.count()
        self._sender: threading.Thread | None = None
        self._sender_guard = threading.Lock()
        self._dropped = False  # a batch was refused: the next one starts with a "gap" notice
        # the app's engine going away (tests, shutdown) stops the listener with it
        event.listen(engine, "engine_disposed", lambda _engine: self._stop.set())

    # publishing ------------------------------------------------------------------------------
    def publish(self, message: dict[str, Any]) -> None:
        """Queue `message` for the other processes (sent by the sender thread, in order)."""
        body = json.dumps({"origin": self.origin, "n": next(self._numbers), **message},
                          ensure_ascii=False, default=str)
        self._ensure_sender()
        self._outbox.put(body)

    def _ensure_sender(self) -> None:
        if self._sender is None:
            with self._sender_guard:
                if self._sender is None:
                    self._sender = threading.Thread(target=self._send_loop, name="anfu-live-send", daemon=True)
                    self._sender.start()

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until everything queued so far was sent (tests, shutdown); False on timeout."""
        done = threading.Event()
        self._outbox.put(_Marker(done))  # type: ignore[arg-type]
        self._ensure_sender()
        return done.wait(timeout)

    def _send_loop(self) -> None:
        while True:
            first = self._outbox.get()
            if first is None:
                return
            batch: list[Any] = [first]
            while len(batch) < SEND_BATCH:
                try:
                    batch.append(self._outbox.get_nowait())
                except queue.Empty:
                    break
            stop = None in batch
            markers = [b for b in batch if isinstance(b, _Marker)]
            bodies = [b for b in batch if isinstance(b, str)]
            if bodies and self._dropped:
                # messages were dropped before: the other processes tell their clients to catch up
                bodies.insert(0, json.dumps({"origin": self.origin, "n": next(self._numbers), "kind": "gap"}))
            try:
                if bodies:
                    self._send(bodies)
                    self._dropped = False
            except Exception:  # noqa: BLE001 - best effort: the turn is committed, clients catch up
                self._dropped = True
                log.exception("live fan-out: %d message(s) not sent", len(bodies))
            for marker in markers:
                marker.done.set()
            if stop:
                return

    def _fit(self, body: str) -> str | None:
        """`body` as one NOTIFY payload: as it is when small, else compressed (zlib, base64 in a
        small envelope: a live turn's ~9 KB of JSON fits in about half of it); None when even that
        is over the limit (the spill table takes it). Compressed fast (level 1, about half the
        CPU of level 6 for a few percent more bytes) unless only the tighter level 6 fits."""
        raw = body.encode("utf-8")
        if len(raw) <= MAX_PAYLOAD:
            return body
        for level in (1, 6):
            packed = json.dumps({"origin": self.origin,
                                 "z": base64.b64encode(zlib.compress(raw, level)).decode("ascii")})
            if len(packed) <= MAX_PAYLOAD:
                return packed
        return None

    def _send(self, bodies: list[str]) -> None:
        fitted = [self._fit(b) for b in bodies]
        if all(f is not None for f in fitted):
            # the common case: one statement in autocommit (no BEGIN and COMMIT round trips)
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                _notify_many(conn, self.channel, fitted)  # type: ignore[arg-type]
            return
        with self.engine.begin() as conn:
            out = []
            for body, fit in zip(bodies, fitted):
                if fit is None:
                    spill = conn.execute(insert(LiveSpillRow).values(payload=json.loads(body), created_at=utcnow())
                                         .returning(LiveSpillRow.id)).scalar_one()
                    fit = json.dumps({"origin": self.origin, "spill": spill})
                out.append(fit)
            if time.monotonic() - self._last_cleanup > 60:
                self._last_cleanup = time.monotonic()
                conn.execute(delete(LiveSpillRow).where(
                    LiveSpillRow.created_at < utcnow() - timedelta(seconds=SPILL_TTL_S)))
            _notify_many(conn, self.channel, out)

    # listening -------------------------------------------------------------------------------
    def start(self, callback: Callable[[dict[str, Any]], None], on_gap: Callable[[], None] | None = None,
              unwanted: Callable[[], bool] | None = None) -> None:
        """Hand each message of another process to `callback`; call `on_gap` each time the
        listener listens again after a lost connection (messages may have been missed). While
        `unwanted()` is true (the hub has nobody connected to deliver to), a message is dropped
        before it is decompressed, parsed or read from the spill table: every turn of every
        other process arrives here, and unpacking one costs about as much as compressing it."""
        self._on_gap = on_gap
        self._unwanted = unwanted
        self._thread = threading.Thread(target=self._listen, args=(callback,), name="anfu-live-listen", daemon=True)
        self._thread.start()
        self._ready.wait(10)

    def _conninfo(self) -> str:
        return self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)

    def _listen(self, callback: Callable[[dict[str, Any]], None]) -> None:
        import psycopg

        backoff = 0.5
        listened = False
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo(), autocommit=True) as conn:
                    conn.execute(f'LISTEN "{self.channel}"')
                    self._ready.set()
                    backoff = 0.5
                    if listened:
                        self._gap()  # listening again: what was sent meanwhile never reaches us
                    listened = True
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=1.0):
                            self._handle(note.payload, callback)
                        self._sweep_spill()
            except Exception as exc:  # noqa: BLE001 - a lost connection: wait and listen again
                if self._stop.is_set():
                    return
                log.warning("live listener lost its connection (%s); reconnecting", type(exc).__name__)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)

    def _sweep_spill(self) -> None:
        """Delete spilled messages older than SPILL_TTL_S. Every listening process does it now and
        then, not only a process that spills again: a spilled turn holds the customer's words,
        which must not stay in the database indefinitely (nor outlive their erasure by long)."""
        if time.monotonic() - self._last_sweep < SPILL_SWEEP_S:
            return
        self._last_sweep = time.monotonic()
        try:
            with self.engine.begin() as conn:
                conn.execute(delete(LiveSpillRow).where(
                    LiveSpillRow.created_at < utcnow() - timedelta(seconds=SPILL_TTL_S)))
        except Exception:  # noqa: BLE001 - the next sweep tries again
            log.warning("live listener: old spilled messages not deleted", exc_info=True)

    def _gap(self) -> None:
        on_gap = getattr(self, "_on_gap", None)
        if on_gap is None:
            return
        try:
            on_gap()
        except Exception:  # noqa: BLE001 - the listener keeps listening whatever the hub does
            log.exception("live listener: telling the clients about the gap failed")

    def _handle(self, raw: str, callback: Callable[[dict[str, Any]], None]) -> None:
        try:
            message = json.loads(raw)
            if message.get("origin") == self.origin:
                return
            if message.get("kind") == "gap":  # the sender dropped messages: clients must catch up
                self._gap()
                return
            unwanted = getattr(self, "_unwanted", None)
            if unwanted is not None and unwanted():
                return
            if "z" in message:
                message = json.loads(zlib.decompress(base64.b64decode(message["z"])))
            if "spill" in message:
                with self.engine.connect() as conn:
                    payload = conn.execute(select(LiveSpillRow.payload).where(LiveSpillRow.id == message["spill"])).scalar()
                if payload is None:
                    return
                message = payload
            callback(message)
        except Exception:  # noqa: BLE001 - one bad message never stops the listener
            log.exception("live message from another process could not be delivered")

    def close(self) -> None:
        if self._sender is not None:
            self.flush()
            self._outbox.put(None)
            self._sender.join(timeout=5)
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
