"""Heavy modules load only on the paths that need them, so an idle server stays small.

A fresh process starts the app on SQLite, then takes each path that needs one
of them, recording the heavy modules each step loaded: none for the idle server
(started as `python -m contactlists.web` starts it), typer alone for the
operator CLI, and the ones it needs for each other step. `contactlists serve`
hands its process over to `python -m contactlists.web`, so the CLI's modules
never reach a server.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import sqlite_copy
from tests.live_server import server_env, start_server

HEAVY = (
    "alembic",
    "asyncpg",
    "contactlists.providers.sandbox",
    "coredis",
    "cryptography",
    "curl_cffi",
    "faker",
    "http.cookiejar",
    "httpx",
    "mcp",
    "rich",
    "sqlalchemy.dialects.postgresql",
    "tenacity",
    "typer",
)

_PROBE = """
import asyncio, json, sys
from contactlists.app import create_app
from contactlists.core.settings import Environment, Settings

HEAVY = sys.argv[2].split(",")
steps = {}
loaded = set()


def step(name):
    global loaded
    now = {m for m in HEAVY if m in sys.modules}
    steps[name] = sorted(now - loaded)
    loaded = now


async def main():
    settings = Settings(env=Environment.TEST, database_url=sys.argv[1], secret_key="s" * 48)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        from contactlists.core.auth import KEY_QUERY
        KEY_QUERY.sqlite  # a read's SQL, compiled for SQLite only
        import contactlists.web.__main__
        step("idle server")

        import typer.main
        from contactlists import cli
        typer.main.get_command(cli.app)
        step("operator cli")

        from contactlists.providers import get_provider
        from contactlists.providers.base import LeadQuery
        query = LeadQuery(("https://www.linkedin.com/company/stripe",))
        await get_provider("sandbox", settings).fetch_page(query, 0, 25)
        step("sandbox search")

        from contactlists.connections.crypto import CredentialCipher
        from contactlists.providers.linkedin_cookies import SeatState, SessionCookies
        CredentialCipher("k" * 48).encrypt(SeatState(SessionCookies({"li_at": "li"})))
        step("credentials")

        from contactlists.providers.linkedin import LinkedInSession, SessionOptions
        async with app.state.http.conversation() as http:
            jar = SessionCookies({})
            LinkedInSession(http, "https://x", jar, options=SessionOptions())
            jar.apply(["li_a=a; Expires=Wed, 21 Oct 2037 07:28:00 GMT"])
            step("linkedin client")

        from contactlists.web.ratelimit import Limiter
        await Limiter(settings.model_copy(update={"redis_url": "redis://127.0.0.1:1"})).close()
        step("redis limits")

        postgresql = settings.model_copy(update={"database_url": "postgresql+asyncpg://x@h/d"})
        create_app(postgresql)
        step("postgresql app")

        from contactlists.core.db import Database
        await Database.from_settings(postgresql).dispose()
        step("postgresql engine")

        from contactlists.core.migrate import alembic_config
        alembic_config(sys.argv[1])
        step("migrate")

        create_app(settings.model_copy(update={"mcp": True}))
        step("mcp mount")
    print(json.dumps(steps))


asyncio.run(main())
"""


def test_heavy_modules_load_only_when_needed(migrated_template: Path, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, sqlite_copy(migrated_template, tmp_path), ",".join(HEAVY)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    steps = json.loads(result.stdout.strip().splitlines()[-1])
    assert steps["idle server"] == []
    assert steps["operator cli"] == ["typer"]
    needed = {
        "sandbox search": {"contactlists.providers.sandbox", "faker"},
        "credentials": {"cryptography"},
        "linkedin client": {"curl_cffi", "http.cookiejar", "tenacity"},
        "redis limits": {"coredis"},
        "postgresql app": {"asyncpg"},
        "postgresql engine": {"sqlalchemy.dialects.postgresql"},
        "migrate": {"alembic"},
        "mcp mount": {"mcp"},
    }
    for name, modules in needed.items():
        assert modules <= set(steps[name]), (name, steps[name])


def test_serve_hands_its_process_to_the_server(migrated_template: Path, tmp_path: Path) -> None:
    """The process `contactlists serve` started answers as `python -m contactlists.web`,
    and a SIGTERM still ends it cleanly."""
    env = server_env(tmp_path, sqlite_copy(migrated_template, tmp_path))
    process, _ = start_server(env, tmp_path)
    try:
        argv = Path(f"/proc/{process.pid}/cmdline").read_bytes().split(b"\0")
        assert argv[1:3] == [b"-m", b"contactlists.web"]
    finally:
        process.terminate()
    assert process.wait(timeout=30) == 0
