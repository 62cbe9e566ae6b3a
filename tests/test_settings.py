"""Settings fail fast in production and are convenient in development."""

from __future__ import annotations

from pathlib import Path

import pytest

from contactlists.core.settings import (
    ConfigurationError,
    Environment,
    Settings,
    ensure_development_secret,
)


@pytest.mark.parametrize("secret", ["", "changeme", "short-but-set"])
def test_production_refuses_missing_default_or_weak_secret(secret: str) -> None:
    with pytest.raises(ConfigurationError, match="CONTACTLISTS_SECRET_KEY"):
        Settings(env=Environment.PRODUCTION, secret_key=secret)


def test_production_is_the_default_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONTACTLISTS_ENV", raising=False)
    monkeypatch.setenv("CONTACTLISTS_SECRET_KEY", "x" * 40)
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
