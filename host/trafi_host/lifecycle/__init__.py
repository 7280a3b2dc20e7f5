"""A module's life once installed: whether it runs, and the changes operators and hosts make to that.

- `module_state`: what should run, kept in the database and announced to every host;
- `status`: the one decision of what runs, what does not and why, for hosts and `trafi module list`;
- `start_order`: dependencies first, cycles refused;
- `transitions`: enable, disable, remove, quarantine and lifting it.
"""

from .module_state import DesiredState, ModuleStates, project_module_states
from .status import Decision, Decisions, decide
from .transitions import disable, enable, lift_quarantine, quarantine, remove

__all__ = [
    "Decision",
    "Decisions",
    "DesiredState",
    "ModuleStates",
    "decide",
    "disable",
    "enable",
    "lift_quarantine",
    "project_module_states",
    "quarantine",
    "remove",
]
