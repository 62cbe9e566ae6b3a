"""The `contactlists` operator command.

Commands whose output scripts read print that value alone on the last line of
stdout; everything meant for people goes through Rich. Failures print one clear
line to stderr and exit non-zero.

`serve` hands its process to `python -m contactlists.web` once its checks pass,
so none of this reaches a server. Commands still start quickly: Rich is loaded
on the first output, and `lists` (an HTTP client of the API) when it is invoked.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from pydantic import ValidationError
from typer.core import TyperCommand, TyperGroup, TyperOption

from contactlists.accounts import service as accounts
from contactlists.cli.output import print_json, print_rows
from contactlists.connections import service as connections
from contactlists.core.db import AnyRow, Database, DatabaseNotMigrated
from contactlists.core.settings import (
    ENV_FILE,
    VAR_DIR,
    ConfigurationError,
    Environment,
    Settings,
    ensure_development_env_file,
    ensure_development_secret,
    get_settings,
)
from contactlists.credits import service as credits
from contactlists.idempotency import service as idempotency
from contactlists.mcp.command import mcp_command

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

T = TypeVar("T")
DEMO_ACCOUNT = "demo"
# The client's command groups (`contactlists.cli.client`), imported when looked up.
CLIENT_COMMANDS = {"lists": "lists_app", "contacts": "contacts_app"}
DEMO_KEY_FILE = VAR_DIR / "demo_key"


class _Commands(TyperGroup):
    """The operator commands, then `lists` and `contacts`, imported only when looked up.

    They talk to a server over HTTP (httpx, Rich progress bars): ~6 MiB
    resident that `serve` would otherwise carry into the server. The `ctx` and
    command types are Any because typer 0.29 vendors Click's under a private name.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Stand-ins under the names, so listings and "Did you mean 'lists'?"
        # see them; `get_command` answers with the real group.
        for name in CLIENT_COMMANDS:
            self.commands[name] = TyperCommand(name)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in CLIENT_COMMANDS:
            return super().get_command(ctx, cmd_name)
        from contactlists.cli import client

        group = typer.main.get_group(getattr(client, CLIENT_COMMANDS[cmd_name]))
        group.name = cmd_name
        return group


def _flag_without_type(self: TyperOption, ctx: Any) -> str | None:
    """typer 0.29 shows a flag as `--json <bool>`, as if it took a value: show none."""
    return None if self.is_flag else _typed_option(self, ctx)


_typed_option = TyperOption.display_type_rich
TyperOption.display_type_rich = _flag_without_type  # type: ignore[method-assign]

