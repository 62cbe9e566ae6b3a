"""One typed settings object, read from `CONTACTLISTS_*` environment variables.

Variables missing from the environment are read from `.env` in the working
directory (`make run` writes one for development), or from the file
`CONTACTLISTS_ENV_FILE` names; set it empty to read none.
"""

from __future__ import annotations

import enum
import ipaddress
import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from limits import parse as parse_rate_limit
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from contactlists.core.secret_strength import MIN_SECRET_BITS, estimated_bits

VAR_DIR = Path("var")
DEFAULT_DATABASE_URL = f"sqlite+aiosqlite:///{VAR_DIR / 'contactlists.db'}"
SECRET_KEY_FILE = VAR_DIR / "secret_key"
ENV_FILE = Path(".env")
DEVELOPMENT_ENV_FILE_TEXT = """\
# Written by `make run` on first use: the `contactlists` operator commands run in
# this directory read it, so they use the development server's database and secret
# (./var). Delete it, or set CONTACTLISTS_ENV=production, for anything else.
CONTACTLISTS_ENV=development
"""
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class Environment(enum.StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class LogFormat(enum.StrEnum):
    JSON = "json"
    TEXT = "text"


class ConfigurationError(Exception):
    """The settings cannot run a service; the message says what to fix."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CONTACTLISTS_", extra="ignore")

    env: Environment = Environment.PRODUCTION
    database_url: str = DEFAULT_DATABASE_URL
    # PostgreSQL only: SQLite keeps its own pool and busy timeout (see db.py).
    db_pool_size: int = Field(default=10, ge=1)
    db_pool_timeout_s: float = Field(default=10.0, gt=0)
    db_statement_timeout_ms: int = Field(default=30_000, ge=0)
    secret_key: SecretStr = SecretStr("")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: str = Field(default="info", pattern=r"(?i)^(critical|error|warning|info|debug)$")
    # None: JSON in production, readable text elsewhere.
    log_format: LogFormat | None = None
    # /metrics exists only when this is set, and answers only with it as the bearer token.
    metrics_token: SecretStr | None = Field(default=None, min_length=16)
    debug: bool = False
    # /docs and /redoc (assets served from package data); off: neither exists.
    docs: bool = True
    search_timeout_s: float = Field(default=90.0, gt=0)
    sandbox_latency_ms: int = Field(default=0, ge=0)
    # The sandbox's clock: the wall clock this many days ahead (its people change monthly).
    sandbox_time_shift_days: int = Field(default=0, ge=0, le=36500)
    page_cache_mb: int = Field(default=64, ge=0)
    page_cache_entries: int = Field(default=10_000, ge=0)
    credits_per_page: int = Field(default=1, ge=0)
    mcp: bool = False  # serve the MCP tools at /mcp (contactlists.mcp.http)
    # Rate-limit budgets in the `limits` notation (`600/minute`, `10 per second`).
    rate_limit: str = "600/minute"
    create_rate_limit: str = "20/minute"
    search_rate_limit: str = "60/minute"  # POST /v1/contacts/search, per account
    # Each connect asks LinkedIn to verify the cookies: metered per account.
    connect_rate_limit: str = "10/hour"
    unauthenticated_rate_limit: str = "60/minute"
    redis_url: str | None = None
    redis_key_prefix: str = Field(default="contactlists", min_length=1)
    # Comma-separated IPs or CIDRs whose X-Forwarded-For is believed.
    trusted_proxies: Annotated[tuple[IPNetwork, ...], NoDecode] = ()
    # Comma-separated earlier secret keys: stored credentials still decrypt with them.
    old_secret_keys: SecretStr = SecretStr("")
    search_lock_wait_s: float = Field(default=30.0, ge=0)
    # The only way to point the LinkedIn provider elsewhere (tests: a local fake).
    linkedin_base_url: str = Field(
        default="https://www.linkedin.com", pattern=r"^https?://[^\s/?#@]+/?$"
    )
    linkedin_daily_pages: int = Field(default=100, ge=5)
    linkedin_page_delay_ms: int = Field(default=1500, ge=0)
    linkedin_retry_backoff_ms: int = Field(default=500, ge=0)
    linkedin_request_timeout_s: float = Field(default=20.0, gt=0)
    # The lead-search decoration id public callers send today; LinkedIn bumps it
    # now and then, and `-16` adds LinkedIn's own seniority (`seniorityV2s`).
    linkedin_lead_decoration: str = Field(
        default="com.linkedin.sales.deco.desktop.searchv2.LeadSearchResult-14",
        pattern=r"^[A-Za-z0-9_.-]{1,200}$",
    )
    # Slow clients (server_protocol.py, deadlines.py): from a connection's first
    # byte (or its last response) to the end of the request's headers; from
    # there to the end of its body; idle between keep-alive requests.
    header_timeout_s: float = Field(default=10.0, gt=0)
    body_timeout_s: float = Field(default=30.0, gt=0)
    keep_alive_s: int = Field(default=5, ge=1)
    # Open connections per worker (held within the open-file limit, less 64).
    max_connections: int = Field(default=1000, ge=1)

    @field_validator(
        "rate_limit",
        "create_rate_limit",
        "search_rate_limit",
        "connect_rate_limit",
        "unauthenticated_rate_limit",
    )
    @classmethod
    def _parsable_rate_limit(cls, value: str) -> str:
        parse_rate_limit(value)
        return value

    @field_validator("redis_url", "metrics_token", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        return tuple(
            ipaddress.ip_network(item, strict=False) if isinstance(item, str) else item
            for item in value
        )

    @model_validator(mode="after")
    def _require_secret_outside_development(self) -> Settings:
        key = self.secret_key.get_secret_value()
        if self.env is Environment.PRODUCTION:
            _refuse_unsafe_production(self.debug, key)
        if not key and self.env is Environment.DEVELOPMENT and SECRET_KEY_FILE.exists():
            # Only read: `ensure_development_secret` is the step that writes it.
            self.secret_key = SecretStr(SECRET_KEY_FILE.read_text().strip())
        return self

    @property
    def previous_secret_keys(self) -> list[str]:
        return [k.strip() for k in self.old_secret_keys.get_secret_value().split(",") if k.strip()]

    @property
    def effective_log_format(self) -> LogFormat:
        if self.log_format is not None:
            return self.log_format
        return LogFormat.JSON if self.env is Environment.PRODUCTION else LogFormat.TEXT

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _refuse_unsafe_production(debug: bool, key: str) -> None:
    if debug:
        raise ConfigurationError(
            "CONTACTLISTS_DEBUG=true is refused in production: it puts exception text "
            "into error bodies. Unset it, or set CONTACTLISTS_ENV=development."
        )
    bits = estimated_bits(key)
    if bits < MIN_SECRET_BITS:
        raise ConfigurationError(
            f"CONTACTLISTS_SECRET_KEY must carry at least {MIN_SECRET_BITS} bits in production "
            f"(this one is estimated at {bits:.0f}: no placeholder, repetition or short "
            "alphabet); generate one with `python -c 'import secrets; "
            "print(secrets.token_urlsafe(48))'`."
        )


def ensure_development_secret() -> str:
    """Generate the development key once into ./var and reuse it across restarts.

    An explicit step (the operator commands take it in development), not part
    of validating `Settings`, which only reads the file.
    """
    if SECRET_KEY_FILE.exists():
        return SECRET_KEY_FILE.read_text().strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    SECRET_KEY_FILE.write_text(key + "\n")
    SECRET_KEY_FILE.chmod(0o600)
    return key


def ensure_development_env_file() -> bool:
    """Write `.env` for development unless there is one; True when it was written."""
    if ENV_FILE.exists():
        return False
    ENV_FILE.write_text(DEVELOPMENT_ENV_FILE_TEXT)
    return True


@lru_cache
def get_settings() -> Settings:
    env_file = os.environ.get("CONTACTLISTS_ENV_FILE", str(ENV_FILE))
    return Settings(_env_file=env_file or None)
