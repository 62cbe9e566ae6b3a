"""One typed settings object, read from `CONTACTLISTS_*` environment variables."""

from __future__ import annotations

import enum
import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

VAR_DIR = Path("var")
DEFAULT_DATABASE_URL = f"sqlite+aiosqlite:///{VAR_DIR / 'contactlists.db'}"
SECRET_KEY_FILE = VAR_DIR / "secret_key"
# A placeholder someone may copy from the docs; never accepted in production.
INSECURE_SECRET_KEYS = frozenset({"", "changeme", "change-me", "secret", "development"})


class Environment(enum.StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class ConfigurationError(Exception):
    """The settings cannot run a service; the message says what to fix."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CONTACTLISTS_", extra="ignore")

    env: Environment = Environment.PRODUCTION
    database_url: str = DEFAULT_DATABASE_URL
    secret_key: SecretStr = SecretStr("")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: str = "info"
    debug: bool = False
    search_timeout_s: float = Field(default=90.0, gt=0)
    sandbox_latency_ms: int = Field(default=0, ge=0)
    credits_per_page: int = Field(default=1, ge=0)

    @model_validator(mode="after")
    def _require_secret_outside_development(self) -> Settings:
        key = self.secret_key.get_secret_value()
        if self.env is Environment.PRODUCTION and (
            key.strip().lower() in INSECURE_SECRET_KEYS or len(key) < 32
        ):
            raise ConfigurationError(
                "CONTACTLISTS_SECRET_KEY must be set to a random value of at least 32 "
                "characters in production (e.g. `python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))'`)."
            )
        if not key:
            self.secret_key = SecretStr(_development_secret_key())
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _development_secret_key() -> str:
    """Generate the development key once into ./var and reuse it across restarts."""
    if SECRET_KEY_FILE.exists():
        return SECRET_KEY_FILE.read_text().strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    SECRET_KEY_FILE.write_text(key + "\n")
    SECRET_KEY_FILE.chmod(0o600)
    return key


@lru_cache
def get_settings() -> Settings:
    return Settings()
