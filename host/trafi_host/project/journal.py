"""The journal of an operation that changes the project in more than one step.

Before its first change, an operation (an install, a removal; later an update
or a rollback) writes its intent to `.trafi/journal.json`: the config and lock
before and after (their whole text), the module folders it moves (the staged
folder, the folder in place, and where that one goes aside) and any
operation-specific detail. It marks each step done as it goes, and deletes the
record when it has finished. Every write is whole (temp file, fsync, rename,
fsync of the folder).

The operation's steps are written so that running them again is harmless, and
each is skipped once marked done: the same code finishes an interrupted
operation (recovery, `trafi_host.recovery`) as ran it the first time. A record
marked `undoing` is one whose operation failed and was putting things back:
recovery puts them back.

`TRAFI_TEST_KILL_AT=<operation>:<step>` (testing aid, docs/settings.md) makes
the process SIGKILL itself at that point, so tests can interrupt every step.
"""

from __future__ import annotations

import os
import shutil
import signal
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError

from ..errors import ProjectError
from .atomic import write_text_atomic
from .config import ConfigModel, ProjectConfig
from .layout import Project
from .lock import lock_from_config

KILL_AT_VARIABLE = "TRAFI_TEST_KILL_AT"


def kill_point(operation: str, step: str) -> None:
    """Testing aid: SIGKILL this process here when `TRAFI_TEST_KILL_AT` names this point."""
    if os.environ.get(KILL_AT_VARIABLE) == f"{operation}:{step}":
        os.kill(os.getpid(), signal.SIGKILL)


class FolderMove(ConfigModel):
    """One module folder an operation moves; paths relative to the project root."""

    module: str
    target: str = Field(description="The module's folder, `.trafi/modules/<name>`.")
    staged: str | None = Field(
        default=None, description="The folder that goes in its place (an install's staged copy)."
    )
    aside: str = Field(description="Where the folder in place goes while the operation runs, then deleted.")
    migrate: bool = Field(default=False, description="Whether the module's tables are synced first.")
    keep: bool = Field(
        default=False, description="The folder replaced is kept (`.trafi/versions/`) rather than deleted."
    )


class JournalRecord(ConfigModel):
    journal_version: Literal[1] = 1
    id: str
    operation: str = Field(description="`install`, `update`, `rollback` or `remove`.")
    pid: int
    started_at: datetime
    done: list[str] = Field(default_factory=list, description="The steps finished, in order.")
    undoing: bool = Field(default=False, description="The operation failed and was putting things back.")
    config_before: str
    lock_before: str | None
    config_after: str
    lock_after: str
    folders: list[FolderMove] = Field(default_factory=list)
    migrated: dict[str, list[str]] = Field(
        default_factory=dict, description="Module -> the migration steps run (`up 0001_x`), for the record."
    )
    detail: dict[str, str] = Field(
        default_factory=dict, description="What else the operation needs to finish."
    )


def _dumps(model: ConfigModel) -> str:
    return model.model_dump_json(by_alias=True, indent=2, exclude_none=True) + "\n"


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Journal:
    """The record of the operation in progress, and the steps it has done."""

    def __init__(self, project: Project, record: JournalRecord) -> None:
        self.project = project
        self.record = record

    @classmethod
    def begin(
        cls,
        project: Project,
        operation: str,
        *,
        config_after: ProjectConfig,
        folders: list[FolderMove] | None = None,
        detail: dict[str, str] | None = None,
        journal_id: str | None = None,
    ) -> Journal:
        """Write the intent; the caller holds the project lock and has not changed anything yet."""
        if project.journal_path.exists():
            raise ProjectError(
                f"{project.journal_path}: an interrupted command has not been finished; "
                "run any `trafi` command in the project to finish it"
            )
        try:
            lock_before: str | None = project.lock_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            lock_before = None
        record = JournalRecord(
            id=journal_id or new_journal_id(),
            operation=operation,
            pid=os.getpid(),
            started_at=datetime.now(UTC),
            config_before=project.config_path.read_text(encoding="utf-8"),
            lock_before=lock_before,
            config_after=_dumps(config_after),
            lock_after=_dumps(lock_from_config(config_after)),
            folders=folders or [],
            detail=detail or {},
        )
        journal = cls(project, record)
        journal._write()
        kill_point(operation, "begin")
        return journal

    @classmethod
    def pending(cls, project: Project) -> Journal | None:
        """The record an interrupted operation left, if any."""
        try:
            text = project.journal_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            return cls(project, JournalRecord.model_validate_json(text))
        except ValidationError as error:
            raise ProjectError(
                f"{project.journal_path}: unreadable record of an interrupted command ({error.error_count()} "
                "problem(s)); it may come from a newer trafi"
            ) from None

    def path(self, relative: str) -> Path:
        return self.project.root / relative

    def relative(self, path: Path) -> str:
        return path.relative_to(self.project.root).as_posix()

    def needs(self, step: str) -> bool:
        return step not in self.record.done

    def mark(self, step: str) -> None:
        """`step` is done: recorded durably, then (testing aid) the kill point of that name."""
        self.record.done.append(step)
        self._write()
        kill_point(self.record.operation, step)

    def note_migrated(self, module: str, steps: list[str]) -> None:
        self.record.migrated[module] = [*self.record.migrated.get(module, []), *steps]
        self._write()

    def write_config(self) -> None:
        """The config and lock as the operation leaves them (step `config`)."""
        write_text_atomic(self.project.config_path, self.record.config_after)
        kill_point(self.record.operation, "config-only")
        _write_if_changed(self.project.lock_path, self.record.lock_after)
        self.mark("config")

    def start_undoing(self) -> None:
        self.record.undoing = True
        self._write()

    def restore_config(self) -> None:
        """The config and lock as they were before the operation."""
        write_text_atomic(self.project.config_path, self.record.config_before)
        if self.record.lock_before is None:
            self.project.lock_path.unlink(missing_ok=True)
        else:
            _write_if_changed(self.project.lock_path, self.record.lock_before)

    def in_use(self) -> set[Path]:
        """The folders this operation needs kept (not debris)."""
        used: set[Path] = set()
        for move in self.record.folders:
            used.add(self.path(move.aside))
            if move.staged is not None:
                used.add(self.path(move.staged))
                used.add(self.path(move.staged).parent)  # its scratch folder under staging
        return used

    def end(self) -> None:
        """The operation is finished (or fully undone): the record goes."""
        self.project.journal_path.unlink(missing_ok=True)
        _fsync_dir(self.project.state_dir)

    def _write(self) -> None:
        write_text_atomic(self.project.journal_path, _dumps(self.record))
        _fsync_dir(self.project.state_dir)


def new_journal_id() -> str:
    return uuid.uuid4().hex[:12]


def _write_if_changed(path: Path, text: str) -> None:
    try:
        if path.read_text(encoding="utf-8") == text:
            return
    except FileNotFoundError:
        pass
    write_text_atomic(path, text)


def move_into_place(staged: Path, target: Path, aside: Path) -> None:
    """`staged` becomes `target`, the folder there going to `aside`; a second run does nothing."""
    if not staged.exists():
        return  # moved already
    if target.exists():
        if aside.exists():
            shutil.rmtree(aside)  # a leftover: the folder in place is still at `target`
        os.replace(target, aside)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staged, target)


def move_back(staged: Path, target: Path, aside: Path) -> None:
    """Undo `move_into_place`: the new folder back to staging, the old one back in place."""
    if not staged.exists() and target.exists():
        os.replace(target, staged)
    if aside.exists():
        if target.exists():
            shutil.rmtree(target)
        os.replace(aside, target)
