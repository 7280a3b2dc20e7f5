"""`trafi cache prune`, and the pruning every command that changes the project does on its own cache."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import install_modules
from trafi_cli.main import app
from trafi_host.project import Project
from trafi_host.runtime.artifacts import cached_artifacts

UNUSED = "ab" * 32


def trafi(project: Project, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, [*args, "-C", str(project.root)])
    return result.exit_code, result.output


def fake_artifact(folder: Path, component: str, engine: str = "0123456789abcdef") -> Path:
    """An artifact file and its record as the cache names them (pruning only reads names and sizes)."""
    folder.mkdir(parents=True, exist_ok=True)
    artifact = folder / f"{component}-{engine}.cwasm"
    artifact.write_bytes(b"\0" * 1000)
    artifact.with_suffix(".json").write_text("{}")
    return artifact


@pytest.fixture
def own_cache(sqlite_project: Project, hello_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    """hello installed (compiled in the session's shared cache), then the project on its own cache,
    holding an artifact for hello and one for a component nothing installed uses."""
    install_modules(sqlite_project, hello_dir)
    monkeypatch.delenv("TRAFI_ARTIFACT_DIR")
    project = Project.open(sqlite_project.root)
    fake_artifact(project.artifacts_dir, project.load_config().modules["hello"].digest)
    fake_artifact(project.artifacts_dir, UNUSED)
    return project


def components(project: Project) -> set[str]:
    return {artifact.component for artifact in cached_artifacts(project.artifacts_dir)}


def test_cache_prune_deletes_what_no_installed_module_uses(own_cache: Project) -> None:
    hello = own_cache.load_config().modules["hello"].digest
    code, out = trafi(own_cache, "cache", "prune", "--dry-run", "--json")
    assert code == 0, out
    dry = json.loads(out)
    assert dry["dryRun"] is True and dry["shared"] is False and dry["freedBytes"] == 0
    assert [item["component"] for item in dry["pruned"]] == [UNUSED]
    assert components(own_cache) == {hello, UNUSED}

    code, out = trafi(own_cache, "cache", "prune", "--json")
    assert code == 0, out
    assert json.loads(out)["freedBytes"] == 1002
    assert components(own_cache) == {hello}
    assert not list(own_cache.artifacts_dir.glob(f"{UNUSED}*"))  # its record went too

    code, out = trafi(own_cache, "cache", "prune")
    assert code == 0 and "deleted 0 artifact(s)" in out


def test_every_change_prunes_the_projects_own_cache(own_cache: Project) -> None:
    hello = own_cache.load_config().modules["hello"].digest
    assert trafi(own_cache, "module", "disable", "hello")[0] == 0
    assert components(own_cache) == {hello}
    assert trafi(own_cache, "module", "remove", "hello")[0] == 0
    assert components(own_cache) == set()


def test_a_shared_cache_is_pruned_only_when_asked(sqlite_project: Project, tmp_path: Path) -> None:
    shared = Path(tmp_path / "shared")
    fake_artifact(shared, UNUSED)
    project = Project.open(
        sqlite_project.root, sqlite_project.settings.model_copy(update={"artifact_dir": shared})
    )
    from trafi_host.recovery import exclusive

    with exclusive(project):
        pass
    assert components(project) == {UNUSED}  # other projects may use it


def test_a_refused_add_leaves_no_artifact(
    sqlite_project: Project, wrong_world_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TRAFI_ARTIFACT_DIR")
    project = Project.open(sqlite_project.root)  # on its own cache
    code, out = trafi(project, "module", "add", str(wrong_world_dir))
    assert code == 10, out
    assert project.artifacts_dir.is_dir()  # it was compiled there to be validated
    assert components(project) == set()
    assert not any(project.staging_dir.iterdir())


def test_a_half_written_artifact_of_a_dead_process_is_swept(own_cache: Project) -> None:
    dead = own_cache.artifacts_dir / ".tmp-999999999-x.cwasm"  # no such pid
    alive = own_cache.artifacts_dir / f".tmp-{1}-x.cwasm"  # pid 1 runs
    dead.write_bytes(b"half")
    alive.write_bytes(b"half")
    shutil.copytree(own_cache.module_dir("hello"), own_cache.modules_dir / ".hello.old-4242")
    assert trafi(own_cache, "module", "list")[0] == 0
    assert not dead.exists() and alive.exists()
    assert not (own_cache.modules_dir / ".hello.old-4242").exists()
