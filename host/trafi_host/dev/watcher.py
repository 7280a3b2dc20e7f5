"""Watches the modules under development; a save reloads the module it belongs to, and only it."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from watchfiles import Change, watch

from .reloader import DevModules
from .staging import is_source_path

log = logging.getLogger("trafi.dev")

# watchfiles yields once no change came for this long: an editor's save is often several
# writes (truncate, write, rename), microseconds apart: 10 ms groups them.
STEP_MS = 10
WATCH_READY_MS = 200


class ModuleWatcher:
    """A thread that reloads each module whose source changed, until `stop()`."""

    def __init__(self, modules: DevModules) -> None:
        self.modules = modules
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="trafi-dev-watch", daemon=True)
        self.ready = threading.Event()  # set once the watch is in place

    def start(self, timeout: float = 60) -> None:
        """Start watching; returns once the watch is in place (a save from then on is seen)."""
        self._thread.start()
        self.ready.wait(timeout)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _catch_up(self) -> None:
        """Saves made between the modules' first load and the watch being in place."""
        for directory in self.modules.directories:
            try:
                self.modules.reload_if_changed(directory)
            except Exception:
                log.exception("reload of %s failed", directory)

    def _owner(self, path: Path) -> Path | None:
        for directory in self.modules.directories:
            if path.is_relative_to(directory) and is_source_path(path, directory):
                return directory
        return None

    def _run(self) -> None:
        directories = list(self.modules.directories)
        if not directories:
            self.ready.set()
            return

        def wanted(_: Change, path: str) -> bool:
            return self._owner(Path(path)) is not None

        for changes in watch(
            *directories,
            watch_filter=wanted,
            step=STEP_MS,
            stop_event=self._stop,
            # An empty batch after each quiet interval: the first one says the watch is in place.
            rust_timeout=WATCH_READY_MS,
            yield_on_timeout=True,
            raise_interrupt=False,
        ):
            if not changes:
                if not self.ready.is_set():
                    self._catch_up()
                    self.ready.set()
                continue
            seen = time.perf_counter()
            owners = {owner for _, path in changes if (owner := self._owner(Path(path))) is not None}
            for directory in sorted(owners):
                try:
                    self.modules.load(directory, seen)
                except Exception:
                    log.exception("reload of %s failed", directory)
