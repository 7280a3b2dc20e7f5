"""The project lock: reentrant in a process, exclusive across processes, says whom it waits for."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.polling import wait_for
from trafi_host.errors import ExitCode, ProjectBusyError
from trafi_host.project import Project
from trafi_host.project.exclusive import exclusive_lock, held_here, holder_pid, lock_if_free, lock_path

HOLD = """
import sys, time
from pathlib import Path
from trafi_host.project.exclusive import exclusive_lock
with exclusive_lock(Path(sys.argv[1]), 5):
    print("held", flush=True)
    while not Path(sys.argv[2]).exists():
        time.sleep(0.02)
"""


def holding_process(state_dir: Path, release: Path) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(state_dir), str(release)], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None and process.stdout.readline() == "held\n"
    return process


def test_reentrant_in_a_process_and_emptied_on_release(sqlite_project: Project) -> None:
    state = sqlite_project.state_dir
    with sqlite_project.exclusive():
        with sqlite_project.exclusive():  # a command calling code that takes it again
            assert held_here(state)
        assert holder_pid(lock_path(state)) is not None
    assert not held_here(state)
    assert lock_path(state).read_text() == ""


def test_another_process_waits_names_the_holder_then_gets_it(sqlite_project: Project, tmp_path: Path) -> None:
    release = tmp_path / "release"
    holder = holding_process(sqlite_project.state_dir, release)
    told: list[str] = []
    got = threading.Event()

    def wait_then_take() -> None:
        with exclusive_lock(sqlite_project.state_dir, 60, told.append):
            got.set()

    waiter = threading.Thread(target=wait_then_take)
    waiter.start()
    wait_for(lambda: told, message="the waiting notice")
    assert told == [
        f"another command is running (pid {holder.pid}), waiting for it to finish "
        "(up to 60 s, TRAFI_PROJECT_LOCK_TIMEOUT)…"
    ]
    assert not got.is_set()
    with lock_if_free(sqlite_project.state_dir) as free:
        assert free is False  # what host starts and read-only commands see: skip recovery
    release.touch()
    waiter.join(30)
    assert got.is_set()
    assert holder.wait(30) == 0


def test_a_killed_holder_releases_it(sqlite_project: Project, tmp_path: Path) -> None:
    holder = holding_process(sqlite_project.state_dir, tmp_path / "never")
    holder.kill()
    holder.wait()
    with exclusive_lock(sqlite_project.state_dir, 5):
        pass


def test_timeout_names_the_holder(sqlite_project: Project, tmp_path: Path) -> None:
    release = tmp_path / "release"
    holder = holding_process(sqlite_project.state_dir, release)
    try:
        with pytest.raises(ProjectBusyError) as raised, exclusive_lock(sqlite_project.state_dir, 0.3):
            pass
        assert f"another command (pid {holder.pid}) still holds the project lock after 0.3 s" in str(
            raised.value
        )
        assert raised.value.exit_code == ExitCode.PROJECT_BUSY
    finally:
        release.touch()
        holder.wait(30)
