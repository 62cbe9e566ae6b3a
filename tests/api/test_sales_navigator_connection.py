"""GET/PUT/DELETE /v1/integrations/sales-navigator, against the fake LinkedIn."""

from __future__ import annotations

import logging
import re

import httpx
import pytest

from contactlists.core.settings import Settings
from tests.api.helpers import assert_error, create_body
from tests.api.sales_navigator import INTEGRATION, LINKEDIN_PUT, against_fake, connect_linkedin
from tests.conftest import AccountKeys, MakeAccount, Snapshot
from tests.fakes.linkedin_server import (
    BROWSER_COOKIES,
    CONTRACT,
    COOKIE_HEADER,
    JSESSIONID,
    LI_AT,
    LICENSES,
    ME,
    FakeLinkedIn,
)

RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
NOT_CONNECTED = {
    "provider": None,
    "state": "not_connected",
    "connectedAt": None,
    "lastVerifiedAt": None,
    "lastError": None,
    "cookieNames": [],
    "member": None,
}
MEMBER = {"name": "Ada Lovelace", "publicIdentifier": "ada-lovelace-1815"}


@pytest.fixture
def settings(settings: Settings, fake_linkedin: FakeLinkedIn) -> Settings:
    return against_fake(settings, fake_linkedin)


class TestGet:
    async def test_not_connected(
        self, client: httpx.AsyncClient, make_account: MakeAccount
    ) -> None:
        account = await make_account(connect=False)
        for headers in (account.live, account.test):
            response = await client.get(INTEGRATION, headers=headers)
            assert response.status_code == 200
            assert response.json() == NOT_CONNECTED

    async def test_both_modes_see_the_accounts_connection(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        live = (await client.get(INTEGRATION, headers=acct.live)).json()
        assert live["provider"] == "sandbox"
        assert live["state"] == "active"
        assert RFC3339.fullmatch(live["connectedAt"])
        assert live["lastError"] is None
        assert live["cookieNames"] == []
        assert live["member"] is None
        assert (await client.get(INTEGRATION, headers=acct.test)).json() == live

    async def test_needs_a_key(self, client: httpx.AsyncClient) -> None:
        assert_error(await client.get(INTEGRATION), 401, "MISSING_API_KEY")


class TestPut:
    async def test_linkedin_cookies_are_verified_then_stored(
        self, client: httpx.AsyncClient, make_account: MakeAccount, fake_linkedin: FakeLinkedIn
    ) -> None:
        account = await make_account(connect=False)
        body = await connect_linkedin(client, account)
        assert set(body) == set(NOT_CONNECTED)
        assert body["provider"] == "linkedin"
        assert body["state"] == "active"
        assert body["lastVerifiedAt"] == body["connectedAt"]
        assert body["member"] == MEMBER
        # The contract step minted li_a, and LinkedIn's rotated lidc came along.
        assert body["cookieNames"] == ["JSESSIONID", "li_a", "li_at", "lidc"]
        assert fake_linkedin.identity_calls == 1
        assert fake_linkedin.license_calls == 1
        assert fake_linkedin.selections == [CONTRACT]
        assert fake_linkedin.searches == []  # verifying spends no search budget
        assert (await client.get(INTEGRATION, headers=account.live)).json() == body

    @pytest.mark.parametrize(
        "header",
        [
            COOKIE_HEADER,
            f"Cookie: {COOKIE_HEADER}",
            f"'{COOKIE_HEADER}'",
            f'"cookie: {COOKIE_HEADER}"\n',
            COOKIE_HEADER.replace("; ", ";\n  "),
        ],
        ids=["as-copied", "with-name", "single-quoted", "double-quoted", "folded"],
    )
    async def test_the_whole_cookie_header_is_taken_as_copied(
        self,
        client: httpx.AsyncClient,
        make_account: MakeAccount,
        fake_linkedin: FakeLinkedIn,
        header: str,
    ) -> None:
        account = await make_account(connect=False)
        response = await client.put(
            INTEGRATION, json={"provider": "linkedin", "cookies": header}, headers=account.live
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["member"] == MEMBER
        assert {"bcookie", "bscookie", "li_rm", "lidc", "li_a", "li_at", "JSESSIONID"} <= set(
            body["cookieNames"]
        )
        assert body["cookieNames"] == sorted(body["cookieNames"])
        sent = fake_linkedin.sent_cookies(0)
        assert sent["bcookie"].startswith('"v=2&')
        assert sent["JSESSIONID"] == f'"{JSESSIONID}"'
        assert fake_linkedin.received_headers[0]["csrf-token"] == JSESSIONID

    async def test_a_browser_li_a_needs_no_contract_step(
        self, client: httpx.AsyncClient, make_account: MakeAccount, fake_linkedin: FakeLinkedIn
    ) -> None:
        fake_linkedin.minted["AQJbrowserLiA"] = CONTRACT
        account = await make_account(connect=False)
        header = f"{COOKIE_HEADER}; li_a=AQJbrowserLiA"
        response = await client.put(
            INTEGRATION, json={"provider": "linkedin", "cookies": header}, headers=account.live
        )
        assert response.status_code == 200, response.text
        assert fake_linkedin.selections == []
        assert fake_linkedin.license_calls == 1

    @pytest.mark.parametrize(
        ("header", "missing"),
        [
            (f'{BROWSER_COOKIES}; JSESSIONID="{JSESSIONID}"', "li_at"),
            (f"{BROWSER_COOKIES}; li_at={LI_AT}", "JSESSIONID"),
            (BROWSER_COOKIES, "li_at and JSESSIONID"),
        ],
    )
    async def test_the_header_needs_both_session_cookies(
        self,
        client: httpx.AsyncClient,
        acct: AccountKeys,
        fake_linkedin: FakeLinkedIn,
        header: str,
        missing: str,
    ) -> None:
        response = await client.put(
            INTEGRATION, json={"provider": "linkedin", "cookies": header}, headers=acct.live
        )
        error = assert_error(response, 400, "INVALID_FIELD", field="cookies")
        assert error["fields"][0]["message"] == f"the cookies must include {missing}"
        assert fake_linkedin.received_headers == []

    async def test_no_seat_is_422_and_stores_nothing(
        self,
        client: httpx.AsyncClient,
        acct: AccountKeys,
        snapshot: Snapshot,
        fake_linkedin: FakeLinkedIn,
    ) -> None:
        fake_linkedin.contracts = []
        before = await snapshot()
        response = await client.put(
            INTEGRATION, json={"provider": "linkedin", "cookies": COOKIE_HEADER}, headers=acct.live
        )
        error = assert_error(response, 422, "SALES_NAVIGATOR_SEAT_REQUIRED")
        assert error["errorAction"] == "CONNECT_SALES_NAVIGATOR"
        assert await snapshot() == before

    async def test_a_seat_gone_is_422_seat_required(
        self, client: httpx.AsyncClient, acct: AccountKeys, fake_linkedin: FakeLinkedIn
    ) -> None:
        fake_linkedin.fail("seat-required", path=LICENSES)
        response = await client.put(INTEGRATION, json=LINKEDIN_PUT, headers=acct.live)
        assert_error(response, 422, "SALES_NAVIGATOR_SEAT_REQUIRED")

    async def test_several_contracts_need_a_name(
        self, client: httpx.AsyncClient, make_account: MakeAccount, fake_linkedin: FakeLinkedIn
    ) -> None:
        fake_linkedin.contracts = ["Acme Sales Team", "Personal Core"]
        account = await make_account(connect=False)
        body = {"provider": "linkedin", "cookies": COOKIE_HEADER}
        response = await client.put(INTEGRATION, json=body, headers=account.live)
        error = assert_error(response, 422, "SALES_NAVIGATOR_SEAT_REQUIRED")
        assert error["details"] == {"contracts": ["Acme Sales Team", "Personal Core"]}
        assert fake_linkedin.selections == []
        named = await client.put(
            INTEGRATION, json={**body, "contract": "personal core"}, headers=account.live
        )
        assert named.status_code == 200, named.text
        assert fake_linkedin.selections == ["Personal Core"]
        unknown = await client.put(
            INTEGRATION, json={**body, "contract": "Nope"}, headers=account.live
        )
        error = assert_error(unknown, 422, "SALES_NAVIGATOR_SEAT_REQUIRED")
        assert error["details"]["contracts"] == ["Acme Sales Team", "Personal Core"]

    async def test_connects_are_metered_and_never_retried(
        self,
        client: httpx.AsyncClient,
        acct: AccountKeys,
        fake_linkedin: FakeLinkedIn,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        caplog.set_level(logging.WARNING, "contactlists.connections")
        fake_linkedin.fail("500", path=ME)
        response = await client.put(INTEGRATION, json=LINKEDIN_PUT, headers=acct.live)
        error = assert_error(response, 502, "UPSTREAM_ERROR")
        # The message says what failed: no search ran.
        assert error["message"] == (
            "The call to the upstream failed in verification: LinkedIn answered 500."
        )
        assert fake_linkedin.identity_calls == 1  # one attempt, no retries
        # The log names the failure's class and LinkedIn's status, never a cookie.
        assert "verification: LinkedIn answered 500 (_Transient)" in caplog.text
        assert LI_AT not in caplog.text

    async def test_cookie_values_are_taken_as_browsers_show_them(
        self, client: httpx.AsyncClient, acct: AccountKeys, fake_linkedin: FakeLinkedIn
    ) -> None:
        body = {**LINKEDIN_PUT, "liAt": f"  {LI_AT}\n", "jsessionId": fake_linkedin.jsessionid}
        response = await client.put(INTEGRATION, json=body, headers=acct.live)
        assert response.status_code == 200
        assert response.json()["provider"] == "linkedin"

    @pytest.mark.parametrize(
        "change", [{"liAt": "AQEDexpired"}, {"jsessionId": '"ajax:1111"'}], ids=["li_at", "csrf"]
    )
    async def test_bad_cookies_are_422_and_store_nothing(
        self,
        client: httpx.AsyncClient,
        acct: AccountKeys,
        snapshot: Snapshot,
        fake_linkedin: FakeLinkedIn,
        change: dict[str, str],
    ) -> None:
        before = await snapshot()
        response = await client.put(INTEGRATION, json={**LINKEDIN_PUT, **change}, headers=acct.live)
        error = assert_error(response, 422, "SALES_NAVIGATOR_SESSION_EXPIRED")
        assert error["errorAction"] == "RECONNECT_SALES_NAVIGATOR"
        assert len(fake_linkedin.received_headers) == 1  # never retried
        assert await snapshot() == before

    @pytest.mark.parametrize(
        ("kind", "status", "error_code"),
        [
            ("429", 503, "UPSTREAM_RATE_LIMITED"),
            ("500", 502, "UPSTREAM_ERROR"),
            ("redirect-checkpoint", 422, "SALES_NAVIGATOR_SESSION_EXPIRED"),
        ],
    )
    async def test_upstream_failures_store_nothing(
        self,
        client: httpx.AsyncClient,
        acct: AccountKeys,
        snapshot: Snapshot,
        fake_linkedin: FakeLinkedIn,
        kind: str,
        status: int,
        error_code: str,
    ) -> None:
        fake_linkedin.fail(kind, path=ME, retry_after="12")
        before = await snapshot()
        response = await client.put(INTEGRATION, json=LINKEDIN_PUT, headers=acct.live)
        assert_error(response, status, error_code)
        if status == 503:
            assert response.json()["retryAfter"] == 12
        assert await snapshot() == before

    async def test_sandbox_connects_and_renews(
        self, client: httpx.AsyncClient, make_account: MakeAccount
    ) -> None:
        account = await make_account(connect=False)
        response = await client.put(INTEGRATION, json={"provider": "sandbox"}, headers=account.live)
        assert response.status_code == 200
        assert response.json()["provider"] == "sandbox"
        expired = await client.post(
            "/v1/contacts/lists", json=create_body("sandbox-session-expired"), headers=account.live
        )
        assert_error(expired, 422, "SALES_NAVIGATOR_SESSION_EXPIRED")
        state = (await client.get(INTEGRATION, headers=account.live)).json()
        assert state["state"] == "expired"
        assert state["lastError"]
        renewed = await client.put(INTEGRATION, json={"provider": "sandbox"}, headers=account.live)
        assert renewed.json()["state"] == "active"
        assert renewed.json()["lastError"] is None

    @pytest.mark.parametrize("body", [LINKEDIN_PUT, {"provider": "sandbox"}])
    async def test_test_keys_are_forbidden(
        self,
        client: httpx.AsyncClient,
        acct: AccountKeys,
        snapshot: Snapshot,
        fake_linkedin: FakeLinkedIn,
        body: dict[str, str],
    ) -> None:
        before = await snapshot()
        response = await client.put(INTEGRATION, json=body, headers=acct.test)
        error = assert_error(response, 403, "TEST_MODE_FORBIDDEN")
        assert error["errorAction"] == "USE_LIVE_KEY"
        assert fake_linkedin.identity_calls == 0
        assert await snapshot() == before

    @pytest.mark.parametrize(
        ("body", "field", "error_code"),
        [
            ({"provider": "linkedin", "liAt": LI_AT}, "jsessionId", "INVALID_FIELD"),
            ({"provider": "linkedin"}, "liAt", "INVALID_FIELD"),
            ({"provider": "sandbox", "liAt": LI_AT}, "liAt", "INVALID_FIELD"),
            ({"provider": "unipile"}, "provider", "INVALID_FIELD"),
            ({**LINKEDIN_PUT, "liAt": "has space;and=semicolon"}, "liAt", "INVALID_FIELD"),
            ({**LINKEDIN_PUT, "jsessionId": ""}, "jsessionId", "INVALID_FIELD"),
            ({**LINKEDIN_PUT, "liAt": 42}, "liAt", "INVALID_FIELD"),
            ({**LINKEDIN_PUT, "cookies": COOKIE_HEADER}, "liAt", "INVALID_FIELD"),
            ({"provider": "linkedin", "cookies": "no pairs here"}, "cookies", "INVALID_FIELD"),
            ({"provider": "linkedin", "cookies": ""}, "cookies", "INVALID_FIELD"),
            ({"provider": "sandbox", "cookies": COOKIE_HEADER}, "cookies", "INVALID_FIELD"),
            ({"provider": "sandbox", "contract": "x"}, "contract", "INVALID_FIELD"),
            ({**LINKEDIN_PUT, "extra": 1}, "extra", "UNKNOWN_FIELD"),
        ],
    )
    async def test_invalid_bodies(
        self,
        client: httpx.AsyncClient,
        acct: AccountKeys,
        fake_linkedin: FakeLinkedIn,
        body: dict[str, object],
        field: str,
        error_code: str,
    ) -> None:
        response = await client.put(INTEGRATION, json=body, headers=acct.live)
        assert_error(response, 400, error_code, field=field)
        assert "semicolon" not in response.text  # a rejected value is never echoed
        assert LI_AT not in response.text
        assert fake_linkedin.identity_calls == 0


class TestConnectBudget:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return settings.model_copy(update={"connect_rate_limit": "2/hour"})

    async def test_connects_calling_linkedin_are_metered_per_account(
        self,
        client: httpx.AsyncClient,
        acct: AccountKeys,
        make_account: MakeAccount,
        fake_linkedin: FakeLinkedIn,
    ) -> None:
        for _ in range(2):
            response = await client.put(INTEGRATION, json=LINKEDIN_PUT, headers=acct.live)
            assert response.status_code == 200
        calls = len(fake_linkedin.received_headers)
        refused = await client.put(INTEGRATION, json=LINKEDIN_PUT, headers=acct.live)
        error = assert_error(refused, 429, "RATE_LIMITED")
        assert int(refused.headers["retry-after"]) > 0
        assert error["errorAction"] == "RETRY_LATER"
        assert len(fake_linkedin.received_headers) == calls  # LinkedIn was not called
        sandbox = await client.put(INTEGRATION, json={"provider": "sandbox"}, headers=acct.live)
        assert sandbox.status_code == 200  # no LinkedIn call, no budget
        other = await make_account(connect=False)
        assert (
            await client.put(INTEGRATION, json=LINKEDIN_PUT, headers=other.live)
        ).status_code == 200


class TestDelete:
    async def test_disconnects_and_forgets(
        self, client: httpx.AsyncClient, make_account: MakeAccount
    ) -> None:
        account = await make_account(connect=False)
        await connect_linkedin(client, account)
        response = await client.delete(INTEGRATION, headers=account.live)
        assert response.status_code == 204
        assert response.content == b""
        assert (await client.get(INTEGRATION, headers=account.live)).json() == NOT_CONNECTED
        create = await client.post("/v1/contacts/lists", json=create_body(), headers=account.live)
        assert_error(create, 422, "SALES_NAVIGATOR_NOT_CONNECTED")
        again = await client.delete(INTEGRATION, headers=account.live)
        assert again.status_code == 204

    async def test_test_keys_are_forbidden(
        self, client: httpx.AsyncClient, acct: AccountKeys, snapshot: Snapshot
    ) -> None:
        before = await snapshot()
        assert_error(
            await client.delete(INTEGRATION, headers=acct.test), 403, "TEST_MODE_FORBIDDEN"
        )
        assert await snapshot() == before


async def test_operations_are_published(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    operations = paths[INTEGRATION]
    assert operations["get"]["operationId"] == "getSalesNavigatorConnection"
    assert {"200", "400", "403", "422", "502", "503"} <= set(operations["put"]["responses"])
    assert {"204", "403"} <= set(operations["delete"]["responses"])
    create = paths["/v1/contacts/lists"]["post"]["responses"]["503"]["description"]
    assert "did not finish in time" in create
