"""`contactlists lists ...` and `contactlists contacts search`: a server's contact
lists, and search previews, from a terminal.

Unlike the operator commands, these talk HTTP to a running server through
`contactlists.client`, with an API key, so they work against any deployment.
Commands whose output scripts read print that value alone on the last line of
stdout; spinners and progress bars go to stderr. An API error prints
`error: <message> (<errorCode>, request <id>)` to stderr and exits 1.
"""

from __future__ import annotations

import enum
import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table
from rich.text import Text

from contactlists.cli.output import print_rows
from contactlists.client import (
    DEFAULT_BASE_URL,
    ApiError,
    Client,
    Contact,
    ContactList,
    ContactListsError,
    ContactPreview,
    RetryPolicy,
)

lists_app = typer.Typer(
    help="Contact lists on a running server, through the API (needs an API key).",
    no_args_is_help=True,
)
contacts_app = typer.Typer(
    help="Contacts without a list: search previews, through the API.", no_args_is_help=True
)
console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)

ApiUrl = Annotated[
    str,
    typer.Option("--api-url", envvar="CONTACTLISTS_API_URL", help="The API's base URL."),
]
ApiKey = Annotated[
    str | None,
    typer.Option(
        "--api-key", envvar="CONTACTLISTS_API_KEY", help="An API key.", show_default=False
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print the API's JSON instead.")]
# The search filters' options, as the original's CLI names them.
Companies = Annotated[
    list[str] | None,
    typer.Option("--company-linkedin", help="A company's LinkedIn page URL (repeatable)."),
]
Titles = Annotated[
    list[str] | None, typer.Option("--title", help="A job title to match (repeatable).")
]
Keywords = Annotated[str | None, typer.Option("--keyword", help="Keywords every lead must match.")]
Countries = Annotated[
    list[str] | None,
    typer.Option("--country", help="An ISO 3166-1 alpha-2 country code (repeatable)."),
]
ListId = Annotated[str, typer.Argument(help="The list's id (cl_…), as `lists list` prints it.")]


class Format(enum.StrEnum):
    CSV = "csv"
    NDJSON = "ndjson"


def _say_retrying(failure: BaseException, wait_s: float, attempt: int) -> None:
    """The client retries for a while; say so, and where, instead of hanging silently."""
    errors.print(
        f"{failure} — retrying in {wait_s:.1f} s (attempt {attempt + 1} of {RETRY.max_attempts})…",
        highlight=False,
        markup=False,
    )


RETRY = RetryPolicy(on_retry=_say_retrying)


def _fail(message: str) -> NoReturn:
    errors.print(f"[red]error:[/red] {escape(message)}", highlight=False)
    raise typer.Exit(1)


@contextmanager
def _client(api_url: str, api_key: str | None) -> Iterator[Client]:
    if not api_key:
        _fail("no API key: pass --api-key or set CONTACTLISTS_API_KEY")
    try:
        with Client(api_url, api_key, retry=RETRY) as client:
            yield client
    except ContactListsError as exc:
        if isinstance(exc, ApiError) and exc.error_code == "MISSING_FILTER":
            exc.message = "Give at least one filter: --title, --keyword or --country."
        _fail(str(exc))


def _print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2))


