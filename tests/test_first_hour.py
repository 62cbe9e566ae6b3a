"""Issue 16, the first hour: what a new operator sees, run as they run it."""

from __future__ import annotations

import json
import os
import pty
import re
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live_server import LiveServer, run_server
from tests.test_cli import CLI, Cli, last_line
from tests.test_client_cli import Lists, _create

ID = re.compile(r"\b(?:acct|key|res|cl)_[a-z2-7]{26}\b")


def on_terminal(cli: Cli, *args: str, columns: int = 80) -> str:
    """Run the command with stdout on a pseudo-terminal `columns` wide."""
    leader, follower = pty.openpty()
    env = {**cli.env, "COLUMNS": str(columns), "LINES": "50", "TERM": "xterm"}
    with subprocess.Popen(
        [*CLI, *args], cwd=cli.workdir, env=env, stdout=follower, stderr=subprocess.PIPE
    ) as process:
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the command closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert process.wait(timeout=60) == 0, process.stderr.read() if process.stderr else ""
    os.close(leader)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", b"".join(chunks).decode())
    assert max(map(len, text.splitlines())) <= columns, text
    return text


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    runner = Cli(tmp_path_factory.mktemp("first-hour"))
    runner("migrate")
    runner("accounts", "create", "a-company-with-a-rather-long-name-indeed", "--credits", "5")
    runner("keys", "create", "--account", "a-company-with-a-rather-long-name-indeed")
    return runner


class TestIdsAreWhole:
    def test_at_80_columns(self, cli: Cli) -> None:
        name = "a-company-with-a-rather-long-name-indeed"
        account_id = json.loads(cli("accounts", "list", "--json").stdout)[0]["id"]
        key_id = json.loads(cli("keys", "list", "--account", name, "--json").stdout)[0]["id"]
        assert account_id in on_terminal(cli, "accounts", "list")
        assert key_id in on_terminal(cli, "keys", "list", "--account", name)
        cli("accounts", "grant-credits", name, "3")
        assert "Balance 8;" in on_terminal(cli, "accounts", "ledger", name)

    def test_through_a_pipe_rows_are_tab_separated(self, cli: Cli) -> None:
        listing = cli("accounts", "list").stdout.splitlines()
        assert listing[0].split("\t") == ["id", "name", "credits", "active keys", "created"]
        fields = listing[1].split("\t")
        assert ID.fullmatch(fields[0])
        assert fields[1] == "a-company-with-a-rather-long-name-indeed"
        keys = cli("keys", "list", "--account", fields[0]).stdout.splitlines()
        assert ID.fullmatch(keys[1].split("\t")[0])
        # What `keys list` printed is what `keys revoke` takes.
        cli("keys", "create", "--account", fields[0])
        newest = cli("keys", "list", "--account", fields[0]).stdout.splitlines()[-1]
        cli("keys", "revoke", newest.split("\t")[0])


def test_every_operator_command_prints_json(cli: Cli, tmp_path: Path) -> None:
    """--json on each operator command that is not a server (serve, mcp) parses."""
    account = json.loads(cli("accounts", "create", "json-co", "--credits", "2", "--json").stdout)
    assert account == {"id": account["id"], "name": "json-co", "unlimited": False}
    key = json.loads(cli("keys", "create", "--account", "json-co", "--json").stdout)
    assert key["key"].startswith("sk_live_")
    listed = json.loads(cli("keys", "list", "--account", "json-co", "--json").stdout)
    assert [k["id"] for k in listed] == [key["id"]]
    granted = json.loads(cli("accounts", "grant-credits", "json-co", "3", "--json").stdout)
    assert granted["remainingCredits"] == 5
    ledger = json.loads(cli("accounts", "ledger", "json-co", "--json").stdout)
    assert ledger["balance"] == 5
    assert [e["kind"] for e in ledger["entries"]] == ["grant", "grant"]
    for args in (
        ("migrate",),
        ("accounts", "list"),
        ("purge",),
        ("connect", "sandbox", "--account", "json-co"),
        ("connections", "show", "--account", "json-co"),
        ("connections", "reencrypt"),
        ("demo",),
        ("countries",),
        ("keys", "revoke", key["id"]),
    ):
        assert json.loads(cli(*args, "--json").stdout), args


