"""The reviews example module on the module database, SQLite and PostgreSQL: its HTTP API per
tenant, migrations on install and update (a failing one leaves the store as it was), and
removal that keeps or deletes the data."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, select
from typer.testing import CliRunner

from tests.conftest import REPO, install_modules
from tests.module_sources import module_copy
from trafi_cli.main import app as cli
from trafi_host.api import create_app
from trafi_host.audit_log import AuditLog
from trafi_host.auth import create_api_key, create_tenant
from trafi_host.build import build_if_stale
from trafi_host.capabilities.db.migrations import MigrationRunner
from trafi_host.db import Database
from trafi_host.db.schema import KV
from trafi_host.errors import ExitCode
from trafi_host.module_host import ModuleHost
from trafi_host.project import Project

REVIEWS = REPO / "modules" / "reviews"
TABLES = {"mod_reviews__review", "mod_reviews__vote"}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def reviews_dir() -> Path:
    build_if_stale(REVIEWS)
    return REVIEWS


@pytest.fixture
def host(project: Project, reviews_dir: Path) -> Iterator[ModuleHost]:
    install_modules(project, reviews_dir)
    module_host = ModuleHost(project)
    module_host.reconcile()
    for tenant in ("acme", "globex"):
        create_tenant(module_host.database, tenant)
    yield module_host
    module_host.close()


def headers(host: ModuleHost, tenant: str) -> dict[str, str]:
    key, _ = create_api_key(host.database, tenant)
    return {"Authorization": f"Bearer {key}"}


def module_tables(database_url: str) -> set[str]:
    with Database(database_url) as database:
        return {t for t in inspect(database.engine).get_table_names() if t.startswith("mod_")}


def test_reviews_are_kept_per_tenant_through_the_module_database(project: Project, host: ModuleHost) -> None:
    assert host.states["reviews"].status == "loaded", host.states["reviews"]
    acme, globex = headers(host, "acme"), headers(host, "globex")
    base = "/api/modules/reviews/v1"
    with TestClient(create_app(project, host)) as client:
        first = client.post(f"{base}/products/p1/reviews", headers=acme, json={"author": "ann", "rating": 5})
        assert first.status_code == 201, first.text
        client.post(f"{base}/products/p1/reviews", headers=acme, json={"author": "bob", "rating": 2})
        again = client.post(f"{base}/products/p1/reviews", headers=acme, json={"author": "ann", "rating": 4})
        assert again.status_code == 422  # one review per author and product
        bad = client.post(f"{base}/products/p1/reviews", headers=acme, json={"author": "cy", "rating": 9})
        assert bad.status_code == 422  # the migration's CHECK
        # The same author and product for another tenant is another review.
        other = client.post(
            f"{base}/products/p1/reviews", headers=globex, json={"author": "ann", "rating": 1}
        )
        assert other.status_code == 201

        listed = client.get(f"{base}/products/p1/reviews?min_rating=3", headers=acme).json()
        assert [(r["author"], r["rating"]) for r in listed["reviews"]] == [("ann", 5)]
        assert client.get(f"{base}/products/p1/rating", headers=acme).json() == {
            "product": "p1",
            "reviews": 2,
            "average": 3.5,
        }
        assert client.get(f"{base}/products/p1/rating", headers=globex).json()["reviews"] == 1

        review = first.json()["id"]
        vote = client.post(
            f"{base}/reviews/{review}/votes", headers=acme, json={"voter": "x", "helpful": True}
        )
        assert vote.json() == {"review": review, "helpful": 1}
        changed = client.post(
            f"{base}/reviews/{review}/votes", headers=acme, json={"voter": "x", "helpful": False}
        )
        assert changed.json()["helpful"] == 0
        # globex cannot vote on, nor delete, acme's review.
        foreign = client.post(
            f"{base}/reviews/{review}/votes", headers=globex, json={"voter": "y", "helpful": True}
        )
        assert foreign.status_code == 404
        assert client.delete(f"{base}/reviews/{review}", headers=globex).status_code == 404
        assert client.delete(f"{base}/reviews/{review}", headers=acme).json() == {"deleted": 1}


def test_a_failing_migration_in_an_update_leaves_the_module_on_its_version(
    project: Project, host: ModuleHost, tmp_path: Path, database_url: str
) -> None:
    before = module_tables(database_url)
    assert before == TABLES
    update = module_copy(REVIEWS, tmp_path / "reviews", version="1.1.0")
    (update / "migrations" / "0003_tags.up.sql").write_text(
        "CREATE TABLE mod_reviews__tag (name TEXT PRIMARY KEY);\n"
        "ALTER TABLE mod_reviews__review ADD COLUMN rating INTEGER;\n"  # the column exists: fails
    )
    (update / "migrations" / "0003_tags.down.sql").write_text("DROP TABLE mod_reviews__tag;\n")
    result = CliRunner().invoke(cli, ["module", "add", str(update), "-C", str(project.root)])
    assert result.exit_code == ExitCode.MIGRATION, result.output
    assert "migration 0003_tags (up) failed at 0003_tags.up.sql:2" in result.output
    assert project.module_entry("reviews").version == "1.0.0"
    assert module_tables(database_url) == before
    with Database(database_url) as database:
        applied = [a.id for a in MigrationRunner(database.engine).applied("reviews")]
    assert applied == ["0001_reviews", "0002_votes"]


def test_a_migration_touching_the_core_is_refused_before_anything_runs(
    project: Project, host: ModuleHost, tmp_path: Path
) -> None:
    update = module_copy(REVIEWS, tmp_path / "reviews", version="1.1.0")
    (update / "migrations" / "0003_evil.up.sql").write_text("-- looks harmless\nDROP TABLE trafi_api_keys;\n")
    (update / "migrations" / "0003_evil.down.sql").write_text("SELECT 1;\n")
    result = CliRunner().invoke(cli, ["module", "add", str(update), "-C", str(project.root)])
    assert result.exit_code == ExitCode.VALIDATION_BLOCKED, result.output
    assert "TRF-T001" in result.output
    assert "migrations/0003_evil.up.sql:2" in result.output
    assert "migrations/0003_evil.down.sql:1" in result.output
    assert project.module_entry("reviews").version == "1.0.0"


def _remove(project: Project, *flags: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli, ["module", "remove", "reviews", *flags, "-C", str(project.root), "--json"]
    )
    return result.exit_code, result.output


def _write_review(project: Project, host: ModuleHost) -> None:
    with TestClient(create_app(project, host)) as client:
        created = client.post(
            "/api/modules/reviews/v1/products/p1/reviews",
            headers=headers(host, "acme"),
            json={"author": "ann", "rating": 5},
        )
        assert created.status_code == 201


def test_removal_without_a_choice_refuses_then_keep_finds_the_data_again(
    project: Project, host: ModuleHost, reviews_dir: Path, database_url: str
) -> None:
    _write_review(project, host)
    code, out = _remove(project)
    assert code == ExitCode.OTHER and "say --keep-data or --delete-data" in out
    assert "reviews" in project.load_config().modules
    code, out = _remove(project, "--keep-data")
    assert code == 0 and json.loads(out)["data"] == "keep"
    assert module_tables(database_url) == TABLES
    install_modules(project, reviews_dir)
    host.reconcile()
    with TestClient(create_app(project, host)) as client:
        rating = client.get("/api/modules/reviews/v1/products/p1/rating", headers=headers(host, "acme"))
    assert rating.json()["reviews"] == 1
    with Database(database_url) as database:
        audit = [(e.action, e.detail) for e in AuditLog(database).entries("reviews")]
    assert ("removed", "version 1.0.0; data: keep") in audit


@pytest.mark.parametrize("flag", ["--delete-data", "--force"])
def test_removal_that_deletes_runs_the_down_migrations_and_drops_kv_rows(
    project: Project, host: ModuleHost, database_url: str, flag: str
) -> None:
    _write_review(project, host)
    host.kv.set("acme", "reviews", "cursor", b"1")
    host.kv.set("acme", "other-module", "kept", b"1")
    code, out = _remove(project, flag)
    assert code == 0 and json.loads(out)["data"] == "delete", out
    assert module_tables(database_url) == set()
    with Database(database_url) as database, database.engine.connect() as connection:
        modules = {row.module for row in connection.execute(select(KV.c.module))}
        assert "reviews" not in modules and "other-module" in modules
        assert MigrationRunner(database.engine).applied("reviews") == []
        audit = [(e.action, e.detail) for e in AuditLog(database).entries("reviews")]
    assert (
        "removed",
        "version 1.0.0; data: delete (2 migration(s) reverted, key-value rows deleted)",
    ) in audit
    assert ("disabled", None) in audit


def _cli_json(project: Project, *args: str) -> object:
    result = CliRunner().invoke(cli, ["module", *args, "-C", str(project.root), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_migrations_are_listed_and_moved_by_hand(
    project: Project, host: ModuleHost, database_url: str
) -> None:
    listed = _cli_json(project, "migrations", "reviews")
    assert [(m["id"], m["applied"], m["appliedVersion"]) for m in listed] == [  # type: ignore[union-attr]
        ("0001_reviews", True, "1.0.0"),
        ("0002_votes", True, "1.0.0"),
    ]
    planned = _cli_json(project, "migrate", "reviews", "--to", "0001_reviews", "--down", "--dry-run")
    assert planned == {"module": "reviews", "dryRun": True, "steps": ["down 0002_votes"]}
    assert module_tables(database_url) == TABLES  # a dry run changes nothing
    moved = _cli_json(project, "migrate", "reviews", "--to", "0001_reviews", "--down")
    assert moved == {"module": "reviews", "dryRun": False, "steps": ["down 0002_votes"]}
    assert module_tables(database_url) == {"mod_reviews__review"}
    assert _cli_json(project, "migrate", "reviews")["steps"] == ["up 0002_votes"]  # type: ignore[index]
    assert module_tables(database_url) == TABLES
    unknown = CliRunner().invoke(
        cli, ["module", "migrate", "reviews", "--to", "0009_x", "-C", str(project.root)]
    )
    assert unknown.exit_code == ExitCode.MIGRATION and "no migration '0009_x'" in unknown.output
