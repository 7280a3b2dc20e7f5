"""`trafi serve --workers N` puts each worker's threads on a CPU of its own: the placement and the
pinning, on real processes (the whole command is in test_serve_workers.py)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.docs.test_getting_started import free_port
from tests.polling import wait_for
from trafi_cli.cpu_affinity import allowed_cpus, pin_process, pin_worker, worker_cpus
from trafi_cli.main import app as cli
from trafi_host.project import Project

# A process with a thread of its own ("early"), which on a line from its parent makes three more
# threads; then every thread, the early one included, says which CPUs it may run on.
CHILD = """
import os, sys, threading
seen = []
go = threading.Event()
def note(wait=False):
    if wait:
        go.wait(60)
    seen.append(tuple(sorted(os.sched_getaffinity(0))))
early = threading.Thread(target=note, args=(True,))
early.start()
print("ready", flush=True)
sys.stdin.readline()
go.set()
later = [threading.Thread(target=note) for _ in range(3)]
for thread in [early, *later]:
    thread.start() if thread is not early else None
for thread in [early, *later]:
    thread.join()
note()
print(seen, flush=True)
"""


def test_each_worker_has_a_cpu_when_there_are_enough() -> None:
    assert worker_cpus(2, [0, 1]) == [0, 1]
    assert worker_cpus(2, [3, 5, 7]) == [3, 5]  # the CPUs the supervisor may use, in order
    assert worker_cpus(1, [4]) == [4]


def test_more_workers_than_cpus_are_left_to_the_kernel() -> None:
    assert worker_cpus(3, [0, 1]) is None


def _threads_cpus(pid: int) -> set[frozenset[int]]:
    return {frozenset(os.sched_getaffinity(int(tid))) for tid in os.listdir(f"/proc/{pid}/task")}


def test_a_pinned_process_keeps_its_threads_and_its_new_ones_on_its_cpu() -> None:
    cpu = allowed_cpus()[-1]
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdin is not None and child.stdout is not None
        assert child.stdout.readline().strip() == "ready"  # its "early" thread runs already
        pin_process(child.pid, cpu)
        assert _threads_cpus(child.pid) == {frozenset({cpu})}
        child.stdin.write("go\n")
        child.stdin.flush()
        # Each thread's own view: the early one, the three made after the pin, the main one.
        seen = child.stdout.readline().strip()
        assert seen == repr([(cpu,)] * 5), seen
    finally:
        child.kill()
        child.wait()


def test_a_worker_that_cannot_be_pinned_runs_on_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # gone and reaped: its /proc entry with it
    with caplog.at_level(logging.WARNING, logger="trafi.serve"):
        pin_worker(child.pid, 1, [allowed_cpus()[0]])
    assert f"worker 1 (pid {child.pid}) could not be pinned" in caplog.text
    pin_worker(child.pid, 1, None)  # not asked to pin: nothing tried


def test_the_supervisor_s_cpus_are_its_own(tmp_path: Path) -> None:
    """A process that may use some CPUs only places its workers on those."""
    if len(allowed_cpus()) < 2:
        pytest.skip("one CPU: nothing to choose from")
    only = allowed_cpus()[-1]
    out = subprocess.run(
        [
            "taskset",
            "-c",
            str(only),
            sys.executable,
            "-c",
            "from trafi_cli.cpu_affinity import allowed_cpus, worker_cpus; "
            "print(allowed_cpus(), worker_cpus(1, allowed_cpus()), worker_cpus(2, allowed_cpus()))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert out == f"[{only}] [{only}] None"


def test_an_unknown_affinity_is_refused_naming_the_choices(tmp_path: Path) -> None:
    project = Project.init(tmp_path / "shop")
    result = CliRunner().invoke(
        cli, ["serve", "-C", str(project.root), "--workers", "2", "--cpu-affinity", "sometimes"]
    )
    assert result.exit_code == 2
    said = " ".join(result.output.replace("│", " ").split())  # the message as rich's box wraps it
    assert (
        "Invalid value for '--cpu-affinity'" in said and "'sometimes' is not one of 'auto', 'off'" in said
    ), said


def test_workers_left_to_the_kernel_keep_every_cpu_of_the_supervisor(tmp_path: Path) -> None:
    """`--cpu-affinity off`, through the real command: each worker (and each of its threads) may
    run on every CPU the command may."""
    project = Project.init(tmp_path / "shop")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("TRAFI_DATABASE_URL", "TRAFI_REDIS_URL")}
    log = tmp_path / "serve.log"
    command = [sys.executable, "-m", "trafi_cli", "serve", "-C", str(project.root), "--port", str(port)]
    with log.open("wb") as out:
        serve = subprocess.Popen(
            [*command, "--workers", "2", "--cpu-affinity", "off"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    pids: set[int] = set()

    def both_answer() -> bool:
        assert serve.poll() is None, log.read_text()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as response:
                pids.add(int(json.load(response)["process"]["pid"]))
        except OSError:
            return False
        return len(pids) == 2

    try:
        wait_for(both_answer, timeout=240, message="two workers answering /health")
        every = frozenset(allowed_cpus())
        for pid in pids:
            assert {frozenset(os.sched_getaffinity(int(tid))) for tid in os.listdir(f"/proc/{pid}/task")} == {
                every
            }
    finally:
        serve.terminate()
        serve.wait(60)
