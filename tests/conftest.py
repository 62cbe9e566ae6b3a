"""Shared fixtures: a freshly migrated database per test, the app over ASGI, accounts.

Every test that touches the database runs on each backend, `sqlite` and
`postgresql` (the test id says which). SQLite gets a copy of a migrated template
file per test; PostgreSQL gets one throw-away database per run, migrated once
and emptied before each test. PostgreSQL comes from
`CONTACTLISTS_TEST_POSTGRES_URL`; when it is unreachable its half is skipped,
except under `CI=true`, where that is an error.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn, TypeVar

import httpx
import orjson
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from contactlists.accounts import service as accounts
from contactlists.app import create_app
from contactlists.connections import service as connections
from contactlists.core.db import Database
from contactlists.core.migrate import upgrade
from contactlists.core.models import Base
from contactlists.core.settings import Environment, Settings
from tests.fakes.linkedin_server import fake_linkedin, linkedin_server  # noqa: F401 (fixtures)

T = TypeVar("T")
TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"
GENEROUS_RATE_LIMIT = "100000/minute"
BACKENDS = ("sqlite", "postgresql")
POSTGRES_URL_VARIABLE = "CONTACTLISTS_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
# A developer's `.env` (which `make run` writes) must not reach the tests, nor the
# servers and commands they start; the tests of `.env` itself unset this.
os.environ["CONTACTLISTS_ENV_FILE"] = ""


def _in_thread(work: Callable[[], T]) -> T:
    """Run work that starts its own event loop (Alembic's env, `asyncio.run`) off the
    thread of the test loop, which may be running."""
    result: list[T] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            result.append(work())
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return result[0]


def _migrate_in_thread(url: str) -> None:
    _in_thread(lambda: upgrade(url))


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend of this test instance; session-scoped so runs group by it."""
    name: str = request.param
    return name


# Runs a database test on PostgreSQL only, for what SQLite does not have.
postgresql_only = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    _migrate_in_thread(f"sqlite+aiosqlite:///{path}")
    return path


def sqlite_copy(template: Path, directory: Path) -> str:
    path = directory / "contactlists.db"
    shutil.copyfile(template, path)
    return f"sqlite+aiosqlite:///{path}"


@dataclass(frozen=True)
class PostgresDatabase:
    """This run's throw-away database, and an engine that empties it between tests."""

    url: str
    engine: AsyncEngine

    async def reset(self) -> None:
        """Empty every application table and restart the sequences, in one statement.

        What `TRUNCATE ... RESTART IDENTITY` does, but DELETE on these few rows
        costs a fraction of TRUNCATE, which creates and syncs new files for
        every table (about 40 ms against 230 ms a test here).
        """
        tables = reversed(Base.metadata.sorted_tables)  # children first
        deletes = " ".join(f'DELETE FROM "{table.name}";' for table in tables)  # noqa: S608
        async with self.engine.begin() as conn:
            await conn.execute(
                sa.text(
                    f"DO $$ BEGIN {deletes} PERFORM setval(oid::regclass, 1, false) "
                    "FROM pg_class WHERE relkind = 'S'; END $$"
                )
            )

    def reset_blocking(self) -> None:
        """`reset()` for synchronous fixtures."""
        _in_thread(lambda: asyncio.run(self.reset()))


def _postgres_unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: the postgresql tests must run)", pytrace=False)
    pytest.skip(f"{reason}; point {POSTGRES_URL_VARIABLE} at a reachable server to run them")


