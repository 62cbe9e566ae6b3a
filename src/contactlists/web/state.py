"""The application's state, typed: what the lifespan puts on `app.state`.

Starlette's `State` is untyped; `AppState` is the one place that says what each
attribute holds, so handlers and dependencies never guess.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.datastructures import State
from starlette.requests import HTTPConnection

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from contactlists.core.db import Database
    from contactlists.core.readstore import ReadStore
    from contactlists.core.settings import Settings
    from contactlists.lists.page_cache import PageCache
    from contactlists.providers.linkedin import LinkedInHttp
    from contactlists.web.ratelimit import Limiter
    from contactlists.web.shielding import ShieldedWork


class AppState(State):
    """`app.state` with its attributes stored as plain attributes.

    Starlette's `State` keeps them in a dict behind `__getattr__`, a Python
    call for every read, and a hot read makes several.
    """

    database: Database
    reads: ReadStore
    settings: Settings
    limiter: Limiter
    # The process's opener of conversations with LinkedIn.
    http: LinkedInHttp
    shielded: ShieldedWork
    page_cache: PageCache
    # The API's own routes, in the routers' order (the unknown-route 404 reads them).
    api_routes: list[BaseRoute]

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        object.__delattr__(self, name)


def state_of(request: HTTPConnection) -> AppState:
    state: AppState = request.scope["app"].state
    return state