class TestMakeRunTwice:
    def test_a_busy_port_changes_nothing_and_names_the_way_out(self, tmp_path: Path) -> None:
        cli = Cli(tmp_path)
        with socket.socket() as server:
            server.bind(("127.0.0.1", 0))
            server.listen()
            port = server.getsockname()[1]
            result = cli("demo", "--port", str(port), ok=False)
        assert f"make run PORT={port + 1}" in result.stderr
        assert "Nothing was changed" in result.stderr
        assert sorted(p.name for p in tmp_path.iterdir()) == []

    def test_first_run_writes_env_and_keeps_the_key(self, tmp_path: Path) -> None:
        cli = Cli(tmp_path)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        first = cli("demo", "--port", str(port))
        assert f"http://127.0.0.1:{port}" in first.stdout
        assert "CONTACTLISTS_ENV=development" in (tmp_path / ".env").read_text()
        again = cli("demo", "--port", str(port))
        assert last_line(again) == last_line(first)


def test_operator_commands_read_env_in_the_working_directory(tmp_path: Path) -> None:
    """After `make run` (which writes .env), a bare `contactlists …` uses the same secret."""
    cli = Cli(tmp_path)
    cli.env.pop("CONTACTLISTS_ENV")
    cli.env.pop("CONTACTLISTS_ENV_FILE")
    refused = cli("accounts", "list", ok=False)
    assert "CONTACTLISTS_SECRET_KEY" in refused.stderr
    (tmp_path / ".env").write_text("CONTACTLISTS_ENV=development\n")
    cli("migrate")
    cli("accounts", "create", "from-dotenv")
    assert "from-dotenv" in cli("accounts", "list").stdout


def test_help_shows_defaults_and_examples(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    serve = cli("serve", "--help").stdout
    assert "127.0.0.1" in serve
    assert "8000" in serve
    for group, commands in (
        ((), ("migrate", "purge", "demo", "serve", "countries", "mcp")),
        (("accounts",), ("create", "list", "grant-credits", "ledger")),
        (("keys",), ("create", "list", "revoke")),
        (("connect",), ("sandbox", "linkedin")),
        (("connections",), ("show", "check", "reencrypt")),
        (("lists",), ("create", "list", "get", "rename", "delete", "contacts", "export")),
    ):
        for command in commands:
            shown = cli(*group, command, "--help").stdout
            assert "Example" in shown, (group, command)
            assert "<bool>" not in shown


class TestClientMessages:
    def test_missing_filter_names_the_cli_flags(self, lists: Lists) -> None:
        result = lists(
            "create",
            "--keyword",
            " ",
            "--name",
            "x",
            "--company-linkedin",
            "https://www.linkedin.com/company/x",
            ok=False,
        )
        assert "--title, --keyword or --country" in result.stderr

    def test_a_server_that_is_down_is_retried_out_loud(self, tmp_path: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        env = {**Cli(tmp_path).env, "CONTACTLISTS_API_KEY": "sk_live_unused"}
        url = f"http://127.0.0.1:{port}"
        with subprocess.Popen(
            [*CLI, "lists", "list", "--api-url", url],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        ) as process:
            assert process.stderr is not None
            first = process.stderr.readline()
            process.kill()
        assert url in first
        assert "retrying in" in first


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with run_server(tmp_path_factory.mktemp("first-hour-server")) as live:
        yield live


@pytest.fixture
def lists(server: LiveServer, tmp_path: Path) -> Lists:
    runner = Lists(tmp_path)
    runner.env.update(CONTACTLISTS_API_URL=server.base, CONTACTLISTS_API_KEY=server.test)
    return runner


def delete_on_a_terminal(lists: Lists, *args: str, answer: bytes) -> int:
    leader, follower = pty.openpty()
    with subprocess.Popen(
        [*CLI, "lists", "delete", *args],
        cwd=lists.workdir,
        env=lists.env,
        stdin=follower,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    ) as process:
        os.write(leader, answer)
        code = process.wait(timeout=60)
    os.close(follower)
    os.close(leader)
    return code


def test_delete_asks_on_a_terminal(lists: Lists, server: LiveServer) -> None:
    list_id = _create(server)
    assert delete_on_a_terminal(lists, list_id, answer=b"n\n") == 1
    lists("get", list_id)
    assert delete_on_a_terminal(lists, list_id, "--yes", answer=b"") == 0
    assert "LIST_NOT_FOUND" in lists("get", list_id, ok=False).stderr


def test_export_without_output_takes_the_servers_file_name(
    lists: Lists, server: LiveServer
) -> None:
    list_id = _create(server)
    saved = last_line(lists("export", list_id))
    assert saved == str(lists.workdir / "CLI leads.csv") or saved == "CLI leads.csv"
    assert (lists.workdir / "CLI leads.csv").read_text(encoding="utf-8-sig").startswith("id,")
