"""Runtime settings of the Anfu service (pydantic-settings, `ANFU_` prefix, `.env` file).

There are no import-time globals: `get_settings()` builds a validated `Settings` each time it is
called, and the server and store take that object as an argument (`create_app(settings)`,
`make_engine(settings)`).

Every setting, with its environment variable:

- `ANFU_ENVIRONMENT`: `development` (default, for `make run` on a laptop), `test` or
  `production`. Outside development a strong `ANFU_SECRET_KEY` is required.
- `ANFU_DATA_DIR`: folder for the SQLite database, the generated development secret and the
  mailbox drop folder (default `./var`).
- `ANFU_DATABASE_URL`: `sqlite:///path/to/anfu.db` (default `sqlite:///<data dir>/anfu.db`) or
  `postgresql+psycopg://user:password@host:5432/anfu`.
- `ANFU_SECRET_KEY`: signs CSRF tokens and other server-side secrets; at least 32 characters.
  In development, when unset, a random key is generated once and kept in `<data dir>/secret_key`.
- `ANFU_SESSION_TTL_MINUTES`: idle lifetime of a sign-in session (default 480).
- `ANFU_LOGIN_MAX_ATTEMPTS`: failed sign-ins before an account is locked (default 5).
- `ANFU_LOCKOUT_MINUTES`: how long a locked account stays locked (default 15).
- `ANFU_LOGIN_IP_MAX_ATTEMPTS`: failed sign-ins per client address within
  `ANFU_LOCKOUT_MINUTES` before that address is throttled (default 30).
- `ANFU_STORE_MASKED_TEXT`: mask personal information (个人信息) in stored message text
  (default false: text is stored as received; logs and exports are always masked).
- `ANFU_ALLOWED_ORIGINS`: origins allowed to open agent WebSockets, as a JSON list or a
  comma-separated string (default `http://127.0.0.1:8000,http://localhost:8000`).
- `ANFU_MAILBOX_DIR`: drop folder watched by the e-mail channel (default `<data dir>/mailbox`).
- `ANFU_MAILBOX_POLL_S`: seconds between two looks at the drop folder by `anfu serve`
  (default 5; 0 turns the watcher off).
- `ANFU_HOST`, `ANFU_PORT`: where `anfu serve` listens (default 127.0.0.1:8000).
- `ANFU_RATE_LIMIT_PER_MINUTE`: API requests a minute per API token or session (default 600;
  bursts of ten seconds' worth; 0 = off). Over it: 429, AF444, `Retry-After`.
- `ANFU_RATE_LIMIT_IP_PER_MINUTE`: API requests a minute per client address, whatever the
  credential (default 3000; 0 = off).
- `ANFU_RATE_LIMIT_AUTH_FAILURES_PER_MINUTE`: failed authentications (401) a minute per client
  address before its requests with credentials are refused for a while (default 30; 0 = off).
- `ANFU_SCHEDULER_INTERVAL_S`: seconds between two runs of the service's scheduler (the
  on-time "customer waiting" alert, ticket SLA warnings and breaches, and outgoing webhook
  deliveries; default 15; 0 = off).
- `ANFU_WEBHOOK_ALLOW_PRIVATE`: let admins register webhooks on private or loopback addresses
  (default false).
- `ANFU_CHATWOOT_URL`, `ANFU_CHATWOOT_API_TOKEN`, `ANFU_CHATWOOT_WEBHOOK_TOKEN`,
  `ANFU_CHATWOOT_TENANT`: the Chatwoot connector (see README); unset = off.
- `ANFU_ZAMMAD_URL`, `ANFU_ZAMMAD_API_TOKEN`, `ANFU_ZAMMAD_WEBHOOK_SECRET`, `ANFU_ZAMMAD_TENANT`:
  the Zammad connector (see README); unset = off.
- `ANFU_SCENARIOS_DIR`: folder of training-simulator scenarios (default: the shipped
  `anfu/rules/zh_CN/scenarios/`); `anfu scenarios` and `anfu simulate` read it too.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from .errors import SettingsError

Environment = Literal["development", "test", "production"]

MIN_SECRET_LENGTH = 32
SECRET_FILE = "secret_key"
_WEAK_SECRETS = {"changeme", "change-me", "secret", "password", "anfu", "development", "dev",
                 "test", "default", "admin", "12345678", "123456"}


class Settings(BaseSettings):
    """Validated service settings. Build with `get_settings()`, which also checks the secret."""

    model_config = SettingsConfigDict(env_prefix="ANFU_", env_file=".env", env_file_encoding="utf-8",
                                      extra="ignore", validate_default=True)

    environment: Environment = "development"
    data_dir: Path = Path("var")
    database_url: str = ""
    secret_key: SecretStr = SecretStr("")
    session_ttl_minutes: int = Field(480, ge=5, le=7 * 24 * 60)
    # seconds a process keeps an API token it has looked up (0: every request reads the database);
    # a token revoked in another process stops working after at most this long
    api_token_cache_seconds: float = Field(2.0, ge=0, le=60)
    login_max_attempts: int = Field(5, ge=1, le=100)
    lockout_minutes: int = Field(15, ge=1, le=24 * 60)
    login_ip_max_attempts: int = Field(30, ge=1, le=10_000)
    store_masked_text: bool = False
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["http://127.0.0.1:8000", "http://localhost:8000"])
    mailbox_dir: Path | None = None
    mailbox_poll_s: float = Field(5.0, ge=0, le=3600)
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    # the workspace's public address for links that leave it (survey links sent to customers,
    # the webhook addresses shown to admins); unset: the request's own, from its Host header
    public_url: str = ""
    rate_limit_per_minute: int = Field(600, ge=0, le=1_000_000)
    rate_limit_ip_per_minute: int = Field(3000, ge=0, le=10_000_000)
    rate_limit_auth_failures_per_minute: int = Field(30, ge=0, le=1_000_000)
    scenarios_dir: Path | None = None
    scheduler_interval_s: float = Field(15.0, ge=0, le=3600)
    # threads per server process that analyse and store live turns (each may hold a pooled
    # database connection); the analysis holds the interpreter lock, so more threads only queue
    # inside the process (bench_ws_load, two processes on two cores: server turn p99 65-91 ms with
    # 2 threads against 159-204 ms with 4)
    turn_workers: int = Field(2, ge=1, le=64)
    webhook_allow_private: bool = False
    log_format: Literal["text", "json"] = "text"
    chatwoot_url: str | None = None
    chatwoot_api_token: SecretStr | None = None
    chatwoot_webhook_token: SecretStr | None = None
    chatwoot_tenant: str | None = None
    zammad_url: str | None = None
    zammad_api_token: SecretStr | None = None
    zammad_webhook_secret: SecretStr | None = None
    zammad_tenant: str | None = None

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                import json

                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value:
            from urllib.parse import urlsplit

            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment \
                    or parts.username or parts.password:
                raise ValueError(f"public URL {value!r} must look like https://host[:port][/path]")
        return value

    @field_validator("allowed_origins")
    @classmethod
    def _check_origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            if not origin.startswith(("http://", "https://")) or origin.rstrip("/") != origin:
                raise ValueError(f"origin {origin!r} must look like https://host[:port] (no trailing /)")
        return value

    @field_validator("host")
    @classmethod
    def _check_host(cls, value: str) -> str:
        # an empty ANFU_HOST (a blank line in .env) made uvicorn listen on every interface
        if not value.strip():
            raise ValueError("give an address to listen on, e.g. 127.0.0.1 (0.0.0.0 only inside a container)")
        return value.strip()

    @field_validator("database_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if value and not value.startswith(("sqlite:///", "sqlite+pysqlite:///", "postgresql+psycopg://")):
            raise ValueError("use sqlite:///path or postgresql+psycopg://user:password@host:port/db")
        return value

    def model_post_init(self, __context: Any) -> None:
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.data_dir / 'anfu.db').resolve()}"
        if self.mailbox_dir is None:
            self.mailbox_dir = self.data_dir / "mailbox"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def redacted_database_url(self) -> str:
        """The database URL with any password replaced by `***` (safe to print and log)."""
        url = self.database_url
        if "://" in url and "@" in url:
            scheme, rest = url.split("://", 1)
            creds, host = rest.rsplit("@", 1)
            if ":" in creds:
                creds = creds.split(":", 1)[0] + ":***"
            return f"{scheme}://{creds}@{host}"
        return url


def secret_problem(secret: str) -> str | None:
    """Why `secret` is too weak to sign anything, or None when it is acceptable."""
    if not secret:
        return "not set"
    if len(secret) < MIN_SECRET_LENGTH:
        return f"{len(secret)} characters, need at least {MIN_SECRET_LENGTH}"
    if secret.lower() in _WEAK_SECRETS or len(set(secret)) < 10:
        return "too predictable"
    return None


def _development_secret(data_dir: Path) -> str:
    """Read, or create once, the random development secret kept in the data folder."""
    path = data_dir / SECRET_FILE
    if path.exists():
        existing = path.read_text(encoding="utf-8").strip()
        if secret_problem(existing) is None:
            return existing
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(value + "\n")
    return value


def get_settings(**overrides: Any) -> Settings:
    """Build settings from the environment, `.env` and `overrides`; check the secret.

    Raises `SettingsError` AF402 for a malformed value and AF401 for a missing or weak secret
    outside development. In development a missing secret is generated and persisted.
    """
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "?"
        raise SettingsError("AF402", f"ANFU_{where.upper()}: {first.get('msg', exc)}") from None
    except UnicodeDecodeError as exc:  # the .env file (pydantic-settings reads it as UTF-8)
        raise SettingsError("AF402", f".env in {Path.cwd()}: not UTF-8 (byte {exc.start}); save it as UTF-8") from None
    if settings.data_dir.exists() and not settings.data_dir.is_dir():
        raise SettingsError("AF402", f"ANFU_DATA_DIR: {settings.data_dir} is a file, not a folder")
    secret = settings.secret_key.get_secret_value()
    problem = secret_problem(secret)
    if problem is not None:
        if settings.environment != "development":
            raise SettingsError("AF401", problem)
        if not secret:
            try:
                settings.secret_key = SecretStr(_development_secret(settings.data_dir))
            except OSError as exc:
                raise SettingsError("AF402", f"ANFU_DATA_DIR: cannot write {settings.data_dir} "
                                             f"({exc.strerror or exc}); choose a folder this user may create") from None
    return settings
