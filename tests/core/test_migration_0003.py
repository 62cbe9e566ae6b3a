"""Migration 0003 adds `refreshed_from` (null on existing lists) and takes it away again."""

from __future__ import annotations

from tests.core.test_migration_0002 import _SEED, _migrate, _run
from tests.core.test_migration_0002 import empty_database as empty_database

REFRESHED = "UPDATE contact_lists SET refreshed_from = 'cl_0'"


def test_refreshed_from_is_added_null_and_dropped(empty_database: str) -> None:
    url = empty_database
    _migrate(url, "0002")
    _run(url, _SEED[:3])
    _run(url, [_SEED[3].replace(", profile_id,", ", sales_navigator_lead,")])
    _migrate(url, "0003")
    assert _run(url, ["SELECT refreshed_from FROM contact_lists"]) == [None]
    _run(url, [REFRESHED])
    assert _run(url, ["SELECT refreshed_from FROM contact_lists"]) == ["cl_0"]
    _migrate(url, "0002", down=True)
    # The lists' items survive (a copy of the table would cascade them away).
    assert _run(url, ["SELECT count(*) FROM contact_list_items"]) == [1]
    _migrate(url, "0003")
    assert _run(url, ["SELECT refreshed_from FROM contact_lists"]) == [None]
