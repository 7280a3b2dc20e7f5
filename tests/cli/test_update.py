"""`trafi module update|rollback|versions|prune` and `remove --cascade` through the CLI, on a real
project: versions, kept folders, config migration, breaking changes, refusals, migrations up and
down, and the audit log."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.cli.commands import applied_migrations, assert_consistent, audit_actions, module_tables
from tests.conftest import REPO
from tests.module_sources import module_copy
from trafi_cli.main import app
from trafi_host.build import build_if_stale
from trafi_host.errors import ExitCode
from trafi_host.project import Project
from trafi_host.project.versions import kept_versions

pytestmark = pytest.mark.slow

REVIEWS = REPO / "modules" / "reviews"
BOTH = ["0001_reviews", "0002_votes"]


@pytest.fixture(scope="module")
def reviews_dir() -> Path:
    build_if_stale(REVIEWS)
    return REVIEWS


def trafi(project: Project, *args: str, code: int = 0) -> Any:
    result = CliRunner().invoke(app, [*args, "-C", str(project.root)])
    assert result.exit_code == code, result.output
    if "--json" in args and result.output.strip():
        return json.loads(result.output)
    return result.output


def reviews_version(into: Path, version: str, *, votes: bool = True, **manifest: Any) -> Path:
    """reviews at `version`; without `votes`, only its first migration."""
    shutil.rmtree(into, ignore_errors=True)
    folder = module_copy(REVIEWS, into, version=version, manifest=manifest or None)
    if not votes:
        for file in (folder / "migrations").glob("0002_*"):
            file.unlink()
    return folder


@pytest.fixture
def installed(sqlite_project: Project, reviews_dir: Path, tmp_path: Path) -> tuple[Project, Path]:
    """reviews 1.0.0 (first migration only) installed from a folder that later holds newer versions."""
    source = reviews_version(tmp_path / "reviews-src", "1.0.0", votes=False)
    trafi(sqlite_project, "module", "add", str(source))
    assert applied_migrations(sqlite_project, "reviews") == ["0001_reviews"]
    return sqlite_project, source


def test_update_from_the_recorded_folder_applies_migrations_and_keeps_the_old_version(
    installed: tuple[Project, Path], tmp_path: Path
) -> None:
    project, source = installed
    reviews_version(source, "1.1.0")

    out = trafi(project, "module", "update", "reviews", "--yes", "--json")

    [item] = out["updates"]
    assert (item["fromVersion"], item["toVersion"], item["upToDate"]) == ("1.0.0", "1.1.0", False)
    assert {"kind": "migrations", "breaking": False, "detail": "applies migration 0002_votes"} in item[
        "changes"
    ]
    assert project.load_config().modules["reviews"].version == "1.1.0"
    assert project.load_lock().modules["reviews"].version == "1.1.0"
    assert applied_migrations(project, "reviews") == BOTH
    assert [k.version for k in kept_versions(project, "reviews")] == ["1.0.0"]
    assert audit_actions(project, "reviews")[-1] == "updated"
    assert_consistent(project, {"reviews"})

    again = trafi(project, "module", "update", "reviews", "--yes", "--json")
    assert again["updates"][0]["upToDate"] is True


def test_a_downgrade_is_refused_unless_named_and_then_reverts_migrations(
    installed: tuple[Project, Path], tmp_path: Path
) -> None:
    project, source = installed
    reviews_version(source, "1.1.0")
    trafi(project, "module", "update", "reviews", "--yes")
    older = reviews_version(tmp_path / "reviews-old", "1.0.0", votes=False)
    shutil.rmtree(source)
    shutil.copytree(older, source)

    refused = trafi(project, "module", "update", "reviews", "--yes", code=ExitCode.UPDATE_REFUSED)
    assert "older than the installed 1.1.0" in refused and "--to" in refused
    assert project.load_config().modules["reviews"].version == "1.1.0"

    out = trafi(project, "module", "update", "reviews", "--to", str(older), "--yes", "--json")
    changes = out["updates"][0]["changes"]
    assert {"kind": "downgrade", "breaking": True, "detail": "1.1.0 -> 1.0.0 is a downgrade"} in changes
    assert any(c["detail"].startswith("reverts migration 0002_votes") for c in changes)
    assert applied_migrations(project, "reviews") == ["0001_reviews"]
    assert module_tables(project, "reviews") == {"mod_reviews__review"}


def test_without_a_terminal_an_update_needs_yes_and_changes_nothing(installed: tuple[Project, Path]) -> None:
    project, source = installed
    before = project.config_path.read_text()
    reviews_version(source, "2.0.0")

    output = trafi(project, "module", "update", "reviews", code=ExitCode.UPDATE_REFUSED)

    assert "breaking" in output and "1.0.0 -> 2.0.0 is a major version step" in output
    assert "--yes" in output
    assert project.config_path.read_text() == before
    assert applied_migrations(project, "reviews") == ["0001_reviews"]
    assert_consistent(project, {"reviews"})


def test_the_config_is_kept_and_migrated_to_the_new_schema(installed: tuple[Project, Path]) -> None:
    project, source = installed
    config = project.load_config()
    config.modules["reviews"].config = {"pageSize": 20, "theme": "dark"}
    project.save_config(config)
    schema = {
        "type": "object",
        "properties": {
            "perPage": {"type": "integer", "x-trafi-renamed-from": "pageSize"},
            "theme": {"type": "string"},
            "moderation": {"type": "boolean", "default": False},
        },
        "additionalProperties": False,
    }
    reviews_version(source, "1.1.0", configSchema=schema)

    out = trafi(project, "module", "update", "reviews", "--yes", "--json")

    assert project.load_config().modules["reviews"].config == {
        "perPage": 20,
        "theme": "dark",
        "moderation": False,
    }
    details = [c["detail"] for c in out["updates"][0]["changes"] if c["kind"] == "config"]
    assert details == [
        "config key 'pageSize' renamed to 'perPage'",
        "config key 'moderation' added with its default",
    ]


def test_a_config_the_new_schema_refuses_blocks_the_update(installed: tuple[Project, Path]) -> None:
    project, source = installed
    config = project.load_config()
    config.modules["reviews"].config = {"perPage": "twenty"}
    project.save_config(config)
    reviews_version(
        source, "1.1.0", configSchema={"type": "object", "properties": {"perPage": {"type": "integer"}}}
    )

    output = trafi(project, "module", "update", "reviews", "--yes", code=ExitCode.UPDATE_REFUSED)

    assert "perPage: 'twenty' is not of type 'integer'" in output
    assert project.load_config().modules["reviews"].version == "1.0.0"


def test_an_update_a_dependent_does_not_accept_is_refused(
    installed: tuple[Project, Path], tmp_path: Path
) -> None:
    project, source = installed
    fan = module_copy(REVIEWS, tmp_path / "fan", name="reviews-fan", dependencies={"reviews": "^1.0.0"})
    shutil.rmtree(fan / "migrations")
    trafi(project, "module", "add", str(fan))
    reviews_version(source, "2.0.0")

    output = trafi(project, "module", "update", "reviews", "--yes", code=ExitCode.DEPENDENCY)

    assert "reviews-fan 1.0.0 needs reviews ^1.0.0" in output
    assert project.load_config().modules["reviews"].version == "1.0.0"


def test_rollback_puts_the_kept_version_back_and_can_go_forward_again(
    installed: tuple[Project, Path],
) -> None:
    project, source = installed
    reviews_version(source, "1.1.0")
    trafi(project, "module", "update", "reviews", "--yes")
    digest_new = project.load_config().modules["reviews"].digest

    out = trafi(project, "module", "rollback", "reviews", "--json")

    assert (out["fromVersion"], out["toVersion"]) == ("1.1.0", "1.0.0")
    assert out["migrationsReverted"] == ["down 0002_votes"]
    assert project.load_config().modules["reviews"].version == "1.0.0"
    assert applied_migrations(project, "reviews") == ["0001_reviews"]
    assert "rolled-back" in audit_actions(project, "reviews")
    assert_consistent(project, {"reviews"})

    forward = trafi(project, "module", "rollback", "reviews", "--to", "1.1.0", "--json")
    assert forward["toVersion"] == "1.1.0"
    assert project.load_config().modules["reviews"].digest == digest_new
    assert applied_migrations(project, "reviews") == BOTH


def test_a_rollback_with_nothing_kept_says_so(installed: tuple[Project, Path]) -> None:
    project, _ = installed
    output = trafi(project, "module", "rollback", "reviews", code=ExitCode.PROJECT)
    assert "a previous version is not kept on disk (kept: none)" in output


def test_versions_are_kept_up_to_the_limit_and_pruned_by_hand(installed: tuple[Project, Path]) -> None:
    project, source = installed
    config = project.load_config()
    config.updates.keep_versions = 2
    project.save_config(config)
    for version in ("1.1.0", "1.2.0", "1.3.0"):
        reviews_version(source, version)
        trafi(project, "module", "update", "reviews", "--yes")

    listed = trafi(project, "module", "versions", "reviews", "--json")
    assert [k["version"] for k in listed] == ["1.2.0", "1.1.0"]

    pruned = trafi(project, "module", "prune", "reviews", "--keep", "0", "--json")
    assert pruned["pruned"] == {"reviews": ["1.2.0", "1.1.0"]}
    assert kept_versions(project, "reviews") == []


def test_remove_is_blocked_by_dependents_unless_cascade(
    installed: tuple[Project, Path], tmp_path: Path
) -> None:
    project, source = installed
    reviews_version(source, "1.1.0")
    trafi(project, "module", "update", "reviews", "--yes")  # a kept version, which goes too
    fan = module_copy(REVIEWS, tmp_path / "fan", name="reviews-fan", dependencies={"reviews": "^1.0.0"})
    shutil.rmtree(fan / "migrations")
    trafi(project, "module", "add", str(fan))
    write_folder = project.data_dir / "acme" / "reviews"
    write_folder.mkdir(parents=True)

    refused = trafi(project, "module", "remove", "reviews", "--force", code=ExitCode.UPDATE_REFUSED)
    assert "needed by reviews-fan" in refused and "--cascade" in refused
    assert set(project.load_config().modules) == {"reviews", "reviews-fan"}

    out = trafi(project, "module", "remove", "reviews", "--cascade", "--force", "--json")

    assert out["cascade"] == [{"name": "reviews-fan", "version": "1.0.0"}]
    assert_consistent(project, set())
    assert applied_migrations(project, "reviews") == []
    assert not write_folder.exists()
    assert kept_versions(project, "reviews") == []
    assert audit_actions(project, "reviews-fan")[-1] == "removed"
    assert audit_actions(project, "reviews")[-1] == "removed"


def test_add_over_a_newer_installed_version_is_refused(
    installed: tuple[Project, Path], tmp_path: Path
) -> None:
    project, source = installed
    reviews_version(source, "1.1.0")
    trafi(project, "module", "update", "reviews", "--yes")
    older = reviews_version(tmp_path / "older", "1.0.0", votes=False)

    output = trafi(project, "module", "add", str(older), code=ExitCode.UPDATE_REFUSED)

    assert "1.0.0 is older than the installed 1.1.0" in output
    assert project.load_config().modules["reviews"].version == "1.1.0"


def test_updating_a_quarantined_module_offers_to_lift_the_quarantine(installed: tuple[Project, Path]) -> None:
    from trafi_host.lifecycle import project_module_states, quarantine

    project, source = installed
    quarantine(project, "reviews", "5 incidents in 60 s")
    reviews_version(source, "1.1.0")

    kept_quarantine = trafi(project, "module", "update", "reviews", "--yes", "--keep-quarantine", "--json")
    assert kept_quarantine["updates"][0]["quarantineLifted"] is False
    with project_module_states(project) as states:
        assert states.load()["reviews"].quarantined == "5 incidents in 60 s"

    reviews_version(source, "1.2.0")
    output = trafi(project, "module", "update", "reviews", "--yes")

    assert "quarantined 5 incidents in 60 s" in " ".join(output.split())
    assert "quarantine lifted" in output
    with project_module_states(project) as states:
        assert states.load()["reviews"].quarantined is None
    assert "quarantine-lifted" in audit_actions(project, "reviews")


def test_update_all_updates_what_has_news_and_says_what_is_up_to_date(
    installed: tuple[Project, Path], tmp_path: Path
) -> None:
    project, source = installed
    other = module_copy(REVIEWS, tmp_path / "fan", name="reviews-fan", dependencies={"reviews": "^1.0.0"})
    shutil.rmtree(other / "migrations")
    trafi(project, "module", "add", str(other))
    reviews_version(source, "1.1.0")

    out = trafi(project, "module", "update", "--all", "--yes", "--json")

    by_name = {item["name"]: item for item in out["updates"]}
    assert by_name["reviews"]["toVersion"] == "1.1.0" and not by_name["reviews"]["upToDate"]
    assert by_name["reviews-fan"]["upToDate"] is True
    assert trafi(project, "module", "update", "--yes", code=ExitCode.OTHER)  # neither a name nor --all


def test_adding_a_quarantined_module_again_says_it_stays_quarantined(installed: tuple[Project, Path]) -> None:
    from trafi_host.lifecycle import quarantine

    project, source = installed
    quarantine(project, "reviews", "5 incidents in 60 s")
    reviews_version(source, "1.0.1")

    output = " ".join(trafi(project, "module", "add", str(source)).split())

    assert "still quarantined: 5 incidents in 60 s" in output and "--lift-quarantine" in output
