"""Every WIT interface and function has an entry in docs/wit.md, with its exact signature."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOC = (REPO / "docs" / "wit.md").read_text()


def wit_files() -> list[Path]:
    return sorted((REPO / "wit").glob("since_v*/*.wit"))


def test_every_interface_and_function_is_documented() -> None:
    assert wit_files()
    for wit in wit_files():
        version = wit.parent.name.removeprefix("since_v")
        assert f"`trafi:host@{version}`" in DOC
        source = wit.read_text()
        for interface, body in re.findall(r"^interface ([a-z-]+) \{(.*?)^\}", source, re.S | re.M):
            assert f"## Interface `{interface}`" in DOC, f"no docs section for interface {interface}"
            for line in body.splitlines():
                match = re.match(r"\s*([a-z-]+): func\(.*;$", line)
                if match:
                    assert f"### `{match.group(1)}`" in DOC, f"no heading for {interface}.{match.group(1)}"
                    assert line.strip() in DOC, f"signature of {interface}.{match.group(1)} differs"


def test_world_blocks_match() -> None:
    for wit in wit_files():
        worlds = re.findall(r"^world [a-z-]+ \{.*?^\}", wit.read_text(), re.S | re.M)
        assert len(worlds) >= 2
        for world in worlds:
            assert world in DOC, world.splitlines()[0]