def _wire(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json", by_alias=True)


def _print_contacts(found: Sequence[Contact | ContactPreview], start: int) -> None:
    print_rows(
        ("#", "name", "role", "company", "location", "seniority"),
        (
            (
                str(number),
                contact.full_name or "—",
                contact.role or "—",
                contact.company_name or "—",
                contact.location or "—",
                ", ".join(contact.seniority) or "—",
            )
            for number, contact in enumerate(found, start=start)
        ),
    )


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _show_list(found: ContactList) -> None:
    table = Table(show_header=False, box=None)
    filters = found.filters
    for label, value in (
        ("id", found.id),
        ("name", found.name),
        ("contacts", str(found.contact_count)),
        ("provider", found.provider),
        ("refreshed from", found.refreshed_from or "—"),
        ("companies", ", ".join(filters.company_linked_in_urls)),
        ("job titles", ", ".join(filters.job_titles or ()) or "—"),
        ("keywords", filters.keywords or "—"),
        ("countries", ", ".join(filters.countries or ()) or "—"),
        ("created", _when(found.created_at)),
        ("updated", _when(found.updated_at)),
    ):
        table.add_row(Text(label, style="bold"), Text(value))
    console.print(table, highlight=False)


def _print_created(created: ContactList, as_json: bool) -> None:
    """A new list: its JSON, or a summary and its id alone on the last line."""
    if as_json:
        _print_json(_wire(created))
        return
    _show_list(created)
    print(created.id)


@lists_app.command("create")
def create(
    name: Annotated[str, typer.Option("--name", help="The list's name.")],
    company_linkedin: Annotated[
        list[str],
        typer.Option("--company-linkedin", help="A company's LinkedIn page URL (repeatable)."),
    ],
    title: Titles = None,
    keyword: Keywords = None,
    country: Countries = None,
    idempotency_key: Annotated[
        str | None,
        typer.Option("--idempotency-key", help="Reuse to make a retried create safe."),
    ] = None,
    as_json: AsJson = False,
    api_url: ApiUrl = DEFAULT_BASE_URL,
    api_key: ApiKey = None,
) -> None:
    """Run a lead search and store it as a list; prints its id on the last line.

    Example: contactlists lists create --name "Engineers at Stripe"
    --company-linkedin https://www.linkedin.com/company/stripe --title Engineer"""
    with _client(api_url, api_key) as client, errors.status("Searching Sales Navigator…"):
        created = client.lists.create(
            name=name,
            company_linkedin_urls=company_linkedin,
            job_titles=title,
            keywords=keyword,
            countries=country,
            idempotency_key=idempotency_key,
        )
    _print_created(created, as_json)


@lists_app.command("refresh")
def refresh(
    list_id: str,
    idempotency_key: Annotated[
        str | None,
        typer.Option("--idempotency-key", help="Reuse to make a retried refresh safe."),
    ] = None,
    as_json: AsJson = False,
    api_url: ApiUrl = DEFAULT_BASE_URL,
    api_key: ApiKey = None,
) -> None:
    """Run a list's search again into a new list; prints the new list's id on the last line."""
    with _client(api_url, api_key) as client, errors.status("Searching Sales Navigator…"):
        created = client.lists.refresh(list_id, idempotency_key=idempotency_key)
    _print_created(created, as_json)


@lists_app.command("changes")
def changes(
    list_id: str,
    since: Annotated[str, typer.Option("--since", help="The list to compare with.")],
    as_json: AsJson = False,
    api_url: ApiUrl = DEFAULT_BASE_URL,
    api_key: ApiKey = None,
) -> None:
    """Show who was added, removed or changed in a list since another list."""
    with _client(api_url, api_key) as client:
        page = client.lists.changes_page(list_id, since=since, limit=100)
        found = list(page.items)
        while page.next_offset is not None:
            page = client.lists.changes_page(
                list_id, since=since, limit=100, offset=page.next_offset
            )
            found += page.items
    if as_json:
        _print_json({"summary": _wire(page.summary), "items": [_wire(c) for c in found]})
        return
    print_rows(
        ("change", "name", "before", "after", "fields"),
        (
            (
                item.change,
                _name_of(item.after or item.before),
                _role_at(item.before),
                _role_at(item.after),
                ", ".join(item.changed_fields) or "—",
            )
            for item in found
        ),
    )
    summary = page.summary
    console.print(
        f"{summary.added} added, {summary.removed} removed, {summary.changed} changed, "
        f"{summary.unchanged} unchanged.",
        highlight=False,
        markup=False,
    )


def _name_of(contact: Contact | None) -> str:
    return contact.full_name or "—" if contact is not None else "—"


def _role_at(contact: Contact | None) -> str:
    if contact is None:
        return "—"
    return " at ".join(part for part in (contact.role, contact.company_name) if part) or "—"


@lists_app.command("list")
def list_lists(
    as_json: AsJson = False, api_url: ApiUrl = DEFAULT_BASE_URL, api_key: ApiKey = None
) -> None:
    """List every contact list, newest first.

    Example: contactlists lists list | cut -f1"""
    with _client(api_url, api_key) as client:
        found = list(client.lists.iter())
    if as_json:
        _print_json([_wire(item) for item in found])
        return
    print_rows(
        ("id", "name", "contacts", "provider", "created"),
        (
            (item.id, item.name, str(item.contact_count), item.provider, _when(item.created_at))
            for item in found
        ),
    )


@lists_app.command("get")
def get(
    list_id: ListId,
    as_json: AsJson = False,
    api_url: ApiUrl = DEFAULT_BASE_URL,
    api_key: ApiKey = None,
) -> None:
    """Show one contact list.

    Example: contactlists lists get cl_… --json"""
    with _client(api_url, api_key) as client:
        found = client.lists.get(list_id)
    if as_json:
        _print_json(_wire(found))
    else:
        _show_list(found)


@lists_app.command("rename")
def rename(
    list_id: ListId,
    name: Annotated[str, typer.Option("--name", help="The new name.")],
    api_url: ApiUrl = DEFAULT_BASE_URL,
    api_key: ApiKey = None,
) -> None:
    """Rename a contact list.

    Example: contactlists lists rename cl_… --name "Stripe eng leads"""
    with _client(api_url, api_key) as client:
        renamed = client.lists.rename(list_id, name)
    console.print(f"Renamed {renamed.id} to {renamed.name!r}.", highlight=False, markup=False)


@lists_app.command("delete")
def delete(
    list_id: ListId,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    api_url: ApiUrl = DEFAULT_BASE_URL,
    api_key: ApiKey = None,
) -> None:
    """Delete a contact list and its contacts, permanently; asks first on a terminal.

    Example: contactlists lists delete cl_… --yes"""
    if not yes and sys.stdin.isatty() and not typer.confirm(f"Delete {list_id} for good?"):
        raise typer.Exit(1)
    with _client(api_url, api_key) as client:
        client.lists.delete(list_id)
    console.print(f"Deleted {list_id}.", highlight=False, markup=False)


@lists_app.command("contacts")
def contacts(
    list_id: ListId,
    as_json: AsJson = False,
    api_url: ApiUrl = DEFAULT_BASE_URL,
    api_key: ApiKey = None,
) -> None:
    """Show every contact of a list, in stored order.

    Example: contactlists lists contacts cl_… --json | jq -r '.[].fullName'"""
    with _client(api_url, api_key) as client:
        found = list(client.contacts.iter(list_id))
    if as_json:
        _print_json([_wire(contact) for contact in found])
        return
    _print_contacts(found, start=1)


@lists_app.command("export")
def export(
    list_id: ListId,
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            help="The file to write, or a directory to save it in under the server's name.",
        ),
    ] = Path(),
    fmt: Annotated[Format, typer.Option("--format", help="csv or ndjson.")] = Format.CSV,
    api_url: ApiUrl = DEFAULT_BASE_URL,
    api_key: ApiKey = None,
) -> None:
    """Download every contact of a list as CSV or NDJSON; prints the file on the last line.

    Example: contactlists lists export cl_… --format ndjson -o leads.ndjson"""
    progress = Progress(TextColumn("Exporting"), BarColumn(), MofNCompleteColumn(), console=errors)
    with _client(api_url, api_key) as client:
        total = client.lists.get(list_id).contact_count
        with progress:
            task = progress.add_task("export", total=total)
            written = client.lists.export(
                list_id,
                output,
                format=fmt.value,
                on_progress=lambda added: progress.advance(task, added),
            )
    console.print(f"Wrote {written} contacts to {written.path}.", highlight=False, markup=False)
    print(written.path)


