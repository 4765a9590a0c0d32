"""Running the service: migrations, first-run admin, optional demo data, then uvicorn.
`anfu serve` calls `prepare()` and `run()`; one-time passwords go to the terminal only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from ..security import OneTimeCredentials, bootstrap_admin
from ..settings import Settings
from ..store import Store, upgrade
from .demo_data import DemoSeed, seed_demo


@dataclass
class Prepared:
    app: Any
    admin: OneTimeCredentials | None
    demo: DemoSeed | None


# a short exchange that takes every lazily built part of the analysis through its first use
_WARM_UP = (("customer", "停电三天了还没人来修，你们到底管不管？我要投诉！"),
            ("agent", "非常抱歉给您带来不便，我马上为您查询抢修进度。"),
            ("customer", "好的，请尽快。"))


def warm_up(app: Any) -> None:
    """Build what the first live turns would otherwise build while customers wait (pattern
    automata, jieba's dictionary, the models' vocabularies): `anfu serve` calls it in every
    server process before the process takes requests (the single process in `anfu serve`, each
worker in `anfu.server.asgi`; not the parent of `--workers`, which serves nothing)."""
    from ..qa import check_reply
    from ..text.segment import index_terms
    from ..types import Conversation, Utterance

    turns = tuple(Utterance(text=text, speaker=speaker, id=str(i))  # type: ignore[arg-type]
                  for i, (speaker, text) in enumerate(_WARM_UP))
    ctx = app.state.ctx
    ctx.analyzer(Conversation(turns=turns, id="warm-up", channel="webchat"))
    check_reply(_WARM_UP[1][1])
    index_terms(_WARM_UP[0][1])
    warm_pool(ctx.store.engine, ctx.turn_workers + 2)  # the turn threads and two request handlers


def warm_pool(engine: Any, connections: int) -> int:
    """Open `connections` pooled database connections before the process takes requests (the
    turn workers' and the request handlers' at once): a restart during a shift is followed by every
    agent's next message within seconds, and each new PostgreSQL connection (TCP, SCRAM sign-in,
    type set-up) would otherwise be paid by a waiting turn. Returns how many the pool now keeps
    idle. SQLite opens its file per connection cheaply: nothing to do."""
    if engine.dialect.name == "sqlite":
        return 0
    opened = []
    try:
        for _ in range(max(0, min(connections, engine.pool.size()))):
            conn = engine.connect()
            opened.append(conn)
            conn.exec_driver_sql("SELECT 1")
    finally:
        for conn in opened:
            conn.close()
    return engine.pool.checkedin()


def prepare(settings: Settings, demo: bool = False) -> Prepared:
    """Migrate the database, create the first admin on an empty one, build the app and, with
    `demo`, load the demo team and conversations."""
    from .app import create_app

    upgrade(settings)
    store = Store.from_settings(settings)
    admin = bootstrap_admin(store)
    app = create_app(settings, store=store, mailbox_poll_s=settings.mailbox_poll_s)
    seeded = None
    if demo:
        tenant = admin.tenant if admin else store.get_tenant_by_slug("default") or store.list_tenants()[0]
        seeded = seed_demo(store, app.state.ctx.turns, tenant)
    return Prepared(app, admin, seeded)


def sign_in_help(url: str, prepared: Prepared) -> str:
    lines = [f"安抚 Anfu 服务已就绪 (service ready): {url}",
             f"  API: {url}/api/v1/openapi.json  ·  健康检查 health: {url}/api/v1/health",
             f"  邮件投递目录 mailbox drop folder: {prepared.app.state.ctx.settings.mailbox_dir} (.eml)",
             "  登录 sign in: POST /api/v1/auth/login {\"username\", \"password\"[, \"totp\"]}"]
    if prepared.admin:
        lines.append(prepared.admin.message(url))
    for username, password in (prepared.demo.passwords.items() if prepared.demo else ()):
        lines.append(f"演示账号 demo account: {username}  一次性密码 one-time password: {password}"
                     "（首次登录后须修改 change it at first sign-in）")
    if prepared.demo:
        lines.append(f"演示数据 demo data: {prepared.demo.conversations} 个会话 conversations, "
                     f"{prepared.demo.messages} 条新消息 new messages")
    if not prepared.admin and not (prepared.demo and prepared.demo.passwords):
        lines.append("  账号已存在，请使用已设置的密码登录 (accounts exist: use their passwords).")
    return "\n".join(lines)


def listening_socket(host: str, port: int, backlog: int = 2048) -> Any:
    """The socket `run` serves on, bound here so that a held port or an unknown host is AF402
    before the service starts (uvicorn logged it and exited with 3)."""
    import socket

    try:
        family, kind, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
            sock.listen(backlog)
        except OSError:
            sock.close()
            raise
    except OSError as exc:
        from ..errors import SettingsError

        raise SettingsError("AF402", f"--host {host} --port {port}: cannot listen there ({exc.strerror or exc}; "
                                     "another program may hold the port, or the host is unknown: pick another "
                                     "--port or --host)") from None
    return sock


def run(prepared: Prepared, host: str, port: int, echo: Callable[[str], None] = print) -> None:
    import uvicorn

    sock = listening_socket(host, port)
    echo(sign_in_help(f"http://{host}:{port}", prepared))
    # access_log off: the app's own RequestLog middleware logs every request (masked)
    config = uvicorn.Config(prepared.app, host=host, port=port, log_level="info", ws_max_size=1_000_000,
                            server_header=False, proxy_headers=False, access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


WORKER_APP = "anfu.server.asgi:app_from_env"  # the factory each `--workers` process calls


def run_workers(prepared: Prepared, host: str, port: int, workers: int, echo: Callable[[str], None] = print) -> None:
    """`workers` uvicorn processes, each building its own app (`anfu.server.asgi`) and, on Linux,
    listening on its own `SO_REUSEPORT` socket so that the kernel spreads connections evenly
    (`anfu.server.workers`); the database was migrated and bootstrapped by `prepare` in this
    process."""
    import os

    import uvicorn

    from .workers import balanced_sockets, run_balanced

    settings = prepared.app.state.ctx.settings
    echo(sign_in_help(f"http://{host}:{port}", prepared) + f"\n  进程 processes: {workers}")
    os.environ["ANFU_ALLOWED_ORIGINS"] = ",".join(settings.allowed_origins)
    prepared.app.state.ctx.store.engine.dispose()
    options = dict(factory=True, workers=workers, host=host, port=port, log_level="info", ws_max_size=1_000_000,
                   server_header=False, proxy_headers=False, access_log=False)
    config = uvicorn.Config(WORKER_APP, **options)  # type: ignore[arg-type]
    try:
        sockets = balanced_sockets(host, port, workers, backlog=config.backlog)
    except OSError as exc:
        from ..errors import SettingsError

        raise SettingsError("AF402", f"--host {host} --port {port}: cannot listen there ({exc.strerror or exc}; "
                                     "another program may hold the port: pick another --port)") from None
    if sockets is None:
        uvicorn.run(WORKER_APP, **options)  # type: ignore[arg-type]
        return
    run_balanced(config, sockets)
