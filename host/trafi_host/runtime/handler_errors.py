"""A handler's uncaught exception: its details are for the author in dev, for the log in `serve`.

The SDK answers an exception a handler did not catch with a 500 whose JSON body
names the exception, the file, line and function (`kind: module-exception`).
That is what an author wants to see while developing; a store's client must not
(it tells an attacker the module's code layout and sometimes its data). Outside
dev the host keeps the details in its log under an error id and the client gets
the id only, as for the host's own failures (deadline, trap).
"""

from __future__ import annotations

import json
from typing import Any

MODULE_EXCEPTION = "module-exception"


def handler_exception(status: int, body: bytes) -> dict[str, Any] | None:
    """The SDK's report of an uncaught handler exception in this response, else None."""
    if status != 500 or not body.startswith(b"{"):
        return None
    try:
        report = json.loads(body)
    except ValueError:
        return None
    if not isinstance(report, dict) or report.get("kind") != MODULE_EXCEPTION:
        return None
    return report


def log_line(report: dict[str, Any]) -> str:
    """`ValueError: handler bug at app.py:91 in fail`: the details the client no longer sees."""
    where = report.get("where") if isinstance(report.get("where"), dict) else {}
    place = f" at {where.get('file')}:{where.get('line')} in {where.get('function')}" if where else ""
    return f"{report.get('error', '?')}{place}"
