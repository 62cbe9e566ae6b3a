"""Search providers, chosen in one place."""

from __future__ import annotations

from contactlists.core.settings import Settings
from contactlists.providers.base import LeadSearchProvider

PROVIDER_NAMES = ("linkedin", "sandbox")


def get_provider(name: str, settings: Settings) -> LeadSearchProvider:
    """A provider for one search (the sandbox reads its clock when built). `linkedin`
    needs a seat first (its cookies, lock, budget and company ids), so
    `connections.search` builds it."""
    if name == "sandbox":
        # Imported on the first sandbox search: its tables cost an idle server ~0.2 MiB.
        from contactlists.providers.sandbox import SandboxProvider

        return SandboxProvider(
            latency_ms=settings.sandbox_latency_ms,
            time_shift_days=settings.sandbox_time_shift_days,
        )
    raise LookupError(f"provider {name!r} is not available in this build")
