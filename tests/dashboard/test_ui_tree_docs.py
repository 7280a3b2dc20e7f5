"""docs/dashboard.md's UI tree example is valid `trafi-ui/1`, its node table lists exactly the
schema's node types, and its violation example is what the check says."""

from __future__ import annotations

import json
import re

from tests.conftest import REPO
from trafi_host.ui_tree import check_tree, tree_schema

DOC = REPO / "docs" / "dashboard.md"


def _json_blocks() -> list[str]:
    return re.findall(r"```json\n(.*?)```", DOC.read_text(), re.S)


def test_the_documented_tree_is_valid() -> None:
    tree = json.loads(_json_blocks()[0])
    assert tree["schema"] == "trafi-ui/1"
    assert check_tree(tree) == []


def test_the_node_table_lists_every_node_type() -> None:
    types = tree_schema()["$defs"]["node"]["properties"]["type"]["enum"]
    table = re.findall(r"^\| `([a-z]+)`(?:, `([a-z]+)`)? \|", DOC.read_text(), re.M)
    documented = {name for row in table for name in row if name}
    assert documented == set(types)


def test_the_documented_violation_is_what_the_check_reports() -> None:
    documented = json.loads(_json_blocks()[1])
    tree = json.loads(_json_blocks()[0])
    del tree["root"]["children"][1]["children"][0]["rows"]
    found = [{"path": v.path, "message": v.message} for v in check_tree(tree)]
    assert found == documented["violations"]
