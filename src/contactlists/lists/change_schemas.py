"""Wire models of a list's changes since another list (`changes`).

Apart from `schemas`, which holds the list and contact models these build on.
"""

from __future__ import annotations

from typing import Literal

from contactlists.core.schemas import WireModel
from contactlists.lists.schemas import ContactOut

Compared = Literal["role", "companyName", "location", "seniority"]


class ContactChange(WireModel):
    change: Literal["added", "removed", "changed"]
    base_contact_id: str
    before: ContactOut | None  # the person in the older list; null when added
    after: ContactOut | None  # the person in the newer list; null when removed
    changed_fields: list[Compared]


class ChangeSummary(WireModel):
    added: int
    removed: int
    changed: int
    unchanged: int


class ChangePage(WireModel):
    items: list[ContactChange]
    total: int
    limit: int
    offset: int
    has_more: bool
    summary: ChangeSummary
