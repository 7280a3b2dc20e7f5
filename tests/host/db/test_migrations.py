"""The Alembic revisions build exactly the tables the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import trafi_host.commerce.tables
import trafi_host.events.deliveries
import trafi_host.events.outbox
import trafi_host.load_reports
from trafi_host.db import Database
from trafi_host.db.schema import Base

# Imported for their side effect: their tables join Base.metadata.
MODELS = (
    trafi_host.commerce.tables,
    trafi_host.events.deliveries,
    trafi_host.events.outbox,
    trafi_host.load_reports,
)


def test_migrations_match_the_models(database_url: str) -> None:
    with Database(database_url) as database:
        database.migrate()
        with database.engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []
