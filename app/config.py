"""One settings object for the API, the CLI and the workers (env vars prefixed ``PREFLOOP_``)."""

from __future__ import annotations

import json
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_SECRET = "dev-secret-change-me"  # noqa: S105 - refused outside development, see below


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class LogFormat(StrEnum):
    text = "text"
    json = "json"


class Settings(BaseSettings):
    """Everything that differs between the embedded default and a production deployment."""

    model_config = SettingsConfigDict(env_prefix="PREFLOOP_", env_file=".env", extra="ignore")

    environment: Environment = Field(Environment.development, description="development, test or production.")
    data_dir: Path = Field(Path("data"), description="Where the embedded defaults keep their files.")
    database_url: str = Field(
        "",
        description="SQLAlchemy URL. Empty means a SQLite file under data_dir; "
        "postgresql+psycopg://user@host/db switches to PostgreSQL.",
    )
    broker_url: str = Field(
        "",
        description="Celery broker. Empty means a SQLite-backed broker under data_dir; redis://host:6379/0 "
        "in production.",
    )
    artifact_dir: Path | None = Field(None, description="Artifact store root; defaults to data_dir/artifacts.")
    secret_key: str = Field(DEFAULT_SECRET, description="Signs CSRF tokens. Must be set in production.")
    session_days: int = Field(14, description="How long a browser session stays valid.")
    cookie_secure: bool | None = Field(
        None, description="Send cookies only over HTTPS; defaults to on in production, off otherwise."
    )
    db_pool_size: int = Field(20, description="Connections per API process (PostgreSQL).")
    db_max_overflow: int = Field(20, description="Extra connections allowed under burst load (PostgreSQL).")
    db_hot_pool_size: int = Field(
        8,
        ge=1,
        description="Connections per API process for the annotators' next/submit requests (PostgreSQL; async, "
        "each serves many requests at once). Per process the service opens at most this + pool size + overflow.",
    )
    max_upload_mb: int = Field(2048, description="Largest import file accepted, in megabytes.")
    import_error_limit: int = Field(100, description="Stop listing bad rows after this many.")
    max_import_rows: int = Field(
        10_000_000, ge=1, description="Most rows one import file may hold; a longer file is refused (413), unchanged."
    )
    job_heartbeat_seconds: float = Field(10.0, description="How often a running job reports that it is alive.")
    job_stale_seconds: float = Field(
        90.0, description="A running job silent for this long has lost its worker: re-queued or failed."
    )
    job_resend_seconds: float = Field(
        600.0,
        description="A queued job no worker has picked up for this long is sent to the broker again (a restarted "
        "broker that keeps nothing on disk forgets its queues; the task's own state check drops duplicates).",
    )

    log_format: LogFormat | None = Field(
        None, description="text or json (one JSON object per line); defaults to json in production, text otherwise."
    )
    log_level: str | None = Field(
        None, description="Root log level (INFO, WARNING, ...); defaults to the server's --log-level, else INFO."
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Origins allowed to call the API from a browser (comma-separated or a JSON list), with "
        "credentials. Empty (the default) means no CORS at all: only the same origin.",
    )
    metrics_token: str = Field(
        "", description="When set, GET /metrics needs 'Authorization: Bearer <this>'. Empty: open (firewall it)."
    )
    login_max_failures: int = Field(
        5, ge=1, description="Failed logins for one username within login_failure_window_seconds that lock it."
    )
    login_failure_window_seconds: int = Field(900, ge=1, description="The window for login_max_failures.")
    login_lockout_seconds: int = Field(900, ge=1, description="How long a username stays locked after that.")
    login_ip_max_failures: int = Field(
        20, ge=0, description="Failed logins from one client address within login_ip_window_seconds (0: no limit)."
    )
    login_ip_window_seconds: int = Field(300, ge=1, description="The window for login_ip_max_failures.")

    @field_validator("log_level")
    @classmethod
    def _known_log_level(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        level = value.strip().upper()
        if level not in {"CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"}:
            raise ValueError("PREFLOOP_LOG_LEVEL must be one of CRITICAL, ERROR, WARNING, INFO, DEBUG")
        return level

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("cors_origins")
    @classmethod
    def _no_wildcard_origin(cls, value: list[str]) -> list[str]:
        if "*" in value:
            raise ValueError("PREFLOOP_CORS_ORIGINS must list origins; '*' is refused because credentials are allowed")
        return [origin.rstrip("/") for origin in value]

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        if self.environment == Environment.production and self.secret_key == DEFAULT_SECRET:
            raise ValueError("PREFLOOP_SECRET_KEY must be set to a random value in production")
        return self

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'prefloop.db').as_posix()}"

    @property
    def resolved_broker_url(self) -> str:
        return self.broker_url or f"sqla+sqlite:///{(self.data_dir / 'broker.db').as_posix()}"

    @property
    def resolved_artifact_dir(self) -> Path:
        return self.artifact_dir or self.data_dir / "artifacts"

    @property
    def secure_cookies(self) -> bool:
        if self.cookie_secure is not None:
            return self.cookie_secure
        return self.environment == Environment.production

    @property
    def resolved_log_format(self) -> LogFormat:
        if self.log_format is not None:
            return self.log_format
        return LogFormat.json if self.environment == Environment.production else LogFormat.text

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
