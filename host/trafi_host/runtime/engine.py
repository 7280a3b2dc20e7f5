"""The one wasmtime Engine and the thread that advances its epoch."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.metadata import version
from typing import TYPE_CHECKING

import wasmtime

from ..settings import wasm_profiler_mode
from . import wasmtime_fixes
from .image import HostLimits

if TYPE_CHECKING:
    from .native.calls import NativeCalls


@dataclass(frozen=True)
class EngineSettings:
    """Settings that change compiled code, so they are part of the artifact cache key."""

    epoch_interruption: bool = True
    consume_fuel: bool = False
    cranelift_opt_level: str = "speed"

    @classmethod
    def for_limits(cls, limits: HostLimits) -> EngineSettings:
        """What a runtime under `limits` compiles with: fuel metering only when there is a fuel budget."""
        return cls(consume_fuel=limits.fuel_per_call is not None)

    def fingerprint(self) -> str:
        text = (
            f"wasmtime={version('wasmtime')};epoch={self.epoch_interruption};"
            f"fuel={self.consume_fuel};opt={self.cranelift_opt_level}"
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def make_engine(settings: EngineSettings, disabled_cpu_features: Sequence[str] = ()) -> wasmtime.Engine:
    """`disabled_cpu_features`: Cranelift ISA flags (`has_avx512f`, ...) compiled code must not
    use although this CPU has them: its artifacts then also run where they are missing (under
    valgrind, bench/instructions.py). A feature left off never stops an artifact from loading."""
    wasmtime_fixes.apply_all()
    config = wasmtime.Config()
    config.epoch_interruption = settings.epoch_interruption
    config.consume_fuel = settings.consume_fuel
    config.cranelift_opt_level = settings.cranelift_opt_level
    for feature in disabled_cpu_features:
        config.cranelift_flag_set(feature, "false")
    # Not part of the fingerprint: a profiler changes what is written beside the code, not the code.
    profiler = wasm_profiler_mode()
    if profiler != "none":
        config.profiler = profiler
    return wasmtime.Engine(config)


# No store is given a deadline further than this (calls are capped at 60 s; `init` 5 s).
MAX_DEADLINE_MS = 120_000


class EpochTicker:
    """Advances the engine's epoch every `tick_ms`; a store's deadline is counted in ticks.

    With the C call boundary the ticks come from a C thread that never takes the GIL
    (runtime/native/epoch_ticker.c); otherwise from a Python thread, whose ticks wait for the GIL
    on a busy host (each one forcing a switch, and arriving late, which stretches deadlines).
    """

    def __init__(self, engine: wasmtime.Engine, tick_ms: int = 5, native: NativeCalls | None = None) -> None:
        self.engine = engine
        self.tick_ms = tick_ms
        self.native = native
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._stop_native: Callable[[], None] | None = None

    @property
    def in_c(self) -> bool:
        """Whether the ticks come from the C thread."""
        return self._stop_native is not None

    def ticks_for(self, milliseconds: float) -> int:
        # One extra tick: the current tick may be about to end.
        return max(1, int(milliseconds / self.tick_ms) + 1)

    def start(self) -> None:
        if self._thread is not None or self._stop_native is not None:
            return
        if self.native is not None:
            self._stop_native = self.native.start_ticker(self.engine, self.tick_ms)
            return
        self._thread = threading.Thread(target=self._run, name="trafi-epoch", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.tick_ms / 1000):
            self.engine.increment_epoch()

    def stop(self) -> None:
        stop_native, self._stop_native = self._stop_native, None
        if stop_native is not None:
            stop_native()
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1)
            self._thread = None
        # A guest still running (past its caller's deadline, or a call racing the
        # close) would spin forever once the epoch stops moving, and keep the process
        # from exiting: move the epoch past every deadline a store can have been given.
        for _ in range(self.ticks_for(MAX_DEADLINE_MS) + 1):
            self.engine.increment_epoch()
