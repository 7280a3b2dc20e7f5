"""`trafi module ...` end to end, and every bad input leaves the project as it was."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import snapshot
from trafi_cli.main import app
from trafi_host.project import Project

runner = CliRunner()


def trafi(project: Project, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, [*args, "-C", str(project.root)])
    return result.exit_code, result.output


def copy_module(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def edit_manifest(folder: Path, **changes: object) -> None:
    path = folder / "trafi-module.json"
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data))


def test_add_list_disable_enable_remove(sqlite_project: Project, hello_dir: Path) -> None:
    code, out = trafi(sqlite_project, "module", "add", str(hello_dir))
    assert code == 0, out
    assert "installed: hello 0.1.0" in out
    assert (sqlite_project.module_dir("hello") / "dist" / "hello.wasm").is_file()

    code, out = trafi(sqlite_project, "module", "list", "--json")
    listing = json.loads(out)
    assert listing["schemaVersion"] == 1
    assert listing["modules"] == [
        {
            "name": "hello",
            "version": "0.1.0",
            "status": "enabled",
            "reason": None,
            "source": str(hello_dir),
            "sourceKind": "path",
            "resolved": str(hello_dir),
            "compatible": True,
            "compatibility": "ok",
            "loadMs": None,  # no host is running to report one
            "reportedBy": None,
            "lastUpdate": None,
        }
    ]

    assert trafi(sqlite_project, "module", "disable", "hello")[0] == 0
    assert sqlite_project.load_config().modules["hello"].enabled is False
    code, out = trafi(sqlite_project, "module", "list")
    assert "disabled" in out
    assert trafi(sqlite_project, "module", "enable", "hello")[0] == 0
    assert sqlite_project.load_config().modules["hello"].enabled is True

    code, out = trafi(sqlite_project, "module", "remove", "hello")
    assert code == 0, out
    assert sqlite_project.load_config().modules == {}
    assert not sqlite_project.module_dir("hello").exists()


def test_adding_again_updates_in_place_and_keeps_config(sqlite_project: Project, hello_dir: Path) -> None:
    assert trafi(sqlite_project, "module", "add", str(hello_dir))[0] == 0
    config = sqlite_project.load_config()
    config.modules["hello"].config["greeting"] = "bonjour"
    sqlite_project.save_config(config)
    code, out = trafi(sqlite_project, "module", "add", str(hello_dir))
    assert code == 0, out
    assert "updated from 0.1.0" in out
    assert sqlite_project.load_config().modules["hello"].config == {"greeting": "bonjour"}


def _refused(project: Project, source: Path, exit_code: int, *needles: str) -> None:
    before = snapshot(project)
    code, out = trafi(project, "module", "add", str(source))
    assert code == exit_code, out
    flat = " ".join(out.split())
    for needle in needles:
        assert needle in flat, out
    assert snapshot(project) == before


def test_malformed_manifest_is_refused(sqlite_project: Project, hello_dir: Path, tmp_path: Path) -> None:
    bad = copy_module(hello_dir, tmp_path / "bad")
    (bad / "trafi-module.json").write_text('{"name": "hello",')
    _refused(sqlite_project, bad, 3, "not valid JSON")


def test_missing_manifest_is_refused(sqlite_project: Project, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    _refused(sqlite_project, tmp_path / "empty", 3, "no trafi-module.json")


def test_wrong_types_are_all_listed(sqlite_project: Project, hello_dir: Path, tmp_path: Path) -> None:
    bad = copy_module(hello_dir, tmp_path / "bad")
    edit_manifest(bad, version=2, limits={"memoryMb": "big"}, permisions={})
    _refused(
        sqlite_project, bad, 3, "3 problem(s)", "$.version", "$.limits.memoryMb", "did you mean 'permissions'"
    )


def test_incompatible_trafi_range_is_refused(
    sqlite_project: Project, hello_dir: Path, tmp_path: Path
) -> None:
    bad = copy_module(hello_dir, tmp_path / "bad")
    edit_manifest(bad, trafi="^2.0.0")
    _refused(sqlite_project, bad, 4, "needs trafi ^2.0.0", "this host is 0.1.0")


def test_missing_component_is_refused(sqlite_project: Project, hello_dir: Path, tmp_path: Path) -> None:
    bad = copy_module(hello_dir, tmp_path / "bad")
    shutil.rmtree(bad / "dist")
    _refused(sqlite_project, bad, 6, "entry.backend dist/hello.wasm is not in", "add with --build")


def test_component_for_another_world_is_refused(sqlite_project: Project, wrong_world_dir: Path) -> None:
    # The import audit sees it first: nothing of the component runs.
    _refused(sqlite_project, wrong_world_dir, 10, "TRF-I005", "does not export trafi:host/http-handler")


def test_update_that_traps_at_init_keeps_the_old_version(
    sqlite_project: Project, testkit_dir: Path, tmp_path: Path
) -> None:
    assert trafi(sqlite_project, "module", "add", str(testkit_dir))[0] == 0
    config = sqlite_project.load_config()
    config.modules["testkit"].config["failInit"] = "exit"
    sqlite_project.save_config(config)
    newer = copy_module(testkit_dir, tmp_path / "testkit")
    edit_manifest(newer, version="1.1.0")
    _refused(sqlite_project, newer, 8, "init trapped")
    assert sqlite_project.load_config().modules["testkit"].version == "1.0.0"


@pytest.mark.parametrize("command", ["enable", "disable", "remove"])
def test_unknown_module_name(sqlite_project: Project, command: str) -> None:
    before = snapshot(sqlite_project)
    code, out = trafi(sqlite_project, "module", command, "nope")
    assert code == 5
    assert "no installed module named 'nope'" in out
    assert snapshot(sqlite_project) == before


def test_errors_as_json(sqlite_project: Project, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    code, out = trafi(sqlite_project, "module", "add", str(tmp_path / "empty"), "--json")
    assert code == 3
    payload = json.loads(out)
    assert payload["kind"] == "ManifestError"
    assert payload["issues"][0]["path"] == "$"


def test_not_a_project(tmp_path: Path) -> None:
    result = runner.invoke(app, ["module", "list", "-C", str(tmp_path)])
    assert result.exit_code == 2
    assert "not a Trafi project" in result.output


@pytest.mark.parametrize(
    ("lock_text", "needle"),
    [
        ("{not json", "trafi.lock.json: not valid JSON"),
        ('{"lockfileVersion": 9, "modules": {}}', "lockfileVersion"),
        (None, "trafi.lock.json is missing; `trafi module add` writes it"),
    ],
)
def test_install_with_a_bad_lock_says_what_is_wrong_and_changes_nothing(
    sqlite_project: Project, lock_text: str | None, needle: str
) -> None:
    if lock_text is None:
        sqlite_project.lock_path.unlink()
    else:
        sqlite_project.lock_path.write_text(lock_text)
    before = snapshot(sqlite_project)
    code, out = trafi(sqlite_project, "module", "install")
    assert code == 2, out
    assert needle in " ".join(out.split()), out
    assert snapshot(sqlite_project) == before
