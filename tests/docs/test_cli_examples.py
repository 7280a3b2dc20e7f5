"""docs/cli.md: every `bash` block runs, in order, against a local git repository and npm registry."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.docs.test_getting_started import free_port
from tests.module_sources import as_npm_package, git_repository, module_copy, release_version
from tests.npm_registry import running_verdaccio
from trafi_host.build import build_if_stale
from trafi_host.module_list import module_list_json_schema_text
from trafi_host.ui_tree.check import tree_schema_text

DOC = REPO / "docs" / "cli.md"
REFERENCE = REPO / "docs" / "cli-reference.md"


def test_every_command_has_an_example() -> None:
    examples = "\n".join(re.findall(r"```(?:bash|console)\n(.*?)```", DOC.read_text(), re.S))
    commands = re.findall(r"^##+ `(trafi [a-z -]+)`$", REFERENCE.read_text(), re.M)
    leaves = [c for c in commands if not any(o != c and o.startswith(c + " ") for o in commands)]
    assert len(leaves) >= 20
    missing = [
        c for c in leaves if not re.search(rf"^\$? ?(KEY=\$\(|OLD=\$\()?{re.escape(c)}\b", examples, re.M)
    ]
    assert not missing, f"docs/cli.md has no example of: {missing}"


def test_committed_list_schema_matches_the_models() -> None:
    committed = (REPO / "docs" / "module-list.schema.json").read_text()
    assert committed == module_list_json_schema_text(), "run `./bootstrap just docs` to regenerate"


def test_committed_ui_tree_schema_matches_the_hosts() -> None:
    committed = (REPO / "docs" / "ui-tree.schema.json").read_text()
    assert committed == tree_schema_text(), "run `./bootstrap just docs` to regenerate"


@pytest.mark.slow
@pytest.mark.timeout(900)  # builds four modules and runs every example on a possibly busy machine
def test_cli_examples_run_as_written(tmp_path: Path, hello_dir: Path) -> None:
    for name in ("points", "loyalty", "reviews"):
        build_if_stale(REPO / "modules" / name)
    work = tmp_path / "work"
    work.mkdir()
    (work / "modules").symlink_to(REPO / "modules")
    repos = tmp_path / "repos"
    hello_src = module_copy(hello_dir, tmp_path / "hello-src")
    git_repository(hello_src, repos / "acme" / "hello.git", "v0.1.0")
    release_version(hello_src, repos / "acme" / "hello.git", "0.2.0")  # what `module update` finds
    gitconfig = tmp_path / "gitconfig"
    gitconfig.write_text(f'[url "file://{repos}/"]\n\tinsteadOf = https://github.com/\n')
    home = tmp_path / "home"
    home.mkdir()

    with running_verdaccio(tmp_path / "registry") as registry:
        registry.publish(
            as_npm_package(module_copy(REPO / "modules" / "points", tmp_path / "points"), "points")
        )
        port = registry.url.rstrip("/").rsplit(":", 1)[1]
        blocks = re.findall(r"```bash\n(.*?)```", DOC.read_text(), re.S)
        script = "set -euo pipefail\n" + "\n".join(blocks).replace("4873", port).replace(
            "8000", str(free_port())
        )
        env = {
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
            "HOME": str(home),
            "GIT_CONFIG_GLOBAL": str(gitconfig),
        }
        for name in ("TRAFI_DATABASE_URL", "TRAFI_NPM_REGISTRY", "TRAFI_NPM_TOKEN", "TRAFI_REDIS_URL"):
            env.pop(name, None)
        result = subprocess.run(
            ["bash", "-c", script], cwd=work, env=env, capture_output=True, text=True, timeout=600
        )
    assert result.returncode == 0, result.stdout + result.stderr
    added = json.loads((work / "added.json").read_text())
    assert added["installed"][0]["source"]["resolved"] == "points@1.0.0"
    listing = {m["name"]: m for m in json.loads((work / "modules.json").read_text())["modules"]}
    assert {n: (m["status"], m["sourceKind"]) for n, m in listing.items()} == {
        "greeter": ("enabled", "path"),
        "hello": ("enabled", "git"),
        "loyalty": ("enabled", "path"),
        "points": ("enabled", "npm"),
    }
    assert "up to date" in result.stdout
    assert '"tenant":"acme"' in result.stdout
    assert "<!-- rules:end -->" in (work / "rules.md").read_text()
