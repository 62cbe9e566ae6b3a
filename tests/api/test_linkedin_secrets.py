"""Session cookies stay secret: not logged, not returned, not stored in plain text;
and the key that encrypts them can be rotated."""

from __future__ import annotations

import logging

import httpx
import pytest
from pydantic import SecretStr

from contactlists.core.settings import Settings
from contactlists.providers.linkedin_cookies import parse_cookie_header
from tests.api.sales_navigator import (
    INTEGRATION,
    LINKEDIN_PUT,
    MANAGERS_AT_STRIPE,
    NEW_SECRET,
    against_fake,
    connect_linkedin,
)
from tests.conftest import TEST_SECRET, MakeAccount, Snapshot, asgi_client, running_app
from tests.fakes.linkedin_server import COOKIE_HEADER, JSESSIONID, LI_AT, FakeLinkedIn

LISTS = "/v1/contacts/lists"
# The distinctive part of each cookie: neither may appear anywhere.
SECRETS = (LI_AT, JSESSIONID.removeprefix("ajax:"))


@pytest.fixture
def settings(settings: Settings, fake_linkedin: FakeLinkedIn) -> Settings:
    # Debug mode adds `debug.cause` to errors: even then no secret may show.
    return against_fake(settings, fake_linkedin, debug=True)


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


async def test_secrets_stay_out_of_logs_responses_and_the_database(
    client: httpx.AsyncClient,
    make_account: MakeAccount,
    fake_linkedin: FakeLinkedIn,
    snapshot: Snapshot,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    fake_linkedin.add_company("stripe", "2135371", 60, title="Engineering Manager")
    account = await make_account(connect=False)
    responses = [
        await client.put(INTEGRATION, json={**LINKEDIN_PUT, "liAt": "wrong"}, headers=account.live),
        await client.put(INTEGRATION, json=LINKEDIN_PUT, headers=account.live),
        await client.get(INTEGRATION, headers=account.live),
        await client.post(LISTS, json=MANAGERS_AT_STRIPE, headers=account.live),
    ]
    fake_linkedin.fail("wrong-shape", page=2)
    responses.append(await client.post(LISTS, json=MANAGERS_AT_STRIPE, headers=account.live))
    fake_linkedin.fail("csrf", page=1)
    responses.append(await client.post(LISTS, json=MANAGERS_AT_STRIPE, headers=account.live))
    responses.append(await client.get(INTEGRATION, headers=account.live))
    assert [r.status_code for r in responses] == [422, 200, 200, 201, 502, 422, 200]
    assert "debug" in responses[4].json()["error"]
    assert responses[-1].json()["state"] == "expired"
    for response in responses:
        assert_no_secret(response.text)
        assert_no_secret(str(response.headers))
    # The capture saw the upstream failure's log line and the SQL (with parameters).
    assert {"contactlists.connections"} <= {record.name for record in caplog.records}
    assert_no_secret(caplog.text)
    stored = b"".join(row for rows in (await snapshot()).values() for row in rows).decode()
    assert_no_secret(stored)
    assert "gAAAAA" in stored  # a Fernet token is what is stored


async def test_no_cookie_of_the_whole_jar_shows_anywhere(
    client: httpx.AsyncClient,
    make_account: MakeAccount,
    fake_linkedin: FakeLinkedIn,
    snapshot: Snapshot,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Connect with the browser's whole cookie header, search across a JSESSIONID
    rotation, fail in each way: no value of any cookie, sent or received, shows."""
    caplog.set_level(logging.DEBUG)
    fake_linkedin.add_company("stripe", "2135371", 60, title="Engineering Manager")
    fake_linkedin.rotate_jsessionid_at = 2
    account = await make_account(connect=False)
    put = {"provider": "linkedin", "cookies": COOKIE_HEADER}
    responses = [
        await client.put(INTEGRATION, json=put, headers=account.live),
        await client.get(INTEGRATION, headers=account.live),
        await client.post(LISTS, json=MANAGERS_AT_STRIPE, headers=account.live),
    ]
    fake_linkedin.fail("500", page=1)
    responses.append(await client.post(LISTS, json=MANAGERS_AT_STRIPE, headers=account.live))
    fake_linkedin.faults.clear()
    fake_linkedin.fail("self-redirect-delete-li_at", page=1)
    responses.append(await client.post(LISTS, json=MANAGERS_AT_STRIPE, headers=account.live))
    responses.append(await client.get(INTEGRATION, headers=account.live))
    assert [r.status_code for r in responses] == [200, 200, 201, 502, 422, 200]
    values = [v.strip('"') for v in parse_cookie_header(COOKIE_HEADER).values()]
    secrets = [
        *(v for v in values if len(v) > 12),
        *fake_linkedin.minted,
        fake_linkedin.jsessionid.removeprefix("ajax:"),
    ]
    assert len(secrets) >= 6
    stored = b"".join(row for rows in (await snapshot()).values() for row in rows).decode()
    for text in (*(r.text + str(r.headers) for r in responses), caplog.text, stored):
        for secret in secrets:
            assert secret not in text


async def test_rotating_the_secret_key(
    client: httpx.AsyncClient,
    make_account: MakeAccount,
    fake_linkedin: FakeLinkedIn,
    settings: Settings,
) -> None:
    fake_linkedin.add_company("stripe", "2135371", 3, title="Engineering Manager")
    account = await make_account(connect=False)
    await connect_linkedin(client, account)

    rotated = settings.model_copy(
        update={"secret_key": SecretStr(NEW_SECRET), "old_secret_keys": SecretStr(TEST_SECRET)}
    )
    async with running_app(rotated) as app, asgi_client(app) as rotated_client:
        response = await rotated_client.post(LISTS, json=MANAGERS_AT_STRIPE, headers=account.live)
        assert response.status_code == 201

    # The search wrote LinkedIn's rotated cookies back under the new key alone.
    only_new = settings.model_copy(update={"secret_key": SecretStr(NEW_SECRET)})
    async with running_app(only_new) as app, asgi_client(app) as new_client:
        response = await new_client.post(LISTS, json=MANAGERS_AT_STRIPE, headers=account.live)
        assert response.status_code == 201

    forgotten = settings.model_copy(update={"secret_key": SecretStr(NEW_SECRET[::-1])})
    async with running_app(forgotten) as app, asgi_client(app) as forgetful:
        response = await forgetful.post(LISTS, json=MANAGERS_AT_STRIPE, headers=account.live)
        assert response.status_code == 422
        assert response.json()["error"]["errorCode"] == "SALES_NAVIGATOR_SESSION_EXPIRED"
        connection = (await forgetful.get(INTEGRATION, headers=account.live)).json()
        assert connection["state"] == "expired"
        assert "cannot be decrypted" in connection["lastError"]
        await connect_linkedin(forgetful, account)
        response = await forgetful.post(LISTS, json=MANAGERS_AT_STRIPE, headers=account.live)
        assert response.status_code == 201
