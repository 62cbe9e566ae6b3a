"""A Python client for the Contact Lists API, blocking (`Client`) or asyncio (`AsyncClient`).

from contactlists.client import Client

with Client("http://127.0.0.1:8000", "sk_live_...") as client:
    created = client.lists.create(
        name="Engineers at Stripe",
        company_linkedin_urls=["https://www.linkedin.com/company/stripe"],
        job_titles=["Engineer"],
    )
    for contact in client.contacts.iter(created.id):
        print(contact.full_name, contact.role)
    client.lists.export(created.id, "stripe.csv")
"""

from contactlists.client._async import AsyncClient
from contactlists.client._core import (
    DEFAULT_BASE_URL,
    DEFAULT_TIMEOUT_S,
    CreateListParams,
    ExportFormat,
    RetryPolicy,
    SearchParams,
)
from contactlists.client._sync import Client
from contactlists.client.errors import (
    ApiError,
    AuthenticationError,
    AuthorizationError,
    ConflictError,
    ConnectionFailed,
    ContactListsError,
    FieldError,
    InsufficientCreditsError,
    InternalServerError,
    NotFoundError,
    PreconditionError,
    RateLimitError,
    RequestError,
    UnavailableError,
    UpstreamError,
    ValidationError,
)
from contactlists.client.models import (
    ChangePage,
    ChangeSummary,
    Connection,
    Contact,
    ContactChange,
    ContactList,
    ContactPreview,
    Credits,
    ListFilters,
    Member,
    Page,
    SearchPage,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_TIMEOUT_S",
    "ApiError",
    "AsyncClient",
    "AuthenticationError",
    "AuthorizationError",
    "ChangePage",
    "ChangeSummary",
    "Client",
    "ConflictError",
    "Connection",
    "ConnectionFailed",
    "Contact",
    "ContactChange",
    "ContactList",
    "ContactListsError",
    "ContactPreview",
    "CreateListParams",
    "Credits",
    "ExportFormat",
    "FieldError",
    "InsufficientCreditsError",
    "InternalServerError",
    "ListFilters",
    "Member",
    "NotFoundError",
    "Page",
    "PreconditionError",
    "RateLimitError",
    "RequestError",
    "RetryPolicy",
    "SearchPage",
    "SearchParams",
    "UnavailableError",
    "UpstreamError",
    "ValidationError",
]
