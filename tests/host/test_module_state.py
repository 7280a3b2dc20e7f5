"""Module state in the database: the truth hosts follow; the config file mirrors it."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from tests.conftest import install_modules
from trafi_cli.main import app
from trafi_host.install import remove_module, set_enabled
from trafi_host.module_host import ModuleHost
from trafi_host.module_state import DesiredState, project_module_states
from trafi_host.project import Project


def test_no_row_follows_the_config_then_the_row_wins(project: Project, hello_dir: Path) -> None:
    install_modules(project, hello_dir)
    entry = project.module_entry("hello")
    with project_module_states(project) as states:
        assert states.load() == {}
        assert states.desired("hello", entry, {}) == DesiredState(True, None)
        before = states.signature()
        set_enabled(project, "hello", False, states=states)
        assert states.load() == {"hello": DesiredState(False, None)}
        assert states.signature() != before
    assert project.module_entry("hello").enabled is False  # mirrored for people and the lock file

    # A hand edit of the mirror does not override the database.
    config = project.load_config()
    config.modules["hello"] = config.modules["hello"].model_copy(update={"enabled": True})
    project.save_config(config)
    with ModuleHost(project) as host:
        host.load_all()
        assert host.states["hello"].status == "disabled"


def test_quarantine_is_kept_in_the_database_and_enable_lifts_it(project: Project, hello_dir: Path) -> None:
    install_modules(project, hello_dir)
    with ModuleHost(project) as host:
        host.load_all()
        host.quarantine("hello", "5 incidents in 60 s")
    listing = CliRunner().invoke(app, ["module", "list", "--json", "-C", str(project.root)])
    assert '"status": "quarantined"' in listing.output
    result = CliRunner().invoke(app, ["module", "enable", "hello", "-C", str(project.root)])
    assert result.exit_code == 0, result.output
    with project_module_states(project) as states:
        assert states.load()["hello"] == DesiredState(True, None)


def test_remove_forgets_the_state(project: Project, hello_dir: Path) -> None:
    install_modules(project, hello_dir)
    set_enabled(project, "hello", False)
    remove_module(project, "hello")
    install_modules(project, hello_dir)
    with project_module_states(project) as states:
        assert states.load() == {}
    assert project.module_entry("hello").enabled is True
