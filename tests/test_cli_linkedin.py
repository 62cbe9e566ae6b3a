"""`contactlists connect linkedin` and `connections …` as a user runs them (subprocesses),
on the test's database, then the API on the seat they connected."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
import orjson
import pytest
from pydantic import SecretStr

from contactlists.core.settings import Settings
from contactlists.providers.linkedin_cookies import parse_cookie_header
from tests.api.sales_navigator import (
    MANAGERS_AT_STRIPE,
    NEW_SECRET,
    against_fake,
    connect_linkedin,
)
from tests.conftest import TEST_SECRET, AccountKeys, MakeAccount, asgi_client, running_app
from tests.fakes.linkedin_server import COOKIE_HEADER, JSESSIONID, LI_AT, FakeLinkedIn


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


def cookie_values() -> list[str]:
    """Every cookie value of the browser header (the distinctive ones)."""
    return [v.strip('"') for v in parse_cookie_header(COOKIE_HEADER).values() if len(v) > 12]


def assert_no_cookie_value(text: str, fake: FakeLinkedIn) -> None:
    for value in (*cookie_values(), *fake.minted, fake.jsessionid.removeprefix("ajax:")):
        assert value not in text


async def test_connect_with_the_whole_cookie_header_from_stdin(
    client: httpx.AsyncClient, settings: Settings, account: AccountKeys, fake_linkedin: FakeLinkedIn
) -> None:
    connected = cli(
        settings,
        *("connect", "linkedin", "--account", "cli-seat", "--cookies", "-"),
        stdin=f"cookie: {COOKIE_HEADER}\n",
    )
    assert connected.returncode == 0, connected.stderr
    shown = cli(settings, "connections", "show", "--account", "cli-seat")
    assert last_line(shown) == "active"
    assert "Ada Lovelace" in shown.stdout
    assert "bcookie" in shown.stdout
    assert "li_a" in shown.stdout
    for result in (connected, shown):
        assert_no_cookie_value(result.stdout + result.stderr, fake_linkedin)
    fake_linkedin.people.clear()
    fake_linkedin.add_company("stripe", "2135371", 130, title="Engineering Manager")
    fake_linkedin.rotate_jsessionid_at = 3  # LinkedIn rotates JSESSIONID mid-search
    response = await client.post(
        "/v1/contacts/lists", json=MANAGERS_AT_STRIPE, headers=account.live
    )
    assert response.status_code == 201, response.text
    assert response.json()["contactCount"] == 125
    assert fake_linkedin.sent_cookies()["bcookie"].startswith('"v=2&')
    assert (
        fake_linkedin.received_headers[-1]["csrf-token"] == fake_linkedin.jsessionid != JSESSIONID
    )


async def test_connect_needs_one_form_of_cookies(settings: Settings, account: AccountKeys) -> None:
    both = cli(
        settings,
        *("connect", "linkedin", "--account", "cli-seat", "--cookies", COOKIE_HEADER),
        *("--li-at", LI_AT),
    )
    assert both.returncode == 1
    assert "either --cookies, or both --li-at and --jsessionid" in both.stderr
    missing = cli(
        settings,
        *("connect", "linkedin", "--account", "cli-seat", "--cookies", "-"),
        stdin=f"li_at={LI_AT}; bcookie=x\n",
    )
    assert missing.returncode == 1
    assert "the cookies must include JSESSIONID" in missing.stderr
    assert LI_AT not in missing.stderr


async def test_several_contracts_are_named_on_connect(
    settings: Settings, account: AccountKeys, fake_linkedin: FakeLinkedIn
) -> None:
    fake_linkedin.contracts = ["Team A", "Team B"]
    args = ("connect", "linkedin", "--account", "cli-seat", "--cookies", "-")
    unnamed = cli(settings, *args, stdin=COOKIE_HEADER)
    assert unnamed.returncode == 1
    assert "Contracts: Team A, Team B." in unnamed.stderr
    named = cli(settings, *args, "--contract", "Team B", stdin=COOKIE_HEADER)
    assert named.returncode == 0, named.stderr
    assert fake_linkedin.selections == ["Team B"]


class TestCheck:
    async def connect(self, settings: Settings) -> None:
        connected = cli(
            settings,
            *("connect", "linkedin", "--account", "cli-seat", "--cookies", "-"),
            stdin=COOKIE_HEADER,
        )
        assert connected.returncode == 0, connected.stderr

    async def test_a_healthy_seat(
        self, settings: Settings, account: AccountKeys, fake_linkedin: FakeLinkedIn
    ) -> None:
        await self.connect(settings)
        stripe = "https://www.linkedin.com/company/stripe"
        args = ("connections", "check", "--account", "cli-seat", "--company", stripe, "--search")
        result = cli(settings, *args)
        assert result.returncode == 0, result.stdout + result.stderr
        assert last_line(result) == "ok"
        for step in ("stored session", "member", "seat", "contract", "company lookup", "search"):
            assert step in result.stdout
        assert "Ada Lovelace" in result.stdout
        assert "organization 2135371" in result.stdout
        assert "4 matches in total" in result.stdout
        assert "GET /sales-api/salesApiLeadSearch -> 200" in result.stdout
        assert_no_cookie_value(result.stdout + result.stderr, fake_linkedin)
        assert fake_linkedin.searches[-1].count == 1
        report = orjson.loads(cli(settings, *args, "--json").stdout)
        assert report["ok"] is True
        assert [step["status"] for step in report["steps"]] == ["ok"] * 6
        search = report["steps"][-1]["requests"][-1]
        assert search["path"] == "/sales-api/salesApiLeadSearch"
        assert {"li_at", "JSESSIONID", "li_a", "bcookie"} <= set(search["cookiesSent"])
        assert "lidc" in search["cookiesReceived"]

    async def test_an_expired_seat(
        self, settings: Settings, account: AccountKeys, fake_linkedin: FakeLinkedIn
    ) -> None:
        await self.connect(settings)
        fake_linkedin.fail("self-redirect-delete-li_at", path="/voyager/api/me")
        result = cli(settings, "connections", "check", "--account", "cli-seat", "--json")
        assert result.returncode == 1
        report = orjson.loads(result.stdout)
        assert report["ok"] is False
        statuses = [(step["step"], step["status"]) for step in report["steps"]]
        assert statuses == [
            ("stored session", "ok"),
            ("member (/voyager/api/me)", "failed"),
            ("seat (salesApiIdentity)", "skipped"),
            ("contract", "skipped"),
        ]
        failed = report["steps"][1]
        assert failed["signal"] == "SESSION_ENDED"
        assert failed["requests"][0]["status"] == 302
        assert failed["requests"][0]["cookiesReceived"] == ["li_at", "lidc"]
        assert_no_cookie_value(result.stdout + result.stderr, fake_linkedin)
        shown = cli(settings, "connections", "show", "--account", "cli-seat")
        assert last_line(shown) == "expired"  # as a search would have concluded
        # The lastError a search would have written: the signal once, then the detail.
        assert "SESSION_ENDED: LinkedIn deleted li_at" in shown.stdout
        assert "SESSION_ENDED: SESSION_ENDED" not in shown.stdout
        # LinkedIn deleted li_at, and the stored jar says so: the next check names it.
        text = cli(settings, "connections", "check", "--account", "cli-seat")
        assert text.returncode == 1
        assert "missing: li_at" in text.stdout
        assert "FAILED" in text.stdout
        assert "signal UNAUTHORIZED" in text.stdout
        assert last_line(text) == "failed"

    async def test_not_connected(self, settings: Settings, account: AccountKeys) -> None:
        result = cli(settings, "connections", "check", "--account", "cli-seat", "--json")
        assert result.returncode == 1
        assert orjson.loads(result.stdout)["steps"][0]["signal"] == "NOT_CONNECTED"
