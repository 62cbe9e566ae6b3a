"""The operator CLI, run as a user runs it: a subprocess on a real database file."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from contactlists.core.auth import KEY_PATTERN

CLI = [sys.executable, "-m", "contactlists"]


class Cli:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.env = {
            **os.environ,
            "CONTACTLISTS_ENV": "development",
            "CONTACTLISTS_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'cli.db'}",
            "COLUMNS": "200",
        }
        self.env.pop("CONTACTLISTS_SECRET_KEY", None)

    def __call__(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [*CLI, *args],
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if ok:
            assert result.returncode == 0, result.stderr + result.stdout
        else:
            assert result.returncode != 0, result.stdout
        return result


def last_line(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    runner = Cli(tmp_path_factory.mktemp("cli"))
    runner("migrate")
    return runner


def test_commands_before_migrate_say_to_migrate(tmp_path: Path) -> None:
    result = Cli(tmp_path)("serve", "--port", "1", ok=False)
    assert "contactlists migrate" in result.stderr


def test_account_create_prints_id_and_refuses_duplicates(cli: Cli) -> None:
    account_id = last_line(cli("accounts", "create", "acme"))
    assert re.fullmatch(r"acct_[a-z2-7]{26}", account_id)
    duplicate = cli("accounts", "create", "acme", ok=False)
    assert "already exists" in duplicate.stderr
    listing = cli("accounts", "list").stdout
    assert account_id in listing
    assert "acme" in listing
    assert "unlimited" in listing


def test_account_with_credits(cli: Cli) -> None:
    cli("accounts", "create", "limited-co", "--credits", "25")
    assert "limited" in cli("accounts", "list").stdout
    both = cli("accounts", "create", "x", "--credits", "1", "--unlimited", ok=False)
    assert "either" in both.stderr


def test_keys_lifecycle(cli: Cli) -> None:
    account_id = last_line(cli("accounts", "create", "keys-co"))
    live = last_line(cli("keys", "create", "--account", "keys-co"))
    test = last_line(cli("keys", "create", "--account", account_id, "--test"))
    assert KEY_PATTERN.fullmatch(live)
    assert live.startswith("sk_live_")
    assert KEY_PATTERN.fullmatch(test)
    assert test.startswith("sk_test_")
    listing = cli("keys", "list", "--account", "keys-co").stdout
    assert live not in listing
    assert test not in listing
    assert live[:12] in listing
    assert "test" in listing
    key_id = re.findall(r"key_[a-z2-7]{26}", listing)[0]
    cli("keys", "revoke", key_id)
    again = cli("keys", "revoke", key_id, ok=False)
    assert "No active key" in again.stderr


def test_unknown_account_is_a_clear_error(cli: Cli) -> None:
    for args in (
        ("keys", "create", "--account", "nobody"),
        ("keys", "list", "--account", "nobody"),
        ("connect", "sandbox", "--account", "nobody"),
    ):
        result = cli(*args, ok=False)
        assert "No account with id or name 'nobody'" in result.stderr


def test_connect_sandbox(cli: Cli) -> None:
    cli("accounts", "create", "connected-co")
    result = cli("connect", "sandbox", "--account", "connected-co")
    assert "sandbox" in result.stdout


def test_demo_keeps_its_key_and_mints_one_only_when_it_is_revoked(cli: Cli) -> None:
    first = cli("demo")
    key_one = last_line(first)
    assert KEY_PATTERN.fullmatch(key_one)
    assert "curl" in first.stdout
    assert "var/demo_key" in first.stdout
    kept = cli.workdir / "var" / "demo_key"
    assert kept.read_text().strip() == key_one
    assert kept.stat().st_mode & 0o777 == 0o600
    assert last_line(cli("demo")) == key_one
    keys = json.loads(cli("keys", "list", "--account", "demo", "--json").stdout)
    live = [k for k in keys if k["revokedAt"] is None]
    assert [k["prefix"] for k in live] == [key_one[:12]]
    cli("keys", "revoke", live[0]["id"])
    key_two = last_line(cli("demo"))
    assert key_two != key_one
    assert kept.read_text().strip() == key_two
    listing = cli("keys", "list", "--account", "demo").stdout
    revoked_rows = [line for line in listing.splitlines() if key_one[:12] in line]
    assert revoked_rows
    assert "UTC" in revoked_rows[0].split("\t")[-1]


def test_grant_credits_and_the_ledger(cli: Cli) -> None:
    cli("accounts", "create", "paying-co", "--credits", "5")
    assert last_line(cli("accounts", "grant-credits", "paying-co", "10")) == "15"
    ledger = cli("accounts", "ledger", "paying-co").stdout
    assert "initial grant" in ledger
    assert "granted by an operator" in ledger
    assert ledger.count("grant") >= 4  # two kinds, two reasons
    assert (
        "Balance 15; held by searches in progress 0."
        in cli("accounts", "ledger", "paying-co").stderr
    )
    assert "at least 1" in cli("accounts", "grant-credits", "paying-co", "0", ok=False).stderr
    cli("accounts", "create", "free-co")
    unlimited = cli("accounts", "grant-credits", "free-co", "3", ok=False)
    assert "unlimited" in unlimited.stderr
    nobody = cli("accounts", "ledger", "nobody", ok=False)
    assert "No account with id or name 'nobody'" in nobody.stderr


def test_purge_reports_what_it_removed(cli: Cli) -> None:
    result = cli("purge")
    assert "Deleted 0 expired idempotency record(s)" in result.stdout
    assert "closed 0 expired credit reservation(s)" in result.stdout


def test_several_workers_need_redis(tmp_path: Path) -> None:
    runner = Cli(tmp_path)
    runner.env.pop("CONTACTLISTS_REDIS_URL", None)
    result = runner("serve", "--workers", "2", ok=False)
    assert "CONTACTLISTS_REDIS_URL" in result.stderr


def test_a_mistyped_command_is_answered_with_the_closest_ones(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    for typo, suggested in (("lisst", "'lists'"), ("acounts", "'accounts'")):
        result = cli(typo, ok=False)
        assert result.returncode == 2
        assert f"Did you mean {suggested}" in result.stderr, result.stderr
    listed = cli("--help").stdout
    assert "lists" in listed
    assert "accounts" in listed
