from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from anfu.cli import _register_commands, app


def test_serve_bootstraps_admin_and_demo_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import anfu.server.runner as runner

    served: list[Any] = []

    def fake_run(prepared: Any, host: str, port: int, echo: Any) -> None:
        echo(runner.sign_in_help(f"http://{host}:{port}", prepared))
        served.append(prepared)

    monkeypatch.setattr(runner, "run", fake_run)
    monkeypatch.setenv("ANFU_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ANFU_ENVIRONMENT", "development")
    _register_commands()
    first = CliRunner().invoke(app, ["serve", "--port", "8765", "--demo"])
    assert first.exit_code == 0, first.output
    out = first.output
    assert "http://127.0.0.1:8765" in out and "admin" in out
    prepared = served[0]
    assert prepared.admin.password in out and prepared.admin.password not in (tmp_path / "anfu.db").read_bytes().decode("latin-1")
    assert set(prepared.demo.passwords) == {"demo_agent", "demo_supervisor", "demo_auditor"}
    # a fortnight of analysed contacts ending today, its complaint tickets, and 5 live conversations
    assert 250 <= prepared.demo.conversations <= 600 and prepared.demo.messages > 1000
    assert prepared.demo.tickets >= 10
    store = prepared.app.state.ctx.store
    from anfu.store import ConversationFilter, Principal

    admin = Principal.of_user(store.get_user_by_username("admin"))
    hot = store.list_conversations(admin, ConversationFilter(min_escalation=1))
    assert hot.total >= 1  # the demo gives the supervisor alerts to look at
    second = CliRunner().invoke(app, ["serve", "--port", "8765", "--demo"])
    assert second.exit_code == 0
    assert served[1].admin is None and served[1].demo.passwords == {} and served[1].demo.messages == 0
    assert served[1].demo.tickets == 0 and served[1].demo.conversations == 5  # the history is seeded once
    assert prepared.admin.password not in second.output


def test_serve_reports_bad_settings_with_a_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANFU_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ANFU_ENVIRONMENT", "production")
    monkeypatch.delenv("ANFU_SECRET_KEY", raising=False)
    _register_commands()
    result = CliRunner().invoke(app, ["serve"])
    assert result.exit_code == 2 and "AF401" in result.output


def test_serve_warms_every_server_process_before_it_takes_requests(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """`anfu serve` (and each `--workers` process, through `anfu.server.asgi`) runs the analysis,
    the pre-send check and jieba once before taking requests, so the first customers of a
    fresh process do not wait for what is built on first use."""
    import anfu.server.asgi as asgi
    import anfu.server.runner as runner

    warmed: list[Any] = []
    real = runner.warm_up

    def spy(app_: Any) -> None:
        real(app_)
        warmed.append(app_)

    monkeypatch.setattr(runner, "warm_up", spy)
    monkeypatch.setattr(runner, "run", lambda prepared, host, port, echo: None)
    monkeypatch.setenv("ANFU_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ANFU_ENVIRONMENT", "development")
    _register_commands()
    result = CliRunner().invoke(app, ["serve", "--port", "8766"])
    assert result.exit_code == 0, result.output
    assert len(warmed) == 1
    worker_app = asgi.app_from_env()
    assert len(warmed) == 2 and warmed[1] is worker_app
    from anfu.text import segment

    assert segment._TOKENIZER is not None  # jieba's dictionary is loaded
