"""`trafi events ...`: the catalogue of business events."""

from __future__ import annotations

import typer
from rich.table import Table

from trafi_host.events.reference import catalogue

from .context import console, emit_json

app = typer.Typer(help="Business events: the catalogue modules subscribe to.", no_args_is_help=True)


@app.command("list")
def list_events(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """Every event type: name, version, when it fires, payload fields (docs/events.md has examples)."""
    events = catalogue()
    if as_json:
        emit_json([event.model_dump() for event in events])
        return
    table = Table("event", "v", "fires when", "payload fields")
    for event in events:
        table.add_row(event.name, str(event.version), event.fires, ", ".join(f.name for f in event.fields))
    console.print(table)
