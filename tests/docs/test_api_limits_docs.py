"""docs/security.md states the API's limits with the values the code enforces."""

from __future__ import annotations

import re

from tests.conftest import REPO
from trafi_host.api.module_proxy import MAX_BODY_BYTES
from trafi_host.api.request_limits import DEFAULT_MAX_BODY_BYTES, MAX_HEADER_BYTES, MAX_HEADERS
from trafi_host.commerce import models
from trafi_host.commerce.service import WRITE_ATTEMPTS
from trafi_host.db import DatabaseBusy
from trafi_host.db.engine import SQLITE_BUSY_TIMEOUT_MS

DOC = REPO / "docs" / "security.md"


def _section() -> str:
    found = re.search(r"## The HTTP API's limits\n(.*?)\n## ", DOC.read_text(), re.S)
    assert found is not None, "docs/security.md lost its section on the API's limits"
    return " ".join(found.group(1).split())


def test_every_limit_is_documented_with_its_value() -> None:
    section = _section()
    expected = {
        "request headers": f"at most {MAX_HEADERS}, at most {MAX_HEADER_BYTES} bytes",
        "module body": f"| body, `/api/modules/...` | {MAX_BODY_BYTES} bytes",
        "other bodies": f"| body, every other route (commerce) | {DEFAULT_MAX_BODY_BYTES} bytes",
        "price": f"0 to {models.MAX_PRICE_CENTS}",
        "quantity": f"1 to {models.MAX_QUANTITY}, at most {models.MAX_ORDER_LINES} lines",
        "total": f"at most {models.MAX_TOTAL_CENTS}",
        "busy timeout": f"the {SQLITE_BUSY_TIMEOUT_MS} ms busy timeout",
        "attempts": f"{WRITE_ATTEMPTS} attempts in all",
        "retry after": f"`Retry-After: {DatabaseBusy.retry_after_seconds}`",
    }
    missing = {what: text for what, text in expected.items() if text not in section}
    assert not missing, missing
