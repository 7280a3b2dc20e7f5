"""The module folders a project serves under `trafi dev`, which are not installed in it.

`trafi dev` records them as it starts; the permission catalogue reads them, so that a key
or role of the dev project may name a developed module's permissions
(`trafi apikey create --scope greeter:use -C <dev project>`), as it may an installed one's.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from .atomic import write_text_atomic

RECORD = Path("dev") / "folders.json"


def record_dev_folders(state_dir: Path, folders: Sequence[Path]) -> None:
    """The folders `trafi dev` serves now (the last session's, once it has stopped)."""
    text = json.dumps([str(folder.resolve()) for folder in folders], indent=2) + "\n"
    write_text_atomic(state_dir / RECORD, text)


def dev_folders(state_dir: Path) -> list[Path]:
    """What `record_dev_folders` wrote; none when `trafi dev` never ran here, or its record is unreadable."""
    try:
        recorded = json.loads((state_dir / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if not isinstance(recorded, list):
        return []
    return [Path(item) for item in recorded if isinstance(item, str)]
