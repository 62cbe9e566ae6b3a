"""`contactlists connect linkedin` and `connections …` as a user runs them (subprocesses),
on the test's database, then the API on the seat they connected."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
import pytest
from pydantic import SecretStr

from contactlists.core.settings import Settings
from tests.api.sales_navigator import (
    MANAGERS_AT_STRIPE,
    NEW_SECRET,
    against_fake,
    connect_linkedin,
)
from tests.conftest import TEST_SECRET, AccountKeys, MakeAccount, asgi_client, running_app
from tests.fakes.linkedin_server import JSESSIONID, LI_AT, FakeLinkedIn


@pytest.fixture
def settings(settings: Settings, fake_linkedin: FakeLinkedIn) -> Settings:
    return against_fake(settings, fake_linkedin)


@pytest.fixture
async def account(make_account: MakeAccount, fake_linkedin: FakeLinkedIn) -> AccountKeys:
    fake_linkedin.add_company("stripe", "2135371", 4, title="Engineering Manager")
    return await make_account(connect=False, name="cli-seat")


def cli(
    settings: Settings,
    *args: str,
    stdin: str = "",
    secret: str = TEST_SECRET,
    old_secrets: str = "",
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "CONTACTLISTS_ENV": "test",
        "CONTACTLISTS_DATABASE_URL": settings.database_url,
        "CONTACTLISTS_SECRET_KEY": secret,
        "CONTACTLISTS_OLD_SECRET_KEYS": old_secrets,
        "CONTACTLISTS_LINKEDIN_BASE_URL": settings.linkedin_base_url,
        "CONTACTLISTS_LINKEDIN_RETRY_BACKOFF_MS": "0",
        "COLUMNS": "200",
    }
    return subprocess.run(
        [sys.executable, "-m", "contactlists", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def last_line(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout.strip().splitlines()[-1]


async def test_connect_from_stdin_then_create_through_the_api(
    client: httpx.AsyncClient, settings: Settings, account: AccountKeys
) -> None:
    connected = cli(
        settings,
        *("connect", "linkedin", "--account", "cli-seat", "--li-at", "-", "--jsessionid", "-"),
        stdin=f'{LI_AT}\n"{JSESSIONID}"\n',
    )
    assert connected.returncode == 0, connected.stderr
    assert "connected to its Sales Navigator seat" in connected.stdout
    shown = cli(settings, "connections", "show", "--account", account.id)
    assert shown.returncode == 0, shown.stderr
    assert last_line(shown) == "active"
    assert "linkedin" in shown.stdout
    for output in (connected.stdout + connected.stderr, shown.stdout + shown.stderr):
        assert LI_AT not in output
    response = await client.post(
        "/v1/contacts/lists", json=MANAGERS_AT_STRIPE, headers=account.live
    )
    assert response.status_code == 201
    assert response.json()["provider"] == "linkedin"
    assert response.json()["contactCount"] == 4


async def test_cookies_given_as_arguments(settings: Settings, account: AccountKeys) -> None:
    result = cli(
        settings,
        *("connect", "linkedin", "--account", "cli-seat"),
        *("--li-at", LI_AT, "--jsessionid", JSESSIONID),
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("li_at", "message"),
    [("AQEDstale", "LinkedIn did not accept these cookies"), ("two words", "Invalid liAt")],
)
async def test_refused_cookies_store_nothing(
    settings: Settings, account: AccountKeys, li_at: str, message: str
) -> None:
    result = cli(
        settings,
        *("connect", "linkedin", "--account", "cli-seat", "--li-at", "-"),
        *("--jsessionid", JSESSIONID),
        stdin=li_at + "\n",
    )
    assert result.returncode == 1
    assert message in result.stderr
    assert li_at not in result.stderr + result.stdout
    assert last_line(cli(settings, "connections", "show", "--account", "cli-seat")) == (
        "not_connected"
    )


async def test_reencrypt_lets_the_old_key_go(
    client: httpx.AsyncClient, settings: Settings, account: AccountKeys
) -> None:
    await connect_linkedin(client, account)
    wrong = cli(settings, "connections", "reencrypt", secret=NEW_SECRET)
    assert wrong.returncode == 1
    assert "could not be decrypted" in wrong.stderr
    rotated = cli(
        settings, "connections", "reencrypt", secret=NEW_SECRET, old_secrets=f" x, {TEST_SECRET}"
    )
    assert rotated.returncode == 0, rotated.stderr
    assert "Re-encrypted 1 connection(s)." in rotated.stdout
    # With the new key alone the seat still searches: the old key can go.
    new_only = settings.model_copy(update={"secret_key": SecretStr(NEW_SECRET)})
    async with running_app(new_only) as app, asgi_client(app) as new_client:
        response = await new_client.post(
            "/v1/contacts/lists", json=MANAGERS_AT_STRIPE, headers=account.live
        )
        assert response.status_code == 201
