"""`make bench` compares applications under equal conditions: every server runs
through one launcher with the same options and logging, so a ratio against a
baseline can never come from a handicapped baseline."""

from __future__ import annotations

import pytest

bench = pytest.importorskip("bench.__main__")

APPS = ("bench.apps:static_app", "bench.apps:reference_app", "bench.floor:floor_app")
# What only the application decides: its name, and whether a factory builds it.
APPLICATION_ONLY = {"contactlists.app:create_app", "--factory", *APPS}
# Settings of the server and its logging rather than of the application.
SERVER_SETTINGS = (
    "CONTACTLISTS_LOG_LEVEL",
    "CONTACTLISTS_LOG_FORMAT",
    "CONTACTLISTS_KEEP_ALIVE_S",
    "CONTACTLISTS_HEADER_TIMEOUT_S",
    "CONTACTLISTS_BODY_TIMEOUT_S",
    "CONTACTLISTS_MAX_CONNECTIONS",
)


def _without_application(command: list[str]) -> list[str]:
    return [part for part in command if part not in APPLICATION_ONLY]


def test_the_app_and_every_baseline_differ_only_in_the_application() -> None:
    commands = [bench.app_command(), *(bench.baseline_command(app) for app in APPS)]
    shapes = {tuple(_without_application(command)) for command in commands}
    assert len(shapes) == 1, shapes
    assert list(shapes.pop()) == bench.SERVE


def test_no_server_gets_logging_or_server_settings_of_its_own() -> None:
    app_env = bench.app_env("sqlite+aiosqlite:///x.db")
    for name in SERVER_SETTINGS:
        assert app_env.get(name, bench.SHARED_ENV.get(name)) == bench.SHARED_ENV.get(name), name
    assert bench.SHARED_ENV["CONTACTLISTS_LOG_LEVEL"] == "warning"


def test_the_launcher_serves_as_contactlists_serve_does() -> None:
    """`bench.serve` and `contactlists serve` take their options from one function."""
    import inspect

    from bench import serve as launcher

    from contactlists.cli import operator
    from contactlists.web import __main__ as server

    assert "uvicorn_options(" in inspect.getsource(launcher.main)
    assert '"-m", "contactlists.web"' in inspect.getsource(operator.serve)
    assert "uvicorn_options(" in inspect.getsource(server.serve)
