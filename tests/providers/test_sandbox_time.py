"""Time in the sandbox: a deterministic month-by-month drift of ordinary companies."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from contactlists.core.settings import Environment, Settings
from contactlists.providers import sandbox_time
from contactlists.providers.base import LeadQuery
from contactlists.providers.sandbox import SandboxProvider, _generate, company_population

# An ordinary company of one chunk: it ages exactly as a whole (19 people).
COMPANY = "acme-widgets"
ACME = f"https://www.linkedin.com/company/{COMPANY}"


def ids(month: int, company: str = COMPANY) -> set[str]:
    return {person.profile_id for person in company_population(company, month)}


class TestClock:
    def test_months_count_from_the_epoch(self) -> None:
        assert sandbox_time.sandbox_month(0, datetime(2026, 11, 27, tzinfo=UTC)) == 0
        assert sandbox_time.sandbox_month(0, datetime(2026, 1, 1, tzinfo=UTC)) == 0
        assert sandbox_time.sandbox_month(0, datetime(2027, 1, 1, tzinfo=UTC)) == 2
        assert sandbox_time.sandbox_month(31, datetime(2026, 11, 30, tzinfo=UTC)) == 1
        assert sandbox_time.sandbox_month(365, datetime(2026, 11, 1, tzinfo=UTC)) == 12

    def test_31_days_always_reach_a_later_month(self) -> None:
        for day in range(1, 32):
            moment = datetime(2027, 1, day, tzinfo=UTC)
            later = sandbox_time.sandbox_month(31, moment)
            assert later > sandbox_time.sandbox_month(0, moment)

    def test_the_setting_shifts_the_clock(self, monkeypatch: pytest.MonkeyPatch) -> None:
        dev = Environment.DEVELOPMENT
        assert Settings(env=dev, secret_key="x" * 64).sandbox_time_shift_days == 0
        monkeypatch.setenv("CONTACTLISTS_SANDBOX_TIME_SHIFT_DAYS", "31")
        assert Settings(env=dev, secret_key="x" * 64).sandbox_time_shift_days == 31


class TestDrift:
    def test_month_zero_is_the_generated_population(self) -> None:
        assert company_population(COMPANY, 0) == company_population(COMPANY)

    def test_people_leave_change_titles_and_join(self) -> None:
        before = {p.profile_id: p for p in company_population(COMPANY)}
        after = {p.profile_id: p for p in company_population(COMPANY, 6)}
        left = before.keys() - after.keys()
        joined = after.keys() - before.keys()
        retitled = [
            pid for pid in after.keys() & before.keys() if after[pid].title != before[pid].title
        ]
        assert left
        assert 0 < len(joined) <= sandbox_time.joiners(len(before), 6)  # some left again
        assert retitled
        for pid in retitled:
            assert after[pid].title in after[pid].headline

    def test_each_month_continues_the_last(self) -> None:
        original = ids(0)
        for month in range(1, 8):
            # Who left stays gone: of the original people, each month keeps a subset.
            assert ids(month) & original <= ids(month - 1) & original

    def test_the_same_month_is_the_same_people_when_computed_afresh(self) -> None:
        hire = lambda n: _generate(COMPANY, n, None)  # noqa: E731
        fresh = sandbox_time.as_of(COMPANY, company_population(COMPANY), 4, hire)
        assert fresh == company_population(COMPANY, 4)

    def test_an_empty_company_stays_empty(self) -> None:
        empty = next(c for c in (f"empty-{n}" for n in range(2000)) if not company_population(c))
        assert company_population(empty, 12) == ()


class TestProvider:
    async def test_a_shifted_clock_changes_ordinary_companies_only(self) -> None:
        query = LeadQuery(company_urls=(ACME,), keywords="acme")
        exact = LeadQuery(
            company_urls=("https://www.linkedin.com/company/sandbox-exact-30",), job_titles=("CTO",)
        )
        now, later = SandboxProvider(), SandboxProvider(time_shift_days=365)
        assert (await now.fetch_page(query, 0, 25)) != (await later.fetch_page(query, 0, 25))
        assert (await now.fetch_page(exact, 0, 25)) == (await later.fetch_page(exact, 0, 25))

    async def test_no_clock_is_the_generated_population(self) -> None:
        query = LeadQuery(company_urls=(ACME,), keywords="acme")
        page = await SandboxProvider().fetch_page(query, 0, 25)
        assert page.total == len(company_population(COMPANY))
