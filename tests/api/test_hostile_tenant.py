"""What a hostile tenant with one ordinary key could do (issue 15), through HTTP."""

from __future__ import annotations

import gc
import re
import tracemalloc
import urllib.parse

import httpx
import pytest

from contactlists.settings import Settings
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