def _administer(admin_url: URL, statement: str) -> None:
    """Run one statement outside a transaction (CREATE/DROP DATABASE need that)."""

    async def run() -> None:
        admin = create_async_engine(
            admin_url,
            isolation_level="AUTOCOMMIT",
            poolclass=NullPool,
            connect_args={"timeout": 5},
        )
        try:
            async with admin.connect() as conn:
                await conn.execute(sa.text(statement))
        finally:
            await admin.dispose()

    _in_thread(lambda: asyncio.run(run()))


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresDatabase]:
    """Create, migrate and finally drop one uniquely named database for this run."""
    admin_url = make_url(os.environ.get(POSTGRES_URL_VARIABLE, DEFAULT_POSTGRES_URL))
    name = f"contactlists_test_{secrets.token_hex(6)}"
    try:
        _administer(admin_url, f'CREATE DATABASE "{name}"')
    except (OSError, sa.exc.SQLAlchemyError) as exc:
        shown = admin_url.render_as_string(hide_password=True)
        _postgres_unavailable(f"PostgreSQL is unreachable at {shown}: {exc!r}")
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    try:
        _migrate_in_thread(url)
        # No pool: connections open on whichever loop resets, and nothing outlives a reset.
        yield PostgresDatabase(url, create_async_engine(url, poolclass=NullPool))
    finally:
        _administer(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty, migrated database of the test's backend."""
    if backend == "sqlite":
        return sqlite_copy(request.getfixturevalue("migrated_template"), tmp_path)
    database: PostgresDatabase = request.getfixturevalue("postgres")
    await database.reset()
    return database.url


def make_settings(database_url: str) -> Settings:
    return Settings(
        env=Environment.TEST,
        database_url=database_url,
        secret_key=TEST_SECRET,
        search_timeout_s=10,
        # Generous budgets, so only the tests of rate limits ever meet a 429.
        rate_limit=GENEROUS_RATE_LIMIT,
        create_rate_limit=GENEROUS_RATE_LIMIT,
        connect_rate_limit=GENEROUS_RATE_LIMIT,
        unauthenticated_rate_limit=GENEROUS_RATE_LIMIT,
    )


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@asynccontextmanager
async def running_app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The app with its lifespan entered, as a server would run it."""
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@asynccontextmanager
async def asgi_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    async with running_app(settings) as application:
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(app) as c:
        yield c


@pytest.fixture
def database(app: FastAPI) -> Database:
    db: Database = app.state.database
    return db


@dataclass(frozen=True)
class AccountKeys:
    id: str
    live_key: str
    test_key: str

    @property
    def live(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.live_key}"}

    @property
    def test(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.test_key}"}


MakeAccount = Callable[..., Awaitable[AccountKeys]]


def account_maker(database: Database) -> MakeAccount:
    counter = iter(range(1, 1_000_000))

    async def make(
        *, credits: int | None = None, connect: bool = True, name: str | None = None
    ) -> AccountKeys:
        account_id = await accounts.create_account(
            database, name or f"account-{next(counter)}", credits
        )
        if connect:
            await connections.connect(database, account_id, "sandbox")
        _, live = await accounts.create_key(database, account_id, "live")
        _, test = await accounts.create_key(database, account_id, "test")
        return AccountKeys(account_id, live, test)

    return make


@pytest.fixture
def make_account(database: Database) -> MakeAccount:
    return account_maker(database)


@pytest.fixture
async def acct(make_account: MakeAccount) -> AccountKeys:
    return await make_account()


Snapshot = Callable[[], Awaitable[dict[str, list[bytes]]]]


@pytest.fixture
def snapshot(database: Database) -> Snapshot:
    """Every row of every table, to prove a failed request changed nothing.

    Rows become canonical JSON (JSON columns may hold dicts, which do not
    sort) and are sorted, since PostgreSQL returns them in no fixed order.
    """

    async def take() -> dict[str, list[bytes]]:
        out: dict[str, list[bytes]] = {}
        async with database.transaction() as conn:
            for table in Base.metadata.sorted_tables:
                columns = [c for c in table.columns if c.name != "last_used_at"]
                rows = (await conn.execute(sa.select(*columns))).all()
                out[table.name] = sorted(
                    orjson.dumps(tuple(row), option=orjson.OPT_SORT_KEYS) for row in rows
                )
        return out

    return take
