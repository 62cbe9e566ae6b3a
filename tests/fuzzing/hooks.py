"""Schemathesis hooks for the fuzzed server (loaded through `SCHEMATHESIS_HOOKS`).

Two documented behaviours would read as failures to a fuzzer that cannot know
them, so the hooks keep the fuzzed account out of them:

- a valid DELETE of the Sales Navigator connection makes every later create a
  422; the sandbox is connected again right after it;
- a create that reuses an `Idempotency-Key` replays the stored 201, even of a
  list deleted since (which the stateful phase then finds missing), or is a 409
  for another body; each valid key is made unique. Invalid keys stay as
  generated, to be refused. Replays and conflicts are tested in
  tests/api/test_idempotency.py.
"""

from __future__ import annotations

import os
import re
import uuid
from typing import Any

import httpx
import schemathesis

from contactlists.idempotency.service import HEADER, KEY_PATTERN

INTEGRATION = "/v1/integrations/sales-navigator"


@schemathesis.hook
def map_headers(context: Any, headers: dict[str, Any] | None) -> dict[str, Any] | None:
    key = (headers or {}).get(HEADER)
    if headers is not None and isinstance(key, str) and re.fullmatch(KEY_PATTERN, key):
        return {**headers, HEADER: uuid.uuid4().hex}
    return headers


@schemathesis.hook
def after_call(context: Any, case: Any, response: Any) -> None:
    if case.operation.path == INTEGRATION and case.method.upper() == "DELETE":
        if response.status_code == 204:
            renewed = httpx.put(
                os.environ["FUZZ_BASE_URL"] + INTEGRATION,
                json={"provider": "sandbox"},
                headers={"Authorization": f"Bearer {os.environ['FUZZ_API_KEY']}"},
            )
            assert renewed.status_code == 200, renewed.text
