"""docs/events.md is generated from the catalogue; every example is a valid payload."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from trafi_cli.main import app
from trafi_host.events.catalogue import EVENTS
from trafi_host.events.reference import with_events

DOC = Path(__file__).resolve().parents[2] / "docs" / "events.md"


def test_events_doc_is_current() -> None:
    text = DOC.read_text()
    assert with_events(text) == text, "run `./bootstrap just docs` to regenerate docs/events.md"


def test_every_example_is_a_valid_payload() -> None:
    for event in EVENTS.values():
        event.payload.model_validate(event.example)


def test_the_issue_catalogue_is_there() -> None:
    wanted = {
        "order.created",
        "order.status-changed",
        "order.cancelled",
        "payment.created",
        "payment.completed",
        "payment.failed",
        "product.created",
        "product.updated",
        "customer.created",
        "module.enabled",
        "module.disabled",
    }
    assert wanted <= set(EVENTS)


def test_events_list_json() -> None:
    result = CliRunner().invoke(app, ["events", "list", "--json"])
    assert result.exit_code == 0, result.output
    listed = {event["name"]: event for event in json.loads(result.output)}
    assert set(listed) == set(EVENTS)
    fields = {f["name"]: f["type"] for f in listed["order.created"]["fields"]}
    assert fields["lines"] == "list of OrderLine"
    assert fields["status"] == "one of `pending`, `paid`, `fulfilled`, `cancelled`"


def test_the_worked_example_is_quoted_from_the_module() -> None:
    text = DOC.read_text()
    repo = DOC.parents[1]
    source = (repo / "modules" / "loyalty" / "app.py").read_text()
    manifest = json.loads((repo / "modules" / "loyalty" / "trafi-module.json").read_text())
    python_block = text.split("```python\n", 1)[1].split("```", 1)[0]
    assert python_block in source
    json_block = text.split("```json\n", 1)[1].split("```", 1)[0]
    assert json.loads("{" + json_block + "}")["events"] == manifest["events"]
