"""The contract's timestamp format, from each form a stored time arrives in."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from contactlists.core.clock import rfc3339


@pytest.mark.parametrize(
    "moment",
    [
        "2026-11-27 12:34:56.789012",  # SQLite's stored text
        "2026-11-27 12:34:56",
        datetime(2026, 11, 27, 12, 34, 56, 789012, tzinfo=UTC),  # asyncpg, SQLAlchemy
        datetime(2026, 11, 27, 12, 34, 56, tzinfo=UTC),  # no fraction: `isoformat` omits it
        datetime(2026, 11, 27, 12, 34, 56, 999999),
    ],
)
def test_a_timestamp_is_utc_whole_seconds_with_a_z(moment: str | datetime) -> None:
    assert rfc3339(moment) == "2026-11-27T12:34:56Z"


def test_an_early_year_keeps_four_digits() -> None:
    assert rfc3339(datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC)) == "0999-01-02T03:04:05Z"
