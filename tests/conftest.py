"""Shared fixtures: a freshly migrated database per test, the app over ASGI, accounts."""

from __future__ import annotations

import shutil
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from contactlists.accounts import service as accounts
from contactlists.app import create_app
from contactlists.connections import service as connections
from contactlists.db import Database
from contactlists.migrate import upgrade
from contactlists.models import Base
from contactlists.settings import Environment, Settings

TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"


def _migrate_in_thread(url: str) -> None:
    """Alembic's env runs its own event loop, so keep it off the test loop's thread."""
    failure: list[BaseException] = []

    def target() -> None:
        try:
            upgrade(url)
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    _migrate_in_thread(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
def database_url(migrated_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "contactlists.db"
    shutil.copyfile(migrated_template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        env=Environment.TEST,
        database_url=database_url,
        secret_key=TEST_SECRET,
        search_timeout_s=10,
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
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


@pytest.fixture
def make_account(database: Database) -> MakeAccount:
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
async def acct(make_account: MakeAccount) -> AccountKeys:
    return await make_account()


Snapshot = Callable[[], Awaitable[dict[str, list[tuple[object, ...]]]]]


@pytest.fixture
def snapshot(database: Database) -> Snapshot:
    """Every row of every table, to prove a failed request changed nothing."""

    async def take() -> dict[str, list[tuple[object, ...]]]:
        out: dict[str, list[tuple[object, ...]]] = {}
        async with database.transaction() as conn:
            for table in Base.metadata.sorted_tables:
                columns = [c for c in table.columns if c.name != "last_used_at"]
                rows = (await conn.execute(sa.select(*columns))).all()
                out[table.name] = sorted(tuple(r) for r in rows)  # type: ignore[misc]
        return out

    return take
