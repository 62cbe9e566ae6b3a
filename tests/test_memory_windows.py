"""The in-memory moving windows: the same decisions and figures as a moving window
should give, a window that slides, and no memory kept for callers who stopped."""

from __future__ import annotations

import pytest

from contactlists.web import ratelimit
from contactlists.web.ratelimit import SWEEP_INTERVAL_S, MemoryWindows, window_of


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(ratelimit.time, "time", clock)
    return clock


def test_refuses_at_the_limit_and_reports_remaining(clock: Clock) -> None:
    windows = MemoryWindows()
    item = window_of("3/minute")
    outcomes = []
    for _ in range(4):
        allowed, usage = windows.hit(item, "REQUESTS", "acct")
        outcomes.append((allowed, usage.remaining))
        clock.now += 1
    assert outcomes == [(True, 2), (True, 1), (True, 0), (False, 0)]
    assert usage.limit == 3
    assert usage.description == "3 per 1 minute"
    # The window resets when its oldest hit (at t0) leaves it.
    assert usage.reset_at == 1_000_000.0 + 60


def test_window_slides_one_hit_at_a_time(clock: Clock) -> None:
    windows = MemoryWindows()
    item = window_of("2/minute")
    windows.hit(item, "REQUESTS", "acct")
    clock.now += 30
    windows.hit(item, "REQUESTS", "acct")
    assert windows.hit(item, "REQUESTS", "acct")[0] is False
    clock.now += 30  # the first hit leaves the window; the second is still in it
    allowed, usage = windows.hit(item, "REQUESTS", "acct")
    assert allowed
    assert usage.remaining == 0
    assert usage.reset_at == 1_000_000.0 + 30 + 60


def test_refused_hits_do_not_count(clock: Clock) -> None:
    windows = MemoryWindows()
    item = window_of("1/second")
    assert windows.hit(item, "REQUESTS", "acct")[0]
    for _ in range(5):
        assert not windows.hit(item, "REQUESTS", "acct")[0]
    clock.now += 1.01
    assert windows.hit(item, "REQUESTS", "acct")[0]


def test_budgets_identifiers_and_limits_are_separate(clock: Clock) -> None:
    windows = MemoryWindows()
    one = window_of("1/minute")
    assert windows.hit(one, "REQUESTS", "a")[0]
    assert windows.hit(one, "REQUESTS", "b")[0]
    assert windows.hit(one, "CREATES", "a")[0]
    # A changed setting is a new window, as the `limits` package keys it.
    assert windows.hit(window_of("2/minute"), "REQUESTS", "a")[0]
    assert not windows.hit(one, "REQUESTS", "a")[0]


def test_idle_windows_are_forgotten(clock: Clock) -> None:
    windows = MemoryWindows()
    for address in range(100):
        windows.hit(window_of("5/second"), "UNAUTHENTICATED", f"10.0.0.{address}")
    windows.hit(window_of("5/hour"), "REQUESTS", "acct")
    assert len(windows) == 101
    clock.now += SWEEP_INTERVAL_S + 1
    windows.hit(window_of("5/hour"), "REQUESTS", "acct")
    # The hour-long window still holds hits; the second-long ones are gone.
    assert len(windows) == 1
