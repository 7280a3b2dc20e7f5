"""The example module's view (modules/points) is a valid `trafi-ui/1` tree, with and without
the permission its form needs, and has the table, form and chart the dashboard shows."""

from __future__ import annotations

from tests.conftest import REPO
from trafi_host.ui_tree import check_tree
from trafi_sdk import Principal
from trafi_sdk.testing import ModuleHarness


def _types(node: object) -> list[str]:
    if isinstance(node, dict):
        found = [node["type"]] if isinstance(node.get("type"), str) else []
        return found + [t for value in node.values() for t in _types(value)]
    if isinstance(node, list):
        return [t for item in node for t in _types(item)]
    return []


def test_the_points_view_is_valid_and_has_a_table_a_form_and_a_chart() -> None:
    points = ModuleHarness(REPO / "modules" / "points")
    points.call_service("balance", "add", {"customer": "ada", "points": 120})
    tree = points.render_view("overview")
    assert check_tree(tree) == []
    assert {"table", "form", "chart"} <= set(_types(tree["root"]))
    reader = points.render_view("overview", principal=Principal("u1", "user", scopes=("points:use",)))
    assert check_tree(reader) == []
    assert "form" not in _types(reader["root"])