app = typer.Typer(help="Operate a Contact Lists API service.", no_args_is_help=True, cls=_Commands)
accounts_app = typer.Typer(help="Accounts.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
connect_app = typer.Typer(
    help="Connect an account to a lead-search provider.", no_args_is_help=True
)
app.add_typer(accounts_app, name="accounts")
app.add_typer(keys_app, name="keys")
app.add_typer(connect_app, name="connect")
connections_app = typer.Typer(help="Accounts' Sales Navigator connections.", no_args_is_help=True)
app.add_typer(connections_app, name="connections")
# The agent tools over stdio; the MCP SDK is imported only when the command runs.
app.command("mcp")(mcp_command)

AccountOption = Annotated[str, typer.Option("--account", help="Account id or name.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead, for scripts.")]


@cache
def _console(stderr: bool = False) -> Console:
    from rich.console import Console

    return Console(stderr=stderr)


def _table(*columns: str) -> Table:
    from rich.table import Table

    return Table(*columns)


def _settings(*, ensure_secret: bool = True) -> Settings:
    try:
        settings = get_settings()
        if (
            ensure_secret
            and settings.env is Environment.DEVELOPMENT
            and not settings.secret_key.get_secret_value()
        ):
            ensure_development_secret()
            get_settings.cache_clear()
            settings = get_settings()
        return settings
    except (ConfigurationError, ValidationError) as exc:
        _fail(str(exc))


def _fail(message: str) -> NoReturn:
    # soft_wrap: a command in the message stays on one line, to copy whole.
    _console(stderr=True).print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


def _run(work: Callable[[Database], Awaitable[T]]) -> T:
    """Run one operator action on the configured database."""

    async def main() -> T:
        database = Database.from_settings(_settings())
        try:
            return await work(database)
        finally:
            await database.dispose()

    try:
        return asyncio.run(main())
    except (accounts.OperatorError, DatabaseNotMigrated) as exc:
        _fail(str(exc))


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "—"


def _iso(moment: datetime | None) -> str | None:
    """A moment as the API writes it (`2026-11-26T12:00:00Z`)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def _done(as_json: bool, value: dict[str, Any], message: str) -> None:
    """Say what was done: the message to people, or the value as JSON."""
    if as_json:
        print_json(value)
    else:
        _console().print(message, highlight=False)


@app.command()
def migrate(as_json: AsJson = False) -> None:
    """Create or upgrade the database schema.

    Example: contactlists migrate"""
    from contactlists.core.db import engine_options
    from contactlists.core.migrate import upgrade

    settings = _settings()
    upgrade(settings.database_url, engine_options(settings))
    _done(as_json, {"migrated": True}, "[green]Database migrated.[/green]")


@accounts_app.command("create")
def accounts_create(
    name: Annotated[str, typer.Argument(help="The account's name (unique).")],
    credits: Annotated[
        int | None, typer.Option("--credits", help="Start with N credits (a limited account).")
    ] = None,
    unlimited: Annotated[
        bool, typer.Option("--unlimited", help="Never charge credits (the default).")
    ] = False,
    as_json: AsJson = False,
) -> None:
    """Create an account; prints its id on the last line.

    Example: contactlists accounts create acme --credits 100"""
    if credits is not None and unlimited:
        _fail("Give either --credits or --unlimited, not both.")
    account_id = _run(lambda db: accounts.create_account(db, name, credits))
    if as_json:
        print_json({"id": account_id, "name": name.strip(), "unlimited": credits is None})
        return
    _console().print(f"Created account [bold]{name}[/bold].")
    print(account_id)


@accounts_app.command("list")
def accounts_list(as_json: AsJson = False) -> None:
    """List accounts.

    Example: contactlists accounts list | cut -f1"""
    rows = _run(accounts.list_accounts)
    if as_json:
        print_json(
            [
                {
                    "id": row.id,
                    "name": row.name,
                    "unlimited": row.unlimited,
                    "activeKeys": row.active_keys,
                    "createdAt": _iso(row.created_at),
                }
                for row in rows
            ]
        )
        return
    print_rows(
        ("id", "name", "credits", "active keys", "created"),
        (
            (
                row.id,
                row.name,
                "unlimited" if row.unlimited else "limited",
                str(row.active_keys),
                _when(row.created_at),
            )
            for row in rows
        ),
    )


@accounts_app.command("grant-credits")
def accounts_grant_credits(
    account: Annotated[str, typer.Argument(help="Account id or name.")],
    amount: Annotated[int, typer.Argument(help="Credits to add (at least 1).")],
    as_json: AsJson = False,
) -> None:
    """Add credits to a limited account; prints its new balance on the last line.

    Example: contactlists accounts grant-credits acme 50"""
    balance = _run(lambda db: accounts.grant_credits(db, account, amount))
    if as_json:
        print_json({"account": account, "granted": amount, "remainingCredits": balance})
        return
    _console().print(f"Granted {amount} credits to [bold]{account}[/bold].")
    print(balance)


@accounts_app.command("ledger")
def accounts_ledger(
    account: Annotated[str, typer.Argument(help="Account id or name.")], as_json: AsJson = False
) -> None:
    """Every credit grant, reservation, settlement and release of an account.

    Example: contactlists accounts ledger acme --json"""

    async def work(db: Database) -> Sequence[AnyRow]:
        return await credits.ledger(db, (await accounts.resolve_account(db, account)).id)

    rows: list[tuple[AnyRow, int]] = []
    balance = held = 0
    for row in _run(work):
        balance += row.delta
        held += row.held
        rows.append((row, balance))
    if as_json:
        entries = [
            {
                "createdAt": _iso(row.created_at),
                "kind": row.kind,
                "delta": row.delta,
                "held": row.held,
                "balance": after,
                "reason": row.reason,
                "reservationId": row.reservation_id,
                "listId": row.list_id,
                "requestId": row.request_id,
            }
            for row, after in rows
        ]
        print_json({"entries": entries, "balance": balance, "held": held})
        return
    print_rows(
        ("when", "kind", "delta", "held", "balance", "reason", "reservation", "list", "request"),
        (
            (
                _when(row.created_at),
                row.kind,
                f"{row.delta:+d}" if row.delta else "0",
                f"{row.held:+d}" if row.held else "0",
                str(after),
                row.reason,
                row.reservation_id or "—",
                row.list_id or "—",
                row.request_id or "—",
            )
            for row, after in rows
        ),
        ids=("reservation", "list", "request"),
    )
    # Beside the rows, not among them, when a script reads them.
    _console(stderr=not sys.stdout.isatty()).print(
        f"Balance {balance}; held by searches in progress {held}."
    )


@app.command()
def countries(as_json: AsJson = False) -> None:
    """The country codes a list's `countries` filter (and `lists create --country`) takes.

    Example: contactlists countries | grep -i kingdom"""
    from contactlists.providers.countries import supported_countries

    known = sorted(supported_countries().values(), key=lambda country: country.code)
    if as_json:
        print_json([{"code": country.code, "name": country.name} for country in known])
        return
    print_rows(("code", "name"), ((country.code, country.name) for country in known), ids=("code",))


@app.command()
def purge(as_json: AsJson = False) -> None:
    """Delete expired idempotency records and close expired credit reservations.

    Example: contactlists purge   # from cron, say hourly"""

    async def work(db: Database) -> tuple[int, int]:
        return await idempotency.purge(db), await credits.close_expired(db)

    records, reservations = _run(work)
    _done(
        as_json,
        {"idempotencyRecordsDeleted": records, "reservationsClosed": reservations},
        f"Deleted {records} expired idempotency record(s); "
        f"closed {reservations} expired credit reservation(s).",
    )


@keys_app.command("create")
def keys_create(
    account: AccountOption,
    test: Annotated[bool, typer.Option("--test", help="A sk_test_ key (sandbox only).")] = False,
    as_json: AsJson = False,
) -> None:
    """Create an API key; prints it on the last line. It is shown only this once.

    Example: export KEY=$(contactlists keys create --account acme | tail -n1)"""

    async def work(db: Database) -> tuple[str, str]:
        found = await accounts.resolve_account(db, account)
        return await accounts.create_key(db, found.id, "test" if test else "live")

    key_id, key = _run(work)
    if as_json:
        print_json({"id": key_id, "key": key, "mode": "test" if test else "live"})
        return
    _console().print(f"Created key [bold]{key_id}[/bold]. Store it now: it is not shown again.")
    print(key)


@keys_app.command("list")
def keys_list(account: AccountOption, as_json: AsJson = False) -> None:
    """List an account's keys (never the keys themselves).

    Example: contactlists keys list --account acme"""

    async def work(db: Database) -> Sequence[AnyRow]:
        return await accounts.list_keys(db, (await accounts.resolve_account(db, account)).id)

    keys = _run(work)
    if as_json:
        print_json(
            [
                {
                    "id": k.id,
                    "prefix": k.prefix,
                    "mode": k.mode,
                    "createdAt": _iso(k.created_at),
                    "lastUsedAt": _iso(k.last_used_at),
                    "revokedAt": _iso(k.revoked_at),
                }
                for k in keys
            ]
        )
        return
    print_rows(
        ("key id", "prefix", "mode", "created", "last used", "revoked"),
        (
            (
                k.id,
                k.prefix + "…",
                k.mode,
                _when(k.created_at),
                _when(k.last_used_at),
                _when(k.revoked_at),
            )
            for k in keys
        ),
        ids=("key id",),
    )


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (key_…), from `keys list`.")],
    as_json: AsJson = False,
) -> None:
    """Revoke a key; it stops working on the next request.

    Example: contactlists keys revoke key_5n4xakjo3vbq2m7c6h4d1f0g9e"""
    _run(lambda db: accounts.revoke_key(db, key_id))
    _done(as_json, {"id": key_id, "revoked": True}, f"Revoked key [bold]{key_id}[/bold].")


