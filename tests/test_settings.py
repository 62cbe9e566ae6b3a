"""Settings fail fast in production and are convenient in development."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from contactlists.core.secret_strength import estimated_bits
from contactlists.core.settings import (
    ConfigurationError,
    Environment,
    Settings,
    ensure_development_secret,
)

# secrets.token_urlsafe(36): about 250 bits by the estimate.
STRONG = "hV1mC0n9Qe7xZ2pK-R4tYw8bN3sL6dJf_GqA5uE0iOcT9rWy"


@pytest.mark.parametrize(
    "secret",
    [
        "",
        "changeme",
        "short-but-set",
        "a" * 32,
        "changeme".ljust(42, "e"),
        "changeme" * 6,
        "Password" + "1234567890" * 4,
        "SECRET-secret-Secret-" * 3,
        "Xy7!" * 12,  # repetition of a block
        "ab" * 32,  # two characters
        "abcdefghijklmnopqrstuvwxyz0123456789",  # a run
        "aca10fd0ae4661bc883c7ad9e2f1904f",  # 16 bytes in hex: about 110 bits
    ],
)
def test_production_refuses_missing_default_or_weak_secret(secret: str) -> None:
    with pytest.raises(ConfigurationError, match="CONTACTLISTS_SECRET_KEY must carry at least 128"):
        Settings(env=Environment.PRODUCTION, secret_key=secret)


@pytest.mark.parametrize("secret", [STRONG, secrets.token_urlsafe(32), secrets.token_hex(32)])
def test_production_accepts_random_secrets(secret: str) -> None:
    assert estimated_bits(secret) >= 128
    Settings(env=Environment.PRODUCTION, secret_key=secret)


def test_production_refuses_debug() -> None:
    with pytest.raises(ConfigurationError, match="DEBUG=true is refused in production"):
        Settings(env=Environment.PRODUCTION, secret_key=STRONG, debug=True)
    assert Settings(env=Environment.DEVELOPMENT, secret_key=STRONG, debug=True).debug


def test_serve_refuses_debug_in_production(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "CONTACTLISTS_ENV": "production",
        "CONTACTLISTS_DEBUG": "true",
        "CONTACTLISTS_SECRET_KEY": STRONG,
        "CONTACTLISTS_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
    }
    result = subprocess.run(
        [sys.executable, "-m", "contactlists", "serve"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "CONTACTLISTS_DEBUG=true is refused in production" in result.stderr


def test_production_is_the_default_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONTACTLISTS_ENV", raising=False)
    monkeypatch.setenv("CONTACTLISTS_SECRET_KEY", STRONG)
    settings = Settings()
    assert settings.env is Environment.PRODUCTION
    assert settings.host == "127.0.0.1"
    assert settings.port == 8000
    assert settings.search_timeout_s == 90
    assert settings.sandbox_latency_ms == 0
    assert settings.database_url == "sqlite+aiosqlite:///var/contactlists.db"


def test_validating_settings_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert Settings(env=Environment.DEVELOPMENT).secret_key.get_secret_value() == ""
    assert list(tmp_path.iterdir()) == []


def test_development_generates_a_secret_once_and_reuses_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    first = ensure_development_secret()
    second = ensure_development_secret()
    assert len(first) >= 32
    assert first == second
    assert Settings(env=Environment.DEVELOPMENT).secret_key.get_secret_value() == first
    assert (tmp_path / "var" / "secret_key").stat().st_mode & 0o077 == 0


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTACTLISTS_ENV", "development")
    monkeypatch.setenv("CONTACTLISTS_PORT", "9001")
    monkeypatch.setenv("CONTACTLISTS_SANDBOX_LATENCY_MS", "25")
    monkeypatch.setenv("CONTACTLISTS_SECRET_KEY", "y" * 40)
    settings = Settings()
    assert (settings.port, settings.sandbox_latency_ms) == (9001, 25)
