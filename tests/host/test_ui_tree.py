"""The UI tree check: a valid schema, and each kind of breakage named at its place in the tree."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator

from trafi_host.ui_tree import check_tree, tree_schema
from trafi_host.ui_tree.check import MAX_VIOLATIONS


def _tree(*children: dict[str, Any]) -> dict[str, Any]:
    return {"schema": "trafi-ui/1", "root": {"type": "stack", "children": list(children)}}


FORM = {
    "type": "form",
    "id": "award",
    "fields": [{"name": "points", "label": "Points", "kind": "number"}],
    "action": {"method": "POST", "path": "v1/awards"},
}


def test_the_schema_is_valid_json_schema_2020_12() -> None:
    Draft202012Validator.check_schema(tree_schema())
    assert tree_schema()["properties"]["schema"] == {"const": "trafi-ui/1"}


def test_every_node_type_in_a_valid_tree() -> None:
    tree = _tree(
        {"type": "card", "title": "t", "children": [{"type": "text", "text": "x", "variant": "muted"}]},
        {"type": "row", "gap": "sm", "children": [{"type": "stat", "label": "n", "value": 3}]},
        {"type": "badge", "text": "ok", "tone": "success"},
        {"type": "table", "columns": [{"key": "a", "label": "A"}], "rows": [{"a": 1, "b": None}]},
        FORM,
        {"type": "chart", "kind": "line", "x": "d", "series": [{"key": "v"}], "data": [{"d": "mon", "v": 1}]},
        {"type": "alert", "tone": "danger", "text": "no"},
        {"type": "tabs", "tabs": [{"id": "one", "label": "One", "children": []}]},
    )
    assert check_tree(tree) == []


@pytest.mark.parametrize(
    ("tree", "path", "words"),
    [
        (
            {"schema": "trafi-ui/2", "root": {"type": "text", "text": "x"}},
            "schema",
            "'trafi-ui/1' was expected",
        ),
        ({"schema": "trafi-ui/1"}, "(tree)", "'root' is a required property"),
        (_tree({"type": "iframe", "src": "https://x.example"}), "root.children[0].type", "is not one of"),
        (
            _tree({"type": "table", "columns": [{"key": "a", "label": "A"}]}),
            "root.children[0]",
            "'rows' is a required",
        ),
        (
            _tree({"type": "text", "text": "x", "html": "<b>x</b>"}),
            "root.children[0]",
            "'html' was unexpected",
        ),
        (
            _tree({**FORM, "action": {"method": "POST", "path": "https://evil.example/x"}}),
            "root.children[0].action.path",
            "does not match",
        ),
        (
            _tree({**FORM, "action": {"method": "POST", "path": "../../commerce/products"}}),
            "root.children[0].action.path",
            "does not match",
        ),
        (
            _tree({**FORM, "action": {"method": "POST", "path": "v1/../../x"}}),
            "root.children[0].action.path",
            "does not match",
        ),
        (
            _tree({**FORM, "action": {"method": "POST", "path": "/api/commerce/products"}}),
            "root.children[0].action.path",
            "does not match",
        ),
        (
            _tree({**FORM, "action": {"method": "GET", "path": "v1/x"}}),
            "root.children[0].action.method",
            "is not one of",
        ),
        (
            _tree({"type": "chart", "kind": "pie", "x": "d", "series": [{"key": "v"}], "data": []}),
            "root.children[0].kind",
            "is not one of",
        ),
        (
            _tree({"type": "table", "columns": [{"key": "a", "label": "A"}], "rows": [{"a": {"nested": 1}}]}),
            "root.children[0].rows[0].a",
            "is not of type",
        ),
    ],
)
def test_a_violation_is_named_at_its_place(tree: dict[str, Any], path: str, words: str) -> None:
    violations = check_tree(tree)
    assert any(v.path == path and words in v.message for v in violations), violations


@pytest.mark.parametrize("path", ["v1/customers/{customer}/awards", "{id}", "v1/notes/", "v2/a.b~c-d_e"])
def test_form_paths_below_the_module_with_field_segments(path: str) -> None:
    assert check_tree(_tree({**FORM, "action": {"method": "POST", "path": path}})) == []


@pytest.mark.parametrize("path", ["v1//x", "v1/a{b}", "v1/{a-b}", "./x", "v1/.", "v1/{x}/../y", ""])
def test_form_paths_that_could_leave_the_module(path: str) -> None:
    violations = check_tree(_tree({**FORM, "action": {"method": "POST", "path": path}}))
    assert [v.path for v in violations] == ["root.children[0].action.path"]


def test_a_tree_that_is_not_an_object() -> None:
    assert [v.path for v in check_tree(["a list"])] == ["(tree)"]


def test_violations_are_capped() -> None:
    tree = _tree(*({"type": "blink"} for _ in range(100)))
    assert len(check_tree(tree)) == MAX_VIOLATIONS
