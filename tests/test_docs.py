"""Reference documentation stays complete (as in Datasette's documentation tests).

Each test enumerates something from the code and fails, naming what is missing, when the
matching page of docs/ does not mention it:

- every `Settings` field as `ANFU_<NAME>`, and every key of anfu/default_config.toml, in
  docs/settings.md;
- every `anfu` command and subcommand (and each of its long options) in docs/cli.md;
- every REST operation of the OpenAPI document and every other route (web pages, WebSockets,
  static files) of the app built by `create_app`, in docs/api.md;
- every AF### code of anfu/errors.py in docs/errors.md;
- every rule-pack kind under anfu/rules/zh_CN/ in docs/rule-packs.md.

An item counts as documented when it appears in backticks, e.g. `ANFU_PORT`, `anfu db upgrade`,
`POST /api/v1/messages`, `WS /ws/agent`, `AF503`, `sla.yaml`, `industries/`.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, Iterable, Iterator

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PACKS = ROOT / "anfu" / "rules" / "zh_CN"


def read_doc(name: str) -> str:
    path = DOCS / name
    assert path.is_file(), f"docs/{name} is missing"
    return path.read_text(encoding="utf-8")


def undocumented(items: Iterable[str], text: str) -> list[str]:
    """The items that `text` does not mention in backticks (`item`), in their given order."""
    return [item for item in dict.fromkeys(items) if f"`{item}`" not in text]


# settings ------------------------------------------------------------------------------------
def setting_variables() -> list[str]:
    from anfu.settings import Settings

    prefix = Settings.model_config.get("env_prefix", "ANFU_")
    return [f"{prefix}{name.upper()}" for name in Settings.model_fields]


def config_keys(path: Path | None = None) -> list[str]:
    """Dotted keys of a pipeline config, e.g. `limits.max_chars`,
    `components."anfu.emotion.v1".weights` (a table name with dots is quoted)."""
    from anfu.config import DEFAULT_CONFIG_PATH

    with open(path or DEFAULT_CONFIG_PATH, "rb") as fh:
        data = tomllib.load(fh)

    def part(key: str) -> str:
        return f'"{key}"' if "." in key else key

    keys: list[str] = []

    def walk(table: dict[str, Any], trail: list[str]) -> None:
        for key, value in table.items():
            if isinstance(value, dict):
                walk(value, [*trail, part(key)])
            else:
                keys.append(".".join([*trail, part(key)]))

    walk(data, [])
    return keys


# CLI -----------------------------------------------------------------------------------------
def cli_commands() -> dict[str, list[str]]:
    """Every `anfu …` command path (groups and leaf commands) -> its long options."""
    import typer

    from anfu.cli import _register_commands, app

    _register_commands()
    root = typer.main.get_command(app)
    found: dict[str, list[str]] = {}

    # Typer ≥ 0.29 ships its own copy of click, so groups are recognised by their `commands`
    def walk(command: Any, path: str) -> None:
        subcommands = getattr(command, "commands", None)
        if isinstance(subcommands, dict):
            for name, sub in sorted(subcommands.items()):
                found[f"{path} {name}"] = _long_options(sub)
                walk(sub, f"{path} {name}")

    walk(root, "anfu")
    return found


def _long_options(command: Any) -> list[str]:
    out = []
    for param in command.params:
        if getattr(param, "param_type_name", "") != "option":
            continue
        for opt in [*param.opts, *getattr(param, "secondary_opts", [])]:
            if opt.startswith("--") and opt != "--help":
                out.append(opt)
    return out


def sections(text: str) -> dict[str, str]:
    """Markdown sections keyed by their heading line (without the #s)."""
    out: dict[str, str] = {}
    heading = None
    for line in text.splitlines():
        match = re.match(r"^#{1,6}\s+(.*)$", line)
        if match:
            heading = match.group(1).strip()
            out[heading] = ""
        elif heading is not None:
            out[heading] += line + "\n"
    return out


def undocumented_options(commands: dict[str, list[str]], text: str) -> list[str]:
    """`command --option` pairs whose option is not named in that command's own section (the
    section whose heading is the command in backticks)."""
    by_heading = sections(text)
    missing = []
    for command, options in commands.items():
        body = by_heading.get(f"`{command}`")
        if body is None:
            continue  # reported by undocumented() already
        missing += [f"{command} {opt}" for opt in options if f"`{opt}`" not in body and f"`{opt} " not in body]
    return missing


# API -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def api_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from anfu.server import create_app
    from anfu.settings import get_settings
    from anfu.store import upgrade

    data_dir = tmp_path_factory.mktemp("docs-api")
    settings = get_settings(data_dir=data_dir, environment="test",
                            database_url=f"sqlite:///{data_dir / 'anfu.db'}",
                            secret_key="docs-test-Ki7q2Lw9Xz4Rt6Yp1Vb8Nm3Hc5Jf0Dg")
    upgrade(settings)
    app = create_app(settings)
    yield app
    app.state.ctx.store.engine.dispose()


def openapi_operations(app: Any) -> list[str]:
    """`METHOD /path` of every operation in the app's OpenAPI document."""
    spec = app.openapi()
    return [f"{method.upper()} {path}" for path, operations in spec["paths"].items()
            for method in operations if method in ("get", "post", "put", "patch", "delete")]


def route_entries(app: Any) -> list[str]:
    """Every route the app serves, by walking `app.routes`: `METHOD /path` for HTTP routes
    (HEAD dropped), `WS /path` for WebSockets, `GET /mount/{path}` for mounted apps. Routers
    included by FastAPI ≥ 0.165 stay wrapped (`_IncludedRouter` with `original_router` and
    `include_context.prefix`); older versions flatten them; both are handled."""
    from starlette.routing import Mount, WebSocketRoute

    found: list[str] = []

    def walk(routes: Iterable[Any], prefix: str) -> None:
        for route in routes:
            original = getattr(route, "original_router", None)
            if original is not None:
                context = getattr(route, "include_context", None)
                walk(original.routes, prefix + (getattr(context, "prefix", "") or getattr(original, "prefix", "")))
                continue
            path = prefix + getattr(route, "path", "")
            if isinstance(route, WebSocketRoute) or type(route).__name__ == "APIWebSocketRoute":
                found.append(f"WS {path}")
            elif isinstance(route, Mount):
                found.append(f"GET {path}/{{path}}")
            else:
                for method in sorted(getattr(route, "methods", None) or ()):
                    if method != "HEAD":
                        found.append(f"{method} {path}")

    walk(app.routes, "")
    return found


# errors and rule packs -----------------------------------------------------------------------
def error_codes() -> list[str]:
    from anfu.errors import MESSAGES

    return sorted(MESSAGES)


def pack_kinds(folder: Path = PACKS) -> list[str]:
    """Rule-pack kinds as `anfu check-rules` groups them: a top-level file is its own kind
    (`sla.yaml`), the packs of a folder share one (`industries/`)."""
    kinds = []
    for path in sorted(folder.rglob("*.yaml")):
        rel = path.relative_to(folder)
        kinds.append(rel.name if len(rel.parts) == 1 else f"{rel.parts[0]}/")
    return list(dict.fromkeys(kinds))


# the tests -----------------------------------------------------------------------------------
def test_every_setting_is_documented() -> None:
    names = setting_variables()
    assert "ANFU_SECRET_KEY" in names and "ANFU_DATABASE_URL" in names
    assert undocumented(names, read_doc("settings.md")) == []


def test_every_pipeline_config_key_is_documented() -> None:
    keys = config_keys()
    assert "pipeline.components" in keys and 'components."anfu.emotion.v1".weights' in keys
    assert undocumented(keys, read_doc("settings.md")) == []


def test_every_cli_command_and_option_is_documented() -> None:
    commands = cli_commands()
    assert {"anfu analyze", "anfu serve", "anfu db", "anfu db upgrade"} <= set(commands)
    assert "--batch-size" in commands["anfu analyze"] and "--no-progress" in commands["anfu analyze"]
    text = read_doc("cli.md")
    assert undocumented(commands, text) == []
    assert undocumented_options(commands, text) == []


def test_every_rest_operation_is_documented(api_app: Any) -> None:
    operations = openapi_operations(api_app)
    assert "POST /api/v1/messages" in operations and "GET /api/v1/health" in operations
    assert undocumented(operations, read_doc("api.md")) == []


def test_every_route_websocket_and_page_is_documented(api_app: Any) -> None:
    routes = route_entries(api_app)
    # the walk reaches the included routers: REST, WebSockets, web pages and /static
    assert {"WS /ws/agent", "WS /ws/supervisor", "GET /api/v1/health", "GET /console",
            "GET /static/{path}"} <= set(routes)
    assert set(openapi_operations(api_app)) <= set(routes)
    assert undocumented(routes, read_doc("api.md")) == []


def test_every_error_code_is_documented() -> None:
    codes = error_codes()
    assert "AF001" in codes and "AF503" in codes
    assert undocumented(codes, read_doc("errors.md")) == []


def test_every_rule_pack_kind_is_documented() -> None:
    kinds = pack_kinds()
    assert "forbidden_phrases.yaml" in kinds and "industries/" in kinds
    assert undocumented(kinds, read_doc("rule-packs.md")) == []


# the checks can fail ----------------------------------------------------------------------------
def test_helpers_report_what_is_missing(api_app: Any, tmp_path: Path) -> None:
    settings = read_doc("settings.md")
    assert undocumented(["ANFU_PORT", "ANFU_NO_SUCH_SETTING"], settings) == ["ANFU_NO_SUCH_SETTING"]
    # deleting a documented entry makes the real check fail
    assert undocumented(setting_variables(), settings.replace("`ANFU_PORT`", "ANFU_PORT")) == ["ANFU_PORT"]

    cli = read_doc("cli.md")
    assert undocumented([*cli_commands(), "anfu db stamp"], cli) == ["anfu db stamp"]
    stripped = cli.replace("`--batch-size`", "batch size")
    assert undocumented_options(cli_commands(), stripped) == ["anfu analyze --batch-size"]

    api = read_doc("api.md")
    assert undocumented([*route_entries(api_app), "DELETE /api/v1/tickets/{ticket_id}"], api) == [
        "DELETE /api/v1/tickets/{ticket_id}"]
    assert undocumented(route_entries(api_app), api.replace("`WS /ws/supervisor`", "")) == ["WS /ws/supervisor"]

    assert undocumented([*error_codes(), "AF999"], read_doc("errors.md")) == ["AF999"]

    packs = tmp_path / "packs"
    (packs / "regions").mkdir(parents=True)
    (packs / "holidays.yaml").write_text("version: 1\n", encoding="utf-8")
    (packs / "regions" / "guangdong.yaml").write_text("version: 1\n", encoding="utf-8")
    assert pack_kinds(packs) == ["holidays.yaml", "regions/"]
    assert undocumented(pack_kinds(packs), read_doc("rule-packs.md")) == ["holidays.yaml", "regions/"]

    toml = tmp_path / "extra.toml"
    toml.write_text('[limits]\nmax_chars = 100\n[components."anfu.x.v1"]\nfoo = 1\n', encoding="utf-8")
    assert config_keys(toml) == ["limits.max_chars", 'components."anfu.x.v1".foo']
    assert undocumented(config_keys(toml), read_doc("settings.md")) == ['components."anfu.x.v1".foo']
