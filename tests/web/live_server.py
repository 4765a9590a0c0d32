"""Run the service for the browser tests: `python tests/web/live_server.py DATA_DIR PORT [TEMPLATE]`.

Migrates a fresh SQLite database, seeds one service centre (a team with two agents, a
supervisor and a quality auditor who sign in with PASSWORD, an administrator without TOTP yet, an API token for the web-chat
gateway written to DATA_DIR/token, a few live demo conversations, and the demo fortnight of
`anfu serve --demo` — contacts, tickets, surveys, ledger — for the dashboards) and serves the
app with uvicorn on 127.0.0.1:PORT.

Seeding analyses every demo turn and takes most of a server's start, so the browser modules seed
once per test session: `python tests/web/live_server.py --seed TEMPLATE` seeds TEMPLATE (with the
secret key it was made under) and exits, and `DATA_DIR PORT TEMPLATE` serves a copy of it. Each
module still gets its own database.
"""

from __future__ import annotations

import json
import secrets
import shutil
import sys
from pathlib import Path

import uvicorn

import anfu
from anfu.demo.fortnight import load_templates
from anfu.security.passwords import hash_password
from anfu.security.tokens import new_api_token
from anfu.server import create_app
from anfu.server.demo_data import DemoSeed, ensure_staff, seed_fortnight
from anfu.settings import get_settings
from anfu.store import Principal, upgrade

PASSWORD = "Lan-Hua-Shan-2024!"
ROOT = Path(__file__).resolve().parents[2]


def seed(app, data_dir: Path) -> None:  # noqa: ANN001
    ctx = app.state.ctx
    store = ctx.store
    tenant = store.create_tenant("grid-95598", "国网某市供电公司")
    team = store.create_team(tenant.id, "95598一组")
    users = {}
    for username, role, display in (("li", "agent", "李强"), ("zhao", "agent", "赵敏"), ("wang", "supervisor", "王丽"),
                                    ("qa", "auditor", "质检员")):
        users[username] = store.create_user(tenant.id, username, hash_password(PASSWORD), role,
                                            team_id=team.id if role != "auditor" else None, display_name=display)
    token, token_hash, prefix = new_api_token()
    store.create_api_token(tenant.id, "webchat-gateway", "supervisor", token_hash, prefix, team_id=team.id)
    (data_dir / "token").write_text(token, encoding="utf-8")
    # analysed demo conversations, handled by 赵敏 (the scenario's chat goes to 李强)
    gateway = Principal(tenant_id=tenant.id, role="supervisor", team_id=team.id, name="webchat-gateway")
    for line in (ROOT / "anfu" / "demo" / "conversations.jsonl").read_text(encoding="utf-8").splitlines()[1:]:
        demo = json.loads(line)
        conversation = ctx.turns.resolve(gateway, conversation_ref=demo["id"], channel=demo.get("channel", "webchat"),
                                         industry=demo.get("industry"), agent_id=users["zhao"].id)
        for turn in demo["turns"]:
            ctx.turns.add_turn(gateway, conversation, turn["speaker"], turn["text"])
    # the demo fortnight of `anfu serve --demo`: the same teams, contacts, tickets and surveys
    staff, _ = ensure_staff(store, tenant, DemoSeed(), load_templates())
    seed_fortnight(store, ctx.analyzer, tenant, staff)
    # an administrator who has not enrolled TOTP yet (the workspace day enrols it in the browser)
    store.create_user(tenant.id, "root", hash_password(PASSWORD), "admin", display_name="系统管理员")


SECRET = "secret"  # the template's secret key, beside its database


def make_template(template: Path) -> None:
    key = secrets.token_urlsafe(48)
    settings = get_settings(environment="test", data_dir=template, secret_key=key)
    upgrade(settings)
    app = create_app(settings, analyzer=anfu.load(), scheduler=False)
    seed(app, template)
    app.state.ctx.store.engine.dispose()
    (template / SECRET).write_text(key, encoding="utf-8")


def main() -> None:
    if sys.argv[1] == "--seed":
        make_template(Path(sys.argv[2]))
        return
    data_dir, port = Path(sys.argv[1]), int(sys.argv[2])
    origin = f"http://127.0.0.1:{port}"
    template = Path(sys.argv[3]) if len(sys.argv) > 3 else None
    if template is not None:
        shutil.copytree(template, data_dir, dirs_exist_ok=True)
        key = (data_dir / SECRET).read_text(encoding="utf-8")
    else:
        key = secrets.token_urlsafe(48)
    settings = get_settings(environment="test", data_dir=data_dir, secret_key=key, allowed_origins=[origin])
    upgrade(settings)
    app = create_app(settings, analyzer=anfu.load())
    if template is None:
        seed(app, data_dir)
    (data_dir / "ready").write_text(origin, encoding="utf-8")
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
