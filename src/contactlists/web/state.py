"""The application's state, typed: what the lifespan puts on `app.state`.

Starlette's `State` is untyped; `AppState` is the one place that says what each
attribute holds, so handlers and dependencies never guess.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, cast

from starlette.requests import HTTPConnection

if TYPE_CHECKING:
    from contactlists.core.db import Database
    from contactlists.core.readstore import ReadStore
    from contactlists.core.settings import Settings
    from contactlists.lists.page_cache import PageCache
    from contactlists.providers.linkedin import LinkedInHttp
    from contactlists.web.ratelimit import Limiter
    from contactlists.web.shielding import ShieldedWork


class AppState(Protocol):
    database: Database
    reads: ReadStore
    settings: Settings
    limiter: Limiter
    # The process's opener of conversations with LinkedIn.
    http: LinkedInHttp
    shielded: ShieldedWork
    page_cache: PageCache


def state_of(request: HTTPConnection) -> AppState:
    return cast("AppState", request.app.state)
