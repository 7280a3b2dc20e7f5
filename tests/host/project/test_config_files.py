"""The project's config and lock: written whole or not at all, read with errors that name
the file and the problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from trafi_host.errors import ProjectError
from trafi_host.project import Project


def test_a_saved_config_writes_the_lock_derived_from_it(sqlite_project: Project) -> None:
    config = sqlite_project.load_config()
    sqlite_project.save_config(config)
    assert sqlite_project.load_config() == config
    assert sqlite_project.load_lock().modules == {}
    leftovers = [p.name for p in sqlite_project.root.iterdir() if p.name.startswith(".tmp")]
    assert leftovers == []


def test_a_broken_config_names_the_file_and_the_problem(sqlite_project: Project) -> None:
    sqlite_project.config_path.write_text('{"modules": ')
    with pytest.raises(ProjectError, match=r"trafi\.config\.json: not valid JSON"):
        sqlite_project.load_config()


def test_a_config_of_the_wrong_shape_lists_what_is_wrong(sqlite_project: Project) -> None:
    sqlite_project.config_path.write_text('{"modules": {"hello": {"version": 3}}}')
    with pytest.raises(ProjectError, match=r"modules\.hello"):
        sqlite_project.load_config()


def test_a_missing_project_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="trafi init"):
        Project.open(tmp_path)
