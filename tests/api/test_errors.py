"""Every documented error, through HTTP: status, envelope, and nothing changed."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from contactlists.lists import service as lists_service
from tests.api.helpers import assert_error, company, create_body
from tests.conftest import AccountKeys, MakeAccount, Snapshot

LISTS = "/v1/contacts/lists"


async def _created(client: httpx.AsyncClient, acct: AccountKeys) -> str:
    response = await client.post(LISTS, json=create_body("sandbox-exact-3"), headers=acct.live)
    assert response.status_code == 201
    list_id: str = response.json()["id"]
    return list_id


def _with_filters(**filters: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"companyLinkedInUrls": [company("sandbox-exact-3")]}
    base.update(filters)
    return {"name": "n", "filters": base}


BAD_CREATE_BODIES: list[tuple[str, Any, str, str]] = [
    (
        "empty name",
        {"name": "", "filters": _with_filters(jobTitles=["x"])["filters"]},
        "INVALID_FIELD",
        "name",
    ),
    (
        "blank name",
        {"name": "   ", "filters": _with_filters(jobTitles=["x"])["filters"]},
        "INVALID_FIELD",
        "name",
    ),
    (
        "invisible name",
        {
            "name": "\u200b\u200e\u2066\ufeff \u202e",
            "filters": _with_filters(jobTitles=["x"])["filters"],
        },
        "INVALID_FIELD",
        "name",
    ),
    (
        "invisible job title",
        {"name": "n", "filters": _with_filters(jobTitles=["\u200d\u200c"])["filters"]},
        "INVALID_FIELD",
        "filters.jobTitles[0]",
    ),
    (
        "invisible keywords are no filter",
        {"name": "n", "filters": _with_filters(keywords="\u200b\u00ad")["filters"]},
        "MISSING_FILTER",
        "filters",
    ),
    (
        "name too long",
        {"name": "x" * 201, "filters": _with_filters(jobTitles=["x"])["filters"]},
        "INVALID_FIELD",
        "name",
    ),
    (
        "name with NUL",
        {"name": "a\u0000b", "filters": _with_filters(jobTitles=["x"])["filters"]},
        "INVALID_FIELD",
        "name",
    ),
    (
        "name not a string",
        {"name": 5, "filters": _with_filters(jobTitles=["x"])["filters"]},
        "INVALID_FIELD",
        "name",
    ),
    (
        "missing name",
        {"filters": _with_filters(jobTitles=["x"])["filters"]},
        "INVALID_FIELD",
        "name",
    ),
    ("missing filters", {"name": "n"}, "INVALID_FIELD", "filters"),
    ("only a company", _with_filters(), "MISSING_FILTER", "filters"),
    (
        "blank filters",
        _with_filters(jobTitles=[], keywords="  ", countries=None),
        "MISSING_FILTER",
        "filters",
    ),
    (
        "no company",
        {"name": "n", "filters": {"jobTitles": ["x"]}},
        "INVALID_FIELD",
        "filters.companyLinkedInUrls",
    ),
    (
        "empty companies",
        {"name": "n", "filters": {"companyLinkedInUrls": [], "jobTitles": ["x"]}},
        "INVALID_FIELD",
        "filters.companyLinkedInUrls",
    ),
    (
        "eleven companies",
        {
            "name": "n",
            "filters": {
                "companyLinkedInUrls": [company(f"c{i}") for i in range(11)],
                "jobTitles": ["x"],
            },
        },
        "INVALID_FIELD",
        "filters.companyLinkedInUrls",
    ),
    (
        "other host",
        {
            "name": "n",
            "filters": {
                "companyLinkedInUrls": ["https://example.com/company/x"],
                "jobTitles": ["x"],
            },
        },
        "INVALID_COMPANY_URL",
        "filters.companyLinkedInUrls[0]",
    ),
    (
        "people url",
        {
            "name": "n",
            "filters": {
                "companyLinkedInUrls": [company("ok"), "https://www.linkedin.com/in/someone"],
                "jobTitles": ["x"],
            },
        },
        "INVALID_COMPANY_URL",
        "filters.companyLinkedInUrls[1]",
    ),
    (
        "school url",
        {
            "name": "n",
            "filters": {
                "companyLinkedInUrls": ["https://www.linkedin.com/school/mit"],
                "jobTitles": ["x"],
            },
        },
        "INVALID_COMPANY_URL",
        "filters.companyLinkedInUrls[0]",
    ),
    (
        "missing id",
        {
            "name": "n",
            "filters": {
                "companyLinkedInUrls": ["https://www.linkedin.com/company/"],
                "jobTitles": ["x"],
            },
        },
        "INVALID_COMPANY_URL",
        "filters.companyLinkedInUrls[0]",
    ),
    (
        "port",
        {
            "name": "n",
            "filters": {
                "companyLinkedInUrls": ["https://www.linkedin.com:8443/company/x"],
                "jobTitles": ["x"],
            },
        },
        "INVALID_COMPANY_URL",
        "filters.companyLinkedInUrls[0]",
    ),
    (
        "credentials",
        {
            "name": "n",
            "filters": {
                "companyLinkedInUrls": ["https://u:p@www.linkedin.com/company/x"],
                "jobTitles": ["x"],
            },
        },
        "INVALID_COMPANY_URL",
        "filters.companyLinkedInUrls[0]",
    ),
    (
        "ftp scheme",
        {
            "name": "n",
            "filters": {
                "companyLinkedInUrls": ["ftp://www.linkedin.com/company/x"],
                "jobTitles": ["x"],
            },
        },
        "INVALID_COMPANY_URL",
        "filters.companyLinkedInUrls[0]",
    ),
    (
        "lookalike host",
        {
            "name": "n",
            "filters": {
                "companyLinkedInUrls": ["https://linkedin.com.evil.io/company/x"],
                "jobTitles": ["x"],
            },
        },
        "INVALID_COMPANY_URL",
        "filters.companyLinkedInUrls[0]",
    ),
    (
        "unsupported country",
        _with_filters(countries=["US", "ZZ"]),
        "UNSUPPORTED_COUNTRY",
        "filters.countries[1]",
    ),
    (
        "alpha-3 country",
        _with_filters(countries=["USA"]),
        "UNSUPPORTED_COUNTRY",
        "filters.countries[0]",
    ),
    ("country wrong type", _with_filters(countries=[1]), "INVALID_FIELD", "filters.countries[0]"),
    (
        "too many countries",
        _with_filters(countries=["US"] * 51),
        "INVALID_FIELD",
        "filters.countries",
    ),
    (
        "title too long",
        _with_filters(jobTitles=["x" * 101]),
        "INVALID_FIELD",
        "filters.jobTitles[0]",
    ),
    ("blank title", _with_filters(jobTitles=["ok", " "]), "INVALID_FIELD", "filters.jobTitles[1]"),
    ("26 titles", _with_filters(jobTitles=["x"] * 26), "INVALID_FIELD", "filters.jobTitles"),
    ("titles not a list", _with_filters(jobTitles="CEO"), "INVALID_FIELD", "filters.jobTitles"),
    ("keywords too long", _with_filters(keywords="k" * 301), "INVALID_FIELD", "filters.keywords"),
    ("unknown top-level field", {**create_body(), "extra": 1}, "UNKNOWN_FIELD", "extra"),
    (
        "unknown filter field",
        _with_filters(jobTitles=["x"], industries=["Ops"]),
        "UNKNOWN_FIELD",
        "filters.industries",
    ),
    (
        "huge integer name",
        {"name": 10**30, "filters": _with_filters(jobTitles=["x"])["filters"]},
        "INVALID_FIELD",
        "name",
    ),
]


class TestCreateValidation:
    @pytest.mark.parametrize(
        ("body", "error_code", "field"),
        [pytest.param(b, c, f, id=i) for i, b, c, f in BAD_CREATE_BODIES],
    )
    async def test_bad_body_is_400_and_stores_nothing(
        self,
        client: httpx.AsyncClient,
        acct: AccountKeys,
        snapshot: Snapshot,
        body: Any,
        error_code: str,
        field: str,
    ) -> None:
        before = await snapshot()
        response = await client.post(LISTS, json=body, headers=acct.live)
        error = assert_error(response, 400, error_code, field=field)
        assert error["type"] == "VALIDATION"
        assert error["code"] == "VALIDATION_ERROR"
        assert error["errorAction"] == "FIX_REQUEST"
        assert await snapshot() == before

    async def test_missing_filter_message_is_the_originals(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        response = await client.post(LISTS, json=_with_filters(), headers=acct.live)
        assert response.json()["message"] == (
            "At least one filter (jobTitles, keywords, or countries) is required"
        )

    @pytest.mark.parametrize(
        ("content", "error_code"),
        [
            (b"{not json", "INVALID_JSON"),
            (b"", "INVALID_JSON"),
            (b"[1, 2]", "INVALID_FIELD"),
            (b'"a string"', "INVALID_FIELD"),
            (b'{"name": "\\ud800"}', "INVALID_JSON"),
            (b"[" * 100_000 + b"]" * 100_000, "INVALID_JSON"),
        ],
    )
    async def test_malformed_and_non_object_bodies(
        self,
        client: httpx.AsyncClient,
        acct: AccountKeys,
        snapshot: Snapshot,
        content: bytes,
        error_code: str,
    ) -> None:
        before = await snapshot()
        response = await client.post(
            LISTS, content=content, headers={**acct.live, "Content-Type": "application/json"}
        )
        assert_error(response, 400, error_code, field="body")
        assert await snapshot() == before

    async def test_body_over_one_mebibyte_is_413(
        self, client: httpx.AsyncClient, acct: AccountKeys, snapshot: Snapshot
    ) -> None:
        before = await snapshot()
        big = b'{"name": "' + b"x" * (1024 * 1024) + b'"}'
        response = await client.post(
            LISTS, content=big, headers={**acct.live, "Content-Type": "application/json"}
        )
        assert_error(response, 413, "PAYLOAD_TOO_LARGE")
        assert await snapshot() == before

    async def test_streamed_body_over_limit_is_413(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        async def chunks():  # type: ignore[no-untyped-def]
            for _ in range(20):
                yield b"x" * 65536

        response = await client.post(LISTS, content=chunks(), headers=acct.live)
        assert_error(response, 413, "PAYLOAD_TOO_LARGE")

    async def test_explicit_non_json_content_type_is_415(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        response = await client.post(
            LISTS,
            content=b"name=x",
            headers={**acct.live, "Content-Type": "application/x-www-form-urlencoded"},
        )
        assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE")

    async def test_missing_content_type_means_json(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        import orjson

        response = await client.post(LISTS, content=orjson.dumps(create_body()), headers=acct.live)
        assert response.status_code == 201

    async def test_accept_excluding_json_is_406(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        response = await client.get(LISTS, headers={**acct.live, "Accept": "text/html"})
        assert_error(response, 406, "NOT_ACCEPTABLE")
        ok = await client.get(LISTS, headers={**acct.live, "Accept": "text/html, */*;q=0.1"})
        assert ok.status_code == 200


class TestPagination:
    @pytest.mark.parametrize(
        "query",
        [
            "limit=0",
            "limit=101",
            "limit=-1",
            "limit=abc",
            "limit=1.5",
            "limit=",
            "offset=-1",
            "offset=2147483648",
            "offset=1e3",
            "limit=5&limit=6",
            "offset=99999999999999999999999999",
        ],
    )
    async def test_bad_paging_is_400_never_clamped(
        self, client: httpx.AsyncClient, acct: AccountKeys, query: str
    ) -> None:
        list_id = await _created(client, acct)
        for path in (LISTS, f"{LISTS}/{list_id}/contacts"):
            response = await client.get(f"{path}?{query}", headers=acct.live)
            error = assert_error(response, 400, "INVALID_QUERY_PARAMETER")
            assert error["fields"][0]["field"] == query.split("=")[0]


class TestAuth:
    @pytest.mark.parametrize(
        ("headers", "error_code"),
        [
            ({}, "MISSING_API_KEY"),
            ({"Authorization": "Basic abc"}, "INVALID_API_KEY"),
            ({"Authorization": "Bearer"}, "MISSING_API_KEY"),
            ({"Authorization": "Bearer sk_live_short"}, "INVALID_API_KEY"),
            ({"Authorization": "Bearer " + "sk_live_" + "A" * 43}, "INVALID_API_KEY"),
            ({"Authorization": "Bearer " + "pk_live_" + "A" * 43}, "INVALID_API_KEY"),
        ],
    )
    async def test_bad_keys_are_401_on_every_route(
        self, client: httpx.AsyncClient, acct: AccountKeys, headers: dict[str, str], error_code: str
    ) -> None:
        list_id = await _created(client, acct)
        for method, path in [
            ("GET", LISTS),
            ("POST", LISTS),
            ("GET", f"{LISTS}/{list_id}"),
            ("PUT", f"{LISTS}/{list_id}"),
            ("DELETE", f"{LISTS}/{list_id}"),
            ("GET", f"{LISTS}/{list_id}/contacts"),
            ("GET", f"{LISTS}/{list_id}/export"),
            ("GET", "/v1/credits"),
        ]:
            response = await client.request(method, path, headers=headers, json={"name": "x"})
            assert_error(response, 401, error_code)
            assert response.headers["www-authenticate"] == "Bearer"
        assert (await client.get(f"{LISTS}/{list_id}", headers=acct.live)).status_code == 200

    async def test_auth_comes_before_body_checks(self, client: httpx.AsyncClient) -> None:
        response = await client.post(LISTS, content=b"{broken")
        assert_error(response, 401, "MISSING_API_KEY")

    async def test_revoked_key_is_401_on_next_request(
        self, client: httpx.AsyncClient, acct: AccountKeys, database: Any
    ) -> None:
        from contactlists.accounts import service as accounts

        assert (await client.get(LISTS, headers=acct.live)).status_code == 200
        keys = await accounts.list_keys(database, acct.id)
        for key in keys:
            if key.mode == "live":
                await accounts.revoke_key(database, key.id)
        assert_error(await client.get(LISTS, headers=acct.live), 401, "REVOKED_API_KEY")
        assert (await client.get(LISTS, headers=acct.test)).status_code == 200


class TestNotFound:
    async def test_unknown_list_everywhere(
        self, client: httpx.AsyncClient, acct: AccountKeys, snapshot: Snapshot
    ) -> None:
        await _created(client, acct)
        before = await snapshot()
        missing = f"{LISTS}/cl_doesnotexist"
        for response in (
            await client.get(missing, headers=acct.live),
            await client.get(missing + "/contacts", headers=acct.live),
            await client.get(missing + "/export", headers=acct.live),
            await client.put(missing, json={"name": "x"}, headers=acct.live),
            await client.delete(missing, headers=acct.live),
        ):
            error = assert_error(response, 404, "LIST_NOT_FOUND")
            assert error["errorAction"] is None
        assert await snapshot() == before

    async def test_unknown_route_and_wrong_method(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        assert_error(await client.get("/v1/nope", headers=acct.live), 404, "ROUTE_NOT_FOUND")
        response = await client.patch(f"{LISTS}/x", headers=acct.live)
        assert_error(response, 405, "METHOD_NOT_ALLOWED")
        assert set(response.headers["allow"].replace(" ", "").split(",")) == {
            "GET",
            "PUT",
            "DELETE",
        }


class TestRename:
    @pytest.mark.parametrize(
        ("body", "error_code", "field"),
        [
            ({"name": ""}, "INVALID_FIELD", "name"),
            ({"name": "\u200b\u2067\u2069"}, "INVALID_FIELD", "name"),
            ({"name": "x" * 201}, "INVALID_FIELD", "name"),
            ({}, "INVALID_FIELD", "name"),
            ({"name": "ok", "filters": {}}, "UNKNOWN_FIELD", "filters"),
            ({"name": None}, "INVALID_FIELD", "name"),
        ],
    )
    async def test_bad_rename_changes_nothing(
        self,
        client: httpx.AsyncClient,
        acct: AccountKeys,
        snapshot: Snapshot,
        body: dict[str, Any],
        error_code: str,
        field: str,
    ) -> None:
        list_id = await _created(client, acct)
        before = await snapshot()
        response = await client.put(f"{LISTS}/{list_id}", json=body, headers=acct.live)
        assert_error(response, 400, error_code, field=field)
        assert await snapshot() == before


class TestPreconditions:
    async def test_live_key_without_connection_is_422(
        self, client: httpx.AsyncClient, make_account: MakeAccount, snapshot: Snapshot
    ) -> None:
        account = await make_account(connect=False)
        before = await snapshot()
        response = await client.post(LISTS, json=create_body(), headers=account.live)
        error = assert_error(response, 422, "SALES_NAVIGATOR_NOT_CONNECTED")
        assert error["errorAction"] == "CONNECT_SALES_NAVIGATOR"
        assert await snapshot() == before

    async def test_limited_account_without_credits_is_402_before_search(
        self, client: httpx.AsyncClient, make_account: MakeAccount, snapshot: Snapshot
    ) -> None:
        account = await make_account(credits=4)
        before = await snapshot()
        response = await client.post(LISTS, json=create_body(), headers=account.live)
        assert_error(response, 402, "INSUFFICIENT_CREDITS")
        assert await snapshot() == before
        test_mode = await client.post(LISTS, json=create_body(), headers=account.test)
        assert test_mode.status_code == 201


class TestHeaders:
    async def test_request_id_kept_when_valid_replaced_otherwise(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        kept = await client.get(LISTS, headers={**acct.live, "X-Request-Id": "abc.DEF-1_2"})
        assert kept.headers["x-request-id"] == "abc.DEF-1_2"
        for bad in (b"has space", b"x" * 129, b"semi;colon", "ünï".encode()):
            response = await client.get(
                "/v1/nope", headers=[*acct.live.items(), (b"X-Request-Id", bad)]
            )
            assert response.headers["x-request-id"].encode() != bad
            assert response.json()["error"]["requestId"] == response.headers["x-request-id"]

    async def test_generated_request_ids_are_random_uuids(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        seen = set()
        for path in [LISTS] * 50 + ["/v1/nope"] * 50:
            generated = (await client.get(path, headers=acct.live)).headers["x-request-id"]
            parsed = uuid.UUID(generated)
            assert (str(parsed), parsed.version, parsed.variant) == (
                generated,
                4,
                uuid.RFC_4122,
            )
            seen.add(generated)
        assert len(seen) == 100

    async def test_security_headers_on_success_and_error(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        for response in (
            await client.get(LISTS, headers=acct.live),
            await client.get(LISTS),
            await client.get("/nope"),
        ):
            assert response.headers["cache-control"] == "no-store"
            assert response.headers["x-content-type-options"] == "nosniff"
            assert response.headers["x-request-id"]

    async def test_unexpected_exception_is_500_without_internals(
        self,
        client: httpx.AsyncClient,
        acct: AccountKeys,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        async def explode(*_: Any, **__: Any) -> None:
            raise RuntimeError("secret internals: SELECT * FROM api_keys")

        monkeypatch.setattr(lists_service, "page_lists", explode)
        response = await client.get(LISTS, headers=acct.live)
        error = assert_error(response, 500, "INTERNAL_ERROR")
        assert "secret" not in response.text
        assert error["errorAction"] == "RETRY_LATER"
