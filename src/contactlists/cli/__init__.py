"""The two command-line applications: `operator` (the `contactlists` command) and `client`."""

from contactlists.cli.operator import app, main

__all__ = ["app", "main"]
