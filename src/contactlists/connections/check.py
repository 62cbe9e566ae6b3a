"""`contactlists connections check`: a real search's steps, one at a time, reported.

What a user runs, and attaches to a bug report, when the first real search
goes wrong: the stored session, the member (`/me`), the seat
(`salesApiIdentity`), the contract, optionally a company lookup and one
search page of one lead. Each step says whether it worked, how long it took,
the names of the cookies sent and received and, on failure, which signal
LinkedIn gave; never a cookie's value, and never a lead's data. It runs under
the seat's lock and stores any cookies LinkedIn rotates, as a search would;
the search page counts against the seat's daily budget.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from contactlists.connections import repository, seat_repository, seats
from contactlists.connections import service as connections
from contactlists.connections.crypto import UndecryptableCredentials
from contactlists.core.clock import utcnow
from contactlists.core.db import Database
from contactlists.core.settings import Settings
from contactlists.providers.base import (
    LeadQuery,
    ProviderError,
    SeatRequired,
    SessionExpired,
    UnknownCompany,
    UpstreamRateLimited,
)
from contactlists.providers.linkedin import (
    ExchangeRecord,
    LinkedInHttp,
    LinkedInProvider,
    LinkedInSession,
)
from contactlists.providers.linkedin_cookies import LI_A
from contactlists.providers.linkedin_query import Contract, numeric_company_id, universal_name

Status = Literal["ok", "failed", "skipped"]


@dataclass
class CheckStep:
    name: str
    status: Status = "skipped"
    detail: str = ""
    signal: str | None = None
    duration_ms: int = 0
    requests: list[ExchangeRecord] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "step": self.name,
            "status": self.status,
            "detail": self.detail,
            "signal": self.signal,
            "durationMs": self.duration_ms,
            "requests": [
                {
                    "method": r.method,
                    "path": r.path,
                    "status": r.status,
                    "cookiesSent": list(r.cookies_sent),
                    "cookiesReceived": list(r.cookies_received),
                }
                for r in self.requests
            ],
        }


Action = Callable[[CheckStep], Awaitable[None]]


@dataclass
class CheckReport:
    account: str
    provider: str | None
    state: str
    steps: list[CheckStep] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(step.status != "failed" for step in self.steps)

    def to_json(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "provider": self.provider,
            "state": self.state,
            "ok": self.ok,
            "steps": [step.to_json() for step in self.steps],
        }


def signal_of(exc: ProviderError) -> str:
    """The name a failure goes by in the report (the `lastError` prefix where it has one)."""
    if isinstance(exc, SessionExpired):
        return exc.signal
    if isinstance(exc, SeatRequired):
        return "SALES_NAVIGATOR_SEAT_REQUIRED"
    if isinstance(exc, UpstreamRateLimited):
        return "THROTTLED"
    if isinstance(exc, UnknownCompany):
        return "UNKNOWN_COMPANY"
    return "UPSTREAM_ERROR"


class _Steps:
    """Runs the steps in order; after the first failure the rest are skipped."""

    def __init__(self, report: CheckReport) -> None:
        self._report = report
        self._current: CheckStep | None = None
        # The failure after which the seat cannot search until it is reconnected.
        self.session_end: SessionExpired | SeatRequired | None = None

    async def run(self, name: str, action: Action) -> None:
        step = CheckStep(name)
        self._report.steps.append(step)
        if not self._report.ok:
            step.detail = "an earlier step failed"
            return
        self._current = step
        started = time.perf_counter()
        try:
            await action(step)
            step.status = "failed" if step.signal else "ok"
        except ProviderError as exc:
            step.status, step.signal = "failed", signal_of(exc)
            step.detail = str(exc) or type(exc).__name__
            if isinstance(exc, SessionExpired | SeatRequired):
                self.session_end = exc
        finally:
            step.duration_ms = round((time.perf_counter() - started) * 1000)
            self._current = None

    def record(self, exchange: ExchangeRecord) -> None:
        if self._current is not None:
            self._current.requests.append(exchange)


async def check_connection(
    database: Database,
    settings: Settings,
    http: LinkedInHttp,
    account: tuple[str, str],
    *,
    company_url: str | None = None,
    search: bool = False,
) -> CheckReport:
    """Check the account's (id, name) LinkedIn seat step by step."""
    account_id, name = account
    async with database.transaction() as conn:
        row = await repository.get(conn, account_id)
    report = CheckReport(name, row.provider if row else None, row.state if row else "not_connected")
    steps = _Steps(report)
    loaded: list[connections.SeatStore] = []

    async def stored_session(step: CheckStep) -> None:
        if row is None or row.provider != "linkedin":
            step.signal, step.detail = "NOT_CONNECTED", "no LinkedIn connection to check"
            return
        try:
            store = await connections.SeatStore.load(database, settings, account_id)
        except UndecryptableCredentials:
            step.signal, step.detail = "UNDECRYPTABLE", connections.UNDECRYPTABLE
            return
        loaded.append(store)
        cookies = store.state.cookies
        missing = [*cookies.missing_required(), *([] if cookies.get(LI_A) else [LI_A])]
        step.detail = (
            f"cookies held: {', '.join(cookies.names)}; "
            f"missing: {', '.join(missing) or 'none'}; "
            f"contract: {store.state.contract or 'not chosen yet'}"
        )

    await steps.run("stored session", stored_session)
    if not loaded:
        return report
    store = loaded[0]
    async with seats.seat_lock(database, account_id, settings), http.conversation() as chat:
        session = LinkedInSession(
            chat,
            settings.linkedin_base_url,
            store.state.cookies,
            options=connections.session_options(settings, store.state.contract, retries=False),
            on_jar_change=store.save,
            on_exchange=steps.record,
        )
        actions = _session_steps(session)
        if company_url is not None:
            actions += _company_steps(session, database, account_id, company_url, search)
        for step_name, action in actions:
            await steps.run(step_name, action)
    if steps.session_end is not None:
        # What a search would conclude from the same answer, with the same lastError.
        async with database.transaction(write=True) as conn:
            await repository.mark_expired(conn, account_id, str(steps.session_end))
    return report


