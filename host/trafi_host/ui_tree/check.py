"""Whether a module's rendered view is a UI tree the dashboard can draw, and where it is not.

The schema (schema.json beside this file, published as docs/ui-tree.schema.json by
`trafi docs ui-schema`) is the contract between a module's `views.render` and the
dashboard's renderer: the host refuses a tree that breaks it rather than let the
browser guess. Each violation names its place in the tree (`root.children[2].rows`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

from jsonschema import Draft202012Validator

SCHEMA_VERSION = "trafi-ui/1"
# A tree this broken is broken: more would bury the first, most useful ones.
MAX_VIOLATIONS = 20


@dataclass(frozen=True)
class TreeViolation:
    path: str  # `root.children[2].columns`, or `(tree)` for the document itself
    message: str


def tree_schema_text() -> str:
    return files(__package__).joinpath("schema.json").read_text()


def tree_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(tree_schema_text())
    return schema


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(tree_schema())


def _place(path: list[str | int]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "(tree)"


def check_tree(tree: object) -> list[TreeViolation]:
    """The violations of `tree` (a parsed JSON value), deepest first within each place; [] if it is valid."""
    errors = sorted(
        _validator().iter_errors(tree), key=lambda e: (list(map(str, e.absolute_path)), e.message)
    )
    return [
        TreeViolation(_place(list(error.absolute_path)), error.message) for error in errors[:MAX_VIOLATIONS]
    ]
