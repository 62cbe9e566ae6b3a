"""The time: aware UTC now, and the contract's timestamp format."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def rfc3339(moment: datetime | str) -> str:
    """The contract's timestamps: UTC, whole seconds, `Z` suffix.

    Also takes SQLite's stored text (`YYYY-MM-DD HH:MM:SS.ffffff`, always UTC),
    which the raw read path gets without a parse. A datetime is cut from its
    `isoformat()`, which costs half of `strftime` (a contacts page formats one
    per contact).
    """
    if isinstance(moment, str):
        return moment[:19].replace(" ", "T") + "Z"
    return moment.isoformat()[:19] + "Z"
