"""Each worker's own metrics on a Unix socket, so that whichever worker answers `/metrics` has the totals.

A worker of `trafi serve --workers N` serves its own Prometheus text to
anyone who connects to its socket in the run folder (`worker_role.py`), then
closes: no HTTP, no request to parse. The worker answering a scrape reads its
siblings' texts at that moment and merges them with its own
(`metrics_merge.py`), so the scrape counts every request the host answered,
whichever worker answered it. A sibling that does not answer within
`SIBLING_TIMEOUT_SECONDS` (dead, replaced, stuck) is left out of that scrape;
a replaced worker's counters start again at 0, as a restarted process's do.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger("trafi.metrics")
SIBLING_TIMEOUT_SECONDS = 2.0


async def serve_own_metrics(path: Path, own_text: Callable[[], bytes]) -> asyncio.Server:
    """Answer `own_text()` to each connection on `path` (replaced if a dead process left it)."""

    async def answer(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            writer.write(own_text())
            await writer.drain()
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    path.unlink(missing_ok=True)
    return await asyncio.start_unix_server(answer, path=str(path))


async def sibling_texts(sockets: list[Path]) -> list[str]:
    """The metrics text of each sibling that answers in time."""
    answers = await asyncio.gather(*(_read(path) for path in sockets))
    return [text for text in answers if text is not None]


async def _read(path: Path) -> str | None:
    try:
        async with asyncio.timeout(SIBLING_TIMEOUT_SECONDS):
            reader, writer = await asyncio.open_unix_connection(str(path))
            try:
                return (await reader.read()).decode()
            finally:
                writer.close()
    except (OSError, TimeoutError) as error:
        log.debug("no metrics from %s: %s", path.name, error)
        return None
