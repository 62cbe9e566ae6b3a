"""`GET /metrics`: hidden unless configured and asked with its token; what it counts."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from contactlists.core.settings import Settings
from tests.api.helpers import assert_error, create_body
from tests.conftest import AccountKeys, MakeAccount, asgi_client, running_app

LISTS = "/v1/contacts/lists"
TOKEN = "metrics-token-0123456789abcdef"
SCRAPE = {"Authorization": f"Bearer {TOKEN}"}
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"metrics_token": SecretStr(TOKEN)})


async def scrape(client: httpx.AsyncClient) -> Samples:
    response = await client.get("/metrics", headers=SCRAPE)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


class TestHidden:
    @pytest.mark.parametrize(
        ("method", "headers"),
        [
            ("GET", {}),
            ("GET", {"Authorization": "Bearer wrong-token-0123456789abcdef"}),
            ("GET", {"Authorization": f"Basic {TOKEN}"}),
            ("GET", {"Authorization": f"Bearer {TOKEN}x"}),
            ("POST", SCRAPE),
            ("DELETE", SCRAPE),
        ],
    )
    async def test_anything_but_the_tokens_get_is_an_unknown_route(
        self, client: httpx.AsyncClient, method: str, headers: dict[str, str]
    ) -> None:
        response = await client.request(method, "/metrics", headers=headers)
        error = assert_error(response, 404, "ROUTE_NOT_FOUND")
        assert error["message"] == f"No route matches {method} /metrics."
        assert error["errorAction"] is None
        assert "allow" not in response.headers

    async def test_without_a_configured_token_it_does_not_exist(
        self, settings: Settings, acct: AccountKeys
    ) -> None:
        unconfigured = settings.model_copy(update={"metrics_token": None})
        async with running_app(unconfigured) as app, asgi_client(app) as client:
            response = await client.get("/metrics", headers=SCRAPE)
        assert_error(response, 404, "ROUTE_NOT_FOUND")

    async def test_it_is_not_in_the_openapi_document(self, client: httpx.AsyncClient) -> None:
        assert "/metrics" not in (await client.get("/openapi.json")).json()["paths"]

    def test_a_short_token_refuses_to_start(self, settings: Settings) -> None:
        with pytest.raises(ValueError, match="metrics_token"):
            Settings(**{**settings.model_dump(), "metrics_token": "short"})


class TestRequests:
    async def test_counted_by_route_template_method_and_status(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        created = await client.post(LISTS, json=create_body("sandbox-exact-3"), headers=acct.live)
        list_id = created.json()["id"]
        before = await scrape(client)
        for _ in range(3):
            page = await client.get(f"{LISTS}/{list_id}/contacts", headers=acct.live)
            assert page.status_code == 200
        assert (await client.get(f"{LISTS}/cl_missing", headers=acct.live)).status_code == 404
        assert (await client.get("/no/such/route-4711?x=1")).status_code == 404
        assert (await client.get(LISTS)).status_code == 401
        after = await scrape(client)

        def delta(name: str, **labels: str) -> float:
            return value(after, name, **labels) - value(before, name, **labels)

        requests = "contactlists_http_requests_total"
        contacts = f"{LISTS}/{{listId}}/contacts"
        assert delta(requests, route=contacts, method="GET", status="200") == 3
        assert delta(requests, route=f"{LISTS}/{{listId}}", method="GET", status="404") == 1
        assert delta(requests, route="unmatched", method="GET", status="404") == 1
        assert delta(requests, route=LISTS, method="GET", status="401") == 1
        # The scrape itself counts under its own path.
        assert delta(requests, route="/metrics", method="GET", status="200") == 1
        latency = "contactlists_http_request_duration_seconds"
        assert delta(f"{latency}_count", route=contacts, method="GET") == 3
        assert delta(f"{latency}_sum", route=contacts, method="GET") > 0
        # Raw paths (ids, unknown routes) never become labels.
        labels = {value for _, pairs in after for _, value in pairs}
        assert list_id not in labels
        assert not any("route-4711" in label or "cl_missing" in label for label in labels)


class TestSearches:
    async def test_searches_pages_and_credits(
        self, client: httpx.AsyncClient, make_account: MakeAccount
    ) -> None:
        account = await make_account(credits=20)
        before = await scrape(client)
        ok = await client.post(LISTS, json=create_body("sandbox-exact-30"), headers=account.live)
        assert ok.status_code == 201
        failed = await client.post(
            LISTS, json=create_body("sandbox-upstream-error-page-2"), headers=account.live
        )
        assert failed.status_code == 502
        throttled = await client.post(
            LISTS, json=create_body("sandbox-rate-limited"), headers=account.test
        )
        assert throttled.status_code == 503
        after = await scrape(client)

        def delta(name: str, **labels: str) -> float:
            return value(after, name, **labels) - value(before, name, **labels)

        searches = "contactlists_upstream_searches_total"
        assert delta(searches, provider="sandbox", outcome="ok") == 1
        assert delta(searches, provider="sandbox", outcome="upstream_error") == 1
        assert delta(searches, provider="sandbox", outcome="upstream_rate_limited") == 1
        assert delta("contactlists_upstream_search_duration_seconds_count", provider="sandbox") == 3
        # 30 leads: pages of 25 and 5; the failing search got its first page only.
        assert delta("contactlists_upstream_pages_total", provider="sandbox") == 3
        # Two pages with leads cost 2 credits; the failed search was not charged.
        assert delta("contactlists_credits_charged_total") == 2
