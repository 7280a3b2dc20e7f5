"""The dev runtime's exports: the module's code is imported when an instance starts, not built in.

`trafi dev` builds one component per WIT world whose snapshot holds the interpreter,
the standard library and this SDK (`trafi_host.dev.runtime_component`). Each
instance finds the module's source in a read-only folder the host preopens at
`/trafi-dev` (the version being served, copied there by the host) and imports it
in `init`; a reload is new instances over a new folder, with no build.

Outside `trafi dev` nothing is preopened there and `init` refuses to start.
"""

from __future__ import annotations

import importlib
import json
import sys
import traceback
from typing import Any

from . import guest
from ._bindings import WitErr
from .module import _current_or_none, current_module

# Where the host preopens the served version (entry.json + src/) and the vendored requirements.
DEV_ROOT = "/trafi-dev"
SOURCE_ROOT = DEV_ROOT + "/src/"
VENDOR_ROOT = "/trafi-dev-vendor"
# The service name the host calls to carry in-memory state across a reload; never listed.
RELOAD_SERVICE = "__trafi_reload__"


class DevLoadError(Exception):
    """The module's code could not be imported: the message ends with `at <file>:<line>`."""


def _author_frame(exc: BaseException) -> tuple[str, int] | None:
    """The file and line to show: the author's deepest frame (not importlib's or the SDK's)."""
    if isinstance(exc, SyntaxError) and exc.filename and exc.lineno:
        return guest.display_path(exc.filename), exc.lineno
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if f.filename.startswith(SOURCE_ROOT)] or frames
    if not own:
        return None
    return guest.display_path(own[-1].filename), own[-1].lineno or 0


def _is_import_machinery(filename: str) -> bool:
    return filename.startswith("<frozen importlib") or "/importlib/" in filename or filename == __file__


def describe(exc: BaseException) -> str:
    """`<Type>: <message> at <file>:<line>` then the traceback (paths as the author sees them),
    without the import machinery's frames; a syntax error is its own excerpt."""
    where = _author_frame(exc)
    message = exc.msg if isinstance(exc, SyntaxError) else str(exc)
    head = f"{type(exc).__name__}: {message}" + (f" at {where[0]}:{where[1]}" if where else "")
    if isinstance(exc, SyntaxError):
        detail = "".join(traceback.format_exception_only(exc))
    else:
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if not _is_import_machinery(f.filename)]
        lines = ["Traceback (most recent call last):\n", *traceback.format_list(frames)]
        detail = "".join(lines + traceback.format_exception_only(exc))
    for root, shown in guest.SOURCE_ROOTS.items():
        detail = detail.replace(f'File "{root}', f'File "{shown}')
    return head + "\n" + detail


def load_module_code() -> None:
    """Import the module named in `/trafi-dev/entry.json` (once per instance)."""
    if _current_or_none() is not None:
        return
    try:
        with open(DEV_ROOT + "/entry.json") as handle:
            entry = json.load(handle)
    except OSError:
        raise DevLoadError(
            "the Trafi dev runtime runs only under `trafi dev` (no module source was given to it); "
            "build the module with `trafi module build` to serve it"
        ) from None
    guest.SOURCE_ROOTS[SOURCE_ROOT] = ""
    guest.SOURCE_ROOTS[VENDOR_ROOT + "/"] = "vendor:"
    sys.dont_write_bytecode = True  # the folder is read-only
    sys.path[:0] = [SOURCE_ROOT.rstrip("/"), VENDOR_ROOT]
    try:
        importlib.import_module(str(entry["module"]))
    except BaseException as exc:  # noqa: BLE001 - a module bug must not trap the instance
        raise DevLoadError(describe(exc)) from None
    if _current_or_none() is None:
        raise DevLoadError(
            f"RuntimeError: {entry['module']} created no trafi_sdk.Module (create one at import time)"
        )


class Lifecycle(guest.Lifecycle):
    def init(self, ctx: Any) -> None:
        try:
            load_module_code()
        except DevLoadError as error:
            raise WitErr(str(error)) from None
        super().init(ctx)


class Services(guest.Services):
    def call(self, service: str, method: str, payload: str) -> str:
        if service != RELOAD_SERVICE:
            return super().call(service, method, payload)
        hooks = current_module().on_reload
        try:
            if method == "snapshot":
                if hooks.snapshot_hook is None:
                    return "{}"
                return json.dumps({"state": hooks.snapshot_hook()})
            if method == "restore":
                given = json.loads(payload) if payload else {}
                if hooks.restore_hook is not None and "state" in given:
                    hooks.restore_hook(given["state"])
                return "{}"
        except Exception as exc:  # noqa: BLE001 - the host reports it and goes on without the state
            raise WitErr(describe(exc)) from None
        raise WitErr(f"no reload method {method!r}")


HttpHandler = guest.HttpHandler
EventHandler = guest.EventHandler
Routes = guest.Routes
Views = guest.Views

__all__ = ["EventHandler", "HttpHandler", "Lifecycle", "Routes", "Services", "Views"]