def _session_steps(session: LinkedInSession) -> list[tuple[str, Action]]:
    contracts: list[Contract] = []

    async def member(step: CheckStep) -> None:
        found = await session.member()
        step.detail = f"{found.name or 'no name'} ({found.public_identifier or '?'})"

    async def seat(step: CheckStep) -> None:
        contracts.extend(await session.contracts())
        if not contracts:
            raise SeatRequired("this LinkedIn member has no Sales Navigator seat")
        step.detail = "contracts: " + ", ".join(c.name for c in contracts)

    async def contract(step: CheckStep) -> None:
        chosen = session.choose(contracts)
        if session.cookies.get(LI_A):
            step.detail = f"li_a held; contract {chosen.name}"
        else:
            await session.select_contract(chosen)
            step.detail = f"selected {chosen.name}; li_a set"

    return [
        ("member (/voyager/api/me)", member),
        ("seat (salesApiIdentity)", seat),
        ("contract", contract),
    ]


def _company_steps(
    session: LinkedInSession, database: Database, account_id: str, url: str, search: bool
) -> list[tuple[str, Action]]:
    company_ids: dict[str, str] = {}

    async def company(step: CheckStep) -> None:
        numeric = numeric_company_id(url)
        if numeric is not None:
            step.detail = f"organization {numeric} (numeric URL: no lookup needed)"
            return
        found = await session.lookup_company_id(universal_name(url))
        if found is None:
            raise UnknownCompany(company_url=url)
        company_ids[url] = found
        step.detail = f"organization {found}"

    async def search_page(step: CheckStep) -> None:
        async with database.transaction(write=True) as conn:
            await seat_repository.add_page(conn, account_id, utcnow().date().isoformat())
        page = await LinkedInProvider(session, company_ids).fetch_page(LeadQuery((url,)), 0, 1)
        step.detail = f"{page.total if page.total is not None else '?'} matches in total"

    steps: list[tuple[str, Action]] = [("company lookup", company)]
    if search:
        steps.append(("search page (count=1)", search_page))
    return steps
