"""`anfu db upgrade | current | downgrade` on a fresh SQLite database."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from anfu.cli import _register_commands, app

_register_commands()
runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ANFU_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("ANFU_DATABASE_URL", raising=False)
    return tmp_path


def test_upgrade_current_downgrade_round_trip(data_dir: Path) -> None:
    before = runner.invoke(app, ["db", "current"])
    assert before.exit_code == 0 and "(empty database)" in before.output
    up = runner.invoke(app, ["db", "upgrade"])
    assert up.exit_code == 0, up.output
    assert (data_dir / "anfu.db").is_file()
    now = runner.invoke(app, ["db", "current"]).output
    current, newest = [line.split()[-1] for line in now.splitlines()[:2]]
    assert current == newest
    down = runner.invoke(app, ["db", "downgrade", "base"])
    assert down.exit_code == 0, down.output
    assert "(empty database)" in runner.invoke(app, ["db", "current"]).output


def test_bad_settings_get_a_coded_error(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANFU_SESSION_TTL_MINUTES", "not-a-number")
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 2 and "AF402" in result.output
