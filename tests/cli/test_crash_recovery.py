"""A `trafi module add` or `remove` SIGKILLed at every step (`TRAFI_TEST_KILL_AT`): the next command
finishes it (or, killed before anything changed, sweeps what it left), so config, lock, module
folders and the module's tables agree, and no debris is left."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.cli.commands import (
    applied_migrations,
    assert_consistent,
    audit_actions,
    module_tables,
    run_trafi,
)
from tests.conftest import REPO
from tests.module_sources import module_copy
from trafi_cli.main import app
from trafi_host.build import build_if_stale
from trafi_host.db import Database
from trafi_host.lifecycle import project_module_states
from trafi_host.project import Project
from trafi_host.updates.records import UpdateRecords

pytestmark = pytest.mark.slow

REVIEWS = REPO / "modules" / "reviews"
SHIPPED = ["0001_reviews", "0002_votes"]
KILLED = -signal.SIGKILL

# Every kill point of an install, in order; killed at `staged`, nothing has changed yet.
ADD_STEPS = ["begin", "migrated", "moved-reviews", "moved", "config-only", "config", "audited", "cleaned"]
REMOVE_STEPS = ["begin", "disabled", "data", "moved", "config-only", "config", "cleaned", "forgotten"]


@pytest.fixture(scope="module")
def reviews_dir() -> Path:
    build_if_stale(REVIEWS)
    return REVIEWS


@pytest.fixture
def fresh(sqlite_project: Project) -> Project:
    return sqlite_project


def next_command(project: Project) -> dict[str, object]:
    """What runs after the crash: any command recovers first (here the read-only `list`)."""
    result = CliRunner().invoke(app, ["module", "list", "--json", "-C", str(project.root)])
    assert result.exit_code == 0, result.output
    listing: dict[str, object] = json.loads(result.output)
    return listing


def add_in_process(project: Project, folder: Path) -> None:
    result = CliRunner().invoke(app, ["module", "add", str(folder), "-C", str(project.root)])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("step", ADD_STEPS)
def test_an_add_killed_after_its_journal_is_finished(
    fresh: Project, reviews_dir: Path, tmp_path: Path, step: str
) -> None:
    code = run_trafi(
        fresh,
        "module",
        "add",
        str(reviews_dir),
        log=tmp_path / "add.log",
        TRAFI_TEST_KILL_AT=f"install:{step}",
    )
    assert code == KILLED, (tmp_path / "add.log").read_text()
    assert fresh.journal_path.exists()

    listing = next_command(fresh)

    assert [m["name"] for m in listing["modules"]] == ["reviews"]  # type: ignore[index]
    assert_consistent(fresh, {"reviews"})
    assert applied_migrations(fresh, "reviews") == SHIPPED
    assert module_tables(fresh, "reviews") == {"mod_reviews__review", "mod_reviews__vote"}
    assert audit_actions(fresh, "reviews").count("installed") == 1


def test_an_add_killed_before_its_journal_leaves_nothing(
    fresh: Project, reviews_dir: Path, tmp_path: Path
) -> None:
    code = run_trafi(
        fresh,
        "module",
        "add",
        str(reviews_dir),
        log=tmp_path / "add.log",
        TRAFI_TEST_KILL_AT="install:staged",
    )
    assert code == KILLED
    assert any(fresh.staging_dir.iterdir())  # the staged copy, validated, not yet in place

    next_command(fresh)

    assert_consistent(fresh, set())
    assert not any(fresh.staging_dir.iterdir())
    assert applied_migrations(fresh, "reviews") == []
    assert "installed" not in audit_actions(fresh, "reviews")


@pytest.mark.parametrize("step", ["moved-reviews", "config-only"])
def test_an_update_killed_between_steps_ends_on_the_new_version(
    fresh: Project, reviews_dir: Path, tmp_path: Path, step: str
) -> None:
    add_in_process(fresh, reviews_dir)
    newer = module_copy(reviews_dir, tmp_path / "reviews-1.1.0", version="1.1.0")
    code = run_trafi(
        fresh, "module", "add", str(newer), log=tmp_path / "add.log", TRAFI_TEST_KILL_AT=f"install:{step}"
    )
    assert code == KILLED
    if step == "config-only":  # the config says 1.1.0, the lock still 1.0.0
        assert fresh.load_config().modules["reviews"].version == "1.1.0"
        assert fresh.load_lock().modules["reviews"].version == "1.0.0"

    next_command(fresh)

    assert_consistent(fresh, {"reviews"})
    assert fresh.load_lock().modules["reviews"].version == "1.1.0"
    manifest = json.loads((fresh.module_dir("reviews") / "trafi-module.json").read_text())
    assert manifest["version"] == "1.1.0"
    assert applied_migrations(fresh, "reviews") == SHIPPED


@pytest.mark.parametrize("step", REMOVE_STEPS)
def test_a_remove_killed_at_any_step_is_finished(
    fresh: Project, reviews_dir: Path, tmp_path: Path, step: str
) -> None:
    add_in_process(fresh, reviews_dir)
    code = run_trafi(
        fresh,
        "module",
        "remove",
        "reviews",
        "--delete-data",
        log=tmp_path / "remove.log",
        TRAFI_TEST_KILL_AT=f"remove:{step}",
    )
    assert code == KILLED, (tmp_path / "remove.log").read_text()

    listing = next_command(fresh)

    assert listing["modules"] == []
    assert_consistent(fresh, set())
    assert applied_migrations(fresh, "reviews") == []
    assert module_tables(fresh, "reviews") == set()
    with project_module_states(fresh) as states:
        assert "reviews" not in states.load()
    assert audit_actions(fresh, "reviews").count("removed") == 1


def test_a_host_start_finishes_an_interrupted_remove(
    fresh: Project, reviews_dir: Path, tmp_path: Path
) -> None:
    from trafi_host.module_host import ModuleHost

    add_in_process(fresh, reviews_dir)
    code = run_trafi(
        fresh,
        "module",
        "remove",
        "reviews",
        "--keep-data",
        log=tmp_path / "r.log",
        TRAFI_TEST_KILL_AT="remove:moved",
    )
    assert code == KILLED
    assert "reviews" in fresh.load_config().modules and not fresh.module_dir("reviews").exists()

    with ModuleHost(fresh) as host:
        assert host.reconcile() == []

    assert_consistent(fresh, set())
    assert applied_migrations(fresh, "reviews") == SHIPPED  # --keep-data


# An update or a rollback is the install's journaled commit: the same kill points.
UPDATE_STEPS = ["begin", "migrated", "moved-reviews", "moved", "config-only", "config", "audited", "cleaned"]


def reviews_1_0(tmp_path: Path) -> Path:
    """reviews 1.0.0 with its first migration only: 1.1.0 (the repository's) adds the second."""
    folder = module_copy(REVIEWS, tmp_path / "reviews-1.0.0")
    for file in (folder / "migrations").glob("0002_*"):
        file.unlink()
    return folder


def kept(project: Project) -> list[str]:
    from trafi_host.project.versions import kept_versions

    return [k.version for k in kept_versions(project, "reviews")]


@pytest.mark.parametrize("step", ["staged", *UPDATE_STEPS])
def test_an_update_killed_at_any_step_ends_on_one_version(
    fresh: Project, reviews_dir: Path, tmp_path: Path, step: str
) -> None:
    add_in_process(fresh, reviews_1_0(tmp_path))
    newer = module_copy(reviews_dir, tmp_path / "reviews-1.1.0", version="1.1.0")
    code = run_trafi(
        fresh,
        "module",
        "update",
        "reviews",
        "--to",
        str(newer),
        "--yes",
        log=tmp_path / "update.log",
        TRAFI_TEST_KILL_AT=f"update:{step}",
    )
    assert code == KILLED, (tmp_path / "update.log").read_text()

    next_command(fresh)

    assert_consistent(fresh, {"reviews"})
    if step == "staged":  # killed before its journal: nothing changed
        assert fresh.load_config().modules["reviews"].version == "1.0.0"
        assert applied_migrations(fresh, "reviews") == ["0001_reviews"]
        assert kept(fresh) == []
        CliRunner().invoke(app, ["module", "disable", "reviews", "-C", str(fresh.root)])  # a command
        with Database(fresh.database_url()) as database:
            assert UpdateRecords(database).watching() == {}  # its window closed, not left open
        return
    assert fresh.load_config().modules["reviews"].version == "1.1.0"
    assert fresh.load_lock().modules["reviews"].version == "1.1.0"
    manifest = json.loads((fresh.module_dir("reviews") / "trafi-module.json").read_text())
    assert manifest["version"] == "1.1.0"
    assert applied_migrations(fresh, "reviews") == SHIPPED
    assert kept(fresh) == ["1.0.0"]  # the replaced version is kept for a rollback
    assert audit_actions(fresh, "reviews").count("updated") == 1


@pytest.mark.parametrize("step", ["staged", *UPDATE_STEPS])
def test_a_rollback_killed_at_any_step_ends_on_one_version(
    fresh: Project, reviews_dir: Path, tmp_path: Path, step: str
) -> None:
    add_in_process(fresh, reviews_1_0(tmp_path))
    newer = module_copy(reviews_dir, tmp_path / "reviews-1.1.0", version="1.1.0")
    result = CliRunner().invoke(
        app, ["module", "update", "reviews", "--to", str(newer), "--yes", "-C", str(fresh.root)]
    )
    assert result.exit_code == 0, result.output
    code = run_trafi(
        fresh, "module", "rollback", "reviews", log=tmp_path / "rb.log", TRAFI_TEST_KILL_AT=f"rollback:{step}"
    )
    assert code == KILLED, (tmp_path / "rb.log").read_text()

    next_command(fresh)

    assert_consistent(fresh, {"reviews"})
    version = fresh.load_config().modules["reviews"].version
    assert fresh.load_lock().modules["reviews"].version == version
    manifest = json.loads((fresh.module_dir("reviews") / "trafi-module.json").read_text())
    assert manifest["version"] == version
    if step == "staged":
        assert version == "1.1.0" and applied_migrations(fresh, "reviews") == SHIPPED
        assert kept(fresh) == ["1.0.0"]
    else:
        assert version == "1.0.0" and applied_migrations(fresh, "reviews") == ["0001_reviews"]
        assert kept(fresh) == ["1.1.0"]  # and 1.1.0 is kept in turn
