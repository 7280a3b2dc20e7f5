"""docs/rate-limits.md: its fragments are valid, and its example is what the CLI and the host answer."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.conftest import REPO, api_keys, install_modules
from tests.host.rate_limits.test_rate import MANIFEST
from trafi_cli.main import app as cli
from trafi_host.api import create_app
from trafi_host.manifest.model import Manifest
from trafi_host.project import Project
from trafi_host.project.config import ProjectConfig
from trafi_host.rate_limits.limiter import RateDecision

DOC = REPO / "docs" / "rate-limits.md"
# Seconds that tick while the example runs: the doc shows a fresh window's.
TICKING = {"retry-after", "ratelimit-reset"}


def blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", DOC.read_text(), re.S)


def test_the_fragments_are_a_valid_manifest_key_and_config() -> None:
    manifest_fragment, config_fragment = blocks("json")
    manifest = Manifest.model_validate({**MANIFEST, **json.loads("{" + manifest_fragment + "}")})
    assert manifest.rate_limit == "120/minute"
    config = ProjectConfig.model_validate(json.loads("{" + config_fragment + "}"))
    assert config.host.rate_limit == "600/minute"


def test_every_header_and_series_is_documented() -> None:
    text = DOC.read_text()
    for header in RateDecision(False, 1, 0, 1, 1).headers():
        assert f"| `{header}` |" in text, header
    for series in ("trafi_module_rate_limited_total", "trafi_rate_limit_errors_total"):
        assert series in text


def header_lines(block: str) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in block.splitlines() if re.match(r"^[a-z-]+: ", line))


def test_the_example_runs_as_written(sqlite_project: Project, hello_dir: Path) -> None:
    install_modules(sqlite_project, hello_dir)
    key = api_keys(sqlite_project.database_url(), "acme")["acme"]
    [session] = blocks("console")
    runner = CliRunner()
    for command, expected in re.findall(r"^\$ trafi (.*)\n((?:[^$].*\n)*)", session, re.M):
        result = runner.invoke(
            cli, [*shlex.split(command), "-C", str(sqlite_project.root)], env={"TRAFI_ACTOR": "ops"}
        )
        assert result.exit_code == 0, result.output
        assert result.output.split() == expected.split(), command

    allowed_block, refused_block = blocks("http")
    path = re.search(r"^GET (\S+)", allowed_block, re.M)
    assert path is not None
    with TestClient(create_app(sqlite_project)) as client:
        answers = [client.get(path.group(1), headers={"Authorization": f"Bearer {key}"}) for _ in range(4)]
    for answer, block in ((answers[0], allowed_block), (answers[3], refused_block)):
        status = re.search(r"^HTTP/1.1 (\d+)", block, re.M)
        assert status is not None and answer.status_code == int(status.group(1))
        for name, shown in header_lines(block).items():
            actual = answer.headers[name]
            if name in TICKING:
                assert int(shown) - 2 <= int(actual) <= int(shown), (name, actual)
            else:
                assert actual == shown, (name, actual)
    shown_body = json.loads(refused_block.rsplit("\n\n", 1)[1])
    seconds = answers[3].headers["retry-after"]
    assert answers[3].json() == {
        "error": shown_body["error"].replace("retry in 60 s", f"retry in {seconds} s")
    }