@connect_app.command("sandbox")
def connect_sandbox(account: AccountOption, as_json: AsJson = False) -> None:
    """Connect an account to the offline sandbox (renews an expired one).

    Example: contactlists connect sandbox --account acme"""

    async def work(db: Database) -> str:
        found = await accounts.resolve_account(db, account)
        await connections.connect(db, found.id, "sandbox")
        return str(found.name)

    name = _run(work)
    _done(
        as_json,
        {"account": name, "provider": "sandbox", "state": "active"},
        f"Account [bold]{name}[/bold] is connected to the sandbox.",
    )


def _secret_value(value: str) -> str:
    """`-` reads the value from a line of stdin, keeping it out of shell history."""
    return sys.stdin.readline().strip() if value == "-" else value


@connect_app.command("linkedin")
def connect_linkedin(
    account: AccountOption,
    cookies: Annotated[
        str | None,
        typer.Option(
            "--cookies",
            help="The browser's whole Cookie header for www.linkedin.com, or - for stdin.",
        ),
    ] = None,
    li_at: Annotated[
        str | None, typer.Option("--li-at", help="The li_at cookie, or - for stdin.")
    ] = None,
    jsessionid: Annotated[
        str | None, typer.Option("--jsessionid", help="The JSESSIONID cookie, or - for stdin.")
    ] = None,
    contract: Annotated[
        str | None,
        typer.Option("--contract", help="The Sales Navigator contract's name, if several."),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Connect an account's Sales Navigator seat: the cookies are verified with LinkedIn
    (member, seat, contract), then stored encrypted (renews an expired connection).

    Example: pbpaste | contactlists connect linkedin --account acme --cookies -"""
    from contactlists.connections.schemas import linkedin_cookie_header, linkedin_cookies
    from contactlists.core.errors import ApiError
    from contactlists.providers.linkedin import LinkedInHttp

    settings = _settings()
    try:
        if cookies is not None and li_at is None and jsessionid is None:
            header = sys.stdin.read() if cookies == "-" else cookies
            jar = linkedin_cookie_header(header)
        elif cookies is None and li_at is not None and jsessionid is not None:
            jar = linkedin_cookies(_secret_value(li_at), _secret_value(jsessionid))
        else:
            _fail("Give either --cookies, or both --li-at and --jsessionid.")
    except ValidationError as exc:
        errors = exc.errors()
        if cookies is not None:
            _fail(f"Invalid --cookies: {errors[0]['msg']}; copy the whole header again.")
        fields = ", ".join(str(e["loc"][-1]) for e in errors)
        _fail(f"Invalid {fields}: give the cookie's value as the browser shows it.")

    async def work(db: Database) -> str:
        found = await accounts.resolve_account(db, account)
        http = LinkedInHttp(settings.linkedin_request_timeout_s)
        await connections.connect_linkedin(db, settings, http, found.id, jar, contract)
        return str(found.name)

    try:
        name = _run(work)
    except ApiError as exc:
        contracts = exc.details.get("contracts")
        _fail(exc.message + (f" Contracts: {', '.join(contracts)}." if contracts else ""))
    _done(
        as_json,
        {"account": name, "provider": "linkedin", "state": "active"},
        f"Account [bold]{name}[/bold] is connected to its Sales Navigator seat.",
    )


@connections_app.command("show")
def connections_show(account: AccountOption, as_json: AsJson = False) -> None:
    """Show an account's connection (never its credentials); last line: its state.

    Example: contactlists connections show --account acme"""

    async def work(db: Database) -> dict[str, Any]:
        found = await accounts.resolve_account(db, account)
        return await connections.describe(db, settings, found.id)

    settings = _settings()
    shown = _run(work)
    if as_json:
        print_json(shown)
        return
    table = _table(
        "provider", "state", "connected", "last verified", "last error", "member", "cookies"
    )
    member = shown["member"] or {}
    table.add_row(
        *(
            shown[k] or "—"
            for k in ("provider", "state", "connectedAt", "lastVerifiedAt", "lastError")
        ),
        member.get("name") or member.get("publicIdentifier") or "—",
        ", ".join(shown["cookieNames"]) or "—",
    )
    _console().print(table)
    print(shown["state"])


@connections_app.command("check")
def connections_check(
    account: AccountOption,
    company: Annotated[
        str | None,
        typer.Option("--company", help="Also look up this company page URL's organization id."),
    ] = None,
    search: Annotated[
        bool,
        typer.Option("--search", help="Also fetch one search page of one lead (needs --company)."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Check an account's LinkedIn seat step by step (session, member, seat, contract, and
    optionally a company lookup and one search page): status, time, the cookie names sent
    and received, the failure signal. Never a cookie's value. Exit code 1 if a step failed.

    Example: contactlists connections check --account acme --company
    https://www.linkedin.com/company/stripe --search --json"""
    import orjson

    from contactlists.connections.check import check_connection
    from contactlists.lists.schemas import normalize_company_url
    from contactlists.providers.linkedin import LinkedInHttp

    settings = _settings()
    if search and company is None:
        _fail("--search needs --company: a search page needs a company to search.")
    company_url = None
    if company is not None:
        try:
            company_url = normalize_company_url(company.strip())
        except ValueError as exc:
            _fail(f"Invalid --company: {exc}")

    async def work(db: Database) -> Any:
        found = await accounts.resolve_account(db, account)
        http = LinkedInHttp(settings.linkedin_request_timeout_s)
        return await check_connection(
            db, settings, http, (found.id, str(found.name)), company_url=company_url, search=search
        )

    report = _run(work)
    if as_json:
        print(orjson.dumps(report.to_json(), option=orjson.OPT_INDENT_2).decode())
    else:
        _print_check(report)
    if not report.ok:
        raise typer.Exit(1)


def _print_check(report: Any) -> None:
    console = _console()
    console.print(
        f"Sales Navigator check of [bold]{report.account}[/bold] "
        f"({report.provider or 'not connected'}, {report.state})",
        highlight=False,
    )
    marks = {"ok": "[green]ok[/green]", "failed": "[red]FAILED[/red]", "skipped": "skipped"}
    for number, step in enumerate(report.steps, start=1):
        signal = f", signal {step.signal}" if step.signal else ""
        console.print(
            f"{number}. {step.name}: {marks[step.status]} {step.duration_ms} ms{signal}",
            highlight=False,
        )
        if step.detail:
            console.print(f"   {step.detail}", highlight=False, markup=False)
        for request in step.requests:
            received = ", ".join(request.cookies_received) or "none"
            console.print(
                f"   {request.method} {request.path} -> {request.status}; "
                f"cookies sent: {', '.join(request.cookies_sent)}; set: {received}",
                highlight=False,
                markup=False,
            )
    print("ok" if report.ok else "failed")


@connections_app.command("reencrypt")
def connections_reencrypt(as_json: AsJson = False) -> None:
    """Re-encrypt every stored credential with the current CONTACTLISTS_SECRET_KEY, after
    which the keys in CONTACTLISTS_OLD_SECRET_KEYS can be dropped.

    Example: CONTACTLISTS_OLD_SECRET_KEYS=$OLD contactlists connections reencrypt"""
    settings = _settings()
    done, failed = _run(lambda db: connections.reencrypt_all(db, settings))
    _done(
        as_json,
        {"reencrypted": done, "failed": failed},
        f"Re-encrypted {done} connection(s).",
    )
    if failed:
        _fail(f"{failed} connection(s) could not be decrypted with the configured keys.")


def _check_port_free(host: str, port: int) -> None:
    """Fail, naming the way out, when something already listens on host:port."""
    import socket

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        # As uvicorn binds: a port left in TIME_WAIT is free, one with a listener is not.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            _fail(
                f"Port {port} on {host} is not free ({exc.strerror}): is another `make run` "
                f"serving there? Nothing was changed. Choose another port: "
                f"`make run PORT={port + 1}` (or CONTACTLISTS_PORT / `serve --port`)."
            )


def _keep_demo_key(key: str) -> None:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DEMO_KEY_FILE.unlink(missing_ok=True)
    fd = os.open(DEMO_KEY_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(key + "\n")


@app.command()
def demo(
    port: Annotated[
        int | None,
        typer.Option(
            help="First check that this port is free, then migrate, write .env if missing, "
            "and print URLs with this port (what `make run` does).",
            show_default="CONTACTLISTS_PORT, not checked",
        ),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Ensure a `demo` account with a sandbox connection and a live key; print the key last.

    The key is kept in var/demo_key (mode 0600) and reused while it is valid; a new one
    is minted (revoking the account's other live keys) only when there is none.

    Example: contactlists demo --port 8001 && contactlists serve --port 8001"""
    if port is not None:
        # Before anything is written, the development secret included.
        _check_port_free(_settings(ensure_secret=False).host, port)
    settings = _settings()
    if port is not None:
        from contactlists.core.db import engine_options
        from contactlists.core.migrate import upgrade

        if ensure_development_env_file():
            _console(stderr=True).print(f"Wrote {ENV_FILE} (CONTACTLISTS_ENV=development).")
        upgrade(settings.database_url, engine_options(settings))

    async def work(db: Database) -> tuple[str, bool]:
        try:
            account_id = (await accounts.resolve_account(db, DEMO_ACCOUNT)).id
        except accounts.OperatorError:
            account_id = await accounts.create_account(db, DEMO_ACCOUNT, None)
        await connections.connect(db, account_id, "sandbox")
        kept = DEMO_KEY_FILE.read_text().strip() if DEMO_KEY_FILE.exists() else ""
        if kept and await accounts.key_is_active(db, account_id, kept):
            return kept, False
        _, key = await accounts.create_key(db, account_id, "live", revoke_previous=True)
        return key, True

    key, minted = _run(work)
    if minted:
        _keep_demo_key(key)
    base = f"http://{settings.host}:{port or settings.port}"
    if as_json:
        print_json({"account": DEMO_ACCOUNT, "key": key, "minted": minted, "url": base})
        return
    body = (
        '{"name": "Engineers at Stripe", "filters": {"companyLinkedInUrls": '
        '["https://www.linkedin.com/company/stripe"], "jobTitles": ["Engineer"]}}'
    )
    console = _console()
    console.print("Demo account ready (sandbox connection). Try:\n", highlight=False)
    console.print(
        f"  export KEY=$(cat {DEMO_KEY_FILE}) API={base}\n"
        f"  curl -s -X POST $API/v1/contacts/lists \\\n"
        f'    -H "Authorization: Bearer $KEY" \\\n'
        f"    -H 'Content-Type: application/json' \\\n"
        f"    -d {shlex.quote(body)}\n",
        highlight=False,
        soft_wrap=True,
    )
    state = "a new key" if minted else "the key kept from before"
    console.print(f"Serving on {base} ({state}, also in {DEMO_KEY_FILE}):", highlight=False)
    print(key)


@app.command()
def serve(
    host: Annotated[
        str | None,
        typer.Option(help="Interface to bind.", show_default="CONTACTLISTS_HOST, else 127.0.0.1"),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(help="Port to bind.", show_default="CONTACTLISTS_PORT, else 8000"),
    ] = None,
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes (more than 1 needs Redis).")
    ] = 1,
) -> None:
    """Serve the API (the database must be migrated).

    Example: contactlists serve --host 0.0.0.0 --port 8080"""
    from contactlists.core.migrate import ensure_migrated

    settings = _settings()
    if workers > 1 and not settings.redis_url:
        _fail(
            f"--workers {workers} needs CONTACTLISTS_REDIS_URL: without Redis each worker "
            "would keep rate limits of its own, multiplying every budget by the workers."
        )
    _run(lambda db: ensure_migrated(db, settings.database_url))
    host, port = host or settings.host, port or settings.port
    _check_port_free(host, port)
    # This process becomes the server (same id, environment and streams) without
    # the CLI's modules: `python -m contactlists.web` (its docstring says why).
    sys.stdout.flush()
    sys.stderr.flush()
    argv = [sys.executable, "-m", "contactlists.web", "--host", host, "--port", str(port)]
    os.execv(sys.executable, [*argv, "--workers", str(workers)])  # noqa: S606 - our own module


def main() -> None:
    app()
