"""`contactlists lists ...`: a server's contact lists from a terminal.

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
from collections.abc import Iterator
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
    ContactList,
    ContactListsError,
    RetryPolicy,
)

lists_app = typer.Typer(
    help="Contact lists on a running server, through the API (needs an API key).",
    no_args_is_help=True,
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
        ("companies", ", ".join(filters.company_linked_in_urls)),
        ("job titles", ", ".join(filters.job_titles or ()) or "—"),
        ("keywords", filters.keywords or "—"),
        ("countries", ", ".join(filters.countries or ()) or "—"),
        ("created", _when(found.created_at)),
        ("updated", _when(found.updated_at)),
    ):
        table.add_row(Text(label, style="bold"), Text(value))
    console.print(table, highlight=False)


@lists_app.command("create")
def create(
    name: Annotated[str, typer.Option("--name", help="The list's name.")],
    company_linkedin: Annotated[
        list[str],
        typer.Option("--company-linkedin", help="A company's LinkedIn page URL (repeatable)."),
    ],
    title: Annotated[
        list[str] | None, typer.Option("--title", help="A job title to match (repeatable).")
    ] = None,
    keyword: Annotated[
        str | None, typer.Option("--keyword", help="Keywords every lead must match.")
    ] = None,
    country: Annotated[
        list[str] | None,
        typer.Option("--country", help="An ISO 3166-1 alpha-2 country code (repeatable)."),
    ] = None,
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
    if as_json:
        _print_json(_wire(created))
        return
    _show_list(created)
    print(created.id)


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
            for number, contact in enumerate(found, start=1)
        ),
    )


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
