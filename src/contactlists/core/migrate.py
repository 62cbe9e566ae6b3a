"""Alembic driven from code, so the installed package migrates without an ini file.

The server only checks that the schema is at head (`ensure_migrated`), at every
start, and does it without Alembic: Alembic's script and runtime machinery is
~11 MiB resident that a serving process would carry for nothing. The head comes
from the revision files' text and the database's revision from the version
table; a test holds the head to Alembic's own answer.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from importlib.resources import files
from typing import TYPE_CHECKING

import sqlalchemy as sa

from contactlists.core.db import Database, DatabaseNotMigrated, EngineOptions

if TYPE_CHECKING:
    from alembic.config import Config

# `revision: str = "0001"`, `down_revision: ... = None` or a tuple of revisions (a merge).
_LINK = re.compile(r"^(revision|down_revision)\b[^=\n]*=\s*(.+?)\s*$", re.MULTILINE)


def alembic_config(database_url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(files("contactlists.core") / "migrations"))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(slug)s")
    return config


def upgrade(database_url: str, options: EngineOptions | None = None) -> None:
    """Migrate to head; `options` (pool, statement timeout) reach the engine env.py builds."""
    from alembic import command

    config = alembic_config(database_url)
    config.attributes["engine_options"] = options or {}
    command.upgrade(config, "head")


def _revision_links(source: str) -> tuple[str, tuple[str, ...]]:
    """A revision file's `revision` and the revisions it follows (its `down_revision`).

    Only those two lines are read: parsing the whole file would leave its syntax
    tree's memory with the server.
    """
    values = {name: ast.literal_eval(value) for name, value in _LINK.findall(source)}
    down = values.get("down_revision")
    return str(values["revision"]), (down,) if isinstance(down, str) else tuple(down or ())


def head_revision(sources: Iterable[str] | None = None) -> str:
    """The one revision no other revision follows; `sources` default to the package's files."""
    if sources is None:
        versions = files("contactlists.core") / "migrations" / "versions"
        sources = (f.read_text() for f in versions.iterdir() if f.name.endswith(".py"))
    links = dict(_revision_links(source) for source in sources)
    followed = {down for downs in links.values() for down in downs}
    heads = sorted(set(links) - followed)
    if len(heads) != 1:
        raise RuntimeError(f"the migrations must have exactly one head, not {heads}")
    return heads[0]


def _current_revisions(connection: sa.Connection) -> list[str]:
    """The revisions the version table records; none for an empty schema."""
    if not sa.inspect(connection).has_table("alembic_version"):
        return []
    return list(connection.scalars(sa.text("SELECT version_num FROM alembic_version")))


async def ensure_migrated(database: Database, database_url: str) -> None:
    """Refuse to serve a database whose schema is not at this code's head."""
    head = head_revision()
    async with database.engine.connect() as conn:
        revisions = await conn.run_sync(_current_revisions)
    if revisions != [head]:
        raise DatabaseNotMigrated(
            f"The database at {database_url!r} is not migrated "
            f"(at {', '.join(revisions) or 'an empty schema'}, code expects {head}). "
            "Run `contactlists migrate` first."
        )
