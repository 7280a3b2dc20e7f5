"""docs/api.md: the author's lines are the points module's own, the manifest example is valid,
and the caller's side runs as written against a real host serving points with that example."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from fastapi.testclient import TestClient

from tests.conftest import REPO, install_modules
from trafi_host.api import create_app
from trafi_host.auth import create_api_key, create_tenant
from trafi_host.build import build_if_stale
from trafi_host.db import Database
from trafi_host.manifest.load import load_manifest, parse_manifest
from trafi_host.project import Project

DOC = REPO / "docs" / "api.md"
POINTS = REPO / "modules" / "points"


def _block(language: str, starting: str) -> str:
    found = re.search(rf"```{language}\n({re.escape(starting)}.*?)```", DOC.read_text(), re.S)
    assert found is not None, f"no {language} block starting with {starting!r} in docs/api.md"
    return found.group(1)


def _api_versions() -> dict[str, object]:
    versions: dict[str, object] = json.loads("{" + _block("json", '"apiVersions"') + "}")["apiVersions"]
    return versions


def test_the_authors_lines_are_the_points_modules_own() -> None:
    source = (POINTS / "app.py").read_text()
    lines = [line for line in _block("python", "@module.").splitlines() if line.strip()]
    assert len(lines) == 6
    missing = [line for line in lines if line not in source.splitlines()]
    assert not missing, f"docs/api.md shows lines modules/points/app.py does not have: {missing}"


def test_the_manifest_example_is_valid_for_points() -> None:
    manifest = json.loads((POINTS / "trafi-module.json").read_text())
    parsed = parse_manifest({**manifest, "apiVersions": _api_versions()})
    assert parsed.api_versions["v1"].successor == "v2"


def test_the_callers_side_runs(sqlite_project: Project, tmp_path: Path) -> None:
    build_if_stale(POINTS)
    # points as built, with the documented apiVersions in its manifest.
    folder = tmp_path / "points"
    shutil.copytree(POINTS, folder, ignore=shutil.ignore_patterns("__pycache__", "tests"))
    manifest = json.loads((folder / "trafi-module.json").read_text())
    manifest.pop("$schema", None)
    (folder / "trafi-module.json").write_text(json.dumps({**manifest, "apiVersions": _api_versions()}))
    assert load_manifest(folder).api_versions
    install_modules(sqlite_project, folder)
    with Database(sqlite_project.database_url()) as database:
        database.migrate()
        create_tenant(database, "acme")
        key, _ = create_api_key(database, "acme", "docs", ("points:use",))
    block = _block("python", "old = client.get")
    with TestClient(create_app(sqlite_project), headers={"Authorization": f"Bearer {key}"}) as client:
        exec(compile(block, str(DOC), "exec"), {"client": client})
