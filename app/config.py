"""One settings object for the API, the CLI and the workers (env vars prefixed ``PREFLOOP_``)."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET = "dev-secret-change-me"  # noqa: S105 - refused outside development, see below


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


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
    max_upload_mb: int = Field(2048, description="Largest import file accepted, in megabytes.")
    import_error_limit: int = Field(100, description="Stop listing bad rows after this many.")
    job_heartbeat_seconds: float = Field(10.0, description="How often a running job reports that it is alive.")
    job_stale_seconds: float = Field(
        90.0, description="A running job silent for this long has lost its worker: re-queued or failed."
    )

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
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
