"""Migration 0004 adds `accounts.lists_version` (0 on existing accounts) and takes it away again."""

from __future__ import annotations

from tests.core.test_migration_0002 import _SEED, _migrate, _run
from tests.core.test_migration_0002 import empty_database as empty_database

BUMP = "UPDATE accounts SET lists_version = lists_version + 1"
VERSION = "SELECT lists_version FROM accounts"


def test_lists_version_is_added_at_zero_and_dropped(empty_database: str) -> None:
    url = empty_database
    _migrate(url, "0003")
    _run(url, _SEED[:3])
    _run(url, [_SEED[3].replace(", profile_id,", ", sales_navigator_lead,")])
    _migrate(url, "0004")
    assert _run(url, [VERSION]) == [0]
    assert _run(url, [BUMP, VERSION]) == [None, 1]
    # An account made without naming it (as before this revision) starts at 0.
    other = _SEED[0].replace("acct_1", "acct_2").replace("'a'", "'b'")
    assert _run(url, [other, f"{VERSION} WHERE id = 'acct_2'"]) == [None, 0]
    _migrate(url, "0003", down=True)
    # Accounts, and the lists and items under them, survive (a copy of the
    # table would cascade them away).
    assert _run(url, ["SELECT count(*) FROM contact_list_items"]) == [1]
    _migrate(url, "0004")
    assert _run(url, [VERSION + " WHERE id = 'acct_1'"]) == [0]
