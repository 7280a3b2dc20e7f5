"""`TRAFI_*` settings: typed, read once when a project is opened, a bad value named with its variable."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from trafi_cli.main import app
from trafi_host.errors import ExitCode
from trafi_host.project import Project
from trafi_host.settings import HostSettings, SettingsError

runner = CliRunner()


def test_values_are_typed_and_empty_is_unset() -> None:
    settings = HostSettings.from_environment(
        {
            "TRAFI_JOB_WORKERS": "3",
            "TRAFI_STRICT_DEPENDENCIES": "1",
            "TRAFI_ARTIFACT_DIR": "/srv/artifacts",
            "TRAFI_DATABASE_URL": "",
            "TRAFI_JOB_QUEUE": "",
            "OTHER": "ignored",
        }
    )
    assert settings.job_workers == 3
    assert settings.strict_dependencies is True
    assert settings.artifact_dir == Path("/srv/artifacts")
    assert settings.database_url is None
    assert settings.job_queue == "trafi-events"
    assert HostSettings.from_environment({}) == HostSettings()


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("TRAFI_JOB_WORKERS", "many", "TRAFI_JOB_WORKERS='many': Input should be a valid integer"),
        ("TRAFI_JOB_WORKERS", "65", "TRAFI_JOB_WORKERS='65': Input should be less than or equal to 64"),
        (
            "TRAFI_STRICT_DEPENDENCIES",
            "maybe",
            "TRAFI_STRICT_DEPENDENCIES='maybe': Input should be a valid bool",
        ),
    ],
)
def test_a_bad_value_names_its_variable(variable: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        HostSettings.from_environment({variable: value})
    assert message in str(raised.value)
    assert raised.value.exit_code == ExitCode.SETTINGS


def test_a_token_is_never_shown() -> None:
    settings = HostSettings.from_environment({"TRAFI_NPM_TOKEN": "s3cret"})
    assert settings.npm_token_value == "s3cret"
    assert "s3cret" not in repr(settings)


def test_a_command_with_a_bad_value_exits_with_the_settings_code(sqlite_project: Project) -> None:
    result = runner.invoke(
        app, ["module", "list", "-C", str(sqlite_project.root)], env={"TRAFI_JOB_WORKERS": "many"}
    )
    assert result.exit_code == ExitCode.SETTINGS, result.output
    assert "TRAFI_JOB_WORKERS='many'" in " ".join(result.output.split())


def test_the_project_keeps_what_was_read_when_it_was_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRAFI_DATABASE_URL", f"sqlite:///{tmp_path / 'shared.db'}")
    monkeypatch.setenv("TRAFI_ARTIFACT_DIR", str(tmp_path / "artifacts"))
    monkeypatch.setenv("TRAFI_JOB_WORKERS", "0")
    project = Project.init(tmp_path / "shop")
    monkeypatch.setenv("TRAFI_DATABASE_URL", "postgresql+psycopg://elsewhere/db")
    assert project.database_url() == f"sqlite:///{tmp_path / 'shared.db'}"
    assert project.artifacts_dir == tmp_path / "artifacts"
    assert project.job_workers() == 0
    assert Project.open(project.root).database_url() == "postgresql+psycopg://elsewhere/db"


def test_without_variables_the_config_decides(tmp_path: Path) -> None:
    project = Project.init(tmp_path / "shop", HostSettings())
    config = project.load_config()
    config.database_url = "sqlite:///configured.db"
    config.host.job_workers = 4
    project.save_config(config)
    assert project.database_url() == "sqlite:///configured.db"
    assert project.job_workers() == 4
    assert project.artifacts_dir == project.state_dir / "artifacts"


def test_trafi_project_names_the_project_of_a_command(sqlite_project: Project, tmp_path: Path) -> None:
    result = runner.invoke(app, ["module", "list", "--json"], env={"TRAFI_PROJECT": str(sqlite_project.root)})
    assert result.exit_code == 0, result.output
    elsewhere = runner.invoke(app, ["module", "list"], env={"TRAFI_PROJECT": str(tmp_path / "nothing")})
    assert elsewhere.exit_code == ExitCode.PROJECT
