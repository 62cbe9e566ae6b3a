"""What a hostile tenant with one ordinary key could do (issue 15), through HTTP."""

from __future__ import annotations

import gc
import re
import tracemalloc
import urllib.parse
from typing import Any

import httpx
import pytest

from contactlists.core.settings import Settings
from tests.api.helpers import assert_error
from tests.conftest import AccountKeys, asgi_client, running_app

LISTS = "/v1/contacts/lists"


class TestTrailingSlash:
    @pytest.mark.parametrize("path", [f"{LISTS}/", f"{LISTS}/cl_x/", "/healthz/", "/v1/credits/"])
    async def test_is_the_404_envelope_never_a_redirect(
        self, client: httpx.AsyncClient, acct: AccountKeys, path: str
    ) -> None:
        response = await client.get(path, headers={**acct.live, "Host": "evil.example"})
        assert_error(response, 404, "ROUTE_NOT_FOUND")
        assert "location" not in response.headers


class TestQueryStringMemory:
    async def test_junk_parameters_are_not_kept(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        """300 distinct 65,000-character junk parameters once kept 19.5 MB."""
        for i in range(10):  # warm up whatever the first requests allocate for good
            await client.get(f"{LISTS}?limit=5&junk{i}=" + "x" * 65_000, headers=acct.live)
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            for i in range(300):
                junk = f"{i:05d}" + "x" * 65_000
                response = await client.get(f"{LISTS}?limit=5&junk={junk}", headers=acct.live)
                assert response.status_code == 200
            urllib.parse.clear_cache()  # the client's own (bounded) cache of split URLs
            gc.collect()
            retained = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
        assert retained < 2_000_000, f"{retained / 1e6:.1f} MB kept"


class TestDocs:
    @pytest.mark.parametrize("page", ["/docs", "/redoc"])
    async def test_pages_reference_only_this_server(
        self, client: httpx.AsyncClient, page: str
    ) -> None:
        response = await client.get(page)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        urls = re.findall(r"""(?:src|href|url)\s*[=:]\s*['"]([^'"]+)['"]""", response.text)
        assert "/openapi.json" in urls
        assert all(url.startswith("/") and not url.startswith("//") for url in urls)
        assert "http://" not in response.text
        assert "https://" not in response.text
        for url in urls:
            asset = await client.get(url)
            assert asset.status_code == 200, url
            assert len(asset.content) > 1000, url

    async def test_assets_are_the_bundles(self, client: httpx.AsyncClient) -> None:
        script = await client.get("/docs/swagger-ui-bundle.js")
        assert script.headers["content-type"].startswith("text/javascript")
        assert b"SwaggerUIBundle" in script.content
        css = await client.get("/docs/swagger-ui.css")
        assert css.headers["content-type"].startswith("text/css")

    async def test_docs_false_turns_them_off(self, settings: Settings) -> None:
        async with running_app(settings.model_copy(update={"docs": False})) as app:
            async with asgi_client(app) as client:
                for path in ("/docs", "/redoc", "/docs/swagger-ui-bundle.js"):
                    assert_error(await client.get(path), 404, "ROUTE_NOT_FOUND")
                assert (await client.get("/openapi.json")).status_code == 200


# Characters that grow: under lower-casing ("İ" → "i̇"), upper-casing ("ß" → "SS"),
# and NFKC ("ﷺ" → 18 characters, "ﬃ" → "ffi").
GROWERS = ("İ", "ß", "ﷺ", "ﬃ")
COMPANY_FIELD = "filters.companyLinkedInUrls[0]"


def _body(name: str = "n", vanity: str = "sandbox-exact-3", **filters: Any) -> dict[str, Any]:
    return {
        "name": name,
        "filters": {"companyLinkedInUrls": [f"https://www.linkedin.com/company/{vanity}"]}
        | ({"jobTitles": ["Engineer"]} if not filters else filters),
    }


class TestLengthsAsStored:
    """Every text input at its longest, of characters that grow: stored within its
    column's bound (PostgreSQL enforces them), or a 400; never a 500."""

    @pytest.mark.parametrize("char", GROWERS)
    async def test_text_inputs_at_their_longest(
        self, client: httpx.AsyncClient, acct: AccountKeys, char: str
    ) -> None:
        body = _body(char * 200, jobTitles=[char * 100] * 25, keywords=char * 300)
        response = await client.post(LISTS, json=body, headers=acct.test)
        assert response.status_code == 201, response.text
        created = response.json()
        assert created["name"] == char * 200
        assert created["filters"]["jobTitles"] == [char * 100] * 25
        renamed = await client.put(
            f"{LISTS}/{created['id']}", json={"name": f" {char * 200} "}, headers=acct.test
        )
        assert renamed.status_code == 200, renamed.text
        assert renamed.json()["name"] == char * 200

    @pytest.mark.parametrize("char", GROWERS)
    async def test_company_names_are_bounded_once_lower_cased(
        self, client: httpx.AsyncClient, acct: AccountKeys, char: str
    ) -> None:
        stored_length = len((char * 150).lower())
        response = await client.post(LISTS, json=_body(vanity=char * 150), headers=acct.test)
        if stored_length > 150:
            assert_error(
                response, 400, "INVALID_COMPANY_URL", field="filters.companyLinkedInUrls[0]"
            )
            response = await client.post(
                LISTS, json=_body(vanity=char * (150 // (stored_length // 150))), headers=acct.test
            )
        assert response.status_code == 201, response.text
        url = response.json()["filters"]["companyLinkedInUrls"][0]
        assert len(url.rsplit("/", 1)[1]) <= 150

    async def test_a_grown_company_name_fits_the_company_cache(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        """The longest vanity name LinkedIn's company lookup would cache (255 on PostgreSQL)."""
        encoded = "%C4%B0" * 150  # "İ" percent-encoded: 150 characters, 300 lower-cased
        response = await client.post(LISTS, json=_body(vanity=encoded), headers=acct.test)
        assert_error(response, 400, "INVALID_COMPANY_URL", field=COMPANY_FIELD)
