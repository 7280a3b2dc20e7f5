"""Fixes to wasmtime-py, applied once before the first engine is made.

Both replace library internals, so they are tied to the versions they were
checked against: another version refuses to start until someone re-checks them
(the tests in `tests/host/runtime/test_wasmtime_*.py` are the check).
"""

from __future__ import annotations

from importlib.metadata import version

from . import wasmtime_conversion, wasmtime_threading

CHECKED_VERSIONS = ("50.0.1",)


def apply_all() -> None:
    installed = version("wasmtime")
    if installed not in CHECKED_VERSIONS:
        raise RuntimeError(
            f"wasmtime {installed} is not a version the host's wasmtime-py fixes were checked against "
            f"({', '.join(CHECKED_VERSIONS)}); review runtime/wasmtime_threading.py and "
            "runtime/wasmtime_conversion.py"
        )
    wasmtime_threading.apply()  # before any call crosses the boundary from two threads
    wasmtime_conversion.apply()
