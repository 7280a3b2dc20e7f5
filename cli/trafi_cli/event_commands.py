"""`trafi events ...`: the catalogue, and dead-lettered deliveries (list, retry)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from .context import ProjectOption, console, emit_json, open_project, reported_errors

if TYPE_CHECKING:
    from trafi_host.db import Database
    from trafi_host.events.deliveries import Delivery
    from trafi_host.project import Project

    from .outputs import DeliveryItem

app = typer.Typer(help="Business events: the catalogue, and deliveries that failed.", no_args_is_help=True)
dead_letter_app = typer.Typer(help="Async deliveries that used up their attempts.", no_args_is_help=True)
app.add_typer(dead_letter_app, name="dead-letter")


def _item(delivery: Delivery) -> DeliveryItem:
    from .outputs import DeliveryItem

    return DeliveryItem(
        id=delivery.id,
        eventId=delivery.event_id,
        eventType=delivery.event_type,
        module=delivery.module,
        tenant=delivery.tenant_id,
        attempts=delivery.attempts,
        lastError=delivery.last_error,
        updatedAt=delivery.updated_at,
    )


def _open(project: Path | None) -> tuple[Project, Database]:
    """The project and its database, migrated; the caller closes the database (`with`)."""
    from trafi_host.db import Database

    proj = open_project(project)
    database = Database(proj.database_url())
    database.migrate()
    return proj, database


@app.command("list")
def list_events(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """Every event type: name, version, when it fires, payload fields (docs/events.md has examples)."""
    from rich.table import Table

    from trafi_host.events.reference import catalogue

    events = catalogue()
    if as_json:
        emit_json([event.model_dump() for event in events])
        return
    table = Table("event", "v", "fires when", "payload fields")
    for event in events:
        table.add_row(event.name, str(event.version), event.fires, ", ".join(f.name for f in event.fields))
    console.print(table)


@dead_letter_app.command("list")
def dead_letter_list(
    limit: int = typer.Option(100, help="Newest first, at most this many."),
    project: Path | None = ProjectOption,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Deliveries that failed every attempt, with the last error."""
    from rich.table import Table

    from trafi_host.events.deliveries import Ledger

    with reported_errors(as_json):
        _, database = _open(project)
        with database:
            items = [_item(d) for d in Ledger(database).list(status="dead", limit=limit)]
    if as_json:
        emit_json([item.model_dump(mode="json") for item in items])
        return
    if not items:
        console.print("no dead-lettered deliveries")
        return
    table = Table("id", "event", "module", "tenant", "attempts", "last error")
    for item in items:
        table.add_row(
            str(item.id),
            f"{item.eventType} {item.eventId}",
            item.module,
            item.tenant,
            str(item.attempts),
            item.lastError or "",
        )
    console.print(table)


@dead_letter_app.command("retry")
def dead_letter_retry(
    delivery_ids: list[int] = typer.Argument(..., help="Delivery ids from `trafi events dead-letter list`."),
    project: Path | None = ProjectOption,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Queue dead-lettered deliveries again, with a fresh set of attempts."""
    from trafi_host.delivery.jobs import JobQueue
    from trafi_host.errors import TrafiError
    from trafi_host.events.deliveries import Ledger

    with reported_errors(as_json):
        proj, database = _open(project)
        with database:
            ledger = Ledger(database)
            # All checked before any is changed: a typo in one id retries none.
            for delivery_id in delivery_ids:
                found = ledger.get(delivery_id)
                if found is None:
                    raise TrafiError(f"no delivery {delivery_id}")
                if found.status != "dead":
                    raise TrafiError(f"delivery {delivery_id} is {found.status}, not dead-lettered")
            queue = JobQueue(proj.state_dir, proj.redis_url(), proj.settings.job_queue)
            retried = []
            for delivery_id in delivery_ids:
                retried.append(_item(ledger.retry_dead(delivery_id)))
                queue.enqueue(delivery_id)
    if as_json:
        emit_json([item.model_dump(mode="json") for item in retried])
        return
    for item in retried:
        console.print(
            f"queued again: delivery {item.id} ({item.eventType} to {item.module}, tenant {item.tenant})"
        )
