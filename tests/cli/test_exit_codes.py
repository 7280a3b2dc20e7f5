"""Exit codes are those of `ExitCode` (and docs/cli.md): a broken config, a busy port, no literals."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from trafi_cli.main import app
from trafi_host.errors import ExitCode
from trafi_host.project import Project

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port another process listens on."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield other.getsockname()[1]


@pytest.mark.parametrize(
    ("config_text", "needle"),
    [("{not json", "not valid JSON"), ('{"host": {"jobWorkers": "many"}}', "host.jobWorkers")],
)
@pytest.mark.parametrize(
    "command", [["serve", "--port", "0"], ["worker"], ["module", "list"], ["tenant", "list"]]
)
def test_a_broken_config_is_the_project_error(
    sqlite_project: Project, config_text: str, needle: str, command: list[str]
) -> None:
    sqlite_project.config_path.write_text(config_text)
    result = runner.invoke(app, [*command, "-C", str(sqlite_project.root)])
    assert result.exit_code == ExitCode.PROJECT == 2, result.output
    flat = " ".join(result.output.split())
    assert "trafi.config.json" in flat and needle in flat, result.output


def test_serve_on_a_busy_port_says_so_with_its_own_code(sqlite_project: Project, busy_port: int) -> None:
    result = runner.invoke(app, ["serve", "-C", str(sqlite_project.root), "--port", str(busy_port)])
    assert result.exit_code == ExitCode.CANNOT_LISTEN != ExitCode.MANIFEST, result.output
    assert f"cannot listen on 127.0.0.1:{busy_port}: the port is in use" in " ".join(result.output.split())


def test_dev_on_a_busy_port_fails_before_building(tmp_path: Path, busy_port: int) -> None:
    result = runner.invoke(
        app,
        ["dev", "-C", str(tmp_path / "dev"), "--modules", str(REPO / "modules"), "--port", str(busy_port)],
    )
    assert result.exit_code == ExitCode.CANNOT_LISTEN, result.output
    assert not (tmp_path / "dev").exists()


def test_no_exit_code_is_a_bare_number() -> None:
    """Every code comes from `ExitCode`, so the table stays the whole truth."""
    literal = re.compile(r"typer\.Exit\(\s*\d|SystemExit\(\s*\d|sys\.exit\(\s*\d|exit_code\s*=\s*\d")
    offenders = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for folder in ("host", "cli")
        for path in sorted((REPO / folder).rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if literal.search(line)
    ]
    assert offenders == []
