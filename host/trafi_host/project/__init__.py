"""A Trafi project: `trafi.config.json`, and `.trafi/` (database, modules, artifacts)."""

from .config import ModuleEntry, ProjectConfig
from .layout import Project

__all__ = ["ModuleEntry", "Project", "ProjectConfig"]