@contacts_app.command("search")
def search(
    company_linkedin: Companies = None,
    title: Titles = None,
    keyword: Keywords = None,
    country: Countries = None,
    department: Annotated[
        list[str] | None,
        typer.Option("--department", help="A Sales Navigator function (repeatable)."),
    ] = None,
    seniority: Annotated[
        list[str] | None,
        typer.Option("--seniority", help="A seniority level, e.g. VP (repeatable)."),
    ] = None,
    first_name: Annotated[str | None, typer.Option("--first-name")] = None,
    last_name: Annotated[str | None, typer.Option("--last-name")] = None,
    limit: Annotated[int, typer.Option("--limit", help="1-100; 0 means 25.")] = 0,
    offset: Annotated[int, typer.Option("--offset", help="offset + limit <= 2500.")] = 0,
    as_json: AsJson = False,
    api_url: ApiUrl = DEFAULT_BASE_URL,
    api_key: ApiKey = None,
) -> None:
    """Preview contacts matching filters, without creating a list (charged per page)."""
    with _client(api_url, api_key) as client, errors.status("Searching Sales Navigator…"):
        page = client.contacts.search(
            company_linkedin_urls=company_linkedin,
            job_titles=title,
            keywords=keyword,
            countries=country,
            departments=department,
            seniority_levels=seniority,
            first_name=first_name,
            last_name=last_name,
            limit=limit,
            offset=offset,
        )
    if as_json:
        _print_json(_wire(page))
        return
    if not page.sales_nav_connected:
        _fail("Sales Navigator is not connected on this account; connect it first.")
    _print_contacts(page.items, start=page.offset + 1)
    shown = f"{page.offset + 1}-{page.offset + len(page.items)}" if page.items else "none"
    console.print(f"Showing {shown} of {page.total} matches.", highlight=False, markup=False)
