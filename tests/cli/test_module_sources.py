"""`trafi module add` from git and npm, dependencies first, the lock reproduced, bad input refused.

Real peers only: bare git repositories made here (the `github:` shorthand
mapped to them with git's own `url.<base>.insteadOf`), and a verdaccio
registry on 127.0.0.1 fed by the real `npm publish`.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.conftest import REPO, api_keys, snapshot
from tests.module_sources import as_npm_package, git_repository, module_copy, release_version
from tests.npm_registry import Verdaccio, free_port
from tests.polling import wait_for
from trafi_cli.main import app
from trafi_host.api import create_app
from trafi_host.build import build_if_stale
from trafi_host.project import Project

POINTS = REPO / "modules" / "points"
LOYALTY = REPO / "modules" / "loyalty"
pytestmark = pytest.mark.slow
runner = CliRunner()


@dataclass(frozen=True)
class Sources:
    registry: Verdaccio
    repos: Path  # bare repositories; github:acme/<name> maps to <repos>/acme/<name>.git
    hello_commit: str
    work: Path


@pytest.fixture(scope="module")
def sources(npm_registry: Verdaccio, hello_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Sources:
    build_if_stale(POINTS)
    build_if_stale(LOYALTY)
    work = tmp_path_factory.mktemp("sources")
    publish = npm_registry.publish
    publish(as_npm_package(module_copy(hello_dir, work / "npm-hello"), "@shop/hello"))
    publish(as_npm_package(module_copy(POINTS, work / "points-1"), "points"))
    publish(as_npm_package(module_copy(POINTS, work / "points-2", version="2.0.0"), "points"))
    publish(
        as_npm_package(
            module_copy(hello_dir, work / "a", name="cyc-a", dependencies={"cyc-b": "^0.1.0"}), "cyc-a"
        )
    )
    publish(
        as_npm_package(
            module_copy(hello_dir, work / "b", name="cyc-b", dependencies={"cyc-a": "^0.1.0"}), "cyc-b"
        )
    )
    publish(
        as_npm_package(
            module_copy(hello_dir, work / "bad", name="broken", manifest={"version": "one"}),
            "broken",
            "1.0.0",
        )
    )
    publish(
        as_npm_package(
            module_copy(hello_dir, work / "f", name="future", manifest={"trafi": "^9.0.0"}), "future"
        )
    )
    repos = work / "repos"
    hello_commit = git_repository(
        module_copy(hello_dir, work / "git-hello"), repos / "acme" / "hello.git", "v0.1.0"
    )
    git_repository(
        module_copy(hello_dir, work / "git-src", name="from-source", with_component=False),
        repos / "acme" / "from-source.git",
        "v0.1.0",
    )
    return Sources(npm_registry, repos, hello_commit, work)


@pytest.fixture
def env(sources: Sources, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """github: mapped to the local repositories; npm packages from the local registry."""
    gitconfig = tmp_path / "gitconfig"
    gitconfig.write_text(f'[url "file://{sources.repos}/"]\n\tinsteadOf = https://github.com/\n')
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
    monkeypatch.setenv("TRAFI_NPM_REGISTRY", sources.registry.url)
    monkeypatch.delenv("TRAFI_DATABASE_URL", raising=False)


@pytest.fixture
def shop(tmp_path: Path, env: None) -> Project:
    return Project.init(tmp_path / "shop")


def trafi(project: Project, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, [*args, "-C", str(project.root)])
    return result.exit_code, result.output


def add_json(project: Project, spec: str, *extra: str) -> dict[str, object]:
    code, out = trafi(project, "module", "add", spec, "--json", *extra)
    assert code == 0, out
    return dict(json.loads(out))


@pytest.fixture
def served(shop: Project) -> Iterator[tuple[TestClient, dict[str, str]]]:
    key = api_keys(shop.database_url(), "acme")["acme"]
    with TestClient(create_app(shop)) as client:
        yield client, {"Authorization": f"Bearer {key}"}


def test_github_shorthand_installs_the_tagged_commit_and_the_host_serves_it(
    shop: Project, sources: Sources
) -> None:
    result = add_json(shop, "github:acme/hello#v0.1.0")
    assert result["name"] == "hello"
    entry = shop.module_entry("hello")
    assert entry.source.kind == "git"
    assert entry.source.spec == "github:acme/hello#v0.1.0"
    assert entry.source.resolved == f"git+https://github.com/acme/hello.git#{sources.hello_commit}"
    key = api_keys(shop.database_url(), "acme")["acme"]
    with TestClient(create_app(shop)) as client:
        response = client.get("/api/modules/hello/v1/hits", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200 and response.json()["tenant"] == "acme"


def test_git_by_branch_and_by_commit(shop: Project, sources: Sources) -> None:
    bare = sources.repos / "acme" / "hello.git"
    add_json(shop, f"git+file://{bare}#main")
    assert shop.module_entry("hello").source.resolved.endswith(sources.hello_commit)
    add_json(shop, f"git+file://{bare}#{sources.hello_commit[:10]}")
    assert shop.module_entry("hello").source.resolved.endswith(sources.hello_commit)


def test_build_makes_the_component_from_the_source_in_the_repository(shop: Project) -> None:
    code, out = trafi(shop, "module", "add", "github:acme/from-source#v0.1.0")
    assert code == 6 and "add with --build" in " ".join(out.split()), out
    result = add_json(shop, "github:acme/from-source#v0.1.0", "--build")
    assert result["name"] == "from-source"
    assert (shop.module_dir("from-source") / "dist" / "hello.wasm").is_file()  # built in staging


def test_npm_scoped_package_through_the_project_npmrc(
    shop: Project,
    sources: Sources,
    served: tuple[TestClient, dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRAFI_NPM_REGISTRY", f"http://127.0.0.1:{free_port()}/")  # nothing there
    (shop.root / ".npmrc").write_text(f"@shop:registry={sources.registry.url}\n")
    result = add_json(shop, "@shop/hello@^0.1.0")
    assert result["version"] == "0.1.0"
    source = shop.module_entry("hello").source
    assert (source.kind, source.resolved) == ("npm", "@shop/hello@0.1.0")
    assert source.integrity is not None and source.integrity.startswith("sha512-")
    # The running host (started before the install) picks the new module up.
    client, headers = served
    wait_for(
        lambda: client.get("/api/modules/hello/v1/hits", headers=headers).status_code == 200,
        message="the running host to serve the new module",
    )


def test_dependencies_are_installed_first_from_the_registry(shop: Project) -> None:
    result = add_json(shop, str(LOYALTY))
    installed = [(i["name"], i["version"], i["dependencyOf"]) for i in result["installed"]]  # type: ignore[attr-defined]
    assert installed == [("points", "1.0.0", "loyalty"), ("loyalty", "1.1.0", None)]
    assert shop.module_entry("points").source.resolved == "points@1.0.0"
    code, out = trafi(shop, "audit", "list", "--module", "points", "--json")
    assert code == 0 and "needed by loyalty" in out, out


def test_the_lock_file_reproduces_the_set_on_another_machine(shop: Project, tmp_path: Path) -> None:
    add_json(shop, "github:acme/hello#v0.1.0")
    add_json(shop, str(LOYALTY))
    lock = json.loads(shop.lock_path.read_text())
    assert sorted(lock["modules"]) == ["hello", "loyalty", "points"]

    other = tmp_path / "other-machine"
    other.mkdir()
    for name in ("trafi.config.json", "trafi.lock.json"):
        shutil.copy(shop.root / name, other / name)
    second = Project.open(other)
    code, out = trafi(second, "module", "install", "--json")
    assert code == 0, out
    assert sorted(i["name"] for i in json.loads(out)["installed"]) == ["hello", "loyalty", "points"]
    for name in ("hello", "loyalty", "points"):
        assert second.module_entry(name).digest == shop.module_entry(name).digest
        assert second.module_entry(name).source == shop.module_entry(name).source
    code, out = trafi(second, "module", "install")
    assert code == 0 and "up to date" in out, out


def test_a_tampered_lock_is_refused(shop: Project, tmp_path: Path) -> None:
    add_json(shop, "@shop/hello@0.1.0")
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(shop.config_path, other / "trafi.config.json")
    lock = json.loads(shop.lock_path.read_text())
    lock["modules"]["hello"]["digest"] = "0" * 64
    (other / "trafi.lock.json").write_text(json.dumps(lock))
    second = Project.open(other)
    before = snapshot(second)
    code, out = trafi(second, "module", "install")
    assert code == 1 and "the lock records 0000" in " ".join(out.split()), out
    assert snapshot(second) == before


def test_list_shows_status_source_and_compatibility(shop: Project) -> None:
    add_json(shop, "github:acme/hello#v0.1.0")
    add_json(shop, str(LOYALTY))
    trafi(shop, "module", "disable", "points")
    code, out = trafi(shop, "module", "list", "--json")
    assert code == 0, out
    listing = json.loads(out)
    assert listing["schemaVersion"] == 1
    rows = {m["name"]: m for m in listing["modules"]}
    assert rows["hello"]["sourceKind"] == "git" and rows["hello"]["status"] == "enabled"
    assert rows["points"]["status"] == "disabled" and rows["points"]["sourceKind"] == "npm"
    assert rows["loyalty"]["status"] == "failed"
    assert rows["loyalty"]["reason"] == "dependency points is disabled"
    assert rows["loyalty"]["compatibility"] == "ok"
    assert rows["hello"]["resolved"].startswith("git+https://github.com/acme/hello.git#")


@pytest.mark.parametrize(
    ("spec", "exit_code", "needle"),
    [
        ("no-such-module", 14, "no-such-module"),
        ("github:acme/hello#v9.9.9", 13, "v9.9.9"),
        ("github:acme/nothing-here", 13, "github:acme/nothing-here"),
        ("broken", 3, "version"),
        ("future", 4, "^9.0.0"),
        ("cyc-a", 15, "dependency cycle: cyc-a -> cyc-b -> cyc-a"),
        ("points@^3.0.0", 14, "2.0.0"),
    ],
)
def test_bad_sources_are_refused_and_change_nothing(
    shop: Project, spec: str, exit_code: int, needle: str
) -> None:
    add_json(shop, "github:acme/hello#v0.1.0")
    before = snapshot(shop)
    code, out = trafi(shop, "module", "add", spec)
    assert code == exit_code, out
    assert needle in " ".join(out.split()), out
    assert snapshot(shop) == before
    assert not any(shop.staging_dir.iterdir())


def test_unreachable_registry_is_refused_and_changes_nothing(
    shop: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed = f"http://127.0.0.1:{free_port()}/"
    monkeypatch.setenv("TRAFI_NPM_REGISTRY", closed)
    before = snapshot(shop)
    code, out = trafi(shop, "module", "add", "points@^1.0.0")
    assert code == 14 and "unreachable" in out and closed.rstrip("/") in out, out
    assert snapshot(shop) == before


def test_a_conflicting_dependency_is_refused_with_both_paths(shop: Project, tmp_path: Path) -> None:
    add_json(shop, str(LOYALTY))  # points 1.0.0, needed as ^1.0.0
    wants_two = module_copy(LOYALTY, tmp_path / "bonus", name="bonus", dependencies={"points": "^2.0.0"})
    before = snapshot(shop)
    code, out = trafi(shop, "module", "add", str(wants_two))
    assert code == 15, out
    flat = " ".join(out.split())
    assert "installed loyalty 1.1.0 needs points ^1.0.0" in flat, out
    assert "bonus -> points would bring points 2.0.0" in flat, out
    assert snapshot(shop) == before


def test_a_dependency_with_a_bad_manifest_is_refused_naming_who_needed_it(
    shop: Project, hello_dir: Path, tmp_path: Path
) -> None:
    needs = module_copy(hello_dir, tmp_path / "needs", name="needs-broken", dependencies={"broken": "^1.0.0"})
    before = snapshot(shop)
    code, out = trafi(shop, "module", "add", str(needs))
    flat = " ".join(out.split())
    assert code == 3, out
    assert "needs-broken needs broken ^1.0.0: invalid manifest" in flat, out
    assert snapshot(shop) == before


def test_update_follows_an_npm_range_and_moves_beyond_it_with_to(shop: Project) -> None:
    add_json(shop, "points@^1.0.0")
    code, out = trafi(shop, "module", "update", "points", "--yes")
    assert code == 0 and "points 1.0.0: up to date" in out, out  # ^1.0.0 has nothing newer

    code, out = trafi(shop, "module", "update", "points", "--to", "2.0.0", "--yes", "--json")

    assert code == 0, out
    [item] = json.loads(out)["updates"]
    assert (item["fromVersion"], item["toVersion"]) == ("1.0.0", "2.0.0")
    assert {
        "kind": "major-version",
        "breaking": True,
        "detail": "1.0.0 -> 2.0.0 is a major version step",
    } in item["changes"]
    source = shop.module_entry("points").source
    assert (source.spec, source.resolved) == ("points@2.0.0", "points@2.0.0")


def test_update_of_a_git_module_by_tag_and_by_branch(
    shop: Project, sources: Sources, hello_dir: Path
) -> None:
    folder = module_copy(hello_dir, sources.work / f"hello-next-{uuid.uuid4().hex[:6]}")
    bare = sources.repos / "acme" / f"{folder.name}.git"
    git_repository(folder, bare, "v0.1.0")
    release_version(folder, bare, "0.2.0")
    add_json(shop, f"github:acme/{folder.name}#v0.1.0")

    code, out = trafi(shop, "module", "update", "hello", "--yes")
    assert code == 0 and "up to date" in out, out  # a tag stays put
    code, out = trafi(shop, "module", "update", "hello", "--to", "v0.2.0", "--yes")
    assert code == 0, out
    assert shop.module_entry("hello").version == "0.2.0"
    assert shop.module_entry("hello").source.spec == f"github:acme/{folder.name}#v0.2.0"

    add_json(shop, f"github:acme/{folder.name}#main")  # the same version, now following the branch
    commit = release_version(folder, bare, "0.3.0")
    code, out = trafi(shop, "module", "update", "hello", "--yes")
    assert code == 0, out
    entry = shop.module_entry("hello")
    assert entry.version == "0.3.0" and entry.source.resolved.endswith(commit)
