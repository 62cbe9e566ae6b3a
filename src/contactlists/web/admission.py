"""Admitting a request: authenticate it, then spend its rate-limit budget."""

from __future__ import annotations

from starlette.requests import Request

from contactlists.core.auth import OwnedRowProbe, authenticate, bearer_token
from contactlists.core.errors import Unauthenticated
from contactlists.web.headers import header
from contactlists.web.ratelimit import Budget, RequestLimits, client_address
from contactlists.web.state import state_of


async def admit(request: Request, probe: OwnedRowProbe | None) -> None:
    """Authenticate, then spend the account's request budget.

    A request that fails authentication spends its client address's budget
    instead, and gets its 401 only while that budget lasts. A route's `probe`
    has its row read with the key (`auth.probed_row_of` gives it back).
    """
    scope = request.scope
    app = state_of(request)
    state = scope["state"]
    limits = state["rate_limits"] = RequestLimits(app.limiter)
    probed = (probe, request.path_params[probe.parameter]) if probe is not None else None
    try:
        principal, row = await authenticate(
            app.database, app.reads, bearer_token(header(scope, b"authorization")), probed
        )
    except Unauthenticated:
        address = client_address(
            request.client.host if request.client else None,
            request.headers.getlist("x-forwarded-for"),
            app.settings.trusted_proxies,
        )
        await limits.spend(Budget.UNAUTHENTICATED, address)
        raise
    state["principal"] = principal
    state["probed_row"] = row
    await limits.spend(Budget.REQUESTS, principal.account_id)
