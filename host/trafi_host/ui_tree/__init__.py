"""The dashboard's UI tree (`trafi-ui/1`): its JSON Schema and the check every rendered view passes."""

from .check import SCHEMA_VERSION, TreeViolation, check_tree, tree_schema

__all__ = ["SCHEMA_VERSION", "TreeViolation", "check_tree", "tree_schema"]
