"""Applying `trafi.config.json` changes to a running host (enable, disable, installs).

The CLI only writes the config (atomically, so the file is replaced, never half
written); the host notices the new file and reconciles. This works the same
whether the host is running or not: a host that was down reads the config at
start.
"""

from __future__ import annotations

import asyncio
import logging

from fastapi.concurrency import run_in_threadpool

from .module_host import ModuleHost

log = logging.getLogger("trafi.config_watch")
POLL_SECONDS = 0.25


def _signature(host: ModuleHost) -> tuple[int, int, int] | None:
    try:
        stat = host.project.config_path.stat()
    except FileNotFoundError:
        return None
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)


async def watch_config(host: ModuleHost, poll_seconds: float = POLL_SECONDS) -> None:
    seen = _signature(host)
    while True:
        await asyncio.sleep(poll_seconds)
        current = _signature(host)
        if current == seen:
            continue
        seen = current
        try:
            changed = await run_in_threadpool(host.reconcile)
        except Exception:
            log.exception("could not apply the changed %s", host.project.config_path.name)
            continue
        if changed:
            log.info("config_applied changed=%s", ",".join(changed))
