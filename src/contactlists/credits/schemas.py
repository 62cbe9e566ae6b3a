"""Wire models of the credits feature."""

from __future__ import annotations

from contactlists.core.schemas import WireModel


class CreditsOut(WireModel):
    remaining_credits: int | None
    unlimited: bool
