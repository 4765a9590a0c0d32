from __future__ import annotations

import stat
from pathlib import Path

import pytest

from anfu.errors import SettingsError
from anfu.settings import Settings, get_settings

STRONG = "kD93-fj2KslQ0a_PzX81mN5vBc7rT4yW6eUo"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for key in ("ANFU_ENVIRONMENT", "ANFU_SECRET_KEY", "ANFU_DATABASE_URL", "ANFU_DATA_DIR",
                "ANFU_ALLOWED_ORIGINS", "ANFU_STORE_MASKED_TEXT"):
        monkeypatch.delenv(key, raising=False)


def test_defaults_use_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    s = get_settings(data_dir=tmp_path / "var")
    assert s.database_url == f"sqlite:///{(tmp_path / 'var' / 'anfu.db').resolve()}"
    assert s.mailbox_dir == tmp_path / "var" / "mailbox"
    assert s.environment == "development" and s.is_sqlite and not s.store_masked_text


def test_development_generates_and_keeps_a_secret(tmp_path: Path) -> None:
    first = get_settings(data_dir=tmp_path / "var").secret_key.get_secret_value()
    second = get_settings(data_dir=tmp_path / "var").secret_key.get_secret_value()
    assert first == second and len(first) >= 32
    mode = (tmp_path / "var" / "secret_key").stat().st_mode
    assert stat.S_IMODE(mode) == 0o600
    assert first not in repr(get_settings(data_dir=tmp_path / "var"))  # SecretStr hides it


@pytest.mark.parametrize("secret", ["", "changeme", "short-secret", "a" * 40, "abababababababababababababababab12"])
def test_production_refuses_weak_secrets(secret: str, tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as err:
        get_settings(environment="production", secret_key=secret, data_dir=tmp_path)
    assert err.value.code == "AF401"
    assert not (tmp_path / "secret_key").exists()


def test_environment_variables_and_env_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ANFU_ENVIRONMENT", "production")
    monkeypatch.setenv("ANFU_SECRET_KEY", STRONG)
    monkeypatch.setenv("ANFU_DATABASE_URL", "postgresql+psycopg://anfu:pw@db.internal:5432/anfu")
    monkeypatch.setenv("ANFU_ALLOWED_ORIGINS", "https://kefu.example.cn, https://ops.example.cn:8443")
    (tmp_path / ".env").write_text("ANFU_STORE_MASKED_TEXT=true\nANFU_LOGIN_MAX_ATTEMPTS=3\nANFU_TURN_WORKERS=2\n",
                                   encoding="utf-8")
    s = get_settings()
    assert s.turn_workers == 2 and get_settings(turn_workers=6).turn_workers == 6
    assert s.secret_key.get_secret_value() == STRONG and not s.is_sqlite
    assert s.allowed_origins == ["https://kefu.example.cn", "https://ops.example.cn:8443"]
    assert s.store_masked_text and s.login_max_attempts == 3
    assert s.redacted_database_url() == "postgresql+psycopg://anfu:***@db.internal:5432/anfu"


@pytest.mark.parametrize("bad", [{"database_url": "mysql://x/y"}, {"session_ttl_minutes": 0},
                                 {"allowed_origins": "kefu.example.cn"}, {"environment": "staging"},
                                 {"port": 70000}, {"turn_workers": 0}])
def test_malformed_values_get_af402(bad: dict) -> None:
    with pytest.raises(SettingsError) as err:
        get_settings(**bad)
    assert err.value.code == "AF402"


def test_settings_are_built_per_call_not_at_import() -> None:
    import anfu.settings as module

    assert not any(isinstance(v, Settings) for v in vars(module).values())
    assert get_settings(port=9001).port == 9001 and get_settings().port == 8000
