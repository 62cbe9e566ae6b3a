"""Helpers for API tests of the LinkedIn connection and searches."""

from __future__ import annotations

from typing import Any

import httpx

from contactlists.core.settings import Settings
from tests.conftest import AccountKeys
from tests.fakes.linkedin_server import JSESSIONID, LI_AT, FakeLinkedIn

INTEGRATION = "/v1/integrations/sales-navigator"
LINKEDIN_PUT: dict[str, Any] = {
    "provider": "linkedin",
    "liAt": LI_AT,
    "jsessionId": f'"{JSESSIONID}"',
}
# A secret key to rotate to from the tests' own.
NEW_SECRET = "a-brand-new-secret-key-after-rotation-0123456789"
# A create the fake answers once it knows `stripe` with managers.
MANAGERS_AT_STRIPE: dict[str, Any] = {
    "name": "Managers",
    "filters": {
        "companyLinkedInUrls": ["https://www.linkedin.com/company/stripe"],
        "jobTitles": ["Manager"],
    },
}


def against_fake(settings: Settings, fake: FakeLinkedIn, **changes: Any) -> Settings:
    """The test settings pointed at the fake, with no pauses and no backoff."""
    return settings.model_copy(
        update={
            "linkedin_base_url": fake.base_url,
            "linkedin_page_delay_ms": 0,
            "linkedin_retry_backoff_ms": 0,
            "search_lock_wait_s": 0,
            **changes,
        }
    )


async def connect_linkedin(client: httpx.AsyncClient, account: AccountKeys) -> dict[str, Any]:
    response = await client.put(INTEGRATION, json=LINKEDIN_PUT, headers=account.live)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
