"""One event leader among the processes sharing a state folder, and a new one as soon as it dies."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from tests.polling import wait_for
from trafi_host.delivery.leader import EventLeader

HOLD = """
import sys, time
from pathlib import Path
from trafi_host.delivery.leader import EventLeader
leader = EventLeader(Path(sys.argv[1]))
assert leader.try_lead()
print("leading", flush=True)
sys.stdin.read()
"""


def test_one_holder_at_a_time_and_the_lock_passes_on_release(tmp_path: Path) -> None:
    first, second = EventLeader(tmp_path), EventLeader(tmp_path)
    assert first.try_lead() and first.leading
    assert not second.try_lead() and not second.leading
    first.release()
    assert second.try_lead()
    assert not first.try_lead()
    second.release()


def test_a_leader_killed_with_sigkill_gives_the_lead_to_another(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(tmp_path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "leading"
        survivor = EventLeader(tmp_path)
        assert not survivor.try_lead()
        holder.send_signal(signal.SIGKILL)
        holder.wait(30)
        assert wait_for(survivor.try_lead, timeout=30, message="the lock to be free after the kill")
        survivor.release()
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
